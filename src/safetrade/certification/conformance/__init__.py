"""Bot conformance: the incident and its faults played against the bot that will trade.

:func:`run_conformance` builds the bot per scenario through the bot contract
(:mod:`safetrade.certification.contract`), drives it against the fake KuCoin and judges only
what the exchange saw. ``safetrade conformance`` runs it from the command line and writes
``conformance.json``, which ``safetrade certify`` signs into the artifact.
"""

from __future__ import annotations

from safetrade.certification.conformance.result import (
    REQUIRED_CONTROLS,
    BotIdentity,
    ConformanceError,
    ConformanceResult,
    Finding,
    ScenarioRun,
)
from safetrade.certification.conformance.runner import run_conformance
from safetrade.certification.conformance.scenarios import SCENARIOS, Scenario

__all__ = [
    "REQUIRED_CONTROLS",
    "SCENARIOS",
    "BotIdentity",
    "ConformanceError",
    "ConformanceResult",
    "Finding",
    "Scenario",
    "ScenarioRun",
    "run_conformance",
]
