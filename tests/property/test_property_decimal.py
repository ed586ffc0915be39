"""Properties of safetrade._decimal: finite values pass through exactly; the rest is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import InvalidValue, SafetradeError
from safetrade._decimal import MAX_MAGNITUDE, MIN_MAGNITUDE, to_decimal, to_nonnegative, to_positive
from tests.property.support import junk, nonpositive

IN_RANGE = st.decimals(
    min_value=-MAX_MAGNITUDE, max_value=MAX_MAGNITUDE, allow_nan=False, allow_infinity=False
).filter(lambda d: d == 0 or abs(d) >= MIN_MAGNITUDE)
FUNCTIONS = st.sampled_from([to_decimal, to_positive, to_nonnegative])


@given(IN_RANGE)
def test_finite_decimal_passes_through_unchanged(value):
    result = to_decimal(value, "x")
    assert result == value
    assert str(result) == str(value)  # not even the exponent changes


@given(IN_RANGE)
def test_text_of_a_decimal_parses_to_the_same_value(value):
    assert to_decimal(f"  {value}\n", "x") == value


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_ints_in_range_are_exact(value):
    assert to_decimal(value, "x") == Decimal(value)


@given(IN_RANGE)
def test_positive_and_nonnegative_split_by_sign(value):
    if value > 0:
        assert to_positive(value, "x") == value
    else:
        with pytest.raises(InvalidValue, match="must be positive"):
            to_positive(value, "x")
    if value >= 0:  # Decimal("-0") counts as zero, not as a negative
        assert to_nonnegative(value, "x") == value
    else:
        with pytest.raises(InvalidValue, match="must not be negative"):
            to_nonnegative(value, "x")


@given(FUNCTIONS, junk())
def test_junk_is_refused_with_invalid_value_naming_the_value(fn, value):
    with pytest.raises(InvalidValue) as info:
        fn(value, "entry price")
    assert isinstance(info.value, SafetradeError)
    assert "entry price" in str(info.value)


@given(nonpositive())
def test_zero_and_negatives_are_not_positive(value):
    with pytest.raises(InvalidValue):
        to_positive(value, "amount")


@given(st.text(max_size=20))
def test_any_text_is_a_number_or_a_safetrade_error(text):
    """Never a bare decimal.InvalidOperation or ValueError, whatever the text."""
    try:
        result = to_decimal(text, "x")
    except SafetradeError:
        return
    assert result.is_finite()
    assert abs(result) <= MAX_MAGNITUDE
    assert result == 0 or abs(result) >= MIN_MAGNITUDE
    assert result == Decimal(text.strip())


@given(st.floats())
def test_floats_are_refused_with_a_hint(value):
    with pytest.raises(InvalidValue, match="float"):
        to_decimal(value, "x")


@given(st.integers(1, 10**6), st.integers(-(10**6), -31), st.booleans())
def test_nonzero_values_below_min_magnitude_are_refused(coefficient, adjusted, negative):
    digits = tuple(map(int, str(coefficient)))
    value = Decimal((int(negative), digits, adjusted - len(digits) + 1))
    assert 0 < abs(value) < MIN_MAGNITUDE
    for fn in (to_decimal, to_nonnegative, to_positive):
        with pytest.raises(InvalidValue, match="below 1E-30"):
            fn(value, "x")
