"""A bot written with ``ccxt.async_support`` is certified, and judged, like a sync one.

The async bot (tests/fixtures/bots/async_bot) does all of its exchange I/O with ccxt's async
client from ``context.new_async_exchange()``, which talks real HTTP to a loopback server of
the scenario's own fake: the judges read the same records, and the scenario's faults hit the
async requests. It must pass every scenario; the same bot without its stop-loss (and with its
own client built from ``context.access.loopback_url()``) must fail protective-orders.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxt_async
import pytest

from safetrade.certification.bots import load_bot
from safetrade.certification.conformance import run_conformance
from safetrade.certification.conformance.scenarios import LIVE_ENV, SCENARIOS
from safetrade.certification.conformance.stage import Setup, Stage
from safetrade.certification.provenance import measure_running_code
from safetrade.testing import Fault
from tests.conformance_runs import failed_findings


@pytest.fixture(autouse=True)
def _quiet_bots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)


def test_an_async_ccxt_bot_passes_every_conformance_scenario(bot_path: None) -> None:
    result = run_conformance(load_bot("async_bot.certify:make_bot"))
    assert result.failures() == ()
    assert result.passed
    assert (result.bot.package, result.bot.is_reference) == ("async_bot", False)
    # it traded (through the loopback server) in the scenarios that trade, not only refused
    feb6 = next(s for s in result.scenarios if s.id == "feb6-trade")
    assert any(line.startswith("stop order sell market SOL-USDT") for line in feb6.sent), feb6
    assert feb6.bot_errors == ()
    # the scenarios' faults hit the async requests: two stop-losses timed out, then one placed
    runs = {s.id: s for s in result.scenarios}
    timeout = [line for line in runs["stop-loss-timeout"].sent if line.startswith("stop order")]
    assert [line.rpartition("-> ")[2] for line in timeout][:3] == [
        "fault TIMEOUT", "fault TIMEOUT", "accepted",
    ]  # fmt: skip
    lost = [line for line in runs["entry-response-lost"].sent if " buy " in line]
    [entry] = lost  # bought once: the lost answer was looked up, not sent again
    assert entry.endswith("-> fault RESPONSE_LOST (answer was 200000)"), entry
    print(f"async bot: {len(result.scenarios)} of {len(SCENARIOS)} conformance scenarios passed")  # noqa: T201


def test_an_async_bot_without_stop_loss_fails_protective_orders(bot_path: None) -> None:
    feb6 = tuple(s for s in SCENARIOS if s.id == "feb6-trade")
    result = run_conformance(load_bot("async_bot.no_stop:make_bot"), scenarios=feb6)
    assert not result.passed
    failed = failed_findings(result)
    assert any("0 SOL under live stop-loss" in d for d in failed["protective-orders"]), failed
    feb6 = next(f for f in result.failures() if "(scenario feb6-trade; incident: " in f)
    assert feb6.startswith("protective-orders: ")


def test_the_async_client_reaches_the_stages_fake_with_its_faults(
    bot_path: None, tmp_path: Path
) -> None:
    bot = load_bot("async_bot.certify:make_bot")
    stage = Stage(bot, measure_running_code(bot.package), Setup(dotenv=LIVE_ENV), tmp_path)
    try:
        assert stage.fake.requests == ()  # nothing listens or is sent until a bot asks
        stage.fake.inject("create_stop_order", Fault.TIMEOUT, 1)
        exchange = stage.context.new_async_exchange()
        assert stage.context.access.loopback_url() == exchange.urls["api"]["public"]

        async def trade() -> Any:
            await exchange.create_order("SOL/USDT", "market", "buy", "0.5", None)
            with pytest.raises(ccxt_async.NetworkError):  # the injected timeout: a hang-up
                await exchange.create_order(
                    "SOL/USDT", "market", "sell", "0.5", None, {"stopPrice": "80"}
                )
            return await exchange.create_order(
                "SOL/USDT", "market", "sell", "0.5", None, {"stopPrice": "80"}
            )

        loop = asyncio.new_event_loop()
        try:
            stop = loop.run_until_complete(trade())
            # the judges' records: the stage's own fake saw both orders and the fault
            sent = stage.sent()
            assert [(o.kind, o.fault) for o in sent] == [
                ("order", None), ("stop order", "TIMEOUT"), ("stop order", None),
            ]  # fmt: skip
            assert stage.bought()[0] == 0.5
            assert [s.id for s in stage.fake.stop_orders.values()] == [stop["id"]]
            assert {r.host for r in stage.fake.requests} == {"127.0.0.1"}
            stage.close()  # the client the bot left open is closed in its loop, then the server
            assert exchange.session is None
        finally:
            loop.close()
    finally:
        stage.close()
