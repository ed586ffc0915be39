"""Strict conversion of money and quantities to :class:`~decimal.Decimal`.

Floats are refused rather than converted: ``Decimal(0.1)`` is
``0.1000000000000000055511151231257827...``, and a value that has already been through binary
floating point cannot be trusted to sit on an exchange's price grid. Exchange floats are
converted once, at the gateway, through ``str()``.
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from safetrade.errors import InvalidValue

__all__ = [
    "EXACT",
    "MAX_MAGNITUDE",
    "MIN_INCREMENT",
    "MIN_MAGNITUDE",
    "MONEY",
    "to_decimal",
    "to_nonnegative",
    "to_positive",
]

_PLAIN_NUMBER_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
# The patterns are compiled on first use (settings, or a number given as text), by the module
# __getattr__ below: import safetrade compiles no regex.
_PATTERNS = {
    "PLAIN_NUMBER": _PLAIN_NUMBER_TEXT,
    "NUMBER_TEXT": _PLAIN_NUMBER_TEXT + r"([eE][+-]?[0-9]+)?",
}
if TYPE_CHECKING:
    #: A number as settings accept it: ASCII digits, one optional sign and point, no exponent.
    PLAIN_NUMBER: re.Pattern[str]
    #: A number as the library accepts it as text: a plain number, optionally with an exponent
    #: (``str(Decimal)`` writes one), ASCII digits only.
    NUMBER_TEXT: re.Pattern[str]


def __getattr__(name: str) -> re.Pattern[str]:
    compiled = globals().get(name)  # this module's own calls come here every time
    if compiled is not None:
        return compiled  # type: ignore[no-any-return]  # one of the patterns, set below
    text = _PATTERNS.get(name)
    if text is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    pattern = globals()[name] = re.compile(text)  # compiled once, then a plain global
    return pattern


# Anything larger is a unit or typing mistake, not a trade (1e15 USDT is ~10x world GDP).
MAX_MAGNITUDE = Decimal("1e15")
# Anything nonzero but smaller is a unit or typing mistake too (no asset trades in steps below
# 1e-18), and dividing by it could overflow Decimal's exponent range (1e15 / 1e-999999).
MIN_MAGNITUDE = Decimal("1e-30")
# The smallest increment (tick or amount step) safetrade accepts: the smallest number it
# accepts at all. Grid arithmetic on values up to MAX_MAGNITUDE stays bounded (1e45 steps).
MIN_INCREMENT = MIN_MAGNITUDE

DecimalLike = Decimal | str | int

_TRAPS = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
# Explicit arithmetic contexts, so a caller's decimal.getcontext() (28 digits by default, or
# whatever a bot set for its own reports) never rounds a size, a cost or a limit.
#: For operations whose result digits are bounded by the inputs' (products, sums, quantize):
#: never rounds. Do not divide in it: a repeating quotient would run to MAX_PREC digits.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=_TRAPS
)
#: For the guard's and the builder's comparisons. In-range values have at most 46 significant
#: digits (1e15 down to 1e-30), so products of three of them and their sums fit in 200 digits
#: exactly; percentages (one division) carry 200 digits, far beyond any limit's precision.
MONEY = decimal.Context(
    prec=200,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=_TRAPS,
)


def to_decimal(value: object, name: str) -> Decimal:
    """Convert ``value`` to a finite Decimal or raise :class:`InvalidValue` naming ``name``.

    Args:
        value: A ``Decimal``, ``int`` or numeric ``str``. ``float`` and ``bool`` are refused.
        name: What the value is, for the error message (e.g. ``"entry price"``).

    Returns:
        The finite Decimal.

    Raises:
        InvalidValue: For floats, bools, non-numeric text, NaN, infinities, magnitudes above
            :data:`MAX_MAGNITUDE` (1e15), and nonzero magnitudes below :data:`MIN_MAGNITUDE`
            (1e-30). Zero itself is accepted.
    """
    # the common case first: a Decimal well inside the bounds passes without a copy
    if type(value) is Decimal and value.is_finite() and -31 < value.adjusted() < 15:
        return value
    return _convert(value, name)


def _convert(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        hint = (
            f'pass Decimal("{value!r}") or the string "{value!r}"'
            if isinstance(value, float)
            else "pass a Decimal, an int or a numeric string"
        )
        raise InvalidValue(
            f"{name} must be a Decimal, int or numeric string, got {type(value).__name__} "
            f"{value!r}",
            why="floats cannot represent exchange increments exactly",
            fix=hint,
        )
    if isinstance(value, str) and not __getattr__("NUMBER_TEXT").fullmatch(value.strip()):
        # Decimal() reads any script's digits ('١٢٣' is 123) and '_' separators; settings
        # refuse those, and so does every other entry point: one rule for number text
        raise InvalidValue(
            f"{name} is not a number (plain ASCII digits): {value!r}",
            fix=f"give {name} with ASCII digits, like 87.36",
        )
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidValue(
            f"{name} is not a number: {value!r}", fix=f"give {name} as a plain number like 87.36"
        ) from None
    if not result.is_finite():
        raise InvalidValue(
            f"{name} is {result}",
            why="NaN and infinity are never valid money or quantities",
            fix=f"check where {name} is computed",
        )
    if abs(result) > MAX_MAGNITUDE:
        raise InvalidValue(
            f"{name} is {result}",
            why=f"its magnitude exceeds {MAX_MAGNITUDE:,}",
            fix=f"check the units of {name}",
        )
    if result and result.adjusted() < -30:  # abs(result) < MIN_MAGNITUDE, without a compare
        raise InvalidValue(
            f"{name} is {result}",
            why=f"its magnitude is below {MIN_MAGNITUDE} (and not zero)",
            fix=f"check the units of {name}",
        )
    return result


def to_positive(value: object, name: str) -> Decimal:
    """Like :func:`to_decimal`, and also refuse zero and negative values."""
    if type(value) is Decimal and value.is_finite() and -31 < value.adjusted() < 15 and value > 0:
        return value
    result = to_decimal(value, name)
    if result <= 0:
        raise InvalidValue(
            f"{name} must be positive, got {result}",
            why="a zero or negative amount or price is a sign, units or upstream-data mistake",
            fix=f"pass {name} greater than zero",
        )
    return result


def to_nonnegative(value: object, name: str) -> Decimal:
    """Like :func:`to_decimal`, and also refuse negative values."""
    if type(value) is Decimal and value.is_finite() and -31 < value.adjusted() < 15 and value >= 0:
        return value
    result = to_decimal(value, name)
    if result < 0:
        raise InvalidValue(
            f"{name} must not be negative, got {result}",
            why="a negative balance, limit or fee is a sign or upstream-data mistake",
            fix=f"pass {name} as zero or more",
        )
    return result
