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
# changes exponents, quantizes and multiplies here. A value at most 1e15 on a step of at least
# 1e-30 needs 46 digits; the sizer's unrounded amounts (at most 1e15 / 1e-30) need 76.
# Anything wider is not a price or an amount, and is refused before any arithmetic.
MAX_GRID_DIGITS = 100

_FLOOR = decimal.ROUND_FLOOR
_CEILING = decimal.ROUND_CEILING
_ZERO = Decimal(0)
# Steps whose coefficient has more digits than this take the generic integer path; the
# quantize-on-a-finer-grid path is for the short coefficients exchanges use (0.05, 0.25, 5).
_SCALED_MAX_DIGITS = 40


def grid_too_wide(value: Decimal, step: Decimal) -> RoundingError:
    """The error for a value more than 1e100 steps wide (a unit mistake, not a price)."""
    return RoundingError(
        f"value {value} is more than 1e{MAX_GRID_DIGITS} steps of {step}",
        why="no price or amount is that many increments; the units are wrong",
        fix=f"check the units of the value and that the step is at least {MIN_INCREMENT}",
    )


def _divides_power_of_ten(coefficient: int) -> int | None:
    """The smallest k with ``coefficient`` dividing 10**k, or None (a factor other than 2, 5)."""
    twos = fives = 0
    while coefficient % 2 == 0:
        coefficient //= 2
        twos += 1
    while coefficient % 5 == 0:
        coefficient //= 5
        fives += 1
    return max(twos, fives) if coefficient == 1 else None


class StepGrid:
    """One positive finite increment and the constants its rounding needs.

    Every result has the step's exponent (``90.13``, never ``90.1300`` or ``9.013E+1``).

    * A power of ten (``0.01``, ``1E-8``: nearly every exchange increment): its multiples
      are exactly the values ``quantize`` puts on its exponent; one quantize.
    * ``c * 10**e`` where ``c`` divides ``10**k`` (``0.05``, ``0.25``, ``5``): multiples of the
      step are ``10**(e+k) / m`` times an integer, with ``m = 10**k / c``, so a value rounds
      as ``quantize(value * m, 10**(e+k)) * (c * 10**-k)``; both products are exact and
      the last one lands on exponent ``e``.
    * Anything else (``0.03``): the value in whole units of ``10**e``, rounded, then integer
      division by ``c``.
    """

    __slots__ = (
        "coefficient",
        "exponent",
        "inverse",
        "max_adjusted",
        "power_of_ten",
        "quantum",
        "scale",
        "step",
        "unit",
        "zero",
    )

    def __init__(self, step: Decimal) -> None:
        # step is a positive finite Decimal of at least MIN_INCREMENT (checked by the caller)
        _, digits, exponent = step.as_tuple()
        assert isinstance(exponent, int)  # noqa: S101 - finite, so an int (for type checkers)
        self.step = step
        # a value this many digits wide (or wider) is refused: it spans >= 1e100 steps
        self.max_adjusted = step.adjusted() + MAX_GRID_DIGITS
        self.power_of_ten = digits == (1,)
        self.exponent = exponent
        self.unit = Decimal((0, (1,), exponent))
        self.zero = Decimal((0, (0,), exponent))
        self.coefficient = int(Decimal((0, digits, 0)))
        k = _divides_power_of_ten(self.coefficient) if len(digits) <= _SCALED_MAX_DIGITS else None
        self.scale: Decimal | None = None
        self.quantum = self.inverse = _ZERO
        if k is not None and not self.power_of_ten:
            self.scale = Decimal(10**k // self.coefficient)
            self.quantum = Decimal((0, (1,), exponent + k))
            self.inverse = Decimal((0, digits, -k))

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
        scale = self.scale
        if scale is not None:
            # exact products: fma rounds nothing (EXACT) and adds a zero; the last addend, a
            # positive zero at the step's exponent, puts the result on exponent e and turns a
            # negative zero (-0.001 up to 0) into "0.00", as the generic path writes it
            coarse = value.fma(scale, _ZERO, EXACT).quantize(
                self.quantum, _CEILING if up else _FLOOR, EXACT
            )
            return coarse.fma(self.inverse, self.zero, EXACT)
        rounding = _CEILING if up else _FLOOR
        units = int(value.quantize(self.unit, rounding, EXACT).scaleb(-self.exponent, EXACT))
        coefficient = self.coefficient
        steps = -(-units // coefficient) if up else units // coefficient
        return Decimal(steps * coefficient).scaleb(self.exponent, EXACT)

    def on_grid(self, value: Decimal) -> bool:
        """Whether ``value`` (a finite Decimal) is a whole multiple of the step.

        Raises:
            RoundingError: Like :meth:`to_step`.
        """
        return self.to_step(value, False) == value

    def __repr__(self) -> str:
        return f"StepGrid({self.step!r})"
