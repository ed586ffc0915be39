"""Grid arithmetic for one increment, with what it needs about the increment worked out once.

A :class:`~safetrade.MarketSpec` builds one :class:`StepGrid` per increment when it is made, so
rounding a price or an amount on that market does one or two Decimal operations and no
analysis of the step (``as_tuple`` alone costs more than a quantize). The generic
:func:`safetrade.rounder.floor_to_step` family takes any step and keeps its own path; the
property tests check that both give the same Decimal, digit for digit and exponent for
exponent.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from safetrade._decimal import EXACT, MIN_INCREMENT
from safetrade.errors import RoundingError

__all__ = ["MAX_GRID_DIGITS", "StepGrid", "grid_too_wide"]

# Grid arithmetic is exact for any number of digits: EXACT has MAX_PREC digits and only
# quantizes, takes integer quotients and multiplies here. A value at most 1e15 on a step of at least
# 1e-30 needs 46 digits; the sizer's unrounded amounts (at most 1e15 / 1e-30) need 76.
# Anything wider is not a price or an amount, and is refused before any arithmetic.
MAX_GRID_DIGITS = 100

_FLOOR = decimal.ROUND_FLOOR
_CEILING = decimal.ROUND_CEILING
_ZERO = Decimal(0)
# Context methods, not operators: an operator would round to the caller's context precision
_multiply = EXACT.multiply
_divide_int = EXACT.divide_int
_divmod = EXACT.divmod
_fma = EXACT.fma


def grid_too_wide(value: Decimal, step: Decimal) -> RoundingError:
    """The error for a value more than 1e100 steps wide (a unit mistake, not a price)."""
    return RoundingError(
        f"value {value} is more than 1e{MAX_GRID_DIGITS} steps of {step}",
        why="no price or amount is that many increments; the units are wrong",
        fix=f"check the units of the value and that the step is at least {MIN_INCREMENT}",
    )


class StepGrid:
    """One positive finite increment and the constants its rounding needs.

    Every result has the step's exponent (``90.13``, never ``90.1300`` or ``9.013E+1``).

    * A power of ten (``0.01``, ``1E-8``: nearly every exchange increment): its multiples
      are exactly the values ``quantize`` puts on its exponent; one quantize.
    * Any other step (``0.05``, ``0.25``, ``5``, ``0.03``): the exact integer quotient
      (``divide_int`` / ``divmod`` in EXACT truncate toward zero), moved one step where the
      remainder says truncation went the wrong way, times the step; the last operation, an
      exact ``fma`` whose addend is at the step's exponent, puts the result on that exponent
      and writes a zero as ``0.00``, never ``-0.00``. For a positive value the same
      Decimal comes cheaper: its floor is the quotient times the step, its ceiling that
      product plus one step when there is a remainder (context methods of EXACT, which cost
      less than the Decimal methods).
    """

    __slots__ = ("max_adjusted", "minus_step", "power_of_ten", "step", "zero")

    def __init__(self, step: Decimal) -> None:
        # step is a positive finite Decimal of at least MIN_INCREMENT (checked by the caller)
        _, digits, exponent = step.as_tuple()
        assert isinstance(exponent, int)  # noqa: S101 - finite, so an int (for type checkers)
        self.step = step
        # a value this many digits wide (or wider) is refused: it spans >= 1e100 steps
        self.max_adjusted = step.adjusted() + MAX_GRID_DIGITS
        self.power_of_ten = digits == (1,)
        self.minus_step = step.copy_negate()
        self.zero = Decimal((0, (0,), exponent))

    def to_step(self, value: Decimal, up: bool) -> Decimal:
        """``value`` (a finite Decimal) rounded down, or up, to a multiple of the step.

        Raises:
            RoundingError: If ``value`` is more than 1e100 steps (a unit mistake).
        """
        if value.adjusted() >= self.max_adjusted:
            raise grid_too_wide(value, self.step)
        if self.power_of_ten:
            return value.quantize(self.step, _CEILING if up else _FLOOR, EXACT)
        return self.to_step_off_ten(value, up)

    def to_step_off_ten(self, value: Decimal, up: bool) -> Decimal:
        """:meth:`to_step` for a step that is not a power of ten (width already checked)."""
        step = self.step
        if value > _ZERO:
            if not up:
                # truncation is the floor; the integer quotient (exponent 0) times the step
                # has the step's exponent, and a zero quotient gives 0.00 (-0 would give
                # -0.00: below)
                return _multiply(_divide_int(value, step), step)
            # a remainder means one step more: quotient * step + step in one exact fma
            quotient, remainder = _divmod(value, step)
            return _fma(quotient, step, step) if remainder else _multiply(quotient, step)
        quotient, remainder = _divmod(value, step)  # remainder has the value's sign
        if up:
            addend = step if remainder > _ZERO else self.zero
        else:
            addend = self.minus_step if remainder < _ZERO else self.zero
        return quotient.fma(step, addend, EXACT)

    def on_grid(self, value: Decimal) -> bool:
        """Whether ``value`` (a finite Decimal) is a whole multiple of the step.

        Raises:
            RoundingError: Like :meth:`to_step`.
        """
        return self.to_step(value, False) == value

    def __repr__(self) -> str:
        return f"StepGrid({self.step!r})"
