"""Unit tests for safetrade._decimal: strict conversion of money to Decimal."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from safetrade._decimal import MAX_MAGNITUDE, MIN_MAGNITUDE, to_decimal, to_nonnegative, to_positive
from safetrade.errors import InvalidValue, SafetradeError
from tests.strategies import stable_id


class TestToDecimal:
    def test_accepts_decimal_int_and_numeric_string(self):
        """Decimals, ints and numeric strings convert to the same exact Decimal."""
        assert to_decimal(Decimal("87.36"), "p") == Decimal("87.36")
        assert to_decimal("87.36", "p") == Decimal("87.36")
        assert to_decimal(87, "p") == Decimal(87)

    def test_string_keeps_its_exact_digits(self):
        """A string converts digit for digit, so "0.1" is exactly one tenth."""
        assert to_decimal("0.1", "p") * 3 == Decimal("0.3")

    def test_surrounding_whitespace_is_ignored(self):
        """Whitespace around a numeric string (as in .env files) is stripped."""
        assert to_decimal("  123 \n", "balance") == Decimal(123)

    @pytest.mark.parametrize("value", [0.1, 87.36, 1.0, math.nan, math.inf])
    def test_refuses_floats(self, value):
        """Floats are refused: Decimal(0.1) is not one tenth, so a float is never trusted."""
        with pytest.raises(InvalidValue, match="float"):
            to_decimal(value, "entry price")

    def test_float_refusal_suggests_the_string_form(self):
        """The refusal of 87.36 tells the caller to pass the string "87.36"."""
        with pytest.raises(InvalidValue) as info:
            to_decimal(87.36, "entry price")
        assert '"87.36"' in str(info.value)
        assert "entry price" in str(info.value)

    @pytest.mark.parametrize("value", [True, False])
    def test_refuses_bools(self, value):
        """Booleans are ints in Python but never money, so they are refused."""
        with pytest.raises(InvalidValue, match="bool"):
            to_decimal(value, "x")

    @pytest.mark.parametrize("value", [None, [], {}, object(), b"1"], ids=stable_id)
    def test_refuses_other_types(self, value):
        """Anything that is not Decimal, int or str is refused with its type named."""
        with pytest.raises(InvalidValue, match=type(value).__name__):
            to_decimal(value, "x")

    @pytest.mark.parametrize("value", ["abc", "", "  ", "1,5", "$123", "1%", "12 3"])
    def test_refuses_non_numeric_text(self, value):
        """Text that is not a number is refused and quoted in the message."""
        with pytest.raises(InvalidValue, match="not a number"):
            to_decimal(value, "balance")

    @pytest.mark.parametrize(
        "value",
        ["nan", "NaN", "-nan", "sNaN", "inf", "-Infinity", Decimal("NaN"), Decimal("sNaN")],
    )
    def test_refuses_nan_and_infinity(self, value):
        """NaN, signalling NaN and infinities are never valid money."""
        with pytest.raises(InvalidValue):
            to_decimal(value, "x")

    def test_magnitude_limit_is_inclusive(self):
        """MAX_MAGNITUDE (1e15) itself is accepted and anything beyond it is refused."""
        assert to_decimal(MAX_MAGNITUDE, "x") == Decimal("1e15")
        assert to_decimal(-MAX_MAGNITUDE, "x") == Decimal("-1e15")
        for value in ("1000000000000000.01", "1e16", 10**16, Decimal("-1e30")):
            with pytest.raises(InvalidValue, match="magnitude"):
                to_decimal(value, "x")

    def test_lower_magnitude_limit_is_inclusive(self):
        """1e-30 is accepted; anything nonzero below it (1e-999999 overflowed the sizer) is not."""
        assert to_decimal(MIN_MAGNITUDE, "x") == Decimal("1e-30")
        assert to_decimal("-9.99e-30", "x") == Decimal("-9.99e-30")
        for value in (
            "1e-31",
            "-9.9e-31",
            Decimal("1e-999999"),
            "0.0000000000000000000000000000001",
        ):
            with pytest.raises(InvalidValue, match="below 1E-30"):
                to_decimal(value, "x")

    @pytest.mark.parametrize("value", ["0E-50", Decimal("-0E-999999"), 0], ids=repr)
    def test_zero_with_any_exponent_is_still_zero(self, value):
        """The lower bound is about tiny nonzero numbers; zero stays a valid balance."""
        assert to_nonnegative(value, "x") == 0

    def test_error_names_the_value(self):
        """The message names what the value is for, so the owner can find it."""
        with pytest.raises(InvalidValue, match="stop price"):
            to_decimal("nan", "stop price")


class TestToPositive:
    @pytest.mark.parametrize("value", ["0", 0, "-0", "-0.0001", Decimal(-5)], ids=repr)
    def test_refuses_zero_and_negative(self, value):
        """Zero and negative values are refused where a positive amount is needed."""
        with pytest.raises(InvalidValue, match="positive"):
            to_positive(value, "amount")

    def test_accepts_smallest_positive(self):
        """A tiny positive value is accepted unchanged."""
        assert to_positive("0.00000001", "amount") == Decimal("1E-8")

    def test_inherits_to_decimal_checks(self):
        """Floats are still refused, before the sign is looked at."""
        with pytest.raises(InvalidValue, match="float"):
            to_positive(1.5, "amount")


class TestToNonnegative:
    def test_accepts_zero(self):
        """Zero is a valid non-negative value (an empty account)."""
        assert to_nonnegative("0", "free balance") == 0

    def test_refuses_negative(self):
        """A negative balance is refused."""
        with pytest.raises(InvalidValue, match="negative"):
            to_nonnegative("-1", "free balance")

    def test_errors_are_safetrade_errors(self):
        """Every refusal is a SafetradeError and a ValueError, never a bare exception."""
        with pytest.raises(SafetradeError) as info:
            to_nonnegative("x", "free balance")
        assert isinstance(info.value, ValueError)


def test_positive_and_nonnegative_refusals_say_why_and_how_to_fix():
    with pytest.raises(InvalidValue) as zero:
        to_positive(Decimal(0), "entry amount")
    assert "sign" in zero.value.why
    assert zero.value.fix == "pass entry amount greater than zero"
    with pytest.raises(InvalidValue) as negative:
        to_nonnegative(Decimal(-1), "free balance")
    assert "negative" in negative.value.why
    assert negative.value.fix == "pass free balance as zero or more"


class TestOneRuleForNumberText:
    """The library reads number text exactly as the settings do: ASCII digits only."""

    @pytest.mark.parametrize(
        "text",
        ["\u0661\u0662\u0663", "\uff11\uff12\uff13", "\u06f1.\u06f5", "1_000", "\u00b2"],
        ids=["arabic-indic", "fullwidth", "persian", "underscore", "superscript"],
    )
    def test_digits_of_other_scripts_and_separators_are_refused(self, text):
        from safetrade import round_amount
        from tests.strategies import sol_usdt

        with pytest.raises(InvalidValue, match="not a number"):
            to_decimal(text, "amount")
        with pytest.raises(InvalidValue, match="not a number"):
            round_amount(text, sol_usdt())  # type: ignore[arg-type]

    @pytest.mark.parametrize("text", ["123", "-1.5", ".5", "1E+5", "2e-3", " 87.36 "])
    def test_plain_numbers_and_exponents_are_read(self, text):
        assert to_decimal(text, "x") == Decimal(text.strip())
