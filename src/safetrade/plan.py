"""Plan a trade: round the stop, size the position, build the entry, in one checked value.

:func:`plan_trade` is sizer → rounder → builder in one call; the :class:`TradePlan` it returns
is what :func:`safetrade.guard.check` judges and :func:`safetrade.execute_entry` sends, so its
parts are checked to agree with each other.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from safetrade._decimal import to_decimal, to_nonnegative, to_positive
from safetrade._fast import new, slot_setters
from safetrade._validate import MARKET_FIX, member_validator, require_instance
from safetrade.builder import (
    _ENTRY,
    _LONG,
    _PRICE_ENTRY,
    _PRICE_STOP_LOSS,
    _PRICE_TAKE_PROFIT,
    _STOP_LOSS,
    _TAKE_PROFIT,
    OrderIntent,
    _check_notional,
    _check_symbol,
    _check_trigger,
    _checked_amount,
    _entry_side,
    _intent,
    _positive,
    _rounded,
)
from safetrade.errors import OrderBuildError
from safetrade.market import MarketSpec
from safetrade.rounder import PositionSide, _side
from safetrade.sizer import PositionSize, _size

__all__ = ["TradePlan", "plan_trade"]

# the orders' names in error messages, read once (an enum's .value is a descriptor call)
_TAKE_PROFIT_NAME = _TAKE_PROFIT.value
_STOP_LOSS_NAME = _STOP_LOSS.value
_ENTRY_NAME = _ENTRY.value


@attrs.frozen(kw_only=True)
class TradePlan:
    """Everything decided before an entry is sent: size, entry order, protective prices.

    Attributes:
        market: The market traded.
        side: Long or short.
        size: The position size and its arithmetic.
        entry: The entry order.
        stop_loss_price: Rounded stop-loss trigger.
        take_profit_price: Rounded take-profit trigger, if any.
        signal_strength: The strategy's signal, for the guard's threshold check.
    """

    market: MarketSpec
    side: PositionSide = attrs.field(validator=member_validator(PositionSide))
    size: PositionSize
    entry: OrderIntent
    stop_loss_price: Decimal
    take_profit_price: Decimal | None
    signal_strength: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        # the guard judges ``size``; ``execute_entry`` sends ``entry`` and the protector uses
        # ``stop_loss_price``: a plan whose parts disagree (an entry or stop changed with
        # attrs.evolve after sizing) would send an order nobody checked
        size, entry = self.size, self.entry
        wrong = []
        if entry.purpose is not _ENTRY:
            wrong.append(f"the entry order's purpose is {entry.purpose.value}")
        if not entry.symbol == size.symbol == self.market.symbol:
            wrong.append(
                f"symbols differ (market {self.market.symbol}, size {size.symbol}, entry "
                f"{entry.symbol})"
            )
        if size.side is not self.side or entry.side != _entry_side(self.side):
            wrong.append(f"sides differ (plan {self.side.value}, entry {entry.side})")
        if entry.amount != size.amount:
            wrong.append(f"the entry sends {entry.amount} but {size.amount} was sized and checked")
        if self.stop_loss_price != size.stop_price:
            wrong.append(
                f"the stop-loss is {self.stop_loss_price} but the size was computed for a stop "
                f"at {size.stop_price}"
            )
        limit = entry.limit_price
        if limit is not None and (
            limit > size.entry_price if self.side is _LONG else limit < size.entry_price
        ):
            wrong.append(
                f"the entry limit {limit} is worse than the sized entry {size.entry_price}"
            )
        if wrong:
            raise OrderBuildError(
                "the plan's orders are not the ones it was sized and checked for",
                why="; ".join(wrong),
                fix="build plans with safetrade.plan_trade and plan again to change one (never "
                "attrs.evolve a plan's entry, size or stop)",
            )


_PLAN_SETTERS = slot_setters(
    TradePlan,
    "market",
    "side",
    "size",
    "entry",
    "stop_loss_price",
    "take_profit_price",
    "signal_strength",
)


def _plan(
    *,
    market: MarketSpec,
    side: PositionSide,
    size: PositionSize,
    entry: OrderIntent,
    stop_loss_price: Decimal,
    take_profit_price: Decimal | None,
    signal_strength: Decimal | None,
) -> TradePlan:
    plan = new(TradePlan)
    (
        set_market, set_side, set_size, set_entry, set_stop_loss_price, set_take_profit_price,
        set_signal_strength,
    ) = _PLAN_SETTERS  # fmt: skip
    set_market(plan, market)
    set_side(plan, side)
    set_size(plan, size)
    set_entry(plan, entry)
    set_stop_loss_price(plan, stop_loss_price)
    set_take_profit_price(plan, take_profit_price)
    set_signal_strength(plan, signal_strength)
    return plan


def plan_trade(
    market: MarketSpec,
    *,
    side: PositionSide,
    free_balance: Decimal,
    entry_price: Decimal,
    stop_price: Decimal,
    risk_percent: Decimal,
    client_oid: str,
    take_profit_price: Decimal | None = None,
    balance_cap: Decimal | None = None,
    max_order_value: Decimal | None = None,
    signal_strength: Decimal | None = None,
    limit_entry: bool = False,
    exit_slippage: Decimal | None = None,
) -> TradePlan:
    """Round the stop, size the position from the free balance, build the entry, round the TP.

    This is sizer → rounder → builder in one call; pass the result to
    :func:`safetrade.guard.check` before sending anything.

    The size keeps the loss at the stop within ``risk_percent`` *if the entry fills at
    ``entry_price``*. With ``limit_entry`` the entry is a limit order at ``entry_price``,
    immediate-or-cancel: it fills there or better, at once, or not at all, so the bound holds
    whatever the book (pass the best ask for a long, the best bid for a short, to be filled).
    Without it the entry is a market order, which on a thin book or a wide spread fills above
    a long's ``entry_price`` and loses more than ``risk_percent`` at the stop.

    ``exit_slippage`` is how much worse than the stop a triggered stop-loss may sell, per unit:
    a stop-market sells to the bid, the spread below the trigger (pass ``ask - bid``); it is
    counted in the risk, so the size shrinks, not the stop.

    Raises:
        SizingError: If no valid size exists.
        OrderBuildError: If the stop or target is on the wrong side of the entry.
        InvalidValue: For unusable numbers (including a NaN, infinite or float signal), or a
            ``side`` that is not a :class:`PositionSide`.
    """
    if type(market) is not MarketSpec:  # a subclass takes the full check, and passes it
        require_instance(market, MarketSpec, "market", MARKET_FIX)
    side = _side(side)
    entry = entry_price if _positive(entry_price) else to_positive(entry_price, "entry price")
    signal = None if signal_strength is None else to_decimal(signal_strength, "signal strength")
    stop, _ = _rounded(market, stop_price, _PRICE_STOP_LOSS, side)
    # size_position's own checks of the market, side, entry and stop have just been made
    size = _size(
        market,
        side,
        to_nonnegative(free_balance, "free balance"),
        entry,
        stop,
        risk_percent,
        balance_cap,
        max_order_value,
        None,
        exit_slippage,
    )
    amount = size.amount
    # Every check the take-profit, stop-loss and entry orders would make, in their order, once:
    # the amount's own checks do not depend on the price, so they run for the first order only;
    # the minimum value runs at each order's price. Only the entry is built.
    target = None
    if take_profit_price is not None:
        target, _ = _rounded(market, take_profit_price, _PRICE_TAKE_PROFIT, side)
        _check_trigger(_TAKE_PROFIT, side, target, entry)
        _checked_amount(market, amount, _TAKE_PROFIT_NAME)
        _check_notional(market, amount, target, _TAKE_PROFIT_NAME)
        _check_symbol(market.symbol)
    # the stop is on the grid already (rounding it again changes nothing) and below a long's
    # entry (the sizer refused it otherwise), so what can fail is its minimum value
    _check_trigger(_STOP_LOSS, side, stop, entry)
    if target is None:
        _checked_amount(market, amount, _STOP_LOSS_NAME)
    _check_notional(market, amount, stop, _STOP_LOSS_NAME)
    if target is None:
        _check_symbol(market.symbol)
    _check_notional(market, amount, entry, _ENTRY_NAME)
    limit = None
    if limit_entry:
        # on the tick, toward a better fill (a long's down): it fills at or below what was sized
        limit, _ = _rounded(market, entry, _PRICE_ENTRY, side)
        _check_notional(market, amount, limit, _ENTRY_NAME)
    # TradePlan(...) for parts made to agree just above (see safetrade._fast): its consistency
    # checks cannot fail here (one symbol, the sized side, amount and stop, and a limit, if
    # any, rounded toward the better fill: never worse than the sized entry)
    return _plan(
        market=market,
        side=side,
        size=size,
        entry=_intent(
            symbol=market.symbol,
            purpose=_ENTRY,
            side=_entry_side(side),
            order_type="limit" if limit_entry else "market",
            amount=amount,
            limit_price=limit,
            trigger_price=None,
            trigger=None,
            client_oid=client_oid,
            notes=(),
            time_in_force="IOC" if limit_entry else None,
        ),
        stop_loss_price=stop,
        take_profit_price=target,
        signal_strength=signal,
    )
