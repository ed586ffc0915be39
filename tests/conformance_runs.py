"""Conformance records for tests of certify and the gate (built from the typed result)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetrade.certification.certify import CertifyInputs
from safetrade.certification.conformance.result import (
    REQUIRED_CONTROLS,
    BotIdentity,
    ConformanceResult,
    Finding,
    ScenarioRun,
)
from safetrade.certification.digest import tree_digest
from safetrade.certification.policy import LIBRARY_DEFAULTS
from safetrade.certification.provenance import RunningCode, measure_running_code
from safetrade.certification.seal import SUITE_STEP, seal_conformance, write_seal

if TYPE_CHECKING:
    from safetrade.certification.keys import SigningKey


def conformance_result(
    running: RunningCode, *, passed: bool = True, controls: tuple[str, ...] = REQUIRED_CONTROLS
) -> ConformanceResult:
    """A conformance run of ``running``'s bot in which every required control was judged."""
    findings = tuple(
        Finding(c, f"{c} judged", "an incident line", passed or c != "rounding", "numbers")
        for c in controls
    )
    # what a run records: the orders the exchange saw, what was left live, what the bot raised
    run = ScenarioRun(
        "feb6-trade", "the trade", ("signal at 87.36",), findings,
        sent=("buy market 1.4065 SOL", "stop-loss 1.4065 SOL @ 85.61"),
        left_live=("stop-loss 1.4065 SOL @ 85.61",),
        bot_errors=() if passed else ("InvalidOrder: Price increment invalid.",),
        requests=12, seconds=0.1,
    )  # fmt: skip
    return ConformanceResult(
        bot=BotIdentity(
            spec=running.bot_package,
            factory=f"{running.bot_package}:make_bot",
            package=running.bot_package,
            distribution=running.bot_package,
            version="1.0",
            dir_hash=tree_digest(running.bot_files),
            files=dict(running.bot_files),
            is_reference=False,
        ),
        scenarios=(run,),
        safetrade_dir_hash=tree_digest(running.safetrade_files),
        bot_coverage=90.0,
        seconds=0.1,
    )


def conformance_of(
    running: RunningCode, *, passed: bool = True, controls: tuple[str, ...] = REQUIRED_CONTROLS
) -> dict[str, Any]:
    """:func:`conformance_result` as the JSON the statement records."""
    return conformance_result(running, passed=passed, controls=controls).to_json()


def seal_outputs(inputs: CertifyInputs, key: SigningKey) -> None:
    """Seal certify's inputs as they are now, as ``safetrade conformance`` and ``suite`` do.

    The conformance seal names the bot the record names (what the conformance process writes);
    a missing conformance.json gets no seal (the conformance step never ran).
    """
    now = datetime.now(UTC)
    if inputs.conformance.is_file():
        record = json.loads(inputs.conformance.read_bytes())
        seal_conformance(
            inputs.conformance, bot=record["bot"], safetrade_dir_hash=record["safetradeDirHash"],
            signing_key=key, started_at=now, now=now,
        )  # fmt: skip
    cucumber = inputs.cucumber or inputs.evidence.parent / "cucumber.json"
    files = {"evidence.json": inputs.evidence, "coverage.json": inputs.coverage}
    write_seal(
        inputs.evidence.parent, step=SUITE_STEP, files={**files, "cucumber.json": cucumber},
        signing_key=key, started_at=now, now=now, run={"reused": None, "exitStatuses": [0]},
    )  # fmt: skip


def passing_library_run(
    root: Path, conformance: ConformanceResult, *, key: SigningKey | None = None
) -> CertifyInputs:
    """certify()'s inputs with a passing one-scenario library suite and ``conformance``.

    The library part is the smallest run the policy accepts, so whatever certify says comes
    from the bot's conformance run. With ``key``, the outputs are sealed with it.
    """
    (root / "features").mkdir(parents=True)
    (root / "features" / "k.feature").write_text(
        f"Feature: K\n  {FLOOR_TAGS}\n  Scenario: S\n    Given g\n", encoding="utf-8"
    )
    (root / "policy.toml").write_text(floor_policy(), encoding="utf-8")
    out = root / "out"
    out.mkdir()
    evidence = {
        "format": "safetrade-evidence/1",
        "exitstatus": 0,
        "testedFiles": dict(measure_running_code(conformance.bot.package).safetrade_files),
        "items": [
            {"nodeid": "t::s", "outcome": "passed", "duration": 0, "controls": ["code-binding"],
             "incidents": [], "scenario": "features/k.feature::S"}
        ],
    }  # fmt: skip
    (out / "evidence.json").write_text(json.dumps(evidence), encoding="utf-8")
    (out / "coverage.json").write_text(json.dumps(floor_coverage()), encoding="utf-8")
    (out / "conformance.json").write_bytes(conformance.dumps())
    inputs = CertifyInputs.in_folder(root, out, root / "policy.toml", cucumber=False)
    if key is not None:
        seal_outputs(inputs, key)
    return inputs


#: A policy at the library's floor (what certify and the gate accept at the least).
FLOOR_CONTROLS: tuple[str, ...] = tuple(LIBRARY_DEFAULTS["requiredControls"])
FLOOR_TAGS = " ".join(f"@control-{c}" for c in FLOOR_CONTROLS) + " @incident-2026-02-06"


def floor_policy(*, total_floor: int = 80, extra: str = "") -> str:
    """Policy TOML meeting the library floor."""
    controls = ", ".join(f'"{c}"' for c in FLOOR_CONTROLS)
    floors = "\n".join(f'"{m}" = {v:g}' for m, v in LIBRARY_DEFAULTS["coverageFloors"].items())
    return (
        f'[scenarios]\nrequired_tags = ["incident-2026-02-06"]\nrequired_controls = [{controls}]\n'
        f"{extra}[coverage]\ntotal_floor = {total_floor}\n[coverage.floors]\n{floors}\n"
    )


def floor_coverage(total: float = 95.0) -> dict[str, object]:
    """coverage.py's JSON report with every safety module of the floor covered at ``total``."""
    modules = [f"src/{m}" for m in LIBRARY_DEFAULTS["coverageFloors"]]
    return {
        "files": {m: {"summary": {"percent_covered": total}} for m in modules},
        "totals": {"percent_covered": total},
    }


def failed_findings(result: ConformanceResult) -> dict[str, list[str]]:
    """Failed findings by control: ``{control: ["scenario: detail", ...]}``."""
    failed: dict[str, list[str]] = {}
    for scenario in result.scenarios:
        for finding in scenario.findings:
            if not finding.passed:
                failed.setdefault(finding.control, []).append(f"{scenario.id}: {finding.detail}")
    return failed
