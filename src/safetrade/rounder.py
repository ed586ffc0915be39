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
from safetrade._grid import MAX_GRID_DIGITS, grid_too_wide
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

# The generic path (any step) works on integers: the value in units of the step's last digit,
# exact for any number of digits. A MarketSpec's own increments go through the StepGrid it
# built once (safetrade._grid); the property tests check both agree digit for digit.
_MAX_GRID_DIGITS = MAX_GRID_DIGITS
_FLOOR = decimal.ROUND_FLOOR
_CEILING = decimal.ROUND_CEILING
_ZERO = Decimal(0)
_divmod = EXACT.divmod
_divide_int = EXACT.divide_int
_multiply = EXACT.multiply
_fma = EXACT.fma


class PositionSide(enum.Enum):
    """Direction of a position: long profits when price rises, short when it falls."""

    LONG = "long"
    SHORT = "short"


class PricePurpose(enum.Enum):
    """What a price is for; decides which way it rounds."""

    ENTRY = "entry"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"


# Members as module constants: `x is _LONG` is a plain identity test, while the attribute
# lookup `PositionSide.LONG` goes through the enum's metaclass (~4x the cost of the test).
_LONG = PositionSide.LONG
_SHORT = PositionSide.SHORT
_ENTRY = PricePurpose.ENTRY
_STOP_LOSS = PricePurpose.STOP_LOSS
_TAKE_PROFIT = PricePurpose.TAKE_PROFIT

# Which way each price rounds (the module docstring's table): up exactly when the side is long
# and the price is a stop-loss, or the side is short and it is not.
_ROUND_UP = {
    (purpose, side): (side is _LONG) == (purpose is _STOP_LOSS)
    for purpose in PricePurpose
    for side in PositionSide
}


def _side(side: object) -> PositionSide:
    """``side`` if it is a PositionSide; otherwise :func:`require_member`'s InvalidValue."""
    if side is _LONG:
        return _LONG
    if side is _SHORT:
        return _SHORT
    return require_member(side, PositionSide, "side")


def _to_step(value: Decimal, step: Decimal, *, up: bool) -> Decimal:
    # value and step are finite Decimals and step >= MIN_INCREMENT (checked by the caller)
    if value.adjusted() - step.adjusted() >= _MAX_GRID_DIGITS:
        raise grid_too_wide(value, step)
    rounding = _CEILING if up else _FLOOR
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
    if type(market) is not MarketSpec:  # a subclass takes the full check, and passes it
        require_instance(market, MarketSpec, "market", MARKET_FIX)
    if not (
        type(amount) is Decimal
        and amount.is_finite()
        and -31 < amount.adjusted() < 15
        and amount > _ZERO
    ):
        amount = to_positive(amount, "amount")
    grid = market._amount_grid
    # a positive amount of at most 1e15 on a step of at least 1e-30: at most 45 digits wide,
    # so the grid's width check cannot fail and is skipped
    result = (
        amount.quantize(grid.step, _FLOOR, EXACT)
        if grid.power_of_ten
        else grid.to_step_off_ten(amount, False)
    )
    if not result:  # a positive amount floors to zero or more: zero is the only failure
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
    if type(market) is not MarketSpec:  # a subclass takes the full check, and passes it
        require_instance(market, MarketSpec, "market", MARKET_FIX)
    # checked in this order (market, purpose, side, price), so the first problem is reported
    if purpose is not _STOP_LOSS and purpose is not _ENTRY and purpose is not _TAKE_PROFIT:
        purpose = require_member(purpose, PricePurpose, "purpose")
    if side is _LONG:
        up = purpose is _STOP_LOSS
    elif side is _SHORT:
        up = purpose is not _STOP_LOSS
    else:  # not a member: require_member refuses it by name
        up = _ROUND_UP[(purpose, require_member(side, PositionSide, "side"))]
    if not (
        type(price) is Decimal
        and price.is_finite()
        and -31 < price.adjusted() < 15
        and price > _ZERO
    ):
        price = to_positive(price, f"{purpose.value} price")
    grid = market._price_grid
    # a positive price of at most 1e15 on a tick of at least 1e-30: at most 45 digits wide,
    # so the grid's width check cannot fail and is skipped
    step = grid.step
    if grid.power_of_ten:
        result = price.quantize(step, _CEILING if up else _FLOOR, EXACT)
    elif up:
        # StepGrid.to_step_off_ten for a positive price, written out: ticks like 0.05 are
        # common enough that the method call is worth saving (the property tests compare)
        quotient, remainder = _divmod(price, step)
        result = _fma(quotient, step, step) if remainder else _multiply(quotient, step)
    else:
        result = _multiply(_divide_int(price, step), step)
    if not result:  # a positive price rounds to zero or more: zero is the only failure
        raise RoundingError(
            f"{purpose.value} price {price} rounds to zero on {market.symbol} "
            f"(tick {market.price_increment})",
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
