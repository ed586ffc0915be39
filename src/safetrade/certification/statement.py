"""Build the in-toto Statement (predicate ``https://safetrade.dev/certification/v1``).

Everything here is pure: the clock, the measured code and the run's evidence are passed in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.controls import describe
from safetrade.certification.digest import tree_digest
from safetrade.certification.policy import scenario_is_required
from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetrade.certification.evidence import Evidence
    from safetrade.certification.keys import PublicKey
    from safetrade.certification.policy import Policy
    from safetrade.certification.provenance import GitState, RunningCode
    from safetrade.certification.suite import ScenarioResult, SuiteResult

__all__ = [
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "Coverage",
    "CoverageError",
    "assess",
    "build_statement",
    "controls_matrix",
    "format_time",
    "parse_coverage",
    "parse_time",
    "statement_bytes",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://safetrade.dev/certification/v1"
SAFETRADE_SUBJECT = "python-package:safetrade"
BOT_SUBJECT_PREFIX = "bot-package:"
CCXT_SUBJECT = "python-package:ccxt"
CONFIG_SUBJECT = "config-schema:safetrade.config.settings_schema"


class CoverageError(SafetradeError):
    """coverage.json is missing or not coverage.py's JSON report."""


@attrs.frozen
class Coverage:
    """Percent covered (lines and branches combined, as coverage.py reports) per module."""

    total: float
    modules: Mapping[str, float]

    def lookup(self, module: str) -> float | None:
        """Return the percentage of ``module`` (e.g. ``safetrade/sizer.py``) or None if absent."""
        wanted = module.strip("/")
        for name, percent in self.modules.items():
            if name == wanted or name.endswith("/" + wanted):
                return percent
        return None


def parse_coverage(data: bytes) -> Coverage:
    """Read coverage.py's JSON report (format 2 or 3).

    Raises:
        CoverageError: The document is not a coverage JSON report.
    """
    try:
        doc = json.loads(data)
        modules = {
            # reported paths are relative to the project (src/safetrade/x.py) thanks to
            # [tool.coverage.paths]; drop "src/" so policy names read as module paths
            name.removeprefix("src/"): float(info["summary"]["percent_covered"])
            for name, info in doc["files"].items()
        }
        return Coverage(float(doc["totals"]["percent_covered"]), dict(sorted(modules.items())))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CoverageError("coverage.json is not a coverage.py JSON report", why=str(exc)) from exc


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` suffix, second precision."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: object) -> datetime:
    """Parse a timestamp written by :func:`format_time` (or any ISO 8601 with an offset).

    Raises:
        ValueError: Not a timezone-aware timestamp.
    """
    if not isinstance(text, str):
        raise ValueError(f"timestamp must be a string, got {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no timezone")
    return moment.astimezone(UTC)


def _required(scenario: ScenarioResult, policy: Policy) -> bool:
    return scenario_is_required(
        scenario.controls,
        scenario.incidents,
        required_controls=policy.required_controls,
        required_tags=policy.required_tags,
    )


def controls_matrix(suite: SuiteResult, policy: Policy) -> list[dict[str, Any]]:
    """One row per control that is required or evidenced by at least one scenario."""
    names = sorted({c for s in suite.scenarios for c in s.controls} | set(policy.required_controls))
    rows = []
    for name in names:
        evidence = [s for s in suite.scenarios if name in s.controls]
        passed = sum(1 for s in evidence if s.outcome == "passed")
        if not evidence:
            status = "NOT EVIDENCED"
        elif passed == len(evidence):
            status = "PASS"
        else:
            status = "FAIL"
        control = describe(name)
        rows.append(
            {
                "control": name,
                "kind": control.kind,
                "description": control.description,
                "anchors": list(control.anchors),
                "required": name in policy.required_controls,
                "scenarios": [s.id for s in evidence],
                "passed": passed,
                "total": len(evidence),
                "status": status,
            }
        )
    return rows


def assess(
    *,
    policy: Policy,
    suite: SuiteResult,
    evidence: Evidence,
    coverage: Coverage | None,
    git: GitState,
    running: RunningCode,
) -> tuple[str, ...]:
    """Return every reason this run cannot be certified (empty: it passes the policy)."""
    problems: list[str] = []
    counts = suite.counts
    if evidence.exitstatus != 0:
        problems.append(f"pytest exited with status {evidence.exitstatus} (0 required)")
    problems.extend(f"collection error: {e.splitlines()[0]}" for e in evidence.collection_errors)
    if evidence.deselected:
        problems.append(
            f"{evidence.deselected} test(s) were deselected (-k/-m); certify runs everything"
        )
    if counts.inventory == 0:
        problems.append(f"no scenarios found under {policy.features_dir}/")
    if not counts.reconciles:
        problems.append(f"scenario counts do not reconcile: {counts.to_json()}")
    problems.extend(
        f"duplicate scenario name (only one can run): {k}" for k in suite.duplicate_scenarios
    )
    problems.extend(
        f"scenario ran but is not in the inventory: {k}" for k in suite.unknown_scenarios
    )
    for scenario in suite.scenarios:
        if scenario.outcome == "passed" or (
            scenario.outcome == "skipped"
            and policy.allow_skipped
            and not _required(scenario, policy)
        ):
            continue
        problems.append(f"scenario {scenario.outcome}: {scenario.id}")
    problems.extend(f"test {outcome}: {nodeid}" for nodeid, outcome in suite.failing_tests)
    for tag in policy.required_tags:
        kind, _, value = tag.partition("-")
        tagged = [
            s
            for s in suite.scenarios
            if value
            in (s.controls if kind == "control" else s.incidents if kind == "incident" else ())
        ]
        if not tagged:
            problems.append(f"policy requires scenarios tagged @{tag}; none found")
    problems.extend(
        f"required control {name!r} has no scenario tagged @control-{name}"
        for name in policy.required_controls
        if not any(name in s.controls for s in suite.scenarios)
    )
    if coverage is None:
        if policy.coverage_floors or policy.total_coverage_floor is not None:
            problems.append("coverage.json missing: coverage floors cannot be checked")
    else:
        for module, floor in policy.coverage_floors:
            percent = coverage.lookup(module)
            if percent is None:
                problems.append(
                    f"coverage floor for {module}: module not in coverage.json "
                    "(missing, renamed, or never imported by the suite)"
                )
            elif percent < floor:
                problems.append(f"coverage of {module} is {percent:.1f}% < floor {floor:g}%")
        floor_total = policy.total_coverage_floor
        if floor_total is not None and coverage.total < floor_total:
            problems.append(f"total coverage {coverage.total:.1f}% < floor {floor_total:g}%")
    if git.dirty and not policy.allow_dirty:
        problems.append("git work tree is dirty and the policy forbids certifying uncommitted code")
    if running.bot_error:
        problems.append(
            f"bot package {running.bot_package!r} cannot be digested: {running.bot_error}"
        )
    if running.config_error:
        problems.append(f"config schema cannot be digested: {running.config_error}")
    return tuple(problems)


def build_statement(
    *,
    suite: SuiteResult,
    policy: Policy,
    evidence: Evidence,
    coverage: Coverage | None,
    running: RunningCode,
    git: GitState,
    versions: Mapping[str, str | None],
    signer: PublicKey,
    developer_key: bool,
    problems: Sequence[str],
    now: datetime,
    conformance: Mapping[str, Any] | None,
    reports: Mapping[str, str] | None = None,
    paper: Mapping[str, Any] | None = None,
    valid_from: datetime | None = None,
) -> dict[str, Any]:
    """Assemble the Statement; ``result`` is PASSED exactly when ``problems`` is empty.

    ``conformance`` is the bot's conformance run (``ConformanceResult.to_json()``): what the
    bot named by the bot subject did against the fake KuCoin. None records that the bot was
    never exercised, which the live gate refuses.

    ``paper`` is the paper evidence read (``PaperRecord.to_json()``), None when not read.

    ``valid_from`` starts the validity window (``issuedAt``; default ``now``): certify passes
    the start of the oldest sealed run the statement rests on.

    ``reports`` maps file names to the sha256 of the report and evidence files bound into the
    statement; it is empty for the copy the reports themselves are rendered from.
    """
    # issuedAt is when the validity starts: certify passes the start of the oldest run the
    # statement rests on (``valid_from``), so signing old runs again never renews them
    issued = (valid_from or now).astimezone(UTC).replace(microsecond=0)
    expires = issued + timedelta(days=policy.validity_days)
    subjects: list[dict[str, Any]] = [
        {
            "name": SAFETRADE_SUBJECT,
            "digest": {"dirHash": tree_digest(running.safetrade_files)},
            "annotations": {"version": versions.get("safetrade")},
        },
        {
            "name": BOT_SUBJECT_PREFIX + running.bot_package,
            "digest": {"dirHash": tree_digest(running.bot_files)},
        },
    ]
    subjects.append(
        {
            "name": CCXT_SUBJECT,
            "digest": {"dirHash": tree_digest(running.ccxt_files)},
            "annotations": {"version": versions.get("ccxt")},
        }
    )
    if running.config_schema_digest is not None:
        subjects.append(
            {"name": CONFIG_SUBJECT, "digest": {"sha256": running.config_schema_digest}}
        )
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": "FAILED" if problems else "PASSED",
            "problems": list(problems),
            "issuedAt": format_time(issued),
            "expiresAt": format_time(expires),
            "signer": {
                "keyid": signer.keyid,
                "fingerprint": signer.fingerprint,
                "developerKey": developer_key,
            },
            "verifier": {
                "id": "tox -e certify",
                "version": {"safetrade": versions.get("safetrade")},
            },
            "policy": policy.to_json(),
            "source": {"gitCommit": git.commit, "dirty": git.dirty},
            "versions": dict(versions),
            "suite": {
                "counts": suite.counts.to_json(),
                "tests": suite.test_counts.to_json(),
                "failingTests": [{"nodeid": n, "outcome": o} for n, o in suite.failing_tests],
                "hypothesisProfile": evidence.hypothesis_profile,
                "pytestArgs": list(evidence.args),
                "scenarios": [s.to_json() for s in suite.scenarios],
                # a signed earlier passing run of exactly these inputs (suite_cache.py)
                **({"reused": dict(evidence.reused)} if evidence.reused is not None else {}),
            },
            "controls": controls_matrix(suite, policy),
            "coverage": None
            if coverage is None
            else {
                "total": round(coverage.total, 2),
                "modules": {m: round(p, 2) for m, p in coverage.modules.items()},
                "floors": dict(policy.coverage_floors),
            },
            "files": {
                "safetrade": dict(running.safetrade_files),
                "bot": dict(running.bot_files),
                "ccxt": dict(running.ccxt_files),
            },
            # what safetrade and the bot run on, by version (the gate names any difference)
            "environment": {"distributions": dict(running.distributions)},
            "conformance": None if conformance is None else dict(conformance),
            "paper": None if paper is None else dict(paper),
            "reports": [
                {"name": n, "digest": {"sha256": d}} for n, d in sorted((reports or {}).items())
            ],
        },
    }


def statement_bytes(statement: Mapping[str, Any]) -> bytes:
    """Serialise the statement for signing (DSSE signs these exact bytes)."""
    return json.dumps(statement, indent=1, sort_keys=False, ensure_ascii=False).encode("utf-8")
