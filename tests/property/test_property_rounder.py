"""Properties of safetrade.rounder: exact grid multiples, documented direction, idempotence."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import InvalidValue, RoundingError, SafetradeError, round_amount, round_price
from safetrade.rounder import ceil_to_step, floor_to_step, is_on_grid
from tests.property.support import (
    LONG,
    PURPOSES,
    ROUNDS_UP,
    SHORT,
    SIDES,
    is_multiple,
    junk,
    not_positive,
    steps_between,
)
from tests.strategies import decimals, increments, markets, positive_decimals

VALUES = decimals("-1e15", "1e15", places=12)
# Steps down to the documented bound (>= 1e-30), including non-powers of ten.
STEPS = st.one_of(
    increments(),
    st.builds(lambda d, e: Decimal(d).scaleb(e), st.integers(1, 99), st.integers(-30, 6)),
)


@given(VALUES, STEPS)
def test_floor_is_the_largest_multiple_not_above(value, step):
    result = floor_to_step(value, step)
    assert is_multiple(result, step)
    assert result <= value
    assert steps_between(result, value, step) < 1  # within one step
    assert is_on_grid(result, step)


@given(VALUES, STEPS)
def test_ceil_is_the_smallest_multiple_not_below(value, step):
    result = ceil_to_step(value, step)
    assert is_multiple(result, step)
    assert result >= value
    assert steps_between(value, result, step) < 1


@given(VALUES, STEPS)
def test_floor_and_ceil_are_idempotent_and_agree_on_the_grid(value, step):
    low, high = floor_to_step(value, step), ceil_to_step(value, step)
    assert floor_to_step(low, step) == low
    assert ceil_to_step(high, step) == high
    assert (low == high) == is_on_grid(value, step)
    assert low == high or steps_between(low, high, step) == 1


@given(VALUES, STEPS)
def test_result_is_printed_in_the_step_exponent(value, step):
    """90.13 stays "90.13" on the wire: never "90.1300" or "9.013E+1"."""
    result = floor_to_step(value, step)
    exponent = step.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        assert result.as_tuple().exponent == exponent
    assert Decimal(str(result)) == result


@given(positive_decimals("1e9", places=10), SIDES, PURPOSES, markets())
def test_round_price_follows_the_documented_direction(price, side, purpose, market):
    step = market.price_increment
    try:
        result = round_price(price, market, purpose=purpose, side=side)
    except RoundingError:
        # only a round-down below one tick may fail (it would give zero)
        assert not ROUNDS_UP[(purpose, side)]
        assert price < step
        return
    assert is_multiple(result, step)
    assert result > 0
    if ROUNDS_UP[(purpose, side)]:
        assert result >= price
    else:
        assert result <= price
    assert abs(steps_between(price, result, step)) < 1
    assert round_price(result, market, purpose=purpose, side=side) == result  # idempotent
    assert (result == price) == is_on_grid(price, step)


@given(positive_decimals("1e9", places=10), PURPOSES, markets())
def test_long_and_short_round_the_same_price_to_adjacent_or_equal_ticks(price, purpose, market):
    step = market.price_increment
    price += step  # at least one tick, so rounding down never reaches zero
    long = round_price(price, market, purpose=purpose, side=LONG)
    short = round_price(price, market, purpose=purpose, side=SHORT)
    assert abs(steps_between(long, short, step)) <= 1


@given(positive_decimals("1e9", places=10), markets())
def test_round_amount_never_rounds_up(amount, market):
    step = market.amount_increment
    try:
        result = round_amount(amount, market)
    except RoundingError:
        assert amount < step  # only an amount below one increment is refused
        return
    assert is_multiple(result, step)
    assert 0 < result <= amount
    assert steps_between(result, amount, step) < 1
    assert round_amount(result, market) == result


@given(not_positive(), markets(with_minimums=False), SIDES, PURPOSES)
def test_round_price_refuses_junk_with_a_safetrade_error(price, market, side, purpose):
    with pytest.raises(SafetradeError):
        round_price(price, market, purpose=purpose, side=side)


@given(not_positive(), markets(with_minimums=False))
def test_round_amount_refuses_junk_with_a_safetrade_error(amount, market):
    with pytest.raises(SafetradeError):
        round_amount(amount, market)


def _not_finite_decimal(value: object) -> bool:
    return not (isinstance(value, Decimal) and value.is_finite())


@given(
    st.one_of(junk(), st.integers(), st.text()).filter(_not_finite_decimal), STEPS, st.booleans()
)
def test_grid_functions_refuse_anything_but_finite_decimals(value, step, swap):
    args = (step, value) if swap else (value, step)
    for fn in (floor_to_step, ceil_to_step, is_on_grid):
        with pytest.raises(InvalidValue):
            fn(*args)


@given(VALUES, st.one_of(decimals("-1e6", "0", places=8)))
def test_grid_functions_refuse_zero_or_negative_steps(value, step):
    for fn in (floor_to_step, ceil_to_step, is_on_grid):
        with pytest.raises(InvalidValue, match="step must be positive"):
            fn(value, step)


# A multiple of the step nudged by a hair (down to 1e-120): more significant digits than any
# fixed Decimal context holds, so an inexact quotient would round onto the neighbouring tick.
_NEAR_GRID = decimal.Context(prec=decimal.MAX_PREC)


@given(
    STEPS,
    st.integers(-(10**6), 10**6),
    st.sampled_from([-1, 0, 1]),
    st.integers(31, 120),
)
def test_floor_and_ceil_are_exact_a_hair_off_the_grid(step, k, direction, hair_exponent):
    """The old 80-digit quotient rounded 0.999...9 (100 nines) up to 1 before flooring."""
    value = _NEAR_GRID.add(
        _NEAR_GRID.multiply(Decimal(k), step), Decimal(direction).scaleb(-hair_exponent)
    )
    exact = Fraction(value) / Fraction(step)
    low, high = floor_to_step(value, step), ceil_to_step(value, step)
    assert Fraction(low) / Fraction(step) == math.floor(exact)
    assert Fraction(high) / Fraction(step) == math.ceil(exact)
    assert is_on_grid(value, step) == (direction == 0)
