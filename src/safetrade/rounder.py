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

from safetrade._decimal import EXACT, MIN_INCREMENT, to_positive
from safetrade._validate import MARKET_FIX, require_instance, require_member
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

# Grid arithmetic is done on integers (the value in units of the step's last digit), so it is
# exact for any number of digits. EXACT only changes exponents and quantizes here, and never
# rounds: MAX_PREC digits, and _MAX_GRID_DIGITS bounds the size of every integer involved.
# A value at most 1e15 on a step of at least 1e-30 needs 46 digits; the sizer's unrounded
# amounts (at most 1e15 / 1e-30) need 76. Anything wider is not a price or an amount.
_MAX_GRID_DIGITS = 100


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


def _to_step(value: Decimal, step: Decimal, *, up: bool) -> Decimal:
    # value and step are finite Decimals and step >= MIN_INCREMENT (checked by the caller)
    if value.adjusted() - step.adjusted() >= _MAX_GRID_DIGITS:
        raise RoundingError(
            f"value {value} is more than 1e{_MAX_GRID_DIGITS} steps of {step}",
            why="no price or amount is that many increments; the units are wrong",
            fix=f"check the units of the value and that the step is at least {MIN_INCREMENT}",
        )
    rounding = decimal.ROUND_CEILING if up else decimal.ROUND_FLOOR
    _, digits, finite_exponent = step.as_tuple()
    if digits == (1,):
        # a power of ten (0.01, 1E-8, ...), like nearly every exchange increment: its
        # multiples are exactly the values quantize puts on its exponent
        return value.quantize(step, rounding=rounding, context=EXACT)
    exponent = int(finite_exponent)
    # value in whole units of 10**exponent (every multiple of step is one), rounded the same way
    unit = Decimal((0, (1,), exponent))
    units = int(value.quantize(unit, rounding=rounding, context=EXACT).scaleb(-exponent, EXACT))
    coefficient = int(Decimal((0, digits, 0)))
    steps = -(-units // coefficient) if up else units // coefficient
    # at the step's exponent, so 90.13 prints as "90.13", not "90.1300" or "9.013E+1"
    return Decimal(steps * coefficient).scaleb(exponent, EXACT)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of ``step`` that is ``<= value``.

    Exact for any number of digits; the result has the step's exponent.

    Raises:
        InvalidValue: If either argument is not a finite Decimal, or ``step`` is not positive
            or below :data:`~safetrade._decimal.MIN_INCREMENT` (1e-30).
        RoundingError: If ``value`` is more than 1e100 steps (a unit mistake, not a price).
    """
    value, step = _checked(value, step)
    return _to_step(value, step, up=False)


def ceil_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of ``step`` that is ``>= value``.

    Exact for any number of digits; the result has the step's exponent.

    Raises:
        InvalidValue: If either argument is not a finite Decimal, or ``step`` is not positive
            or below :data:`~safetrade._decimal.MIN_INCREMENT` (1e-30).
        RoundingError: If ``value`` is more than 1e100 steps (a unit mistake, not a price).
    """
    value, step = _checked(value, step)
    return _to_step(value, step, up=True)


def is_on_grid(value: Decimal, step: Decimal) -> bool:
    """Whether ``value`` is a whole multiple of ``step``.

    Raises:
        InvalidValue: Like :func:`floor_to_step`.
        RoundingError: Like :func:`floor_to_step`.
    """
    value, step = _checked(value, step)
    return _to_step(value, step, up=False) == value


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
    market = require_instance(market, MarketSpec, "market", MARKET_FIX)
    amount = to_positive(amount, "amount")
    # both already checked: a positive finite Decimal and a MarketSpec increment (>= 1e-30)
    result = _to_step(amount, market.amount_increment, up=False)
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
        InvalidValue: If ``price`` is not a positive finite Decimal, or ``purpose`` or
            ``side`` is not a :class:`PricePurpose` / :class:`PositionSide` member.
        RoundingError: If the price rounds to zero.
    """
    market = require_instance(market, MarketSpec, "market", MARKET_FIX)
    purpose = require_member(purpose, PricePurpose, "purpose")
    side = require_member(side, PositionSide, "side")
    price = to_positive(price, f"{purpose.value} price")
    step = market.price_increment
    # both already checked: a positive finite Decimal and a MarketSpec increment (>= 1e-30)
    result = _to_step(price, step, up=_ROUND_UP[(purpose, side)])
    if result <= 0:
        raise RoundingError(
            f"{purpose.value} price {price} rounds to zero on {market.symbol} (tick {step})",
            fix="check the price's units",
        )
    return result


def _checked(value: object, step: object) -> tuple[Decimal, Decimal]:
    if (
        type(value) is Decimal
        and type(step) is Decimal
        and value.is_finite()
        and step.is_finite()
        and step >= MIN_INCREMENT
    ):
        return value, step
    # callers outside mypy's reach (bots, fuzzers) can pass anything; refuse it by name
    checked = []
    for name, item in (("value", value), ("step", step)):
        if not isinstance(item, Decimal) or not item.is_finite():
            raise InvalidValue(f"{name} must be a finite Decimal, got {item!r}")
        checked.append(item)
    if checked[1] <= 0:
        raise InvalidValue(f"step must be positive, got {step}")
    if checked[1] < MIN_INCREMENT:
        raise InvalidValue(
            f"step {step} is below the smallest supported increment {MIN_INCREMENT}",
            why="no exchange uses such a step; the market description is corrupt",
            fix="use the increments from the exchange's own market data",
        )
    return checked[0], checked[1]
