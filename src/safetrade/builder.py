"""Orders as validated values, built only through factories that check them.

On Feb 6 the take-profit reached KuCoin unrounded. Here an order is an :class:`OrderIntent`
(validated: on the market's grid, above its minimums, stop on the right side of the entry);
:mod:`safetrade.wire` translates it into ccxt's arguments. Nothing that fails validation ever
becomes a call.

Protective orders are KuCoin *stop orders* (``POST /api/v1/stop-order``) of type ``market``:

* stop-loss of a long: ``sell``, ``stop="loss"`` (fires when the last price is at or below
  ``stopPrice``);
* take-profit of a long: ``sell``, ``stop="entry"`` (fires at or above ``stopPrice``);
* a short mirrors both (``buy``; ``entry`` for the stop-loss, ``loss`` for the take-profit).

Market execution on trigger means the exit is not skipped when the price gaps through a
limit. KuCoin holds no funds for an untriggered stop order, so a stop-loss and a take-profit
can both cover the same amount; :mod:`safetrade.protector` cancels the survivor when one fires.
"""

from __future__ import annotations

import enum
import functools
import os
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeGuard

import attrs

from safetrade._decimal import MONEY, to_positive
from safetrade._fast import new, slot_setters
from safetrade._validate import require_member
from safetrade.errors import OrderBuildError
from safetrade.market import MarketSpec
from safetrade.rounder import PositionSide, PricePurpose, _side, round_amount, round_price

__all__ = [
    "OrderIntent",
    "OrderPurpose",
    "entry_order",
    "flatten_order",
    "new_client_oid",
    "stop_loss_order",
    "take_profit_order",
]


# KuCoin: letters, digits, "_" and "-", at most 40 characters. Compiled on first use, so
# import safetrade compiles no regex.
@functools.cache
def _client_oid_pattern() -> re.Pattern[str]:
    return re.compile(r"^[A-Za-z0-9_-]{1,40}$")


class OrderPurpose(enum.Enum):
    """Why an order exists."""

    ENTRY = "entry"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"
    FLATTEN = "flatten"


# Members as module constants: `x is _LONG` is a plain identity test, while `PositionSide.LONG`
# is an attribute lookup through the enum's metaclass, several times the cost of the test.
_LONG = PositionSide.LONG
_SHORT = PositionSide.SHORT
_ENTRY = OrderPurpose.ENTRY
_STOP_LOSS = OrderPurpose.STOP_LOSS
_TAKE_PROFIT = OrderPurpose.TAKE_PROFIT
_FLATTEN = OrderPurpose.FLATTEN
_PRICE_ENTRY = PricePurpose.ENTRY
_PRICE_STOP_LOSS = PricePurpose.STOP_LOSS
_PRICE_TAKE_PROFIT = PricePurpose.TAKE_PROFIT
_ZERO = Decimal(0)


def _client_oid(inst: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _client_oid_pattern().match(value):
        raise OrderBuildError(
            f"client order id {value!r} is invalid",
            why="KuCoin accepts 1-40 letters, digits, '_' or '-'",
            fix="use safetrade.builder.new_client_oid()",
        )


def _check_symbol(symbol: object) -> None:
    """Refuse what the symbol validator refuses, where a discarded order used to be built."""
    if not isinstance(symbol, str) or not symbol:
        _symbol(None, attrs.fields(OrderIntent).symbol, symbol)


def _one_of(*allowed: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def validate(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str) or value not in allowed:
            raise OrderBuildError(
                f"order {attribute.name} must be one of {', '.join(map(repr, allowed))}, "
                f"got {value!r}",
                fix="build orders with safetrade's entry_order, stop_loss_order, "
                "take_profit_order or flatten_order",
            )

    return validate


def _optional_one_of(*allowed: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    validate = _one_of(*allowed)

    def validate_optional(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validate(inst, attribute, value)

    return validate_optional


def _symbol(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise OrderBuildError(
            f"order symbol must be a non-empty str, got {value!r}",
            fix="use the market's unified symbol, e.g. 'SOL/USDT'",
        )


def _purpose(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, OrderPurpose):
        raise OrderBuildError(
            f"order purpose must be an OrderPurpose, got {type(value).__name__} {value!r}",
            fix="pass OrderPurpose.ENTRY, STOP_LOSS, TAKE_PROFIT or FLATTEN",
        )


def _positive_decimal(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not (isinstance(value, Decimal) and value.is_finite() and value > 0):
        raise OrderBuildError(
            f"order {attribute.name.replace('_', ' ')} must be a positive finite Decimal, got "
            f"{type(value).__name__} {value!r}",
            why="floats, text, NaN, zero and negatives never reach the exchange",
            fix="round with safetrade.round_amount / round_price, or pass Decimal values",
        )


def _optional_positive_decimal(
    inst: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        _positive_decimal(inst, attribute, value)


def _notes(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(note, str) for note in value):
        raise OrderBuildError(f"order notes must be a tuple of str, got {value!r}")


@attrs.frozen(kw_only=True)
class OrderIntent:
    """An order safetrade has validated and is willing to send.

    Attributes:
        symbol: Unified symbol.
        purpose: Entry, stop-loss, take-profit or flatten.
        side: ``"buy"`` or ``"sell"``.
        order_type: ``"market"`` or ``"limit"``.
        amount: Base amount, on the market's amount grid.
        limit_price: Limit price for limit orders, on the tick grid.
        trigger_price: Stop price for stop orders, on the tick grid.
        trigger: KuCoin's ``stop`` value: ``"loss"`` (at or below) or ``"entry"`` (at or above).
        client_oid: Idempotency key; a retry reuses it so the exchange cannot double an order.
        notes: How raw inputs were rounded, for logs.
        time_in_force: KuCoin's ``timeInForce`` for a limit order: ``"IOC"`` (what the book
            does not fill at once is cancelled: nothing rests unprotected) or None (KuCoin's
            default, GTC).
    """

    symbol: str = attrs.field(validator=_symbol)
    purpose: OrderPurpose = attrs.field(validator=_purpose)
    side: str = attrs.field(validator=_one_of("buy", "sell"))
    order_type: str = attrs.field(validator=_one_of("market", "limit"))
    amount: Decimal = attrs.field(validator=_positive_decimal)
    limit_price: Decimal | None = attrs.field(default=None, validator=_optional_positive_decimal)
    trigger_price: Decimal | None = attrs.field(default=None, validator=_optional_positive_decimal)
    trigger: str | None = attrs.field(default=None, validator=_optional_one_of("loss", "entry"))
    client_oid: str = attrs.field(validator=_client_oid)
    notes: tuple[str, ...] = attrs.field(default=(), validator=_notes)
    time_in_force: str | None = attrs.field(default=None, validator=_optional_one_of("IOC"))

    def __attrs_post_init__(self) -> None:
        if (self.trigger_price is None) != (self.trigger is None):
            raise OrderBuildError(
                f"{self.describe()} has a trigger price but no trigger kind"
                if self.trigger is None
                else f"{self.describe()} has a trigger kind but no trigger price",
                why="KuCoin's stop orders need both stopPrice and stop",
                fix="build protective orders with stop_loss_order or take_profit_order",
            )
        if (self.order_type == "limit") != (self.limit_price is not None):
            raise OrderBuildError(
                f"{self.describe()} is a limit order without a price"
                if self.limit_price is None
                else f"{self.describe()} is a market order with a limit price",
                fix="give a limit price exactly for limit orders",
            )
        if self.time_in_force is not None and self.order_type != "limit":
            raise OrderBuildError(
                f"{self.describe()} is a market order with time in force {self.time_in_force}",
                why="KuCoin takes timeInForce for limit orders only",
                fix="give a time in force only to limit orders",
            )

    @property
    def is_stop_order(self) -> bool:
        """Whether this goes to KuCoin's stop-order endpoint."""
        return self.trigger_price is not None

    def describe(self) -> str:
        """Short human description, e.g. ``stop-loss sell 0.6396 SOL/USDT @ trigger 85.61``."""
        price = ""
        if self.trigger_price is not None:
            price = f" @ trigger {self.trigger_price} ({self.trigger})"
        elif self.limit_price is not None:
            price = f" @ {self.limit_price}"
            if self.time_in_force is not None:
                price += f" {self.time_in_force}"
        return f"{self.purpose.value} {self.side} {self.amount} {self.symbol}{price}"


_INTENT_FIELDS = attrs.fields(OrderIntent)
_INTENT_SETTERS = slot_setters(
    OrderIntent,
    "symbol",
    "purpose",
    "side",
    "order_type",
    "amount",
    "limit_price",
    "trigger_price",
    "trigger",
    "client_oid",
    "notes",
    "time_in_force",
)


def _intent(
    *,
    symbol: object,
    purpose: OrderPurpose,
    side: str,
    order_type: str,
    amount: Decimal,
    limit_price: Decimal | None,
    trigger_price: Decimal | None,
    trigger: str | None,
    client_oid: object,
    notes: tuple[str, ...],
    time_in_force: str | None = None,
) -> OrderIntent:
    """``OrderIntent(...)`` for a factory's values (see :mod:`safetrade._fast`).

    The factory has checked the amount and the prices and chosen the purpose, side, type and
    trigger consistently with each other; what it passes on unchecked, the market's symbol and
    the caller's client order id, is checked here by those fields' own validators, in field
    order, so the errors are the constructor's.
    """
    if type(symbol) is not str or not symbol:
        _symbol(None, _INTENT_FIELDS.symbol, symbol)
    if type(client_oid) is not str or not _client_oid_pattern().match(client_oid):
        _client_oid(None, _INTENT_FIELDS.client_oid, client_oid)
    intent = new(OrderIntent)
    (
        set_symbol, set_purpose, set_side, set_order_type, set_amount, set_limit_price,
        set_trigger_price, set_trigger, set_client_oid, set_notes, set_time_in_force,
    ) = _INTENT_SETTERS  # fmt: skip
    set_symbol(intent, symbol)
    set_purpose(intent, purpose)
    set_side(intent, side)
    set_order_type(intent, order_type)
    set_amount(intent, amount)
    set_limit_price(intent, limit_price)
    set_trigger_price(intent, trigger_price)
    set_trigger(intent, trigger)
    set_client_oid(intent, client_oid)
    set_notes(intent, notes)
    set_time_in_force(intent, time_in_force)
    return intent


def new_client_oid(purpose: OrderPurpose) -> str:
    """A fresh client order id, e.g. ``st-stop-loss-3f2a...`` (at most 40 characters)."""
    purpose = require_member(purpose, OrderPurpose, "purpose")
    # 96 random bits (os.urandom, not uuid: importing uuid costs ~10 ms of `import safetrade`)
    return f"st-{purpose.value}-{os.urandom(12).hex()}"


def _exit_side(side: PositionSide) -> str:
    return "sell" if side is _LONG else "buy"


def _entry_side(side: PositionSide) -> str:
    return "buy" if side is _LONG else "sell"


def _positive(value: object) -> TypeGuard[Decimal]:
    """Whether to_positive would return ``value`` itself (its fast path).

    Callers build the value's name, and the error text, only for values that fail this.
    """
    return (
        type(value) is Decimal
        and value.is_finite()
        and -31 < value.adjusted() < 15
        and value > _ZERO
    )


def _amount(market: MarketSpec, amount: object, reference: Decimal, what: str) -> Decimal:
    amount = _checked_amount(market, amount, what)
    _check_notional(market, amount, reference, what)
    return amount


def _checked_amount(market: MarketSpec, amount: object, what: str) -> Decimal:
    """The price-independent checks of an order's amount: positive, on the grid, in limits."""
    amount = amount if _positive(amount) else to_positive(amount, f"{what} amount")
    # at most 1e15 on a step of at least 1e-30: never too wide for the grid
    if not market._amount_grid.on_grid(amount):
        raise OrderBuildError(
            f"{what} amount {amount} is not a multiple of {market.symbol}'s increment "
            f"{market.amount_increment}",
            why="KuCoin rejects it ('Order size increment invalid')",
            fix="size with safetrade.size_position or round with safetrade.round_amount",
        )
    if market.min_amount is not None and amount < market.min_amount:
        raise OrderBuildError(
            f"{what} amount {amount} {market.base} is below {market.symbol}'s minimum "
            f"{market.min_amount}",
            fix="skip the order or size a larger position deliberately",
        )
    if market.max_amount is not None and amount > market.max_amount:
        raise OrderBuildError(
            f"{what} amount {amount} {market.base} is above {market.symbol}'s maximum "
            f"{market.max_amount}"
        )
    return amount


def _check_notional(market: MarketSpec, amount: Decimal, reference: Decimal, what: str) -> None:
    """The minimum order value of ``amount`` at ``reference`` (an entry or trigger price)."""
    min_notional = market.min_notional
    if min_notional is None:
        return
    notional = MONEY.multiply(amount, reference)  # exact, whatever the caller's context
    if notional < min_notional:
        raise OrderBuildError(
            f"{what} value {notional} {market.quote} ({amount} at {reference}) is below "
            f"{market.symbol}'s minimum order value {market.min_notional}",
            why="KuCoin rejects it, for stop orders only when triggered, leaving no protection",
            fix="skip the trade or size a larger position deliberately",
        )


def _rounded(
    market: MarketSpec, price: object, purpose: PricePurpose, side: PositionSide
) -> tuple[Decimal, tuple[str, ...]]:
    raw = price if _positive(price) else to_positive(price, f"{purpose.value} price")
    rounded = round_price(raw, market, purpose=purpose, side=side)
    if rounded == raw:
        return rounded, ()
    return rounded, (
        f"{purpose.value} price {raw} rounded to {rounded} (tick {market.price_increment})",
    )


def entry_order(
    market: MarketSpec,
    *,
    side: PositionSide,
    amount: Decimal,
    reference_price: Decimal,
    client_oid: str,
    limit_price: Decimal | None = None,
    immediate: bool = False,
) -> OrderIntent:
    """A market (or, with ``limit_price``, limit) entry order.

    Args:
        market: The market.
        side: Long buys, short sells.
        amount: Base amount on the market's grid (use the sizer's result).
        reference_price: Current or expected price, for the minimum-value check.
        client_oid: Idempotency key.
        limit_price: Optional limit; rounded down for a long, up for a short.
        immediate: With ``limit_price``: immediate-or-cancel (``timeInForce`` IOC), so the
            entry fills at the limit or better, at once, and nothing is left resting.

    Raises:
        OrderBuildError: If the amount is off-grid or outside the market's limits.
        InvalidValue: For non-finite, zero or negative inputs.
    """
    side = _side(side)
    reference = (
        reference_price
        if _positive(reference_price)
        else to_positive(reference_price, "reference price")
    )
    notes: tuple[str, ...] = ()
    limit = None
    if limit_price is not None:
        limit, notes = _rounded(market, limit_price, _PRICE_ENTRY, side)
        reference = limit
    elif immediate:
        raise OrderBuildError(
            "an immediate-or-cancel entry needs a limit price",
            why="KuCoin cancels what an IOC limit order cannot fill at its price at once; a "
            "market order has no price to bound its fill",
            fix="pass limit_price (the price the position was sized at), or immediate=False",
        )
    return _intent(
        symbol=market.symbol,
        purpose=_ENTRY,
        side=_entry_side(side),
        order_type="market" if limit is None else "limit",
        amount=_amount(market, amount, reference, "entry"),
        limit_price=limit,
        trigger_price=None,
        trigger=None,
        client_oid=client_oid,
        notes=notes,
        time_in_force="IOC" if immediate else None,
    )


def _protective(
    market: MarketSpec,
    *,
    purpose: OrderPurpose,
    side: PositionSide,
    amount: Decimal,
    price: Decimal,
    entry_price: Decimal,
    client_oid: str,
) -> OrderIntent:
    side = _side(side)
    entry = entry_price if _positive(entry_price) else to_positive(entry_price, "entry price")
    price_purpose = _PRICE_STOP_LOSS if purpose is _STOP_LOSS else _PRICE_TAKE_PROFIT
    trigger_price, notes = _rounded(market, price, price_purpose, side)
    below_entry = _check_trigger(purpose, side, trigger_price, entry)
    # "loss" fires at or below the trigger, "entry" at or above: below-entry triggers are "loss".
    return _intent(
        symbol=market.symbol,
        purpose=purpose,
        side=_exit_side(side),
        order_type="market",
        amount=_amount(market, amount, trigger_price, purpose.value),
        limit_price=None,
        trigger_price=trigger_price,
        trigger="loss" if below_entry else "entry",
        client_oid=client_oid,
        notes=notes,
    )


def _check_trigger(
    purpose: OrderPurpose, side: PositionSide, trigger_price: Decimal, entry: Decimal
) -> bool:
    """Refuse a protective trigger on the wrong side of the entry; whether it is below it."""
    below_entry = (purpose is _STOP_LOSS) == (side is _LONG)
    if below_entry and trigger_price >= entry:
        raise OrderBuildError(
            f"{purpose.value} {trigger_price} for a {side.value} entered at {entry} is not "
            "below the entry",
            why="it would fire at once or protect nothing",
            fix=f"place the {purpose.value} below {entry}",
        )
    if not below_entry and trigger_price <= entry:
        raise OrderBuildError(
            f"{purpose.value} {trigger_price} for a {side.value} entered at {entry} is not "
            "above the entry",
            why="it would fire at once or protect nothing",
            fix=f"place the {purpose.value} above {entry}",
        )
    return below_entry


def stop_loss_order(
    market: MarketSpec,
    *,
    side: PositionSide,
    amount: Decimal,
    stop_price: Decimal,
    entry_price: Decimal,
    client_oid: str,
) -> OrderIntent:
    """A stop-market order closing ``amount`` when the price reaches ``stop_price``.

    The stop price is rounded toward the entry (up for a long): less risk than planned, never
    more.

    Raises:
        OrderBuildError: If the stop is not on the losing side of the entry, or the amount is
            off-grid or below the market's minimums at the stop price.
    """
    return _protective(
        market,
        purpose=_STOP_LOSS,
        side=side,
        amount=amount,
        price=stop_price,
        entry_price=entry_price,
        client_oid=client_oid,
    )


def take_profit_order(
    market: MarketSpec,
    *,
    side: PositionSide,
    amount: Decimal,
    target_price: Decimal,
    entry_price: Decimal,
    client_oid: str,
) -> OrderIntent:
    """A stop-market order closing ``amount`` when the price reaches ``target_price``.

    The target is rounded toward the entry (down for a long: 90.1353 → 90.13), so it stays
    reachable.

    Raises:
        OrderBuildError: If the target is not on the winning side of the entry, or the amount
            is off-grid or below the market's minimums.
    """
    return _protective(
        market,
        purpose=_TAKE_PROFIT,
        side=side,
        amount=amount,
        price=target_price,
        entry_price=entry_price,
        client_oid=client_oid,
    )


def flatten_order(
    market: MarketSpec, *, side: PositionSide, amount: Decimal, client_oid: str
) -> OrderIntent:
    """A market order closing a position of ``amount`` (rounded down to the grid).

    The minimum checks are skipped on purpose: an emergency exit must be attempted even for a
    dust-sized remainder; the exchange has the last word.
    """
    side = _side(side)
    return OrderIntent(
        symbol=market.symbol,
        purpose=_FLATTEN,
        side=_exit_side(side),
        order_type="market",
        amount=round_amount(amount, market),
        client_oid=client_oid,
    )
