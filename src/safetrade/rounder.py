"""Put amounts and prices on the market's own grid, in an explicit direction per purpose.

On Feb 6 a take-profit of 90.1353 went to a market with tick 0.01 and KuCoin answered
"Price increment invalid". Rounding to the nearest tick would also have been a choice with
consequences nobody made on purpose, so every price here rounds in the direction that keeps
the trade *safer*, and the direction is part of the function's contract:

============  =========================  ==========================
purpose       long position              short position
============  =========================  ==========================
entry limit   down: never pay more       up: never sell for less
stop-loss     up, toward entry: less     down, toward entry: less
              risk than planned          risk than planned
take-profit   down, toward entry: still  up, toward entry: still
              reachable                  reachable
============  =========================  ==========================

Amounts always round *down*: a bot must never buy more than it sized. The results are exact
multiples of the increment (Decimal arithmetic, never ``float`` or ``round``).
"""

from __future__ import annotations

import decimal
import enum
from decimal import Decimal

from safetrade._decimal import to_positive
from safetrade.errors import InvalidValue, RoundingError
from safetrade.market import MarketSpec

__all__ = [
    "PositionSide",
    "PricePurpose",
    "ceil_to_step",
    "floor_to_step",
    "is_on_grid",
    "round_amount",
    "round_price",
]

# Enough digits that value/step is exact for any value <= 1e15 and step >= 1e-30.
_EXACT = decimal.Context(prec=80, traps=[decimal.InvalidOperation, decimal.DivisionByZero])


class PositionSide(enum.Enum):
    """Direction of a position: long profits when price rises, short when it falls."""

    LONG = "long"
    SHORT = "short"


class PricePurpose(enum.Enum):
    """What a price is for; decides which way it rounds."""

    ENTRY = "entry"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"


_ROUND_UP = {
    (PricePurpose.ENTRY, PositionSide.LONG): False,
    (PricePurpose.ENTRY, PositionSide.SHORT): True,
    (PricePurpose.STOP_LOSS, PositionSide.LONG): True,
    (PricePurpose.STOP_LOSS, PositionSide.SHORT): False,
    (PricePurpose.TAKE_PROFIT, PositionSide.LONG): False,
    (PricePurpose.TAKE_PROFIT, PositionSide.SHORT): True,
}


def _to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    steps = _EXACT.divide(value, step).to_integral_value(rounding=rounding, context=_EXACT)
    # quantize to the step's exponent so 90.13 prints as "90.13", not "90.1300" or "9.013E+1"
    result = _EXACT.multiply(steps, step)
    exponent = step.as_tuple().exponent
    return (
        result.quantize(step, context=_EXACT)
        if isinstance(exponent, int) and exponent < 0
        else result
    )


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` that is ``<= value``.

    Raises:
        InvalidValue: If either argument is not a finite Decimal or ``step <= 0``.
    """
    value, step = _checked(value, step)
    return _to_step(value, step, decimal.ROUND_FLOOR)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of ``step`` that is ``>= value``.

    Raises:
        InvalidValue: If either argument is not a finite Decimal or ``step <= 0``.
    """
    value, step = _checked(value, step)
    return _to_step(value, step, decimal.ROUND_CEILING)


def is_on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``."""
    value, step = _checked(value, step)
    return _EXACT.remainder(value, step) == 0


def round_amount(amount: Decimal, market: MarketSpec) -> Decimal:
    """Round a base amount *down* to the market's amount increment.

    Args:
        amount: Base amount, e.g. 4.9344 SOL.
        market: The market whose ``amount_increment`` applies.

    Returns:
        The amount on the grid, never larger than ``amount``.

    Raises:
        InvalidValue: If ``amount`` is not a positive finite Decimal.
        RoundingError: If the amount is smaller than one increment (it would round to zero).
    """
    amount = to_positive(amount, "amount")
    result = floor_to_step(amount, market.amount_increment)
    if result <= 0:
        raise RoundingError(
            f"amount {amount} {market.base} is below one increment "
            f"({market.amount_increment}) of {market.symbol}",
            why="rounding down would give zero",
            fix="size a larger position or skip the trade",
        )
    return result


def round_price(
    price: Decimal, market: MarketSpec, *, purpose: PricePurpose, side: PositionSide
) -> Decimal:
    """Round a price to the market's tick in the safe direction for ``purpose`` and ``side``.

    See the module docstring for the direction table. Example: a long's take-profit of
    90.1353 on a 0.01-tick market becomes 90.13; its stop-loss of 85.605 becomes 85.61.

    Raises:
        InvalidValue: If ``price`` is not a positive finite Decimal.
        RoundingError: If the price rounds to zero.
    """
    price = to_positive(price, f"{purpose.value} price")
    round_up = _ROUND_UP[(purpose, side)]
    step = market.price_increment
    result = ceil_to_step(price, step) if round_up else floor_to_step(price, step)
    if result <= 0:
        raise RoundingError(
            f"{purpose.value} price {price} rounds to zero on {market.symbol} (tick {step})",
            fix="check the price's units",
        )
    return result


def _checked(value: object, step: object) -> tuple[Decimal, Decimal]:
    # callers outside mypy's reach (bots, fuzzers) can pass anything; refuse it by name
    checked = []
    for name, item in (("value", value), ("step", step)):
        if not isinstance(item, Decimal) or not item.is_finite():
            raise InvalidValue(f"{name} must be a finite Decimal, got {item!r}")
        checked.append(item)
    if checked[1] <= 0:
        raise InvalidValue(f"step must be positive, got {step}")
    return checked[0], checked[1]
