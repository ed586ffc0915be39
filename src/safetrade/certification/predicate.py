"""The typed predicate (``https://safetrade.dev/certification/v1``) that certify signs.

:func:`~safetrade.certification.statement.build_statement` writes the predicate as JSON;
:meth:`Predicate.from_json` reads it back, validating every type, and :meth:`Predicate.to_json`
writes exactly the JSON ``build_statement`` wrote (same keys, same order, same numbers), so
the signed bytes never depend on this model.

The gate judges an artifact check by check, so it reads the predicate part by part through
:class:`PredicateParts`: a malformed part fails the check that reads it and no other.
Anything that is not what ``build_statement`` writes raises :class:`PredicateError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NoReturn

import attrs

from safetrade.certification.conformance.result import FORMAT as CONFORMANCE_FORMAT
from safetrade.certification.conformance.result import BotIdentity, Finding
from safetrade.certification.policy import policy_record
from safetrade.certification.statement import format_time, parse_time
from safetrade.certification.suite import Counts, ScenarioResult, TestCounts
from safetrade.errors import SafetradeError

__all__ = [
    "ConformanceRecord",
    "ConformanceScenario",
    "ControlRow",
    "CoverageRecord",
    "Environment",
    "FailingTest",
    "Files",
    "PolicySummary",
    "Predicate",
    "PredicateError",
    "PredicateParts",
    "ReportDigest",
    "Signer",
    "Source",
    "SuiteRecord",
    "Validity",
    "Verifier",
]


class PredicateError(SafetradeError, ValueError):
    """The predicate is not what certify writes: a malformed or tampered artifact.

    ``what`` names the offending field by its path, e.g. ``predicate.suite.scenarios[0].outcome
    must be a string, got 5``.
    """


# ------------------------------------------------------------------------------- validation


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(where: str, expected: str, value: object) -> NoReturn:
    raise PredicateError(f"{where} must be {expected}, got {_short(value)}")


def _obj(value: object, where: str, keys: tuple[str, ...] = ()) -> Mapping[str, Any]:
    """A JSON object holding at least ``keys``.

    Fields the model does not know are ignored (a harness may label its records, e.g.
    ``harness``); no check reads them, and :meth:`Predicate.to_json` does not write them.
    """
    if not isinstance(value, Mapping):
        _fail(where, "an object", value)
    if missing := [k for k in keys if k not in value]:
        raise PredicateError(f"{where} lacks {', '.join(missing)}")
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        _fail(where, "a string", value)
    return value


def _opt_str(value: object, where: str) -> str | None:
    return None if value is None else _str(value, where)


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        _fail(where, "true or false", value)
    return value


def _opt_bool(value: object, where: str) -> bool | None:
    return None if value is None else _bool(value, where)


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(where, "an integer", value)
    return value


def _num(value: object, where: str) -> float:
    """A JSON number, kept as read (an int stays an int, so it is written back unchanged)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(where, "a number", value)
    return value


def _opt_num(value: object, where: str) -> float | None:
    return None if value is None else _num(value, where)


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        _fail(where, "a list", value)
    return value


def _strs(value: object, where: str) -> tuple[str, ...]:
    return tuple(_str(v, f"{where}[{i}]") for i, v in enumerate(_list(value, where)))


def _str_map(value: object, where: str) -> dict[str, str]:
    return {_str(k, where): _str(v, f"{where}[{k!r}]") for k, v in _obj(value, where).items()}


def _opt_str_map(value: object, where: str) -> dict[str, str | None]:
    return {_str(k, where): _opt_str(v, f"{where}[{k!r}]") for k, v in _obj(value, where).items()}


def _num_map(value: object, where: str) -> dict[str, float]:
    return {_str(k, where): _num(v, f"{where}[{k!r}]") for k, v in _obj(value, where).items()}


def _time(value: object, where: str) -> datetime:
    """A timestamp exactly as :func:`format_time` writes it (UTC, ``Z``, whole seconds)."""
    try:
        moment = parse_time(value)
    except ValueError as exc:
        raise PredicateError(f"{where}: {exc}") from exc
    if format_time(moment) != value:
        _fail(where, "a UTC timestamp like 2026-03-01T12:00:00Z", value)
    return moment


# ------------------------------------------------------------------------------------ parts


@attrs.frozen
class Validity:
    """When the certification was issued and when it expires (both UTC)."""

    issued_at: datetime
    expires_at: datetime


@attrs.frozen
class Signer:
    """The key that signed, as the statement names it (never trusted for that)."""

    keyid: str
    fingerprint: str
    developer_key: bool

    def to_json(self) -> dict[str, Any]:
        """Return the signer as recorded."""
        return {
            "keyid": self.keyid,
            "fingerprint": self.fingerprint,
            "developerKey": self.developer_key,
        }

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.signer") -> Signer:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("keyid", "fingerprint", "developerKey"))
        return cls(
            keyid=_str(d["keyid"], f"{where}.keyid"),
            fingerprint=_str(d["fingerprint"], f"{where}.fingerprint"),
            developer_key=_bool(d["developerKey"], f"{where}.developerKey"),
        )


@attrs.frozen
class Verifier:
    """What produced the statement (``tox -e certify``) and its version."""

    id: str
    version: Mapping[str, str | None]

    def to_json(self) -> dict[str, Any]:
        """Return the verifier as recorded."""
        return {"id": self.id, "version": dict(self.version)}

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.verifier") -> Verifier:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("id", "version"))
        return cls(_str(d["id"], f"{where}.id"), _opt_str_map(d["version"], f"{where}.version"))


@attrs.frozen
class PolicySummary:
    """The policy the run was judged by, as ``Policy.to_json()`` records it."""

    digest: str
    validity_days: int
    required_tags: tuple[str, ...]
    required_controls: tuple[str, ...]
    allow_skipped: bool
    allow_dirty: bool
    coverage_floors: Mapping[str, float]
    total_coverage_floor: float | None

    def to_json(self) -> dict[str, Any]:
        """Return the policy as recorded (the form ``deviations``/``below_floor`` read)."""
        return policy_record(self)

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.policy") -> PolicySummary:
        """Inverse of :meth:`to_json`."""
        keys = (
            "digest",
            "validityDays",
            "requiredTags",
            "requiredControls",
            "allowSkipped",
            "allowDirty",
            "coverageFloors",
            "totalCoverageFloor",
        )
        d = _obj(data, where, keys)
        digest = _obj(d["digest"], f"{where}.digest", ("sha256",))
        return cls(
            digest=_str(digest["sha256"], f"{where}.digest.sha256"),
            validity_days=_int(d["validityDays"], f"{where}.validityDays"),
            required_tags=_strs(d["requiredTags"], f"{where}.requiredTags"),
            required_controls=_strs(d["requiredControls"], f"{where}.requiredControls"),
            allow_skipped=_bool(d["allowSkipped"], f"{where}.allowSkipped"),
            allow_dirty=_bool(d["allowDirty"], f"{where}.allowDirty"),
            coverage_floors=_num_map(d["coverageFloors"], f"{where}.coverageFloors"),
            total_coverage_floor=_opt_num(d["totalCoverageFloor"], f"{where}.totalCoverageFloor"),
        )


@attrs.frozen
class Source:
    """The git commit certified and whether the work tree was dirty (None: no git)."""

    git_commit: str | None
    dirty: bool | None

    def to_json(self) -> dict[str, Any]:
        """Return the source as recorded."""
        return {"gitCommit": self.git_commit, "dirty": self.dirty}

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.source") -> Source:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("gitCommit", "dirty"))
        return cls(
            _opt_str(d["gitCommit"], f"{where}.gitCommit"), _opt_bool(d["dirty"], f"{where}.dirty")
        )


@attrs.frozen
class FailingTest:
    """An ordinary (non-scenario) test that failed or errored."""

    nodeid: str
    outcome: str

    def to_json(self) -> dict[str, Any]:
        """Return the test as recorded."""
        return {"nodeid": self.nodeid, "outcome": self.outcome}

    @classmethod
    def from_json(cls, data: object, where: str) -> FailingTest:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("nodeid", "outcome"))
        return cls(_str(d["nodeid"], f"{where}.nodeid"), _str(d["outcome"], f"{where}.outcome"))


_SCENARIO_KEYS = (
    "id",
    "name",
    "feature",
    "featurePath",
    "line",
    "outcome",
    "controls",
    "incidents",
    "incidentLine",
    "durationSeconds",
    "instances",
    "steps",
    "message",
)


def _scenario(data: object, where: str) -> ScenarioResult:
    d = _obj(data, where, _SCENARIO_KEYS)
    return ScenarioResult(
        id=_str(d["id"], f"{where}.id"),
        name=_str(d["name"], f"{where}.name"),
        feature=_str(d["feature"], f"{where}.feature"),
        feature_path=_str(d["featurePath"], f"{where}.featurePath"),
        line=_int(d["line"], f"{where}.line"),
        outcome=_str(d["outcome"], f"{where}.outcome"),
        controls=_strs(d["controls"], f"{where}.controls"),
        incidents=_strs(d["incidents"], f"{where}.incidents"),
        incident_line=_opt_str(d["incidentLine"], f"{where}.incidentLine"),
        duration=_num(d["durationSeconds"], f"{where}.durationSeconds"),
        instances=_int(d["instances"], f"{where}.instances"),
        steps=_strs(d["steps"], f"{where}.steps"),
        message=_str(d["message"], f"{where}.message"),
    )


def _counts(data: object, where: str) -> Counts:
    keys = ("inventory", "collected", "passed", "failed", "skipped", "errors", "notExecuted")
    d = _obj(data, where, keys)
    n = {k: _int(d[k], f"{where}.{k}") for k in keys}
    return Counts(
        inventory=n["inventory"],
        collected=n["collected"],
        passed=n["passed"],
        failed=n["failed"],
        skipped=n["skipped"],
        errors=n["errors"],
        not_executed=n["notExecuted"],
    )


def _test_counts(data: object, where: str) -> TestCounts:
    keys = ("collected", "passed", "failed", "skipped", "errors")
    d = _obj(data, where, keys)
    return TestCounts(*(_int(d[k], f"{where}.{k}") for k in keys))


@attrs.frozen
class SuiteRecord:
    """The library suite's reconciled results (scenarios are ``suite.ScenarioResult``)."""

    counts: Counts
    tests: TestCounts
    failing_tests: tuple[FailingTest, ...]
    hypothesis_profile: str | None
    pytest_args: tuple[str, ...]
    scenarios: tuple[ScenarioResult, ...]
    #: the signed earlier passing run the evidence was reused from (None: it ran now)
    reused: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the suite as recorded."""
        return {
            "counts": self.counts.to_json(),
            "tests": self.tests.to_json(),
            "failingTests": [t.to_json() for t in self.failing_tests],
            "hypothesisProfile": self.hypothesis_profile,
            "pytestArgs": list(self.pytest_args),
            "scenarios": [s.to_json() for s in self.scenarios],
            **({"reused": dict(self.reused)} if self.reused is not None else {}),
        }

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.suite") -> SuiteRecord:
        """Inverse of :meth:`to_json`."""
        keys = ("counts", "tests", "failingTests", "hypothesisProfile", "pytestArgs", "scenarios")
        d = _obj(data, where, keys)
        failing = _list(d["failingTests"], f"{where}.failingTests")
        scenarios = _list(d["scenarios"], f"{where}.scenarios")
        return cls(
            counts=_counts(d["counts"], f"{where}.counts"),
            tests=_test_counts(d["tests"], f"{where}.tests"),
            failing_tests=tuple(
                FailingTest.from_json(t, f"{where}.failingTests[{i}]")
                for i, t in enumerate(failing)
            ),
            hypothesis_profile=_opt_str(d["hypothesisProfile"], f"{where}.hypothesisProfile"),
            pytest_args=_strs(d["pytestArgs"], f"{where}.pytestArgs"),
            scenarios=tuple(
                _scenario(s, f"{where}.scenarios[{i}]") for i, s in enumerate(scenarios)
            ),
            reused=None if d.get("reused") is None else dict(_obj(d["reused"], f"{where}.reused")),
        )


@attrs.frozen
class ControlRow:
    """One row of the controls matrix (``statement.controls_matrix``)."""

    control: str
    kind: str
    description: str
    anchors: tuple[str, ...]
    required: bool
    scenarios: tuple[str, ...]
    passed: int
    total: int
    status: str

    def to_json(self) -> dict[str, Any]:
        """Return the row as recorded."""
        return {
            "control": self.control,
            "kind": self.kind,
            "description": self.description,
            "anchors": list(self.anchors),
            "required": self.required,
            "scenarios": list(self.scenarios),
            "passed": self.passed,
            "total": self.total,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> ControlRow:
        """Inverse of :meth:`to_json`."""
        keys = (
            "control",
            "kind",
            "description",
            "anchors",
            "required",
            "scenarios",
            "passed",
            "total",
            "status",
        )
        d = _obj(data, where, keys)
        return cls(
            control=_str(d["control"], f"{where}.control"),
            kind=_str(d["kind"], f"{where}.kind"),
            description=_str(d["description"], f"{where}.description"),
            anchors=_strs(d["anchors"], f"{where}.anchors"),
            required=_bool(d["required"], f"{where}.required"),
            scenarios=_strs(d["scenarios"], f"{where}.scenarios"),
            passed=_int(d["passed"], f"{where}.passed"),
            total=_int(d["total"], f"{where}.total"),
            status=_str(d["status"], f"{where}.status"),
        )


@attrs.frozen
class CoverageRecord:
    """Coverage of the library suite: total, per module, and the policy's floors."""

    total: float
    modules: Mapping[str, float]
    floors: Mapping[str, float]

    def floor_of(self, module: str) -> float | None:
        """The floor that applies to ``module`` (a floor names a module path suffix)."""
        return next((f for m, f in self.floors.items() if module.endswith(m)), None)

    def to_json(self) -> dict[str, Any]:
        """Return the coverage as recorded."""
        return {"total": self.total, "modules": dict(self.modules), "floors": dict(self.floors)}

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.coverage") -> CoverageRecord:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("total", "modules", "floors"))
        return cls(
            total=_num(d["total"], f"{where}.total"),
            modules=_num_map(d["modules"], f"{where}.modules"),
            floors=_num_map(d["floors"], f"{where}.floors"),
        )


@attrs.frozen
class Files:
    """sha256 of every certified file, per tree (relative path -> hex)."""

    safetrade: Mapping[str, str]
    bot: Mapping[str, str]
    ccxt: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return the file lists as recorded."""
        return {"safetrade": dict(self.safetrade), "bot": dict(self.bot), "ccxt": dict(self.ccxt)}

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.files") -> Files:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("safetrade", "bot", "ccxt"))
        return cls(
            safetrade=_str_map(d["safetrade"], f"{where}.safetrade"),
            bot=_str_map(d["bot"], f"{where}.bot"),
            ccxt=_str_map(d["ccxt"], f"{where}.ccxt"),
        )


@attrs.frozen
class Environment:
    """What safetrade and the bot run on: installed distributions by version."""

    distributions: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        """Return the environment as recorded."""
        return {"distributions": dict(self.distributions)}

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.environment") -> Environment:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("distributions",))
        return cls(_str_map(d["distributions"], f"{where}.distributions"))


def _finding(data: object, where: str) -> Finding:
    d = _obj(data, where, ("control", "title", "incidentLine", "passed", "detail"))
    return Finding(
        control=_str(d["control"], f"{where}.control"),
        title=_str(d["title"], f"{where}.title"),
        incident_line=_str(d["incidentLine"], f"{where}.incidentLine"),
        passed=_bool(d["passed"], f"{where}.passed"),
        detail=_str(d["detail"], f"{where}.detail"),
    )


def _bot(data: object, where: str) -> BotIdentity:
    keys = ("spec", "factory", "package", "distribution", "version", "dirHash", "files")
    d = _obj(data, where, (*keys, "isReference"))
    return BotIdentity(
        spec=_str(d["spec"], f"{where}.spec"),
        factory=_str(d["factory"], f"{where}.factory"),
        package=_str(d["package"], f"{where}.package"),
        distribution=_opt_str(d["distribution"], f"{where}.distribution"),
        version=_opt_str(d["version"], f"{where}.version"),
        dir_hash=_str(d["dirHash"], f"{where}.dirHash"),
        files=_str_map(d["files"], f"{where}.files"),
        is_reference=_bool(d["isReference"], f"{where}.isReference"),
    )


@attrs.frozen
class ConformanceScenario:
    """One conformance scenario as recorded; ``passed`` is the recorded flag, not recomputed."""

    id: str
    title: str
    story: tuple[str, ...]
    passed: bool
    findings: tuple[Finding, ...]
    sent: tuple[str, ...]
    left_live: tuple[str, ...]
    bot_errors: tuple[str, ...]
    requests: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Return the scenario as recorded."""
        return {
            "id": self.id,
            "title": self.title,
            "story": list(self.story),
            "passed": self.passed,
            "findings": [f.to_json() for f in self.findings],
            "sent": list(self.sent),
            "leftLive": list(self.left_live),
            "botErrors": list(self.bot_errors),
            "requests": self.requests,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: object, where: str) -> ConformanceScenario:
        """Inverse of :meth:`to_json`."""
        keys = (
            "id",
            "title",
            "story",
            "passed",
            "findings",
            "sent",
            "leftLive",
            "botErrors",
            "requests",
            "seconds",
        )
        d = _obj(data, where, keys)
        findings = _list(d["findings"], f"{where}.findings")
        return cls(
            id=_str(d["id"], f"{where}.id"),
            title=_str(d["title"], f"{where}.title"),
            story=_strs(d["story"], f"{where}.story"),
            passed=_bool(d["passed"], f"{where}.passed"),
            findings=tuple(_finding(f, f"{where}.findings[{i}]") for i, f in enumerate(findings)),
            sent=_strs(d["sent"], f"{where}.sent"),
            left_live=_strs(d["leftLive"], f"{where}.leftLive"),
            bot_errors=_strs(d["botErrors"], f"{where}.botErrors"),
            requests=_int(d["requests"], f"{where}.requests"),
            seconds=_num(d["seconds"], f"{where}.seconds"),
        )


@attrs.frozen
class ConformanceRecord:
    """The bot's conformance run as signed (``ConformanceResult.to_json()``).

    Unlike :meth:`ConformanceResult.from_json`, reading it back does not reconcile ``result``
    with the findings: the gate judges the recorded summary and the findings separately, and
    names each disagreement.
    """

    format: str
    result: str
    bot: BotIdentity
    required_controls: tuple[str, ...]
    scenarios: tuple[ConformanceScenario, ...]
    failures: tuple[str, ...]
    safetrade_dir_hash: str
    bot_coverage: float | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """Return the run as recorded."""
        return {
            "format": self.format,
            "result": self.result,
            "bot": self.bot.to_json(),
            "requiredControls": list(self.required_controls),
            "scenarios": [s.to_json() for s in self.scenarios],
            "failures": list(self.failures),
            "safetradeDirHash": self.safetrade_dir_hash,
            "botCoverage": self.bot_coverage,
            "seconds": self.seconds,
        }

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.conformance") -> ConformanceRecord:
        """Inverse of :meth:`to_json`."""
        keys = (
            "format",
            "result",
            "bot",
            "requiredControls",
            "scenarios",
            "failures",
            "safetradeDirHash",
            "botCoverage",
            "seconds",
        )
        d = _obj(data, where, keys)
        if d["format"] != CONFORMANCE_FORMAT:
            _fail(f"{where}.format", repr(CONFORMANCE_FORMAT), d["format"])
        scenarios = _list(d["scenarios"], f"{where}.scenarios")
        return cls(
            format=CONFORMANCE_FORMAT,
            result=_str(d["result"], f"{where}.result"),
            bot=_bot(d["bot"], f"{where}.bot"),
            required_controls=_strs(d["requiredControls"], f"{where}.requiredControls"),
            scenarios=tuple(
                ConformanceScenario.from_json(s, f"{where}.scenarios[{i}]")
                for i, s in enumerate(scenarios)
            ),
            failures=_strs(d["failures"], f"{where}.failures"),
            safetrade_dir_hash=_str(d["safetradeDirHash"], f"{where}.safetradeDirHash"),
            bot_coverage=_opt_num(d["botCoverage"], f"{where}.botCoverage"),
            seconds=_num(d["seconds"], f"{where}.seconds"),
        )


@attrs.frozen
class ReportDigest:
    """A report or evidence file bound into the statement by its sha256."""

    name: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        """Return the binding as recorded."""
        return {"name": self.name, "digest": {"sha256": self.sha256}}

    @classmethod
    def from_json(cls, data: object, where: str) -> ReportDigest:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("name", "digest"))
        digest = _obj(d["digest"], f"{where}.digest", ("sha256",))
        return cls(
            _str(d["name"], f"{where}.name"), _str(digest["sha256"], f"{where}.digest.sha256")
        )


# -------------------------------------------------------------------------------- the whole


def _as_object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


#: The predicate's fields, in the order ``build_statement`` writes them.
PREDICATE_KEYS = (
    "result",
    "problems",
    "issuedAt",
    "expiresAt",
    "signer",
    "verifier",
    "policy",
    "source",
    "versions",
    "suite",
    "controls",
    "coverage",
    "files",
    "environment",
    "conformance",
    "paper",
    "reports",
)


@attrs.frozen
class PaperRecord:
    """The paper evidence certify read: the policy's requirement and the journal's summary.

    ``summary`` is ``PaperSummary.to_json()`` of exactly the certified code (None: no journal);
    ``journal`` is the path certify read, as given.
    """

    requirement: Mapping[str, Any]
    journal: str | None
    summary: Mapping[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """Return the record as certify writes it."""
        return {
            "requirement": dict(self.requirement),
            "journal": self.journal,
            "summary": None if self.summary is None else dict(self.summary),
        }

    def line(self) -> str:
        """One line on the paper evidence, for the console and the reports."""
        summary, wanted = self.summary, self.requirement
        asked = f"required {wanted.get('minDays')} days, {wanted.get('minRoundTrips')} round trips"
        if summary is None:
            limits = [
                f"{label} {wanted.get(key)}"
                for key, label in (("maxRejections", "max_rejections"),
                                   ("maxBareSeconds", "max_bare_seconds"))
                if wanted.get(key) is not None
            ]  # fmt: skip
            unchecked = (
                f"; {' and '.join(limits)} checked nothing: if this code paper-traded into "
                "another journal, name it (--paper-journal or SAFETRADE_PAPER_DB)"
                if limits
                else ""
            )
            return f"no paper journal at {self.journal} ({asked}){unchecked}"
        rejections = summary.get("rejections")
        count = sum(rejections.values()) if isinstance(rejections, Mapping) else 0
        return (
            f"{summary.get('days')} days, {summary.get('roundTrips')} round trips, {count} "
            f"rejections, longest bare {summary.get('longestBareSeconds')} s by this code "
            f"({asked})"
        )

    @classmethod
    def from_json(cls, data: object, where: str = "predicate.paper") -> PaperRecord:
        """Inverse of :meth:`to_json`."""
        d = _obj(data, where, ("requirement", "journal", "summary"))
        summary = d["summary"]
        return cls(
            requirement=_obj(d["requirement"], f"{where}.requirement"),
            journal=_opt_str(d["journal"], f"{where}.journal"),
            summary=None if summary is None else _obj(summary, f"{where}.summary"),
        )


@attrs.frozen
class PredicateParts:
    """A predicate read part by part: each method validates one part or raises.

    The gate reads a (possibly unauthenticated) predicate this way so that a malformed part
    fails only the check that reads it. A part that is absent altogether is ``None`` where an
    older or trimmed artifact may lack it (``files``, ``environment``, ``conformance``, and
    ``suite`` for the gate's "no scenario results") and an error elsewhere.

    Args:
        raw: The predicate JSON; anything that is not an object reads as an empty one.
    """

    raw: Mapping[str, Any] = attrs.field(converter=_as_object)

    def _get(self, key: str) -> object:
        if key not in self.raw:
            raise PredicateError(f"predicate lacks {key}")
        return self.raw[key]

    def result(self) -> str:
        """``PASSED`` or ``FAILED`` (any other string is returned for the gate to name)."""
        return _str(self._get("result"), "predicate.result")

    def problems(self) -> tuple[str, ...]:
        """Why certify refused, as it said then (empty for a PASSED statement)."""
        return _strs(self._get("problems"), "predicate.problems")

    def validity(self) -> Validity:
        """``issuedAt`` and ``expiresAt``."""
        return Validity(
            issued_at=_time(self._get("issuedAt"), "predicate.issuedAt"),
            expires_at=_time(self._get("expiresAt"), "predicate.expiresAt"),
        )

    def signer(self) -> Signer:
        """The signer the statement names."""
        return Signer.from_json(self._get("signer"))

    def verifier(self) -> Verifier:
        """What produced the statement."""
        return Verifier.from_json(self._get("verifier"))

    def policy(self) -> PolicySummary:
        """The policy the run was judged by."""
        return PolicySummary.from_json(self._get("policy"))

    def source(self) -> Source:
        """The git commit certified."""
        return Source.from_json(self._get("source"))

    def versions(self) -> dict[str, str | None]:
        """Python, safetrade and ccxt versions (None: a distribution was absent)."""
        return _opt_str_map(self._get("versions"), "predicate.versions")

    def suite(self) -> SuiteRecord | None:
        """The library suite's results; None when the predicate holds none."""
        return None if "suite" not in self.raw else SuiteRecord.from_json(self.raw["suite"])

    def controls(self) -> tuple[ControlRow, ...]:
        """The controls matrix."""
        rows = _list(self._get("controls"), "predicate.controls")
        return tuple(
            ControlRow.from_json(r, f"predicate.controls[{i}]") for i, r in enumerate(rows)
        )

    def coverage(self) -> CoverageRecord | None:
        """Coverage of the library suite; None when coverage.json was missing."""
        value = self._get("coverage")
        return None if value is None else CoverageRecord.from_json(value)

    def files(self) -> Files | None:
        """Per-file digests of each tree; None when the artifact lists no files."""
        return None if "files" not in self.raw else Files.from_json(self.raw["files"])

    def environment(self) -> Environment | None:
        """Run-time distributions; None when the artifact records none."""
        value = self.raw.get("environment")
        return None if value is None else Environment.from_json(value)

    def conformance(self) -> ConformanceRecord | None:
        """The bot's conformance run; None when the bot was only hashed, never exercised."""
        value = self.raw.get("conformance")
        return None if value is None else ConformanceRecord.from_json(value)

    def paper(self) -> PaperRecord | None:
        """The paper evidence read; None in an artifact from before paper evidence existed."""
        value = self.raw.get("paper")
        return None if value is None else PaperRecord.from_json(value)

    def reports(self) -> tuple[ReportDigest, ...]:
        """Reports and evidence files bound by digest."""
        rows = _list(self._get("reports"), "predicate.reports")
        return tuple(
            ReportDigest.from_json(r, f"predicate.reports[{i}]") for i, r in enumerate(rows)
        )


@attrs.frozen
class Predicate:
    """The whole predicate, every part validated (see :class:`PredicateParts` for one part)."""

    result: str
    problems: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    signer: Signer
    verifier: Verifier
    policy: PolicySummary
    source: Source
    versions: Mapping[str, str | None]
    suite: SuiteRecord
    controls: tuple[ControlRow, ...]
    coverage: CoverageRecord | None
    files: Files
    environment: Environment
    conformance: ConformanceRecord | None
    paper: PaperRecord | None
    reports: tuple[ReportDigest, ...]

    @property
    def passed(self) -> bool:
        """The statement says the run passed the policy (the gate still checks the rest)."""
        return self.result == "PASSED"

    def to_json(self) -> dict[str, Any]:
        """Return the predicate exactly as ``build_statement`` writes it."""
        return {
            "result": self.result,
            "problems": list(self.problems),
            "issuedAt": format_time(self.issued_at),
            "expiresAt": format_time(self.expires_at),
            "signer": self.signer.to_json(),
            "verifier": self.verifier.to_json(),
            "policy": self.policy.to_json(),
            "source": self.source.to_json(),
            "versions": dict(self.versions),
            "suite": self.suite.to_json(),
            "controls": [r.to_json() for r in self.controls],
            "coverage": None if self.coverage is None else self.coverage.to_json(),
            "files": self.files.to_json(),
            "environment": self.environment.to_json(),
            "conformance": None if self.conformance is None else self.conformance.to_json(),
            "paper": None if self.paper is None else self.paper.to_json(),
            "reports": [r.to_json() for r in self.reports],
        }

    @classmethod
    def from_json(cls, data: object) -> Predicate:
        """Read a predicate, validating every field certify writes.

        Raises:
            PredicateError: A field is missing, or of the wrong type or form.
        """
        parts = PredicateParts(_obj(data, "predicate", PREDICATE_KEYS))
        validity = parts.validity()
        suite, files, environment = parts.suite(), parts.files(), parts.environment()
        if environment is None:
            _fail("predicate.environment", "an object", None)
        if suite is None or files is None:  # pragma: no cover - _obj checked every key
            raise PredicateError("predicate lacks suite or files")
        return cls(
            result=parts.result(),
            problems=parts.problems(),
            issued_at=validity.issued_at,
            expires_at=validity.expires_at,
            signer=parts.signer(),
            verifier=parts.verifier(),
            policy=parts.policy(),
            source=parts.source(),
            versions=parts.versions(),
            suite=suite,
            controls=parts.controls(),
            coverage=parts.coverage(),
            files=files,
            environment=environment,
            conformance=parts.conformance(),
            paper=parts.paper(),
            reports=parts.reports(),
        )
