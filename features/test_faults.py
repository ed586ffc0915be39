"""Network faults during protection: the fault x step matrix, through the reference bot.

A fault is armed on the fake KuCoin right before the order it targets is built: the bot makes
its client order ids with ``trading.oids`` (deterministic, ``st-<purpose>-<n>``), whose hooks
arm the fault. "3 times
in a row" means the next three calls of that endpoint, the protector's whole retry budget.
"""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import given, parsers, scenarios, then

from features.steps.helpers import Startup, Trading, live_stops, running_bot
from safetrade.builder import OrderPurpose
from safetrade.protector import Flattened, Halted, Protected
from safetrade.reference_bot.bot import ReferenceBot, TradeResult
from safetrade.testing import FakeKucoin, Fault

scenarios("faults_protection.feature")

FAULTS = {
    "timeout": Fault.TIMEOUT,
    "500 server error": Fault.SERVER_ERROR,
    "429 rate limit": Fault.RATE_LIMIT,
    "lost response": Fault.RESPONSE_LOST,
}
# step -> (the order whose client order id arms the fault, the endpoint that fails)
STEPS = {
    "stop-loss": (OrderPurpose.STOP_LOSS, "create_stop_order"),
    "take-profit": (OrderPurpose.TAKE_PROFIT, "create_stop_order"),
    # armed when the take-profit is built: the next stop-order listing is the read-back
    "read-back": (OrderPurpose.TAKE_PROFIT, "list_stop_orders"),
    "flatten": (OrderPurpose.FLATTEN, "create_order"),
}
PURPOSES = ("stop-loss", "take-profit", "flatten")


def _times(text: str) -> int:
    return 1 if text == "once" else int(text.split(maxsplit=1)[0])


# --------------------------------------------------------------------------- Given


@given(
    parsers.re(
        r"KuCoin answers the (?P<step>stop-loss|take-profit|read-back|flatten) with a "
        r"(?P<fault>timeout|500 server error|429 rate limit|lost response) "
        r"(?P<times>once|\d+ times in a row)"
    )
)
def kucoin_answers_with(
    trading: Trading,
    exchange: FakeKucoin,
    step: str,
    fault: str,
    times: str,
) -> None:
    purpose, endpoint = STEPS[step]
    assert purpose not in trading.oids.hooks, f"{purpose} already arms a fault"
    trading.oids.hooks[purpose] = lambda: exchange.inject(
        endpoint, FAULTS[fault], times=_times(times)
    )


@given(parsers.parse('KuCoin rejects the stop-loss {times:d} times with "{message}"'))
def kucoin_rejects_stop_loss(
    trading: Trading,
    exchange: FakeKucoin,
    times: int,
    message: str,
) -> None:
    trading.oids.hooks[OrderPurpose.STOP_LOSS] = lambda: exchange.inject(
        "create_stop_order", Fault.reject("400100", message), times=times
    )


# --------------------------------------------------------------------------- Then


def _assert_protected(outcome: Protected, exchange: FakeKucoin) -> None:
    assert outcome.take_profit is not None
    held = exchange.balance("SOL").available
    assert held == outcome.fill.amount
    live = {s.stop: s for s in live_stops(exchange)}
    assert sorted(live) == ["entry", "loss"], live
    assert live["loss"].id == outcome.stop_loss.order_id
    assert live["entry"].id == outcome.take_profit.order_id
    for order in live.values():
        assert (order.side, order.size) == ("sell", held)
    assert (live["loss"].stop_price, live["entry"].stop_price) == (
        Decimal("85.61"),
        Decimal("90.00"),
    )


def _assert_flattened(outcome: Flattened, exchange: FakeKucoin) -> None:
    assert outcome.exit_order is not None, outcome.reason
    assert exchange.balance("SOL").total == 0  # "no coins are left": the whole fill was sold
    assert live_stops(exchange) == []
    sales = [o for o in exchange.orders.values() if o.side == "sell"]
    assert [(o.type, o.deal_size, o.is_active) for o in sales] == [
        ("market", outcome.fill.amount, False)
    ]
    assert sales[0].id == outcome.exit_order.order_id


def _assert_halted(
    outcome: Halted, exchange: FakeKucoin, bot: ReferenceBot, trading: Trading
) -> None:
    # not silently bare: trading is halted and a human is told the position may be unprotected
    assert bot.kill_switch.reason is not None
    assert outcome.reason in bot.kill_switch.reason
    assert [a.event for a in trading.alerts if a.level == "critical"] == ["halted"]
    # and nothing on KuCoin pretends otherwise: the coins are held, no sale went through
    assert exchange.balance("SOL").available == outcome.fill.amount
    assert [o.side for o in exchange.orders.values()] == ["buy"]


@then(parsers.parse("the protection ended {outcome} on KuCoin"))
def protection_ended(
    trade: TradeResult,
    exchange: FakeKucoin,
    startup: Startup,
    trading: Trading,
    outcome: str,
) -> None:
    assert trade.sent, trade.refusal
    assert trade.entry is not None
    assert trade.entry.fill is not None, trade.entry
    result = trade.outcome
    assert type(result).__name__ == outcome, (result, trading.alerts)
    if isinstance(result, Protected):
        _assert_protected(result, exchange)
        assert running_bot(startup).kill_switch.reason is None
    elif isinstance(result, Flattened):
        _assert_flattened(result, exchange)
        assert running_bot(startup).kill_switch.reason is None
    else:
        assert isinstance(result, Halted)
        _assert_halted(result, exchange, running_bot(startup), trading)


@then("KuCoin never received the same order twice")
def no_duplicates(exchange: FakeKucoin) -> None:
    # a triggered stop keeps its clientOid on the order it becomes: count each clientOid once
    stop_oids = [s.client_oid for s in exchange.stop_orders.values()]
    order_oids = [o.client_oid for o in exchange.orders.values() if o.client_oid not in stop_oids]
    accepted = stop_oids + order_oids
    assert len(accepted) == len(set(accepted)), accepted
    # nor did a retry become a second order under a new clientOid
    for purpose in PURPOSES:
        assert sum(1 for oid in accepted if oid and oid.startswith(f"st-{purpose}-")) <= 1, (
            purpose,
            accepted,
        )
    assert [o.side for o in exchange.orders.values()].count("buy") == 1
