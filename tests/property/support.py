"""Helpers for the property tests: an independent grid oracle and junk-input strategies.

Imported as ``tests.property.support`` (the root ``conftest.py`` puts the repository root on
``sys.path``), so it works for ``pytest tests`` and for ``pytest features tests/property``.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

from safetrade.rounder import PositionSide, PricePurpose

# Wide enough that quotients of values <= 1e15 and steps >= 1e-30 are exact.
_WIDE = decimal.Context(prec=200, traps=[decimal.InvalidOperation, decimal.DivisionByZero])

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
SIDES = st.sampled_from(list(PositionSide))
PURPOSES = st.sampled_from(list(PricePurpose))

# The documented direction table of safetrade.rounder, written out again on purpose.
ROUNDS_UP = {
    (PricePurpose.ENTRY, LONG): False,
    (PricePurpose.ENTRY, SHORT): True,
    (PricePurpose.STOP_LOSS, LONG): True,
    (PricePurpose.STOP_LOSS, SHORT): False,
    (PricePurpose.TAKE_PROFIT, LONG): False,
    (PricePurpose.TAKE_PROFIT, SHORT): True,
}


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is an exact whole multiple of ``step`` (independent of the rounder)."""
    quotient = _WIDE.divide(value, step)
    return quotient == quotient.to_integral_value(context=_WIDE)


def steps_between(low: Decimal, high: Decimal, step: Decimal) -> Decimal:
    """``(high - low) / step`` computed exactly."""
    return _WIDE.divide(_WIDE.subtract(high, low), step)


# -- junk ------------------------------------------------------------------------------------


class Opaque:
    """An object that is no number at all."""

    def __repr__(self) -> str:
        return "<opaque>"


def _unparsable(text: str) -> bool:
    try:
        return not Decimal(text.strip()).is_finite()
    except (decimal.InvalidOperation, ValueError):
        return True


NON_FINITE = st.sampled_from(
    [Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
)
HUGE = st.one_of(
    st.decimals(min_value=Decimal("1.000001e15"), max_value=Decimal("1e40"), places=0),
    st.integers(min_value=10**15 + 1, max_value=10**40),
    st.sampled_from(["1e16", "1e30", "-1e16", "  9999999999999999  "]),
).flatmap(lambda v: st.sampled_from([v, -v]) if not isinstance(v, str) else st.just(v))
TEXT_JUNK = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "nan",
            "NaN",
            "inf",
            "-Infinity",
            "$123",
            "1%",
            "1,5",
            "0x10",
            "1 2",
            "None",
            "87.36 USDT",
            "½",
        ]
    ),
    st.text(max_size=12).filter(_unparsable),
)
WRONG_TYPES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),  # every float, incl. nan, inf, -0.0
    st.booleans(),
    st.just(None),
    st.sampled_from([[], {}, (), b"1", bytearray(b"2"), 1j, Fraction(1, 3), Opaque(), object]),
    st.lists(st.integers(), max_size=2),
)


def junk(*, allow_none: bool = True) -> st.SearchStrategy[object]:
    """Values no function may accept as a number at all (types, text, NaN/inf, > 1e15)."""
    wrong = WRONG_TYPES if allow_none else WRONG_TYPES.filter(lambda v: v is not None)
    return st.one_of(NON_FINITE, HUGE, TEXT_JUNK, wrong)


def nonpositive() -> st.SearchStrategy[object]:
    """Zero (incl. ``-0``) and negative numbers, as Decimal, int and text."""
    return st.one_of(
        st.sampled_from([Decimal(0), Decimal("-0"), Decimal("0E-8"), 0, "0", "-0"]),
        st.decimals(max_value=Decimal("-1e-12"), min_value=Decimal("-1e15"), places=12),
        st.integers(min_value=-(10**15), max_value=-1),
    )


def not_positive(*, allow_none: bool = True) -> st.SearchStrategy[object]:
    """Anything a strictly positive price, amount or percent must refuse."""
    return st.one_of(junk(allow_none=allow_none), nonpositive())


def not_nonnegative(*, allow_none: bool = True) -> st.SearchStrategy[object]:
    """Anything a balance (zero allowed) must refuse."""
    negative = nonpositive().filter(lambda v: Decimal(v) < 0)
    return st.one_of(junk(allow_none=allow_none), negative)


__all__ = [
    "HUGE",
    "LONG",
    "NON_FINITE",
    "PURPOSES",
    "ROUNDS_UP",
    "SHORT",
    "SIDES",
    "TEXT_JUNK",
    "WRONG_TYPES",
    "Opaque",
    "is_multiple",
    "junk",
    "nonpositive",
    "not_nonnegative",
    "not_positive",
    "steps_between",
]
