"""Properties of safetrade.builder: only valid intents exist, and to_ccxt carries them exactly."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from safetrade import (
    OrderBuildError,
    OrderIntent,
    OrderPurpose,
    PositionSide,
    SafetradeError,
    SizingError,
    entry_order,
    flatten_order,
    new_client_oid,
    plan_trade,
    stop_loss_order,
    take_profit_order,
    to_ccxt,
)
from safetrade.market import MarketSpec
from safetrade.rounder import ceil_to_step, floor_to_step
from tests.property.support import (
    LONG,
    SHORT,
    SIDES,
    is_multiple,
    junk,
    not_nonnegative,
    not_positive,
)
from tests.strategies import decimals, markets, sol_usdt

OIDS = st.from_regex(r"\A[A-Za-z0-9_-]{1,40}\Z")
BAD_OIDS = st.one_of(
    st.just(""),
    st.text(min_size=41, max_size=60, alphabet="abc"),
    st.text(min_size=1, max_size=20).filter(lambda t: not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", t)),
)
MARKET = sol_usdt()


@st.composite
def grid_amounts(draw: st.DrawFn, market: MarketSpec, price: Decimal) -> Decimal:
    """An amount on ``market``'s grid whose value at ``price`` meets its minimums."""
    step = market.amount_increment
    low = max(market.min_amount or step, step)
    if market.min_notional is not None:
        low = max(low, ceil_to_step(market.min_notional / price, step))
    low = ceil_to_step(low, step)
    return low + step * draw(st.integers(0, 10_000))


@st.composite
def protective_cases(draw: st.DrawFn) -> dict[str, Any]:
    market = draw(markets())
    tick = market.price_increment
    side = draw(SIDES)
    entry = floor_to_step(draw(decimals("1", "1e6", places=4)), tick) + 20 * tick
    gap = draw(decimals("0.0001", "0.9", places=4)) * entry
    below, above = entry - gap, entry + gap
    assume(below > tick)
    return {"market": market, "side": side, "entry": entry, "below": below, "above": above}


def _check_call_matches(intent: OrderIntent) -> None:
    """to_ccxt hands ccxt exactly the intent's numbers, as plain fixed-point strings."""
    call = to_ccxt(intent)
    symbol, kind, side, amount, price, params = call.args()
    assert (symbol, kind, side) == (intent.symbol, intent.order_type, intent.side)
    assert isinstance(amount, str)
    assert Decimal(amount) == intent.amount
    assert amount == format(intent.amount, "f")
    for number in (amount, price, params.get("stopPrice")):
        assert number is None or re.fullmatch(r"[0-9]+(\.[0-9]+)?", number), number
    assert params["clientOid"] == intent.client_oid
    if intent.limit_price is None:
        assert price is None
    else:
        assert price == format(intent.limit_price, "f")
        assert Decimal(price) == intent.limit_price
    if intent.trigger_price is None:
        assert "stopPrice" not in params
        assert "stop" not in params
    else:
        assert Decimal(params["stopPrice"]) == intent.trigger_price
        assert params["stop"] == intent.trigger
    params["clientOid"] = "mutated"  # args() hands out a copy
    assert call.params["clientOid"] == intent.client_oid


@given(protective_cases(), OIDS, st.data())
def test_stop_loss_is_valid_on_grid_and_on_the_losing_side(case, oid, data):
    market, side, entry = case["market"], case["side"], case["entry"]
    raw = case["below"] if side is LONG else case["above"]
    tick = market.price_increment
    trigger = floor_to_step(raw, tick) if side is SHORT else ceil_to_step(raw, tick)
    amount = data.draw(grid_amounts(market, trigger))
    try:
        intent = stop_loss_order(
            market, side=side, amount=amount, stop_price=raw, entry_price=entry, client_oid=oid
        )
    except OrderBuildError:
        # rounding toward the entry may reach it: then the order protects nothing
        assert trigger >= entry if side is LONG else trigger <= entry
        return
    assert intent.purpose is OrderPurpose.STOP_LOSS
    assert intent.order_type == "market"
    assert intent.trigger_price == trigger
    assert is_multiple(intent.trigger_price, tick)
    if side is LONG:
        assert (intent.side, intent.trigger) == ("sell", "loss")
        assert raw <= intent.trigger_price < entry
    else:
        assert (intent.side, intent.trigger) == ("buy", "entry")
        assert entry < intent.trigger_price <= raw
    assert intent.amount == amount
    assert intent.is_stop_order
    _check_call_matches(intent)


@given(protective_cases(), OIDS, st.data())
def test_take_profit_is_valid_on_grid_and_on_the_winning_side(case, oid, data):
    market, side, entry = case["market"], case["side"], case["entry"]
    raw = case["above"] if side is LONG else case["below"]
    tick = market.price_increment
    target = floor_to_step(raw, tick) if side is LONG else ceil_to_step(raw, tick)
    amount = data.draw(grid_amounts(market, target))
    try:
        intent = take_profit_order(
            market, side=side, amount=amount, target_price=raw, entry_price=entry, client_oid=oid
        )
    except OrderBuildError:
        assert target <= entry if side is LONG else target >= entry
        return
    assert intent.trigger_price == target
    assert is_multiple(intent.trigger_price, tick)
    if side is LONG:
        assert (intent.side, intent.trigger) == ("sell", "entry")
        assert entry < intent.trigger_price <= raw
    else:
        assert (intent.side, intent.trigger) == ("buy", "loss")
        assert raw <= intent.trigger_price < entry
    _check_call_matches(intent)


@given(protective_cases(), st.sampled_from([stop_loss_order, take_profit_order]))
def test_protective_price_on_the_wrong_side_is_refused(case, build):
    market, side, entry = case["market"], case["side"], case["entry"]
    losing_side_is_below = (build is stop_loss_order) == (side is LONG)
    wrong = case["above"] if losing_side_is_below else case["below"]
    kwarg = "stop_price" if build is stop_loss_order else "target_price"
    with pytest.raises(OrderBuildError, match="entry"):
        build(
            market,
            side=side,
            amount=market.amount_increment * 10**6,
            entry_price=entry,
            client_oid="x",
            **{kwarg: wrong},
        )
    with pytest.raises(OrderBuildError):  # exactly at the entry fires at once
        build(
            market,
            side=side,
            amount=market.amount_increment * 10**6,
            entry_price=entry,
            client_oid="x",
            **{kwarg: entry},
        )


@given(SIDES, decimals("1", "1e5", places=6), st.none() | decimals("1", "1e5", places=6), OIDS)
def test_entry_order_round_trips_to_ccxt(side, reference, limit, oid):
    # the limit is rounded before the minimum-value check: take the lower neighbour tick
    reference_or_limit = (
        reference if limit is None else floor_to_step(limit, MARKET.price_increment)
    )
    amount = (
        max(
            MARKET.min_amount or 0,
            ceil_to_step(MARKET.min_notional / reference_or_limit, MARKET.amount_increment),
        )
        + MARKET.amount_increment
    )
    intent = entry_order(
        MARKET,
        side=side,
        amount=amount,
        reference_price=reference,
        client_oid=oid,
        limit_price=limit,
    )
    assert intent.side == ("buy" if side is LONG else "sell")
    assert intent.purpose is OrderPurpose.ENTRY
    assert not intent.is_stop_order
    if limit is None:
        assert intent.order_type == "market"
        assert intent.limit_price is None
    else:
        assert intent.order_type == "limit"
        assert is_multiple(intent.limit_price, MARKET.price_increment)
        # a long never pays more, a short never sells for less
        assert intent.limit_price <= limit if side is LONG else intent.limit_price >= limit
        assert abs(intent.limit_price - limit) < MARKET.price_increment
        assert bool(intent.notes) == (intent.limit_price != limit)
    _check_call_matches(intent)


@given(SIDES, decimals("0.00001", "1000", places=8).filter(lambda d: d > 0))
def test_off_grid_amount_is_refused(side, amount):
    assume(not is_multiple(amount, MARKET.amount_increment))
    with pytest.raises(OrderBuildError, match="increment"):
        entry_order(MARKET, side=side, amount=amount, reference_price=Decimal(87), client_oid="a")


@given(SIDES, st.integers(1, 99))
def test_amount_below_the_minimum_is_refused(side, steps):
    amount = MARKET.amount_increment * steps  # below SOL-USDT's 0.01 minimum
    with pytest.raises(OrderBuildError, match="minimum"):
        entry_order(MARKET, side=side, amount=amount, reference_price=Decimal(87), client_oid="a")


@given(
    st.sampled_from(["amount", "reference_price", "limit_price"]), not_positive(allow_none=False)
)
def test_entry_order_refuses_junk_zero_and_negative_numbers(arg, value):
    kwargs: dict[str, Any] = {
        "side": LONG,
        "amount": Decimal(1),
        "reference_price": Decimal("87.36"),
        "client_oid": "a",
        arg: value,
    }
    with pytest.raises(SafetradeError):
        entry_order(MARKET, **kwargs)


@given(
    st.sampled_from([stop_loss_order, take_profit_order]),
    st.sampled_from(["amount", "price", "entry_price"]),
    not_positive(),
)
def test_protective_orders_refuse_junk_including_a_missing_price(build, arg, value):
    price_arg = "stop_price" if build is stop_loss_order else "target_price"
    price = Decimal("85.61") if build is stop_loss_order else Decimal("90.1353")
    kwargs: dict[str, Any] = {
        "side": LONG,
        "amount": Decimal("0.6396"),
        price_arg: price,
        "entry_price": Decimal("87.36"),
        "client_oid": "a",
    }
    kwargs[price_arg if arg == "price" else arg] = value
    with pytest.raises(SafetradeError):
        build(MARKET, **kwargs)


@given(BAD_OIDS)
def test_invalid_client_oid_is_refused(oid):
    with pytest.raises(OrderBuildError, match="client order id"):
        entry_order(
            MARKET, side=LONG, amount=Decimal(1), reference_price=Decimal(87), client_oid=oid
        )


@given(st.sampled_from(list(OrderPurpose)))
def test_new_client_oids_are_valid_and_unique(purpose):
    first, second = new_client_oid(purpose), new_client_oid(purpose)
    assert first != second
    for oid in (first, second):
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", oid)


@given(SIDES, decimals("0.0001", "1000", places=8).filter(lambda d: d >= Decimal("0.0001")))
def test_flatten_rounds_down_and_skips_minimums(side, amount):
    intent = flatten_order(MARKET, side=side, amount=amount, client_oid="flat")
    assert intent.side == ("sell" if side is LONG else "buy")
    assert intent.order_type == "market"
    assert is_multiple(intent.amount, MARKET.amount_increment)
    assert 0 < intent.amount <= amount
    _check_call_matches(intent)


@given(st.sampled_from(["trigger", "limit"]))
def test_to_ccxt_refuses_incomplete_intents(kind):
    base = entry_order(
        MARKET, side=LONG, amount=Decimal(1), reference_price=Decimal(87), client_oid="a"
    )
    # refused when the intent is built already, so it can never reach to_ccxt
    with pytest.raises(OrderBuildError):
        to_ccxt(
            attrs.evolve(base, trigger_price=Decimal(85))
            if kind == "trigger"
            else attrs.evolve(base, order_type="limit")
        )


@st.composite
def plan_inputs(draw: st.DrawFn) -> dict[str, Any]:
    side = draw(SIDES)
    entry = draw(decimals("10", "1000", places=2))
    risk_gap = draw(decimals("0.001", "0.2", places=4)) * entry
    reward_gap = draw(decimals("0.001", "0.5", places=4)) * entry
    sign = 1 if side is LONG else -1
    return {
        "side": side,
        "free_balance": draw(decimals("0", "1e6", places=2)),
        "entry_price": entry,
        "stop_price": entry - sign * risk_gap,
        "take_profit_price": draw(st.none() | st.just(entry + sign * reward_gap)),
        "risk_percent": draw(decimals("0.1", "5", places=2)),
        "client_oid": draw(OIDS),
    }


@given(plan_inputs())
def test_plan_trade_yields_a_consistent_sendable_plan_or_a_typed_refusal(kw):
    try:
        plan = plan_trade(MARKET, **kw)
    except (SizingError, OrderBuildError):
        return
    side: PositionSide = kw["side"]
    entry, tick = kw["entry_price"], MARKET.price_increment
    assert plan.entry.amount == plan.size.amount
    assert plan.entry.client_oid == kw["client_oid"]
    assert is_multiple(plan.stop_loss_price, tick)
    assert plan.size.stop_price == plan.stop_loss_price
    assert plan.size.notional * (1 + MARKET.taker_fee) <= kw["free_balance"]
    if side is LONG:
        assert kw["stop_price"] <= plan.stop_loss_price < entry
    else:
        assert entry < plan.stop_loss_price <= kw["stop_price"]
    if kw["take_profit_price"] is None:
        assert plan.take_profit_price is None
    else:
        assert is_multiple(plan.take_profit_price, tick)
        if side is LONG:
            assert entry < plan.take_profit_price <= kw["take_profit_price"]
        else:
            assert kw["take_profit_price"] <= plan.take_profit_price < entry
    _check_call_matches(plan.entry)


PLAN_KWARGS: dict[str, Any] = {
    "side": LONG,
    "free_balance": Decimal(123),
    "entry_price": Decimal("87.36"),
    "stop_price": Decimal("85.61"),
    "take_profit_price": Decimal("90.1353"),
    "risk_percent": Decimal(1),
    "client_oid": "a",
}


@given(
    st.sampled_from(["entry_price", "stop_price", "risk_percent", "take_profit_price"]),
    not_positive(allow_none=False),
)
def test_plan_trade_refuses_junk_prices_and_percent(arg, value):
    with pytest.raises(SafetradeError):
        plan_trade(MARKET, **{**PLAN_KWARGS, arg: value})


@given(not_nonnegative())
def test_plan_trade_refuses_a_junk_or_negative_balance(value):
    with pytest.raises(SafetradeError):
        plan_trade(MARKET, **{**PLAN_KWARGS, "free_balance": value})


@given(junk(allow_none=False))
def test_plan_trade_refuses_a_junk_signal(value):
    """A signal may be zero or negative, but never NaN, infinite, a float or text."""
    with pytest.raises(SafetradeError):
        plan_trade(MARKET, **{**PLAN_KWARGS, "signal_strength": value})
