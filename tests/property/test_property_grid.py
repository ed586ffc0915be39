"""Properties of safetrade._grid: a market's precomputed StepGrid rounds exactly like the
generic floor_to_step / ceil_to_step path, digit for digit and exponent for exponent.

The generic path (integers in units of the step's last digit) is the reference; the grid's
quantize and integer-quotient paths are the fast ones the market's prices and amounts use.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from safetrade import (
    MarketSpec,
    PositionSide,
    PricePurpose,
    RoundingError,
    round_amount,
    round_price,
)
from safetrade._grid import StepGrid
from safetrade.rounder import ceil_to_step, floor_to_step, is_on_grid
from tests.property.support import ROUNDS_UP, is_multiple, steps_between
from tests.strategies import decimals, increments, positive_decimals

# every kind of step: powers of ten, others with a trailing zero or a positive exponent (0.50,
# 5E+1), short and long coefficients (0.05, 0.25, 125, 0.03, 7, 1.6), from the documented
# bound (1e-30) up to 1e6
STEPS = st.one_of(
    increments(),
    st.builds(lambda d, e: Decimal(d).scaleb(e), st.integers(1, 999), st.integers(-30, 6)),
    st.sampled_from([Decimal(s) for s in ("0.50", "5E+1", "0.030", "125", "1.6", "0.0625", "3")]),
)
VALUES = st.one_of(
    decimals("-1e15", "1e15", places=12),
    decimals("-1", "1", places=30),
    st.sampled_from([Decimal(0), Decimal("-0"), Decimal("0E-9"), Decimal("1E+14")]),
)


def same(a: Decimal, b: Decimal) -> bool:
    """Equal as Decimals *and* written the same (sign, digits, exponent)."""
    return a.as_tuple() == b.as_tuple()


@given(VALUES, STEPS, st.booleans())
# a small negative rounds up to zero: positive zero, as the generic path writes it, not "-0.00"
@example(Decimal("-0.001"), Decimal("0.05"), True)
@example(Decimal("-0"), Decimal("0.05"), False)
@example(Decimal("-0"), Decimal("0.01"), False)
@example(Decimal("87.37"), Decimal("5E+1"), True)
@example(Decimal("1E+14"), Decimal("1E-30"), False)  # 1e44 steps: wide, not too wide
def test_grid_rounds_exactly_like_the_generic_path(value, step, up):
    grid = StepGrid(step)
    try:
        expected = ceil_to_step(value, step) if up else floor_to_step(value, step)
    except RoundingError:
        with pytest.raises(RoundingError):
            grid.to_step(value, up)
        return
    result = grid.to_step(value, up)
    assert same(result, expected), (value, step, up, result, expected)
    assert grid.on_grid(value) == is_on_grid(value, step)


@given(VALUES, STEPS, st.booleans())
def test_grid_results_are_multiples_in_the_right_direction(value, step, up):
    try:
        result = StepGrid(step).to_step(value, up)
    except RoundingError:
        return
    assert is_multiple(result, step)
    assert result >= value if up else result <= value
    assert steps_between(min(result, value), max(result, value), step) < 1  # exact


def _market(tick: Decimal, step: Decimal) -> MarketSpec:
    return MarketSpec(
        symbol="B/Q",
        market_id="B-Q",
        base="B",
        quote="Q",
        price_increment=tick,
        amount_increment=step,
    )


@given(
    positive_decimals("1e12", places=12),
    STEPS,
    st.sampled_from(list(PricePurpose)),
    st.sampled_from(list(PositionSide)),
)
def test_round_price_on_a_market_is_the_generic_rounding(price, tick, purpose, side):
    market = _market(tick, Decimal("0.0001"))
    up = ROUNDS_UP[(purpose, side)]
    expected = ceil_to_step(price, tick) if up else floor_to_step(price, tick)
    if not expected:
        with pytest.raises(RoundingError, match="rounds to zero"):
            round_price(price, market, purpose=purpose, side=side)
        return
    assert same(round_price(price, market, purpose=purpose, side=side), expected)


@given(positive_decimals("1e12", places=12), STEPS)
def test_round_amount_on_a_market_is_the_generic_floor(amount, step):
    market = _market(Decimal("0.01"), step)
    expected = floor_to_step(amount, step)
    if not expected:
        with pytest.raises(RoundingError, match="below one increment"):
            round_amount(amount, market)
        return
    assert same(round_amount(amount, market), expected)


def test_a_market_builds_its_grids_once_from_its_own_increments():
    market = _market(Decimal("0.05"), Decimal("0.0001"))
    assert market._price_grid.step is market.price_increment
    assert market._amount_grid.step is market.amount_increment
    assert not market._price_grid.power_of_ten  # 0.05: integer quotient times the step
    assert market._amount_grid.power_of_ten  # 0.0001: one quantize
    # not part of the value: equal markets compare and hash alike, and repr does not show them
    assert market == _market(Decimal("0.05"), Decimal("0.0001"))
    assert "grid" not in repr(market)


def test_a_value_too_wide_for_the_grid_is_refused_like_the_generic_path():
    grid = StepGrid(Decimal("1E-30"))
    with pytest.raises(RoundingError) as generic:
        floor_to_step(Decimal("1E+80"), Decimal("1E-30"))
    for up in (False, True):
        with pytest.raises(RoundingError) as fast:
            grid.to_step(Decimal("1E+80"), up)
        assert str(fast.value) == str(generic.value)
    assert repr(grid) == "StepGrid(Decimal('1E-30'))"


def test_the_guard_refuses_a_hand_built_plan_price_that_is_no_decimal_by_name():
    """The guard's grid check takes the market's grid for Decimals and is_on_grid's own
    refusal for anything else a hand-built plan can hold."""
    import attrs

    from safetrade import AccountState, GuardLimits, InvalidValue, check, plan_trade

    market = _market(Decimal("0.01"), Decimal("0.0001"))
    plan = plan_trade(
        market, side=PositionSide.LONG, free_balance=Decimal(123), entry_price=Decimal("87.36"),
        stop_price=Decimal("85.61"), risk_percent=Decimal(1), client_oid="st-1",
    )  # fmt: skip
    stop = 85.61  # a float, consistent in size and plan so the plan itself accepts it
    plan = attrs.evolve(plan, stop_loss_price=stop, size=attrs.evolve(plan.size, stop_price=stop))
    account = AccountState(
        free_quote=Decimal(123), configured_balance=None, open_positions=0,
        last_price=Decimal("87.36"), kill_switch_reason=None, open_position_value=Decimal(0),
    )  # fmt: skip
    with pytest.raises(InvalidValue, match=re.escape("value must be a finite Decimal, got 85.61")):
        check(plan, account, GuardLimits(risk_percent=Decimal(1), max_open_positions=1))
