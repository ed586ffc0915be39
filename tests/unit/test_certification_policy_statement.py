"""Policy validation (each bad file names its problem), coverage/time parsing, and assess().

assess() is the single place that decides whether a run may be certified; each test here makes
exactly one thing wrong and checks that the problem list names it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import attrs
import pytest

from safetrade.certification.evidence import Evidence, ItemOutcome
from safetrade.certification.inventory import InventoryScenario
from safetrade.certification.policy import load_policy, parse_policy
from safetrade.certification.provenance import GitState, RunningCode
from safetrade.certification.statement import (
    Coverage,
    CoverageError,
    assess,
    format_time,
    parse_coverage,
    parse_time,
)
from safetrade.certification.suite import reconcile
from safetrade.errors import ConfigError

# --------------------------------------------------------------------------- policy


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        (b"[certificate\n", "not valid TOML"),
        (b"\xff\xfe", "not valid TOML"),
        (b"certificate = 3\n", "policy [certificate] must be a table"),
        (b"[certificate]\nvalidity_days = true\n", "validity_days=True is outside 1..90"),
        (b"[certificate]\nvalidity_days = 0\n", "validity_days=0 is outside"),
        (b'[certificate]\nvalidity_days = "30"\n', "validity_days='30' is outside"),
        (b"[certificate]\nallow_dirty = 1\n", "certificate.allow_dirty must be true or false"),
        (b'[scenarios]\nallow_skipped = "yes"\n', "scenarios.allow_skipped must be true or"),
        (b'[scenarios]\nrequired_tags = "incident-1"\n', "scenarios.required_tags must be a list"),
        (b"[scenarios]\nrequired_controls = [1]\n", "scenarios.required_controls must be a list"),
        (b"[scenarios]\nfeatures_dir = 7\n", "scenarios.features_dir must be a string"),
        (b"[coverage]\nfloors = 90\n", "policy [floors] must be a table"),
        (b'[coverage.floors]\n"safetrade/guard.py" = 101\n', "floors.'safetrade/guard.py' must"),
        (b'[coverage.floors]\n"safetrade/guard.py" = true\n', "percentage 0-100, got True"),
        (b'[coverage]\ntotal_floor = "90"\n', "coverage.total_floor must be a percentage"),
        (b"[coverage]\ntotal_floor = -1\n", "coverage.total_floor must be a percentage"),
    ],
)
def test_bad_policy_is_refused_naming_the_problem(toml: bytes, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(toml)
    assert named in str(caught.value)


def test_policy_defaults_and_json_form() -> None:
    policy = parse_policy(b"")
    assert (policy.validity_days, policy.features_dir) == (30, "features")
    assert (policy.allow_skipped, policy.allow_dirty) == (False, True)
    assert policy.total_coverage_floor is None
    assert policy.to_json()["digest"] == {"sha256": policy.digest}
    assert parse_policy(b"# comment\n").digest != policy.digest  # bound to the exact bytes


def test_load_policy_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_policy(tmp_path / "policy.toml")
    assert "--policy" in str(caught.value)
    (tmp_path / "policy.toml").write_bytes(b"[scenarios]\nallow_skipped = true\n")
    assert load_policy(tmp_path / "policy.toml").allow_skipped


# --------------------------------------------------------------------------- coverage, time


def test_parse_coverage_reads_coverage_py_json_and_strips_src() -> None:
    doc = {
        "meta": {"format": 3},
        "files": {
            "src/safetrade/guard.py": {"summary": {"percent_covered": 97.5}},
            "src/safetrade/alerts.py": {"summary": {"percent_covered": 60}},
        },
        "totals": {"percent_covered": 91.25},
    }
    coverage = parse_coverage(json.dumps(doc).encode())
    assert coverage.total == 91.25
    assert list(coverage.modules) == ["safetrade/alerts.py", "safetrade/guard.py"]
    assert coverage.lookup("safetrade/guard.py") == 97.5
    assert coverage.lookup("/guard.py/") == 97.5  # suffix match on a path boundary
    assert coverage.lookup("uard.py") is None
    assert coverage.lookup("safetrade/sizer.py") is None


@pytest.mark.parametrize(
    "data",
    [b"nope", b"[]", b'{"files": {}}', b'{"files": {"a": {}}, "totals": {"percent_covered": 1}}'],
)
def test_parse_coverage_refuses_other_documents(data: bytes) -> None:
    with pytest.raises(CoverageError, match=r"not a coverage\.py JSON report"):
        parse_coverage(data)


def test_time_round_trips_in_utc_and_refuses_naive_or_non_strings() -> None:
    moment = datetime(2026, 3, 1, 13, 30, 15, 999, tzinfo=timezone(timedelta(hours=1)))
    text = format_time(moment)
    assert text == "2026-03-01T12:30:15Z"
    assert parse_time(text) == moment.replace(microsecond=0)
    assert parse_time("2026-03-01T13:30:15+01:00").tzinfo is UTC
    with pytest.raises(ValueError, match="has no timezone"):
        parse_time("2026-03-01T12:30:15")
    with pytest.raises(ValueError, match="must be a string"):
        parse_time(None)


# --------------------------------------------------------------------------- assess

FEATURE = "features/k.feature"


def _scenario(name: str, *tags: str) -> InventoryScenario:
    return InventoryScenario(
        key=f"{FEATURE}::{name}",
        feature_path=FEATURE,
        feature_name="K",
        name=name,
        line=1,
        tags=tags,
        incident_line=None,
        steps=(),
        examples=0,
    )


INVENTORY = (
    _scenario("Collar", "control-price-collar", "incident-k1"),
    _scenario("Optional"),
)


def _evidence(
    outcomes: dict[str, str],
    *,
    exitstatus: int = 0,
    deselected: int = 0,
    collection_errors: tuple[str, ...] = (),
) -> Evidence:
    items = tuple(
        ItemOutcome(f"t::{n}", o, 0.0, (), (), f"{FEATURE}::{n}", "") for n, o in outcomes.items()
    )
    return Evidence(items, exitstatus, "ci", deselected, collection_errors, ())


PASSING = {"Collar": "passed", "Optional": "passed"}
CLEAN = GitState("a" * 40, False)
RUNNING = RunningCode({"a.py": "0" * 64}, "toybot", {"b.py": "1" * 64}, "2" * 64)


def _assess(
    *,
    policy: bytes = b'[scenarios]\nrequired_tags = ["incident-k1"]\n',
    outcomes: dict[str, str] = PASSING,
    evidence: Evidence | None = None,
    inventory: tuple[InventoryScenario, ...] = INVENTORY,
    coverage: Coverage | None = None,
    git: GitState = CLEAN,
    running: RunningCode = RUNNING,
) -> tuple[str, ...]:
    evidence = evidence if evidence is not None else _evidence(outcomes)
    return assess(
        policy=parse_policy(policy),
        suite=reconcile(inventory, evidence),
        evidence=evidence,
        coverage=coverage,
        git=git,
        running=running,
    )


def test_a_clean_run_has_no_problems() -> None:
    assert _assess() == ()


def test_collection_errors_and_deselection_are_problems() -> None:
    evidence = _evidence(
        PASSING,
        exitstatus=2,
        deselected=3,
        collection_errors=("tests/test_x.py: ImportError: no module\ntraceback...",),
    )
    assert _assess(evidence=evidence) == (
        "pytest exited with status 2 (0 required)",
        "collection error: tests/test_x.py: ImportError: no module",
        "3 test(s) were deselected (-k/-m); certify runs everything",
    )


def test_an_empty_inventory_is_a_problem() -> None:
    problems = _assess(inventory=(), outcomes={}, policy=b'[scenarios]\nfeatures_dir = "specs"\n')
    assert problems == ("no scenarios found under specs/",)


def test_unknown_and_duplicate_scenarios_are_problems() -> None:
    inventory = (*INVENTORY, _scenario("Optional"))  # the same name twice in one feature
    outcomes = {**PASSING, "Ghost": "passed"}  # ran, but no feature file declares it
    assert _assess(inventory=inventory, outcomes=outcomes) == (
        f"duplicate scenario name (only one can run): {FEATURE}::Optional",
        f"scenario ran but is not in the inventory: {FEATURE}::Ghost",
    )


def test_counts_that_do_not_add_up_are_a_problem() -> None:
    # reconcile() always produces consistent counts; assess() re-checks rather than trusts it
    evidence = _evidence(PASSING)
    suite = reconcile(INVENTORY, evidence)
    broken = attrs.evolve(suite, counts=attrs.evolve(suite.counts, passed=1))
    problems = assess(
        policy=parse_policy(b""),
        suite=broken,
        evidence=evidence,
        coverage=None,
        git=CLEAN,
        running=RUNNING,
    )
    assert len(problems) == 1
    assert problems[0].startswith("scenario counts do not reconcile: {'inventory': 2")


def test_skips_are_allowed_only_when_the_policy_says_so_and_never_for_required() -> None:
    skipped = {"Collar": "skipped", "Optional": "skipped"}
    strict = _assess(outcomes=skipped)
    assert f"scenario skipped: {FEATURE}::Collar" in strict
    assert f"scenario skipped: {FEATURE}::Optional" in strict

    lenient = b'[scenarios]\nallow_skipped = true\nrequired_tags = ["incident-k1"]\n'
    # required through an incident tag: still a problem; the optional one is tolerated
    assert _assess(policy=lenient, outcomes=skipped) == (f"scenario skipped: {FEATURE}::Collar",)
    by_control = b'[scenarios]\nallow_skipped = true\nrequired_controls = ["price-collar"]\n'
    assert _assess(policy=by_control, outcomes=skipped) == (f"scenario skipped: {FEATURE}::Collar",)
    by_control_tag = (
        b'[scenarios]\nallow_skipped = true\nrequired_tags = ["control-price-collar"]\n'
    )
    assert _assess(policy=by_control_tag, outcomes=skipped) == (
        f"scenario skipped: {FEATURE}::Collar",
    )


def test_required_tags_with_no_scenario_are_named() -> None:
    policy = b'[scenarios]\nrequired_tags = ["incident-k9", "control-kill-switch", "smoke"]\n'
    assert _assess(policy=policy) == (
        "policy requires scenarios tagged @incident-k9; none found",
        "policy requires scenarios tagged @control-kill-switch; none found",
        "policy requires scenarios tagged @smoke; none found",
    )


def test_coverage_floors_need_a_coverage_report() -> None:
    policy = b"[coverage]\ntotal_floor = 90\n"
    assert _assess(policy=policy) == ("coverage.json missing: coverage floors cannot be checked",)
    assert _assess(policy=policy, coverage=Coverage(89.94, {})) == (
        "total coverage 89.9% < floor 90%",
    )
    assert _assess(policy=policy, coverage=Coverage(90.0, {})) == ()


def test_dirty_tree_is_a_problem_only_when_the_policy_forbids_it() -> None:
    dirty = GitState("a" * 40, True)
    assert _assess(git=dirty) == ()
    assert _assess(git=dirty, policy=b"[certificate]\nallow_dirty = false\n") == (
        "git work tree is dirty and the policy forbids certifying uncommitted code",
    )


def test_undigestable_bot_and_schema_are_named() -> None:
    running = RunningCode(
        {"a.py": "0" * 64},
        "nobot",
        {},
        None,
        bot_error="package 'nobot' cannot be located",
        config_error="ImportError: boom",
    )
    assert _assess(running=running) == (
        "bot package 'nobot' cannot be digested: package 'nobot' cannot be located",
        "config schema cannot be digested: ImportError: boom",
    )
