"""Pre-trade controls beyond the incident: open positions, signal, kill switch, collar, order value.

Shared Givens/Thens come from ``features/steps/`` (registered by ``conftest.py``); the steps
here add what only these features need. The strategy steps are the README's flow (size, check,
enter, protect) on top of the started reference bot's own gateway, limits, kill switch and
protector, with the strategy's own entry price instead of KuCoin's last price: that is where
a price collar matters.
The bot makes its client order ids with ``trading.oids`` (deterministic, ``st-<purpose>-<n>``),
whose hooks arm a fault on the fake KuCoin right before that order is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, scenarios, then, when

from features.steps.helpers import (
    FAST_RETRY,
    SYMBOL,
    Startup,
    Trading,
    live_stop_ids,
    live_stops,
    no_sleep,
    order_requests,
    restart_bot,
    running_bot,
)
from features.steps.types import parse
from safetrade.builder import OrderPurpose, new_client_oid
from safetrade.entry import execute_entry
from safetrade.errors import ExchangeError, SafetradeError
from safetrade.guard import AccountState, check
from safetrade.killswitch import KillSwitch
from safetrade.plan import plan_trade
from safetrade.protector import Halted, Protected
from safetrade.reference_bot.bot import ReferenceBot, TradeResult
from safetrade.rounder import PositionSide
from safetrade.testing import FakeKucoin, Fault

scenarios(
    "controls_open_positions.feature",
    "controls_signal.feature",
    "controls_kill_switch.feature",
    "controls_price_collar.feature",
    "controls_max_order_value.feature",
)

#: Shortly after the incident's validation run; the kill switch's clock, never the wall clock.
NOW = datetime(2026, 2, 6, 12, 56, tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    """What KuCoin held and had been asked to create at one moment."""

    orders: frozenset[str]
    stop_orders: frozenset[str]
    order_requests: int

    @classmethod
    def of(cls, exchange: FakeKucoin) -> Snapshot:
        return cls(
            frozenset(exchange.orders),
            frozenset(exchange.stop_orders),
            len(order_requests(exchange)),
        )


@dataclass
class Ledger:
    """The scenario's own notes: positions held before the step under test, and a snapshot."""

    held: list[Protected] = field(default_factory=list)
    before: Snapshot | None = None
    kill_switch_file: Path | None = None


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


# --------------------------------------------------------------------------- Given


@given(
    parse(
        "the bot already holds {count:d} protected SOL/USDT positions, bought with a stop-loss "
        "at {stop:Dec} and a take-profit at {target:Dec} on a signal of {signal:Dec}"
    )
)
def already_holds(  # noqa: PLR0917 - pytest-bdd passes everything by name
    startup: Startup,
    exchange: FakeKucoin,
    ledger: Ledger,
    count: int,
    stop: Decimal,
    target: Decimal,
    signal: Decimal,
) -> None:
    bot = running_bot(startup)
    for _ in range(count):
        result = bot.trade(stop_price=stop, take_profit_price=target, signal_strength=signal)
        assert isinstance(result.outcome, Protected), result.refusal or result.outcome
        ledger.held.append(result.outcome)
    live = live_stop_ids(exchange)
    for position in ledger.held:
        assert position.take_profit is not None
        assert {position.stop_loss.order_id, position.take_profit.order_id} <= live
    assert len(bot.positions) == count
    ledger.before = Snapshot.of(exchange)


@given("the kill switch file left by the previous run contains:")
def kill_switch_file_contains(
    trading: Trading,
    tmp_path: Path,
    docstring: str,
) -> None:
    path = tmp_path / "kill-switch.json"
    path.write_text(docstring, encoding="utf-8")
    # what a restarted bot does: read the switch from its file (SAFETRADE_KILL_SWITCH_FILE)
    trading.kill_switch = KillSwitch(path, clock=lambda: NOW)


@given("the kill switch is kept in a file")
def kill_switch_in_file(
    trading: Trading,
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    ledger.kill_switch_file = tmp_path / "kill-switch.json"
    trading.kill_switch = KillSwitch(ledger.kill_switch_file, clock=lambda: NOW)


@given(
    parse(
        'KuCoin rejects the stop-loss {times:d} times with "{message}" and drops every attempt '
        "to sell the position"
    )
)
def stop_loss_rejected_and_sale_dropped(
    trading: Trading,
    exchange: FakeKucoin,
    times: int,
    message: str,
) -> None:
    trading.oids.hooks[OrderPurpose.STOP_LOSS] = lambda: exchange.inject(
        "create_stop_order", Fault.reject("400100", message), times=times
    )
    trading.oids.hooks[OrderPurpose.FLATTEN] = lambda: exchange.inject(
        "create_order", Fault.TIMEOUT, times=FAST_RETRY.attempts
    )


@given(parse("the account also holds {amount:Dec} SOL that no stop-loss covers"))
def bare_coins(exchange: FakeKucoin, amount: Decimal) -> None:
    exchange.set_balance("SOL", amount)
    assert exchange.stop_orders == {}


@given("SOL/USDT has not traded on KuCoin yet")
def never_traded(exchange: FakeKucoin) -> None:
    assert exchange.price(SYMBOL) is None


# --------------------------------------------------------------------------- When


@when(
    parse(
        "the bot tries to buy SOL/USDT again with a stop-loss at {stop:Dec} and a take-profit at "
        "{target:Dec} on a signal of {signal:Dec}"
    ),
    target_fixture="trade",
)
def tries_again(  # noqa: PLR0917 - pytest-bdd passes everything by name
    startup: Startup,
    exchange: FakeKucoin,
    ledger: Ledger,
    stop: Decimal,
    target: Decimal,
    signal: Decimal,
) -> TradeResult:
    ledger.before = Snapshot.of(exchange)
    return running_bot(startup).trade(
        stop_price=stop, take_profit_price=target, signal_strength=signal
    )


@when(parse('an operator engages the kill switch: "{reason}"'))
def operator_engages(startup: Startup, reason: str) -> None:
    running_bot(startup).kill_switch.engage(reason)


@when("the bot is restarted")
def restarted(
    startup: Startup,
    exchange: FakeKucoin,
    trading: Trading,
    ledger: Ledger,
) -> None:
    # a new process: nothing survives but the kill switch file (if any) and the exchange
    trading.kill_switch = KillSwitch(ledger.kill_switch_file, clock=lambda: NOW)
    restart_bot(startup, exchange, trading, now=NOW + timedelta(minutes=5))


@when(parse('"{name}" sells the unprotected SOL on KuCoin by hand and clears the kill switch'))
def human_sells_and_clears(
    startup: Startup,
    exchange: FakeKucoin,
    name: str,
) -> None:
    held = exchange.balance("SOL").available
    assert held > 0
    # on KuCoin's own site, not through the bot: a plain client with the account's keys
    exchange.ccxt_client().create_order(
        SYMBOL, "market", "sell", str(held), None, {"clientOid": f"{name}-by-hand-1"}
    )
    assert exchange.balance("SOL").total == 0
    kill_switch = running_bot(startup).kill_switch
    assert kill_switch.reason is not None
    kill_switch.clear(cleared_by=name)
    assert kill_switch.reason is None


def strategy_trade(
    bot: ReferenceBot,
    *,
    price: Decimal,
    stop: Decimal,
    target: Decimal,
    reference: Decimal | str | None = "kucoin",
    cap_in_sizer: bool = True,
) -> TradeResult:
    """The README's flow with the strategy's own entry price; sends only what the guard allows.

    ``reference`` is KuCoin's last price by default, or a broken reference feed's value.
    """
    gateway, settings = bot.gateway, bot.settings
    try:
        market = gateway.load_market(SYMBOL)
        free = gateway.free_balance(market.quote)
        last = gateway.last_price(SYMBOL) if reference == "kucoin" else reference
    except ExchangeError as exc:
        return TradeResult(sent=False, refusal=f"exchange unavailable: {exc}")
    assert not isinstance(last, str)
    try:
        plan = plan_trade(
            market,
            side=PositionSide.LONG,
            free_balance=free,
            entry_price=price,
            stop_price=stop,
            take_profit_price=target,
            risk_percent=settings.risk_percent,
            balance_cap=settings.account_balance_usd,
            max_order_value=settings.max_order_value_usd if cap_in_sizer else None,
            signal_strength=None,
            client_oid=new_client_oid(OrderPurpose.ENTRY),
        )
    except SafetradeError as exc:
        return TradeResult(sent=False, refusal=str(exc))
    account = AccountState(
        free_quote=free,
        configured_balance=settings.account_balance_usd,
        open_positions=len(bot.positions),
        last_price=last,
        kill_switch_reason=bot.kill_switch.reason,
        # valued at their fill prices: the reference under test may be broken (None, NaN, 0)
        open_position_value=sum(
            (p.fill.amount * p.fill.average_price for p in bot.positions), Decimal(0)
        ),
    )
    decision = check(plan, account, bot.limits)
    if not decision.allowed:
        return TradeResult(
            sent=False, refusal="; ".join(decision.reasons), plan=plan, decision=decision
        )
    entry = execute_entry(gateway, plan, decision, retry=FAST_RETRY, sleep=no_sleep)
    assert entry.fill is not None, entry.error
    outcome = bot.protector.protect(
        entry.fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
    )
    return TradeResult(sent=True, plan=plan, decision=decision, entry=entry, outcome=outcome)


@when(
    parse(
        "a strategy asks the bot to buy SOL/USDT at {price:Dec} with a stop-loss at {stop:Dec} "
        "and a take-profit at {target:Dec}"
    ),
    target_fixture="trade",
)
def strategy_buys(
    startup: Startup,
    price: Decimal,
    stop: Decimal,
    target: Decimal,
) -> TradeResult:
    return strategy_trade(running_bot(startup), price=price, stop=stop, target=target)


_REFERENCES = {"none": None, "NaN": Decimal("NaN")}


@when(
    parse(
        "a strategy asks the bot to buy SOL/USDT at {price:Dec} with a stop-loss at {stop:Dec} "
        "and a take-profit at {target:Dec} against a reference price of {reference}"
    ),
    target_fixture="trade",
)
def strategy_buys_against(
    startup: Startup,
    price: Decimal,
    stop: Decimal,
    target: Decimal,
    reference: str,
) -> TradeResult:
    value = _REFERENCES[reference] if reference in _REFERENCES else Decimal(reference)
    return strategy_trade(
        running_bot(startup), price=price, stop=stop, target=target, reference=value
    )


@when(
    parse(
        "a strategy that sizes without the cap asks the bot to buy SOL/USDT at {price:Dec} with "
        "a stop-loss at {stop:Dec} and a take-profit at {target:Dec}"
    ),
    target_fixture="trade",
)
def strategy_buys_uncapped(
    startup: Startup,
    price: Decimal,
    stop: Decimal,
    target: Decimal,
) -> TradeResult:
    bot = running_bot(startup)
    return strategy_trade(bot, price=price, stop=stop, target=target, cap_in_sizer=False)


# --------------------------------------------------------------------------- Then


@then("nothing new reaches KuCoin")
def nothing_new(trade: TradeResult, exchange: FakeKucoin, ledger: Ledger) -> None:
    assert not trade.sent
    assert trade.refusal
    assert ledger.before is not None
    assert Snapshot.of(exchange) == ledger.before, exchange.endpoints_called()


@then("no entry reaches KuCoin")
def no_entry(trade: TradeResult, exchange: FakeKucoin, ledger: Ledger) -> None:
    assert not trade.sent
    assert trade.refusal
    assert ledger.before is not None
    assert Snapshot.of(exchange).orders == ledger.before.orders
    assert [o.side for o in exchange.orders.values()] == []


@then(
    parse(
        "the {amount:Dec} SOL are protected on KuCoin by a stop-loss at {stop:Dec}, "
        "RISK_PERCENT below the last price, and no take-profit"
    )
)
def bare_coins_protected_at_startup(exchange: FakeKucoin, amount: Decimal, stop: Decimal) -> None:
    # 87.36 x (1 - 1 %) = 86.4864, rounded up toward the entry (less risk) to 86.49
    live = live_stops(exchange)
    assert [(s.stop, s.side, s.size, s.stop_price) for s in live] == [
        ("loss", "sell", amount, stop)
    ], live


@then("the open positions keep their stop-loss and take-profit on KuCoin")
def open_positions_kept(exchange: FakeKucoin, ledger: Ledger) -> None:
    assert ledger.held
    stops = exchange.stop_orders
    for position in ledger.held:
        assert position.take_profit is not None
        loss, target = stops[position.stop_loss.order_id], stops[position.take_profit.order_id]
        assert (loss.status, loss.stop, loss.side, loss.size) == (
            "NEW",
            "loss",
            "sell",
            position.fill.amount,
        )
        assert (target.status, target.stop, target.side, target.size) == (
            "NEW",
            "entry",
            "sell",
            position.fill.amount,
        )
    held = sum((p.fill.amount for p in ledger.held), Decimal(0))
    assert exchange.balance("SOL").available == held


@then("the new position is protected on KuCoin next to the open ones")
def new_position_protected(trade: TradeResult, exchange: FakeKucoin, ledger: Ledger) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Protected), trade.refusal or outcome
    assert outcome.take_profit is not None
    positions = [*ledger.held, outcome]
    live = live_stops(exchange)
    assert sorted((s.stop, s.size) for s in live) == sorted(
        (kind, p.fill.amount) for p in positions for kind in ("loss", "entry")
    )
    assert {outcome.stop_loss.order_id, outcome.take_profit.order_id} <= {s.id for s in live}
    assert exchange.balance("SOL").available == sum((p.fill.amount for p in positions), Decimal(0))


@then(parse('the guard checked "{control}" and passed it'))
def guard_passed(trade: TradeResult, control: str) -> None:
    assert trade.decision is not None, trade.refusal
    verdicts = {c.control: c.passed for c in trade.decision.checks}
    assert verdicts.get(control) is True, trade.decision.reasons


@then("the stop-loss sold the position on KuCoin and the bot cancelled the take-profit")
def stop_loss_fired(
    startup: Startup,
    exchange: FakeKucoin,
    ledger: Ledger,
) -> None:
    (position,) = ledger.held
    assert position.take_profit is not None
    loss = exchange.stop_orders[position.stop_loss.order_id]
    target = exchange.stop_orders[position.take_profit.order_id]
    assert (loss.status, target.status) == ("TRIGGERED", "CANCELLED")
    sale = exchange.orders[loss.order_id]
    assert (sale.side, sale.deal_size) == ("sell", position.fill.amount)
    assert exchange.balance("SOL").total == 0
    assert running_bot(startup).positions == []


@then("the protection ended Halted with the kill switch engaged")
def ended_halted(
    trade: TradeResult,
    startup: Startup,
    exchange: FakeKucoin,
) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Halted), outcome
    reason = running_bot(startup).kill_switch.reason
    assert reason is not None
    assert "flattening failed too" in reason
    # the coins are still there, unprotected and unsold: which is why trading stopped
    assert exchange.balance("SOL").available == outcome.fill.amount
    assert live_stop_ids(exchange) == set()
    assert [o.side for o in exchange.orders.values()] == ["buy"]


@then("a critical alert says the SOL/USDT position may be UNPROTECTED")
def critical_alert(trading: Trading) -> None:
    critical = [a for a in trading.alerts if a.level == "critical"]
    assert len(critical) == 1, trading.alerts
    assert critical[0].symbol == SYMBOL
    assert "UNPROTECTED" in critical[0].message
    # every failure before it was raised at ERROR with KuCoin's own message, not a WARNING
    assert any(
        a.exchange_message and "Parameter Error" in a.exchange_message for a in trading.alerts
    )


@then(parse('the sizer limited the size by "{bound}"'))
def sizer_limited_by(trade: TradeResult, bound: str) -> None:
    assert trade.plan is not None, trade.refusal
    assert trade.plan.size.limited_by == bound, trade.plan.size.explain()
