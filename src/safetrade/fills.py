"""What an entry actually filled: the position a protector guards, as a value.

:meth:`Protector.protect` places its orders relative to a :class:`Fill`, and
:func:`safetrade.execute_entry` returns one, so the type lives apart from both.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from safetrade._validate import member_validator
from safetrade.errors import InvalidValue
from safetrade.gateway import OrderStatus
from safetrade.rounder import PositionSide

__all__ = ["Fill"]


@attrs.frozen(kw_only=True)
class Fill:
    """A filled entry: what the exchange actually executed, not what was requested.

    Attributes:
        symbol: Unified symbol.
        side: Long or short.
        amount: The *filled* base amount (KuCoin filled 1.417 of 4.5 SOL on Feb 6).
        average_price: Average fill price; protective orders are placed relative to it.
        order_id: The entry order's exchange id, if known.
    """

    symbol: str
    side: PositionSide = attrs.field(validator=member_validator(PositionSide))
    amount: Decimal
    average_price: Decimal
    order_id: str | None = None

    @classmethod
    def from_order(cls, order: OrderStatus, side: PositionSide) -> Fill:
        """The fill of an entry order read back with :meth:`Gateway.fetch_order`."""
        if order.filled <= 0 or order.average is None:
            raise InvalidValue(
                f"order {order.order_id} on {order.symbol} has not filled ({order.filled})",
                fix="there is no position to protect; do not call protect()",
            )
        return cls(
            symbol=order.symbol,
            side=side,
            amount=order.filled,
            average_price=order.average,
            order_id=order.order_id,
        )
