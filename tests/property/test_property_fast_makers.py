"""Properties of the core's fast makers (safetrade._fast): every value a factory returns is the
one its class's own constructor builds from the same fields, validators and checks included.

The factories store fields through the slots instead of attrs' generated ``__init__``; if one
forgot a field, skipped a check the constructor makes, or stored a value the constructor would
refuse, rebuilding the value through the constructor here would differ or raise.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from decimal import Decimal

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from safetrade import (
    AccountState,
    CcxtOrderCall,
    GuardLimits,
    OrderBuildError,
    OrderIntent,
    PositionSide,
    PricePurpose,
    SafetradeError,
    TradePlan,
    check,
    entry_order,
    plan_trade,
    round_price,
    size_position,
    stop_loss_order,
    take_profit_order,
    to_ccxt,
)
from safetrade._fast import slot_setters
from safetrade.sizer import PositionSize
from tests.strategies import decimals, markets, sol_usdt

D = Decimal
CONTROLS = (
    "kill-switch", "balance-mismatch", "balance-check", "risk-limit", "max-open-positions",
    "signal-threshold", "price-collar", "max-order-value", "order-validity",
)  # fmt: skip


def rebuilt(value: object) -> object:
    """The same value made by its class's constructor (init fields only), or its error."""
    cls = type(value)
    fields = {a.name: getattr(value, a.name) for a in attrs.fields(cls) if a.init}
    return cls(**fields)


def same_value(value: object) -> None:
    again = rebuilt(value)
    assert again == value
    assert repr(again) == repr(value)
    try:
        expected = hash(again)
    except TypeError:  # CcxtOrderCall holds a dict
        with pytest.raises(TypeError):
            hash(value)
    else:
        assert hash(value) == expected
    assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301 - our own bytes; every slot set


TRADES = st.fixed_dictionaries(
    {
        "market": markets(),
        "side": st.sampled_from(list(PositionSide)),
        "free": decimals("0", "1e6", places=4),
        "entry": decimals("0.01", "1e5", places=4),
        "stop_distance": decimals("0.001", "0.5", places=3),
        "target_distance": st.none() | decimals("0.001", "2", places=3),
        "risk": decimals("0.1", "100", places=2),
        "cap": st.none() | decimals("0", "1e6", places=2),
        "max_value": st.none() | decimals("1", "1e6", places=2),
        "signal": st.none() | decimals("0", "1", places=2),
    }
)


def _prices(trade: dict) -> tuple[Decimal, Decimal, Decimal | None]:
    long = trade["side"] is PositionSide.LONG
    entry, distance = trade["entry"], trade["stop_distance"]
    stop = entry * (1 - distance) if long else entry * (1 + distance)
    target = trade["target_distance"]
    if target is not None:
        target = entry * (1 + target) if long else entry * (1 - target)
        assume(target > 0)
    assume(stop > 0)
    return entry, stop, target


def _plan_trade(trade: dict) -> TradePlan:
    entry, stop, target = _prices(trade)
    return plan_trade(
        trade["market"],
        side=trade["side"],
        free_balance=trade["free"],
        entry_price=entry,
        stop_price=stop,
        take_profit_price=target,
        risk_percent=trade["risk"],
        balance_cap=trade["cap"],
        max_order_value=trade["max_value"],
        signal_strength=trade["signal"],
        client_oid="st-entry-1",
    )


def _composed(trade: dict) -> TradePlan:
    """plan_trade as its docstring says: rounder -> sizer -> builder, through the public
    functions, every value rebuilt by its class's constructor (validators and checks run)."""
    market, side = trade["market"], trade["side"]
    entry, raw_stop, raw_target = _prices(trade)
    stop = round_price(raw_stop, market, purpose=PricePurpose.STOP_LOSS, side=side)
    size = rebuilt(
        size_position(
            market=market, side=side, free_balance=trade["free"], entry_price=entry,
            stop_price=stop, risk_percent=trade["risk"], balance_cap=trade["cap"],
            max_order_value=trade["max_value"],
        )
    )  # fmt: skip
    target = None
    if raw_target is not None:
        target = take_profit_order(
            market, side=side, amount=size.amount, target_price=raw_target, entry_price=entry,
            client_oid="plan-check",
        ).trigger_price  # fmt: skip
    stop_loss_order(
        market, side=side, amount=size.amount, stop_price=stop, entry_price=entry,
        client_oid="plan-check",
    )  # fmt: skip
    entry_intent = entry_order(
        market, side=side, amount=size.amount, reference_price=entry, client_oid="st-entry-1"
    )
    return TradePlan(
        market=market,
        side=side,
        size=size,
        entry=rebuilt(entry_intent),  # type: ignore[arg-type]
        stop_loss_price=stop,
        take_profit_price=target,
        signal_strength=trade["signal"],
    )


def _outcome(make: Callable[[], object]) -> object:
    try:
        return make()
    except SafetradeError as error:
        return (type(error), str(error))


def _expected_call(intent: OrderIntent) -> CcxtOrderCall:
    """What wire.to_ccxt's docstring says, written out again."""
    params = {"clientOid": intent.client_oid}
    if intent.trigger_price is not None:
        params |= {"stopPrice": format(intent.trigger_price, "f"), "stop": str(intent.trigger)}
    price = None if intent.limit_price is None else format(intent.limit_price, "f")
    return CcxtOrderCall(
        symbol=intent.symbol, type=intent.order_type, side=intent.side,
        amount=format(intent.amount, "f"), price=price, params=params,
    )  # fmt: skip


@given(TRADES)
def test_plans_are_the_composition_their_docstring_describes(trade):
    """One pass and one intent give the plan (or the refusal) the three orders gave."""
    plan = _outcome(lambda: _plan_trade(trade))
    assert plan == _outcome(lambda: _composed(trade))
    if not isinstance(plan, TradePlan):
        return
    same_value(plan)
    same_value(plan.size)
    same_value(plan.entry)
    call = to_ccxt(plan.entry)
    same_value(call)
    assert call == _expected_call(plan.entry)
    account = AccountState(
        free_quote=trade["free"],
        configured_balance=trade["cap"],
        open_positions=0,
        last_price=trade["entry"],
        kill_switch_reason=None,
        open_position_value=D(0),
    )
    decision = check(plan, account, GuardLimits(risk_percent=D(1), max_open_positions=1))
    same_value(decision)
    assert decision.plan is plan
    assert decision.allowed == all(c.passed for c in decision.checks)
    assert [c.control for c in decision.checks] == list(CONTROLS)


@given(TRADES)
def test_factory_orders_are_what_the_constructor_builds(trade):
    market, side, entry = trade["market"], trade["side"], trade["entry"]
    long = side is PositionSide.LONG
    try:
        size = size_position(
            market=market,
            side=side,
            free_balance=trade["free"],
            entry_price=entry,
            stop_price=entry * (1 - trade["stop_distance"] if long else 1 + trade["stop_distance"]),
            risk_percent=trade["risk"],
            balance_cap=trade["cap"],
        )
    except SafetradeError:
        return
    same_value(size)
    distance = trade["target_distance"] or D("0.1")
    makers = (
        lambda: entry_order(
            market, side=side, amount=size.amount, reference_price=entry, client_oid="e",
            limit_price=entry * (1 - distance / 10) if long else entry * (1 + distance / 10),
        ),
        lambda: stop_loss_order(
            market, side=side, amount=size.amount, stop_price=size.stop_price,
            entry_price=entry, client_oid="s",
        ),
        lambda: take_profit_order(
            market, side=side, amount=size.amount, entry_price=entry, client_oid="t",
            target_price=entry * (1 + distance) if long else entry * (1 - distance),
        ),
    )  # fmt: skip
    for make in makers:
        try:
            intent = make()
        except SafetradeError:
            continue
        same_value(intent)
        same_value(to_ccxt(intent))
        assert to_ccxt(intent) == _expected_call(intent)


@pytest.mark.parametrize("oid", ["", "has space", "x" * 41, None, 7, "abc\x00"])
@pytest.mark.parametrize("symbol", ["SOL/USDT", ""])
def test_what_factories_pass_through_is_checked_like_the_constructor(oid, symbol):
    """The market's symbol and the caller's client order id reach the intent unchecked by the
    factory, so the maker checks them, in the constructor's order (symbol first)."""
    market = attrs.evolve(sol_usdt(), symbol=symbol)
    with pytest.raises(OrderBuildError) as made:
        entry_order(market, side=PositionSide.LONG, amount=D("0.6396"),
                    reference_price=D("87.36"), client_oid=oid)  # fmt: skip
    with pytest.raises(OrderBuildError) as constructed:
        attrs.evolve(
            entry_order(market.__class__(**_fields(sol_usdt())), side=PositionSide.LONG,
                        amount=D("0.6396"), reference_price=D("87.36"), client_oid="ok"),
            symbol=symbol, client_oid=oid,
        )  # fmt: skip
    assert str(made.value) == str(constructed.value)


def _fields(value: object) -> dict[str, object]:
    return {a.name: getattr(value, a.name) for a in attrs.fields(type(value)) if a.init}


def test_a_maker_that_misses_a_field_fails_at_import():
    names = tuple(a.name for a in attrs.fields(PositionSize))
    assert len(slot_setters(PositionSize, *names)) == len(names)
    with pytest.raises(TypeError, match="the maker must store every field"):
        slot_setters(PositionSize, *names[:-1])
    with pytest.raises(TypeError, match="the maker must store every field"):
        slot_setters(PositionSize, *reversed(names))


@pytest.mark.parametrize("target", [None, D("90.1353")])
def test_plan_trade_refuses_an_empty_symbol_as_the_orders_it_checks_did(target):
    """plan_trade no longer builds the take-profit and stop-loss orders it checks, so the
    symbol check they made is made where they were built: the same error, at the same point."""
    market = attrs.evolve(sol_usdt(), symbol="")
    with pytest.raises(OrderBuildError, match="order symbol must be a non-empty str, got ''"):
        plan_trade(
            market, side=PositionSide.LONG, free_balance=D(123), entry_price=D("87.36"),
            stop_price=D("85.61"), take_profit_price=target, risk_percent=D(1),
            client_oid="not a valid id",  # the symbol is refused first, as in field order
        )  # fmt: skip
