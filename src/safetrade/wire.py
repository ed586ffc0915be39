"""Encode a validated order as the exact ``ccxt.kucoin.create_order`` arguments.

On Feb 6 the stop-loss call failed with ``missing 2 required positional arguments`` because the
bot guessed an SDK signature. :func:`to_ccxt` is the one place an :class:`OrderIntent` (already
validated by :mod:`safetrade.builder`) becomes the arguments
``create_order(symbol, type, side, amount, price, params)`` takes; :class:`~safetrade.Gateway`
sends them.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from safetrade._fast import new, slot_setters
from safetrade.builder import OrderIntent
from safetrade.errors import OrderBuildError

__all__ = ["CcxtOrderCall", "to_ccxt"]


@attrs.frozen(kw_only=True)
class CcxtOrderCall:
    """Positional and keyword arguments for ``exchange.create_order``.

    Amounts and prices are plain decimal *strings* (``"0.0000009"``, never ``"9E-7"``): ccxt
    accepts them and they never pass through binary floating point on the way to the wire.
    """

    symbol: str
    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, str]

    def args(self) -> tuple[str, str, str, str, str | None, dict[str, str]]:
        """``(symbol, type, side, amount, price, params)`` for ``create_order(*call.args())``."""
        return (self.symbol, self.type, self.side, self.amount, self.price, dict(self.params))


_CALL_SETTERS = slot_setters(CcxtOrderCall, "symbol", "type", "side", "amount", "price", "params")


def _plain(value: Decimal) -> str:
    # str(Decimal("9E-7")) is "9E-7"; format "f" keeps every digit and never uses an exponent
    return format(value, "f")


def to_ccxt(intent: OrderIntent) -> CcxtOrderCall:
    """Translate an intent into ``create_order`` arguments ccxt.kucoin sends as KuCoin expects.

    ``stopPrice`` plus an explicit ``stop`` go to ``POST /api/v1/stop-order``; ``clientOid``
    is passed so a retried call reuses the same idempotency key. Every number is written in
    plain fixed-point (``0.0000009``, ``200000``), never exponent form (``9E-7``, ``2E+5``),
    which KuCoin does not document as accepted: ccxt.kucoin normalises ``amount``, ``price``
    and ``stopPrice`` itself, but a bot or another client may send the strings as they are.
    """
    params = {"clientOid": intent.client_oid}
    if intent.time_in_force is not None:
        params["timeInForce"] = intent.time_in_force
    if intent.trigger_price is not None:
        if intent.trigger is None:
            raise OrderBuildError(f"{intent.describe()} has a trigger price but no trigger kind")
        params["stopPrice"] = _plain(intent.trigger_price)
        params["stop"] = intent.trigger
    limit_price = intent.limit_price
    if limit_price is None and intent.order_type == "limit":
        raise OrderBuildError(f"{intent.describe()} is a limit order without a price")
    # CcxtOrderCall(...) without the generated __init__'s cost (safetrade._fast; no validators)
    call = new(CcxtOrderCall)
    set_symbol, set_type, set_side, set_amount, set_price, set_params = _CALL_SETTERS
    set_symbol(call, intent.symbol)
    set_type(call, intent.order_type)
    set_side(call, intent.side)
    set_amount(call, format(intent.amount, "f"))  # _plain, without its call: hot path
    set_price(call, None if limit_price is None else format(limit_price, "f"))
    set_params(call, params)
    return call
