"""Plan a trade: round the stop, size the position, build the entry, in one checked value.

:func:`plan_trade` is sizer → rounder → builder in one call; the :class:`TradePlan` it returns
is what :func:`safetrade.guard.check` judges and :func:`safetrade.execute_entry` sends, so its
parts are checked to agree with each other.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from safetrade._decimal import to_decimal, to_positive
from safetrade._validate import MARKET_FIX, member_validator, require_instance, require_member
from safetrade.builder import (
    OrderIntent,
    OrderPurpose,
    _entry_side,
    _rounded,
    entry_order,
    stop_loss_order,
    take_profit_order,
)
from safetrade.errors import OrderBuildError
from safetrade.market import MarketSpec
from safetrade.rounder import PositionSide, PricePurpose
from safetrade.sizer import PositionSize, size_position

__all__ = ["TradePlan", "plan_trade"]


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
        if entry.purpose is not OrderPurpose.ENTRY:
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
            limit > size.entry_price if self.side is PositionSide.LONG else limit < size.entry_price
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
) -> TradePlan:
    """Round the stop, size the position from the free balance, build the entry, round the TP.

    This is sizer → rounder → builder in one call; pass the result to
    :func:`safetrade.guard.check` before sending anything.

    Raises:
        SizingError: If no valid size exists.
        OrderBuildError: If the stop or target is on the wrong side of the entry.
        InvalidValue: For unusable numbers (including a NaN, infinite or float signal), or a
            ``side`` that is not a :class:`PositionSide`.
    """
    market = require_instance(market, MarketSpec, "market", MARKET_FIX)
    side = require_member(side, PositionSide, "side")
    entry = to_positive(entry_price, "entry price")
    signal = None if signal_strength is None else to_decimal(signal_strength, "signal strength")
    stop, _ = _rounded(market, stop_price, PricePurpose.STOP_LOSS, side)
    size = size_position(
        market=market,
        side=side,
        free_balance=free_balance,
        entry_price=entry,
        stop_price=stop,
        risk_percent=risk_percent,
        balance_cap=balance_cap,
        max_order_value=max_order_value,
    )
    target = None
    if take_profit_price is not None:
        # validates the side and the minimums with the real amount before anything is sent
        target = take_profit_order(
            market,
            side=side,
            amount=size.amount,
            target_price=take_profit_price,
            entry_price=entry,
            client_oid="plan-check",
        ).trigger_price
    # validates the stop with the real amount (minimum value at the stop price) before sending
    stop_loss_order(
        market,
        side=side,
        amount=size.amount,
        stop_price=stop,
        entry_price=entry,
        client_oid="plan-check",
    )
    return TradePlan(
        market=market,
        side=side,
        size=size,
        entry=entry_order(
            market, side=side, amount=size.amount, reference_price=entry, client_oid=client_oid
        ),
        stop_loss_price=stop,
        take_profit_price=target,
        signal_strength=signal,
    )
