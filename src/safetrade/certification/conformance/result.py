"""Typed results of a conformance run, and their JSON form (``conformance.json``).

The JSON is written by the process that ran the bot and read back by ``safetrade certify``,
which signs it into the statement; :meth:`ConformanceResult.from_json` refuses anything that
is not what :meth:`ConformanceResult.to_json` writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from safetrade.errors import SafetradeError

__all__ = [
    "REQUIRED_CONTROLS",
    "BotIdentity",
    "ConformanceError",
    "ConformanceResult",
    "Finding",
    "ScenarioRun",
]

FORMAT = "safetrade.conformance/v1"

#: Controls every certified bot must evidence in the conformance run. A policy file cannot
#: remove them: they are the Feb 6 failures and the live gate.
REQUIRED_CONTROLS = (
    "config-strict",
    "position-sizing",
    "balance-check",
    "rounding",
    "protective-orders",
    "max-open-positions",
    "signal-threshold",
    "code-binding",
)


class ConformanceError(SafetradeError):
    """conformance.json is missing, malformed, or not the run of the bot being certified."""


@attrs.frozen
class Finding:
    """One judged control of one scenario.

    Attributes:
        control: The control's name (``rounding``, ``protective-orders``, ...).
        title: What was checked, in the exchange's terms.
        incident_line: The line of the Feb 6 incident report this replays.
        passed: Whether the exchange's records satisfy it.
        detail: The numbers behind the verdict.
    """

    control: str
    title: str
    incident_line: str
    passed: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        """Return the finding as recorded."""
        return {
            "control": self.control,
            "title": self.title,
            "incidentLine": self.incident_line,
            "passed": self.passed,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_json`."""
        return cls(
            control=str(data["control"]),
            title=str(data["title"]),
            incident_line=str(data["incidentLine"]),
            passed=data["passed"] is True,
            detail=str(data["detail"]),
        )


@attrs.frozen
class ScenarioRun:
    """One conformance scenario as the exchange saw it.

    Attributes:
        id: Stable identifier, e.g. ``feb6-trade``.
        title: One line for the report.
        story: The scenario's steps in words (Given / When / Then).
        findings: The judged controls.
        sent: Every order-creating request with KuCoin's answer, in order.
        left_live: Stop orders still live on the exchange at the end.
        bot_errors: Exceptions the bot raised (start-up, signal, tick), in order.
        requests: How many requests the exchange received.
        seconds: Wall time of the scenario.
    """

    id: str
    title: str
    story: tuple[str, ...]
    findings: tuple[Finding, ...]
    sent: tuple[str, ...]
    left_live: tuple[str, ...]
    bot_errors: tuple[str, ...]
    requests: int
    seconds: float

    @property
    def passed(self) -> bool:
        """Every finding passed (a scenario without findings judged nothing: failed)."""
        return bool(self.findings) and all(f.passed for f in self.findings)

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
            "seconds": round(self.seconds, 4),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScenarioRun:
        """Inverse of :meth:`to_json`."""
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            story=tuple(str(s) for s in data["story"]),
            findings=tuple(Finding.from_json(f) for f in data["findings"]),
            sent=tuple(str(s) for s in data["sent"]),
            left_live=tuple(str(s) for s in data["leftLive"]),
            bot_errors=tuple(str(s) for s in data["botErrors"]),
            requests=int(data["requests"]),
            seconds=float(data["seconds"]),
        )


@attrs.frozen
class BotIdentity:
    """The bot that was exercised, as measured in the process that ran it.

    Attributes:
        spec: What the user named (``mybot``, ``mybot.certify:make_bot``).
        factory: ``module:function`` of the factory that built it.
        package: The importable package digested (and compared by the live gate).
        distribution: Its installed distribution, if known.
        version: That distribution's version, if known.
        dir_hash: Tree digest of the package's files when the run started.
        files: sha256 of each file of the package (relative path -> hex).
        is_reference: Whether this is safetrade's reference bot.
    """

    spec: str
    factory: str
    package: str
    distribution: str | None
    version: str | None
    dir_hash: str
    files: Mapping[str, str]
    is_reference: bool

    def to_json(self) -> dict[str, Any]:
        """Return the bot as recorded."""
        return {
            "spec": self.spec,
            "factory": self.factory,
            "package": self.package,
            "distribution": self.distribution,
            "version": self.version,
            "dirHash": self.dir_hash,
            "files": dict(self.files),
            "isReference": self.is_reference,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BotIdentity:
        """Inverse of :meth:`to_json`."""
        files = data["files"]
        if not isinstance(files, Mapping):
            raise TypeError("files is not an object")
        return cls(
            spec=str(data["spec"]),
            factory=str(data["factory"]),
            package=str(data["package"]),
            distribution=None if data["distribution"] is None else str(data["distribution"]),
            version=None if data["version"] is None else str(data["version"]),
            dir_hash=str(data["dirHash"]),
            files={str(k): str(v) for k, v in files.items()},
            is_reference=data["isReference"] is True,
        )


@attrs.frozen
class ConformanceResult:
    """The whole conformance run of one bot.

    Attributes:
        bot: The bot exercised.
        scenarios: Every scenario, in run order.
        safetrade_dir_hash: Tree digest of the safetrade code the run used.
        bot_coverage: Percent of the bot package's lines and branches the run executed, or
            None when coverage.py was not available.
        seconds: Wall time of the whole run.
    """

    bot: BotIdentity
    scenarios: tuple[ScenarioRun, ...]
    safetrade_dir_hash: str
    bot_coverage: float | None
    seconds: float

    @property
    def missing_controls(self) -> tuple[str, ...]:
        """Required controls that no finding evidences."""
        judged = {f.control for s in self.scenarios for f in s.findings}
        return tuple(c for c in REQUIRED_CONTROLS if c not in judged)

    @property
    def passed(self) -> bool:
        """Every scenario passed and every required control was judged."""
        return (
            bool(self.scenarios)
            and all(s.passed for s in self.scenarios)
            and not self.missing_controls
        )

    def failures(self) -> tuple[str, ...]:
        """``control — incident line — scenario: detail`` for each failed finding."""
        lines = [
            f"{f.control}: {f.title} (scenario {s.id}; incident: {f.incident_line}): {f.detail}"
            for s in self.scenarios
            for f in s.findings
            if not f.passed
        ]
        lines.extend(f"{s.id}: judged nothing" for s in self.scenarios if not s.findings)
        lines.extend(
            f"{c}: no scenario judged this required control" for c in self.missing_controls
        )
        return tuple(lines)

    def to_json(self) -> dict[str, Any]:
        """Return the run as recorded in ``conformance.json`` and in the signed statement."""
        return {
            "format": FORMAT,
            "result": "PASSED" if self.passed else "FAILED",
            "bot": self.bot.to_json(),
            "requiredControls": list(REQUIRED_CONTROLS),
            "scenarios": [s.to_json() for s in self.scenarios],
            "failures": list(self.failures()),
            "safetradeDirHash": self.safetrade_dir_hash,
            "botCoverage": None if self.bot_coverage is None else round(self.bot_coverage, 2),
            "seconds": round(self.seconds, 3),
        }

    def dumps(self) -> bytes:
        """The JSON file's bytes."""
        return json.dumps(self.to_json(), indent=1, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: object) -> ConformanceResult:
        """Read what :meth:`to_json` wrote.

        Raises:
            ConformanceError: Not a conformance record, or its result does not match its
                scenarios (an edited file).
        """
        try:
            if not isinstance(data, Mapping) or data.get("format") != FORMAT:
                raise TypeError(f"format is not {FORMAT!r}")
            coverage = data["botCoverage"]
            result = cls(
                bot=BotIdentity.from_json(data["bot"]),
                scenarios=tuple(ScenarioRun.from_json(s) for s in data["scenarios"]),
                safetrade_dir_hash=str(data["safetradeDirHash"]),
                bot_coverage=None if coverage is None else float(coverage),
                seconds=float(data["seconds"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConformanceError(
                "conformance.json is not a conformance run",
                why=f"{type(exc).__name__}: {exc}",
                fix="re-run `tox -e certify` (it writes conformance.json before certifying)",
            ) from exc
        if (data.get("result") == "PASSED") != result.passed:
            verdict = "PASSED" if result.passed else "FAILED"
            raise ConformanceError(
                f"conformance.json says {data.get('result')!r} but its scenarios say {verdict}",
                why="the file was edited after the run",
                fix="re-run `tox -e certify`",
            )
        return result

    @classmethod
    def loads(cls, raw: bytes) -> ConformanceResult:
        """Parse ``conformance.json`` bytes (see :meth:`from_json`)."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ConformanceError(
                "conformance.json is not JSON", why=str(exc), fix="re-run `tox -e certify`"
            ) from exc
        return cls.from_json(data)
