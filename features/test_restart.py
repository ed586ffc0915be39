"""A restarted bot takes its positions back from KuCoin (``restart.feature``).

"The bot went down" drops the bot object: nothing survives but the exchange (the kill switch
lives in memory in these scenarios, so it is lost too). "The bot is restarted" starts a new
one with the scenario's settings, sharing ``trading.oids`` so client order ids stay unique
across the two processes, as random ids would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pytest_bdd import given, scenarios, then, when

from features.steps.helpers import SYMBOL, Startup, Trading, live_stops, restart_bot, running_bot
from features.steps.types import parse
from safetrade.killswitch import KillSwitch
from safetrade.protector import Protected
from safetrade.reference_bot.bot import ReferenceBot, TradeResult
from safetrade.testing import FakeKucoin, Fault

scenarios("restart.feature")

#: Some time after the incident's validation run; the bot runs in paper mode, so it only logs it.
NOW = datetime(2026, 2, 6, 13, 30, tzinfo=UTC)
KINDS = {"stop-loss": "loss", "take-profit": "entry"}
ORDINALS = {"first": 0, "second": 1}


@dataclass
class Before:
    """What the bot held before it went down (as the first process saw it)."""

    positions: list[Protected] = field(default_factory=list)
    closed: Protected | None = None


@pytest.fixture
def before() -> Before:
    return Before()


def _leg(position: Protected, name: str) -> str:
    order = position.stop_loss if name == "stop-loss" else position.take_profit
    assert order is not None
    return order.order_id


def _watched(bot: ReferenceBot) -> list[tuple[str, str | None]]:
    return [
        (p.stop_loss.order_id, None if p.take_profit is None else p.take_profit.order_id)
        for p in bot.positions
    ]


# --------------------------------------------------------------------------- Given


@given(
    parse(
        "the bot holds a protected SOL/USDT position with a stop-loss at {stop:Dec} and a "
        "take-profit at {target:Dec}"
    )
)
def holds_position(
    startup: Startup, exchange: FakeKucoin, before: Before, stop: Decimal, target: Decimal
) -> None:
    result = running_bot(startup).trade(
        stop_price=stop, take_profit_price=target, signal_strength=Decimal("0.5")
    )
    assert isinstance(result.outcome, Protected), result.refusal or result.outcome
    before.positions.append(result.outcome)
    assert {_leg(result.outcome, "stop-loss"), _leg(result.outcome, "take-profit")} <= {
        s.id for s in live_stops(exchange)
    }


@given("the bot went down")
def went_down(startup: Startup) -> None:
    startup.bot = None


@given(
    parse(
        "SOL/USDT traded at {price:Dec} while the bot was down, firing the {fired} of "
        "{which} position"
    )
)
def traded_while_down(
    exchange: FakeKucoin, before: Before, price: Decimal, fired: str, which: str
) -> None:
    closed = before.positions[ORDINALS.get(which.removesuffix(" position"), 0)]
    other = "take-profit" if fired == "stop-loss" else "stop-loss"
    exchange.set_price(SYMBOL, price)
    stops = exchange.stop_orders
    assert stops[_leg(closed, fired)].status == "TRIGGERED"
    sale = exchange.orders[str(stops[_leg(closed, fired)].order_id)]
    assert (sale.side, sale.deal_size) == ("sell", closed.fill.amount)
    # nobody cancelled the other one: it is still live and covers coins that are gone
    assert stops[_leg(closed, other)].status == "NEW"
    before.closed = closed


@given("KuCoin answers the next stop-order listing with a server error")
def next_listing_fails(exchange: FakeKucoin) -> None:
    exchange.inject("list_stop_orders", Fault.SERVER_ERROR, times=1)


@given(
    parse(
        "the account holds {amount:Dec} SOL with a stop-loss at {stop:Dec} and a take-profit "
        "at {target:Dec} placed by hand on KuCoin"
    )
)
def placed_by_hand(
    exchange: FakeKucoin, before: Before, amount: Decimal, stop: Decimal, target: Decimal
) -> None:
    exchange.set_balance("SOL", amount)
    client = exchange.ccxt_client()
    for n, (kind, price) in enumerate((("loss", stop), ("entry", target)), start=1):
        client.private_post_stop_order(
            {
                "clientOid": f"by-hand-{n}",
                "side": "sell",
                "symbol": "SOL-USDT",
                "type": "market",
                "size": str(amount),
                "stopPrice": str(price),
                "stop": kind,
            }
        )
    live = {s.stop: s for s in live_stops(exchange)}
    assert sorted(live) == ["entry", "loss"]
    exchange.forget_requests()


# --------------------------------------------------------------------------- When


@when("the bot is restarted")
def restarted(startup: Startup, exchange: FakeKucoin, trading: Trading) -> None:
    # a new process: nothing survives but the exchange (the kill switch was in memory)
    trading.kill_switch = KillSwitch()
    restart_bot(startup, exchange, trading, now=NOW)


@when(
    parse(
        "SOL/USDT trades at {price:Dec} and the bot buys SOL/USDT with a stop-loss at "
        "{stop:Dec} and a take-profit at {target:Dec} on a signal of {signal:Dec}"
    ),
    target_fixture="trade",
)
def price_moves_and_bot_buys(  # noqa: PLR0917 - pytest-bdd passes everything by name
    startup: Startup,
    exchange: FakeKucoin,
    price: Decimal,
    stop: Decimal,
    target: Decimal,
    signal: Decimal,
) -> TradeResult:
    exchange.set_price(SYMBOL, price)
    return running_bot(startup).trade(
        stop_price=stop, take_profit_price=target, signal_strength=signal
    )


# --------------------------------------------------------------------------- Then


@then(parse("the {leftover} left behind by the closed position is cancelled on KuCoin"))
def leftover_cancelled(
    startup: Startup, exchange: FakeKucoin, before: Before, trading: Trading, leftover: str
) -> None:
    closed = before.closed
    assert closed is not None
    assert exchange.stop_orders[_leg(closed, leftover)].status == "CANCELLED"
    assert _leg(closed, leftover) not in {s.id for s in live_stops(exchange)}
    # nothing the bot watches refers to the closed position any more
    assert all(closed.stop_loss.order_id not in ids for ids in _watched(running_bot(startup)))
    assert [a.event for a in trading.alerts if a.event.startswith("orphan")] == ["orphan-cancelled"]


@then("the owner was alerted that the bot could not read the account at start-up")
def alerted_sync_failed(
    startup: Startup, exchange: FakeKucoin, before: Before, trading: Trading
) -> None:
    failed = [a for a in trading.alerts if a.event == "sync-failed"]
    assert len(failed) == 1, trading.alerts
    assert failed[0].exchange_message
    closed = before.closed
    assert closed is not None
    assert closed.take_profit is not None
    # so far nothing was changed on KuCoin: the leftover is still live
    assert exchange.stop_orders[closed.take_profit.order_id].status == "NEW"


@then(
    "the take-profit left behind by the closed position was cancelled before the entry "
    "reached KuCoin"
)
def cancelled_before_entry(exchange: FakeKucoin, before: Before, trade: TradeResult) -> None:
    assert trade.sent, trade.refusal
    closed = before.closed
    assert closed is not None
    orphan = _leg(closed, "take-profit")
    assert exchange.stop_orders[orphan].status == "CANCELLED"
    assert trade.plan is not None
    oid = trade.plan.entry.client_oid
    steps = [
        (
            r.endpoint,
            r.path if r.endpoint == "cancel_stop_order" else (r.body or {}).get("clientOid"),
        )
        for r in exchange.requests
        if r.endpoint in ("cancel_stop_order", "create_order")
    ]
    cancel = steps.index(("cancel_stop_order", f"/api/v1/stop-order/{orphan}"))
    entry = steps.index(("create_order", oid))
    assert cancel < entry, steps
    assert trade.sync is not None
    assert trade.sync.cancelled == (orphan,)


@then("the new position still holds its coins, its stop-loss and its take-profit on KuCoin")
def new_position_intact(startup: Startup, exchange: FakeKucoin, trade: TradeResult) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Protected), outcome
    live = {s.id: s for s in live_stops(exchange)}
    assert set(live) == {_leg(outcome, "stop-loss"), _leg(outcome, "take-profit")}
    assert exchange.balance("SOL").available == outcome.fill.amount
    assert [o.side for o in exchange.orders.values()].count("sell") == 1  # the old stop-loss
    assert _watched(running_bot(startup)) == [
        (_leg(outcome, "stop-loss"), _leg(outcome, "take-profit"))
    ]


@then(parse("the restarted bot watches {which} position"))
def restarted_bot_watches(startup: Startup, before: Before, which: str) -> None:
    position = before.positions[1 if which == "the second" else 0]
    assert _watched(running_bot(startup)) == [
        (_leg(position, "stop-loss"), _leg(position, "take-profit"))
    ]
    (adopted,) = running_bot(startup).positions
    assert adopted.fill.amount == position.fill.amount


@then("the bot watches the position placed by hand")
def watches_by_hand(startup: Startup, exchange: FakeKucoin) -> None:
    live = {s.stop: s.id for s in live_stops(exchange)}
    assert _watched(running_bot(startup)) == [(live["loss"], live["entry"])]
    # adopting them changed nothing on KuCoin
    assert [r.endpoint for r in exchange.requests if r.method != "GET"] == []


@then(parse("the {fired} sold the position on KuCoin and the bot cancelled the {other}"))
def fired_and_cancelled(
    startup: Startup, exchange: FakeKucoin, before: Before, fired: str, other: str
) -> None:
    stops = {s.stop: s for s in exchange.stop_orders.values()}
    if before.positions:
        (position,) = before.positions
        stops = {KINDS[name]: exchange.stop_orders[_leg(position, name)] for name in KINDS}
    assert (stops[KINDS[fired]].status, stops[KINDS[other]].status) == ("TRIGGERED", "CANCELLED")
    sale = exchange.orders[stops[KINDS[fired]].order_id]
    assert sale.side == "sell"
    assert sale.deal_size == stops[KINDS[fired]].size
    assert exchange.balance("SOL").total == 0
    assert live_stops(exchange) == []
    assert running_bot(startup).positions == []


@then("the new position is protected on KuCoin next to the second one")
def protected_next_to_second(trade: TradeResult, exchange: FakeKucoin, before: Before) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Protected), trade.refusal or outcome
    second = before.positions[1]
    expected = {
        _leg(p, name): (KINDS[name], p.fill.amount) for p in (second, outcome) for name in KINDS
    }
    assert {s.id: (s.stop, s.size) for s in live_stops(exchange)} == expected
    held = second.fill.amount + outcome.fill.amount
    assert exchange.balance("SOL").available == held
