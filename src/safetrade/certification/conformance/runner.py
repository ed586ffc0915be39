"""Run every conformance scenario against one bot and collect the typed result."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from safetrade.certification.conformance.result import (
    BotIdentity,
    ConformanceResult,
    ScenarioRun,
)
from safetrade.certification.conformance.scenarios import SCENARIOS
from safetrade.certification.conformance.stage import Stage
from safetrade.certification.digest import tree_digest
from safetrade.certification.provenance import measure_running_code
from safetrade.errors import BotContractError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetrade.certification.bots import BotUnderTest
    from safetrade.certification.conformance.scenarios import Scenario
    from safetrade.certification.provenance import RunningCode

__all__ = ["identify", "run_conformance", "run_scenario"]

log = logging.getLogger("safetrade.certification")


def identify(bot: BotUnderTest, running: RunningCode) -> BotIdentity:
    """The bot's identity as measured now (its files' digests)."""
    if running.bot_error:
        raise BotContractError(
            f"bot package {bot.package!r} cannot be digested",
            why=running.bot_error,
            fix="make the bot an importable package (a folder with __init__.py) and install it",
        )
    return BotIdentity(
        spec=bot.spec,
        factory=bot.factory_name,
        package=bot.package,
        distribution=bot.distribution,
        version=bot.version,
        dir_hash=tree_digest(running.bot_files),
        files=dict(running.bot_files),
        is_reference=bot.is_reference,
    )


def run_scenario(
    bot: BotUnderTest, scenario: Scenario, running: RunningCode, workdir: Path
) -> ScenarioRun:
    """Play one scenario in a fresh exchange and folder; judge what the exchange saw."""
    began = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    stage = Stage(bot, running, scenario.setup, workdir)
    try:
        findings = scenario.play(stage)
        position = stage.position()
        sent = tuple(o.describe() for o in stage.sent())
        requests = len(stage.fake.requests)
    finally:
        stage.close()
    return ScenarioRun(
        id=scenario.id,
        title=scenario.title,
        story=scenario.story,
        findings=tuple(findings),
        sent=sent,
        left_live=position.live_stops,
        bot_errors=tuple(stage.errors),
        requests=requests,
        seconds=time.perf_counter() - began,
    )


def run_conformance(
    bot: BotUnderTest,
    *,
    scenarios: Sequence[Scenario] = SCENARIOS,
    workdir: Path | None = None,
    bot_coverage: float | None = None,
) -> ConformanceResult:
    """Run ``scenarios`` against ``bot``; each scenario gets its own exchange and folder.

    Args:
        bot: The bot, as :func:`safetrade.certification.bots.load_bot` found it.
        scenarios: Which scenarios (default: all of them).
        workdir: Parent of the per-scenario folders (default: a temporary folder).
        bot_coverage: Coverage of the bot's package measured around this run, if any.

    Raises:
        BotContractError: The bot's package cannot be digested.
    """
    began = time.perf_counter()
    running = measure_running_code(bot.package)
    identity = identify(bot, running)
    with tempfile.TemporaryDirectory(prefix="safetrade-conformance-") as scratch:
        root = workdir or Path(scratch)
        runs = []
        for scenario in scenarios:
            run = run_scenario(bot, scenario, running, root / scenario.id)
            log.info("conformance %s: %s", scenario.id, "passed" if run.passed else "FAILED")
            runs.append(run)
    return ConformanceResult(
        bot=identity,
        scenarios=tuple(runs),
        safetrade_dir_hash=tree_digest(running.safetrade_files),
        bot_coverage=bot_coverage,
        seconds=time.perf_counter() - began,
    )
