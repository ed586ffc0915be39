"""Properties of safetrade.sizer: never more than the balance pays for, never more than the risk.

Every size is checked against the arithmetic of the module docstring, recomputed here exactly:
``spendable = min(free, cap)``, ``budget = spendable * risk% / 100``, risk per unit
``|entry - stop| + fee * (entry + stop)``, cost per unit ``entry * (1 + fee)``.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import InvalidValue, PositionSide, SafetradeError, SizingError, size_position
from safetrade.market import MarketSpec
from tests.property.support import LONG, SHORT, is_multiple, not_nonnegative, not_positive
from tests.strategies import decimals, markets, sol_usdt

PERCENTS = decimals("0.01", "100", places=2)
BALANCES = decimals("0", "1e9", places=6)
OPTIONAL_CAPS = st.none() | decimals("0", "1e9", places=2)
OPTIONAL_VALUES = st.none() | decimals("0.01", "1e9", places=2)


@st.composite
def sizing_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Random but geometrically valid inputs (stop below a long's entry, above a short's)."""
    market = draw(markets())
    if draw(st.booleans()):
        market = attrs.evolve(
            market,
            max_amount=draw(st.none() | decimals("0.01", "1e6", places=2)),
            max_notional=draw(st.none() | decimals("1", "1e8", places=2)),
        )
    side = draw(st.sampled_from(list(PositionSide)))
    entry = draw(decimals("0.0001", "1e6", places=6).filter(lambda d: d > 0))
    fraction = draw(decimals("0.0001", "0.9999", places=4))  # stop distance as part of entry
    offset = entry * fraction
    stop = entry - offset if side is LONG else entry + offset
    return {
        "market": market,
        "side": side,
        "free_balance": draw(BALANCES),
        "entry_price": entry,
        "stop_price": stop,
        "risk_percent": draw(PERCENTS),
        "balance_cap": draw(OPTIONAL_CAPS),
        "max_order_value": draw(OPTIONAL_VALUES),
    }


def _numbers(kw: dict[str, Any]) -> dict[str, Decimal | None]:
    market: MarketSpec = kw["market"]
    fee = market.taker_fee
    entry, stop = kw["entry_price"], kw["stop_price"]
    free, cap = kw["free_balance"], kw["balance_cap"]
    spendable = free if cap is None else min(free, cap)
    ceilings = [v for v in (kw["max_order_value"], market.max_notional) if v is not None]
    return {
        "spendable": spendable,
        "budget": spendable * kw["risk_percent"] / 100,
        "unit_risk": abs(entry - stop) + fee * (entry + stop),
        "unit_cost": entry * (1 + fee),
        "value_ceiling": min(ceilings) if ceilings else None,
    }


def _fits(amount: Decimal, kw: dict[str, Any], n: dict[str, Decimal | None]) -> bool:
    """Whether ``amount`` respects every upper bound (balance, risk, max amount, max value)."""
    market: MarketSpec = kw["market"]
    ok = amount * n["unit_cost"] <= n["spendable"] and amount * n["unit_risk"] <= n["budget"]
    if market.max_amount is not None:
        ok = ok and amount <= market.max_amount
    if n["value_ceiling"] is not None:
        ok = ok and amount * kw["entry_price"] <= n["value_ceiling"]
    return ok


@given(sizing_inputs())
def test_size_never_exceeds_balance_risk_or_caps_and_is_the_largest_that_fits(kw):
    try:
        size = size_position(**kw)
    except SizingError:
        return
    market: MarketSpec = kw["market"]
    n = _numbers(kw)
    fee = market.taker_fee
    # what the free balance pays for, fees included
    assert size.notional + size.fee_reserve <= kw["free_balance"]
    assert size.amount * n["unit_cost"] <= n["spendable"]
    # loss at the stop, fees on both legs, within the budget
    assert size.risk_amount <= n["budget"]
    assert size.risk_amount <= n["spendable"] * kw["risk_percent"] / 100
    # the sizer's arithmetic is exact; so must the expectation be (not the 28-digit default)
    with localcontext(prec=200):
        assert size.risk_amount == size.amount * n["unit_risk"]
    if market.max_amount is not None:
        assert size.amount <= market.max_amount
    if n["value_ceiling"] is not None:
        assert size.notional <= n["value_ceiling"]
    # on the grid, positive, and the numbers it reports are the ones it used
    assert size.amount > 0
    assert is_multiple(size.amount, market.amount_increment)
    assert size.notional == size.amount * kw["entry_price"]
    assert size.fee_reserve == size.notional * fee
    assert size.spendable == n["spendable"]
    assert size.amount <= size.unrounded_amount
    assert size.side is kw["side"]
    # rounding is down by one step at most: one more increment would break a bound
    assert _fits(size.amount, kw, n)
    assert not _fits(size.amount + market.amount_increment, kw, n)


@given(sizing_inputs())
def test_below_the_minimums_is_a_refusal_never_a_bigger_order(kw):
    """Sizing on the same market without minimums shows what the limits allow; above it, the
    minimums either accept that very amount or the answer is SizingError."""
    market: MarketSpec = kw["market"]
    bare = attrs.evolve(market, min_amount=None, min_notional=None)
    try:
        unconstrained = size_position(**{**kw, "market": bare}).amount
    except SizingError:
        unconstrained = Decimal(0)
    below_min = (
        unconstrained <= 0
        or (market.min_amount is not None and unconstrained < market.min_amount)
        or (
            market.min_notional is not None
            and unconstrained * kw["entry_price"] < market.min_notional
        )
    )
    if below_min:
        with pytest.raises(SizingError, match=r"no position fits|below .*minimum"):
            size_position(**kw)
    else:
        assert size_position(**kw).amount == unconstrained


@given(sizing_inputs(), decimals("0", "1e9", places=2))
def test_a_balance_cap_can_only_lower_the_size(kw, extra):
    """A configured balance above the free balance changes nothing (the incident's $10,000)."""
    base = {**kw, "balance_cap": None}
    capped_above = {**kw, "balance_cap": kw["free_balance"] + extra}
    try:
        expected = size_position(**base).amount
    except SizingError:
        with pytest.raises(SizingError):
            size_position(**capped_above)
        return
    assert size_position(**capped_above).amount == expected
    try:
        lowered = size_position(**kw).amount
    except SizingError:
        return
    assert lowered <= expected


@given(sizing_inputs(), decimals("0", "1e6", places=2))
def test_more_free_balance_never_sizes_smaller(kw, extra):
    try:
        small = size_position(**kw).amount
    except SizingError:
        return
    richer = size_position(**{**kw, "free_balance": kw["free_balance"] + extra})
    assert richer.amount >= small


@given(sizing_inputs())
def test_stop_on_the_wrong_side_is_refused(kw):
    entry, stop = kw["entry_price"], kw["stop_price"]
    flipped = {**kw, "stop_price": 2 * entry - stop}
    if flipped["stop_price"] <= 0:
        return
    with pytest.raises(InvalidValue, match="stop-loss"):
        size_position(**flipped)
    with pytest.raises(InvalidValue, match="stop-loss"):
        size_position(**{**kw, "stop_price": entry})


INCIDENT: dict[str, Any] = {
    "market": sol_usdt(),
    "side": LONG,
    "free_balance": Decimal(123),
    "entry_price": Decimal("87.36"),
    "stop_price": Decimal("85.61"),
    "risk_percent": Decimal(1),
}
POSITIVE_ARGS = ("entry_price", "stop_price", "risk_percent", "max_order_value")
NONNEGATIVE_ARGS = ("free_balance", "balance_cap", "fee_rate")


@given(st.sampled_from(POSITIVE_ARGS), not_positive(allow_none=False))
def test_positive_inputs_refuse_junk_zero_and_negatives(arg, value):
    with pytest.raises(SafetradeError):
        size_position(**{**INCIDENT, arg: value})


@given(st.sampled_from(NONNEGATIVE_ARGS), not_nonnegative(allow_none=False))
def test_balance_and_fee_inputs_refuse_junk_and_negatives(arg, value):
    with pytest.raises(SafetradeError):
        size_position(**{**INCIDENT, arg: value})


@given(st.sampled_from(("free_balance", "entry_price", "stop_price", "risk_percent")))
def test_required_inputs_refuse_none(arg):
    with pytest.raises(InvalidValue):
        size_position(**{**INCIDENT, arg: None})


@given(decimals("100.000001", "1e15", places=6))
def test_risk_percent_above_100_is_refused(percent):
    with pytest.raises(InvalidValue, match="risk percent"):
        size_position(**{**INCIDENT, "risk_percent": percent})


@given(decimals("1", "1e15", places=6))
def test_fee_rate_of_one_or_more_is_refused(fee):
    with pytest.raises(InvalidValue, match="fee rate"):
        size_position(**{**INCIDENT, "fee_rate": fee})


@given(st.sampled_from([SHORT, LONG]))
def test_zero_free_balance_is_a_sizing_error(side):
    stop = Decimal("85.61") if side is LONG else Decimal("89.00")
    with pytest.raises(SizingError, match="no position fits"):
        size_position(**{**INCIDENT, "side": side, "stop_price": stop, "free_balance": 0})


@given(sizing_inputs(), decimals("0", "100", places=4))
def test_exit_slippage_only_shrinks_the_size_and_is_counted_in_the_risk(
    kw: dict[str, Any], slippage: Decimal
) -> None:
    """The stop-market's sale below its trigger (the spread to the bid) is risk like any other."""
    try:
        plain = size_position(**kw)
    except SafetradeError:
        plain = None
    try:
        slipped = size_position(**kw, exit_slippage=slippage)
    except SafetradeError:
        return  # refusing is always allowed; sizing bigger never is (checked below)
    assert plain is not None, "slippage made a refused size possible"
    assert slipped.amount <= plain.amount
    assert slipped.exit_slippage == slippage
    with localcontext() as exact:
        exact.prec = 120  # the products are exact, as the sizer's own
        n = _numbers(kw)
        per_unit = n["unit_risk"] + slippage  # type: ignore[operator]
        assert slipped.risk_amount == slipped.amount * per_unit
        assert slipped.risk_amount <= slipped.risk_budget
