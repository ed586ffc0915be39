"""Handlers of the private trading endpoints (accounts, orders, stop orders, fills).

Each ``_<endpoint>`` method receives the parsed :class:`~safetrade.testing._routes.Call` and
returns the ``data`` part of KuCoin's envelope, or raises ``KucoinError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from safetrade.testing import _serialize as ser
from safetrade.testing._state import Order, StopOrder, order_sequence
from safetrade.testing._wire import (
    CANCEL_NOT_FOUND,
    HF_CANCEL_NOT_FOUND,
    HF_ORDER_NOT_FOUND,
    ORDER_NOT_FOUND,
    fmt,
    parameter_error,
    query_int,
)

if TYPE_CHECKING:
    from safetrade.testing._engine import Engine
    from safetrade.testing._routes import Call


_Item = TypeVar("_Item", Order, StopOrder)
_T = TypeVar("_T")


def _int(call: Call, name: str, default: int, maximum: int) -> int:
    """A paging parameter within ``[1, maximum]``; anything else is 400100, never a crash."""
    raw = call.query.get(name)
    if raw is None:
        return default
    # isascii: str.isdigit() accepts digits int() refuses ("²")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise parameter_error(f"{name} must be an integer within [1, {maximum}]")
    return int(raw)


def _time_window(call: Call) -> tuple[int, int]:
    """``startAt``/``endAt`` in ms (400100 when not an integer); absent means unbounded."""
    start = query_int(call.query, "startAt", 0)
    end = query_int(call.query, "endAt", 0) or 2**62
    return start, end


def _hf_page(
    items: Sequence[_T], number: Callable[[_T], int], view: Callable[[_T], object], call: Call
) -> dict[str, object]:
    """HF ``lastId`` paging of ``/api/v1/hf/orders/done`` and ``/api/v1/hf/fills``.

    ``items`` are newest first; ``number`` gives an item's numeric id. HF docs
    (kucoin-evidence 4.1): ``limit`` "Default 20, maximum 100"; ``lastId`` is "the id of the
    last data item from the previous batch" and the next batch holds the items with id <
    ``lastId`` (HF ledgers: "the information obtained < lastId"); the answer's ``lastId`` is
    the numeric id of the last item returned (examples: ``"lastId": 19814995255305``), or 0
    when nothing is returned. Only the page is serialised.
    """
    limit = _int(call, "limit", 20, 100)
    last_id = query_int(call.query, "lastId", 0)
    if last_id < 0:
        raise parameter_error("lastId must be a positive integer")
    kept = [item for item in items if not last_id or number(item) < last_id][:limit]
    return {"lastId": number(kept[-1]) if kept else 0, "items": [view(item) for item in kept]}


def _classic_page(items: Sequence[_T], view: Callable[[_T], object], call: Call) -> object:
    """KuCoin's classic ``currentPage``/``pageSize`` paging; only the page is serialised."""
    page = ser.page(items, _int(call, "currentPage", 1, 10**6), _int(call, "pageSize", 50, 500))
    page["items"] = [view(item) for item in page["items"]]  # type: ignore[attr-defined]
    return page


class TradingHandlers:
    """Private endpoint handlers; mixed into the request pipeline class."""

    engine: Engine
    clock: Callable[[], int]
    hf: bool

    # --- helpers -------------------------------------------------------------------------

    def _hf_symbol(self, call: Call) -> str | None:
        """HF endpoints need ``symbol``; classic ones take it as an optional filter."""
        symbol = call.query.get("symbol")
        if call.hf and not symbol:
            raise parameter_error("symbol is required")
        return symbol

    def _order_view(self, order: Order, call: Call) -> dict[str, object]:
        return ser.hf_order(order) if call.hf else ser.classic_order(order)

    def _find_order(self, call: Call, *, cancelling: bool = False) -> Order:
        symbol = self._hf_symbol(call)
        order_id, client_oid = call.groups.get("order_id"), call.groups.get("client_oid")
        found: Order | None = None
        if order_id is not None:
            found = self.engine.orders.get(order_id)
        elif client_oid is not None:
            found = self._by_client_oid(client_oid, hf=call.hf)
        if (
            found is None
            or (symbol and found.symbol != symbol)
            or (cancelling and not found.is_active)
        ):
            if cancelling:
                raise (HF_CANCEL_NOT_FOUND if call.hf else CANCEL_NOT_FOUND).error()
            raise (HF_ORDER_NOT_FOUND if call.hf else ORDER_NOT_FOUND).error()
        return found

    def _by_client_oid(self, client_oid: str, *, hf: bool) -> Order | None:
        """The order a by-clientOid lookup sees, per account type.

        Classic "Get Single Active Order by clientOid" (``GET /api/v1/order/client-order/{id}``)
        sees only *active* orders: "the system will prompt that the order does not exist if the
        order does not exist or has been settled" (https://docs.kucoin.com/#get-single-active-
        order-by-clientoid; kucoin-api-docs issue 287 asks in vain for done ones). HF "Get Order
        By clientOid" sees done orders too (https://www.kucoin.com/docs-new/rest/spot-trading/
        orders/get-order-by-clientoid). The newest matching order wins.
        """
        matches = self.engine.orders_with_client_oid(client_oid)
        if not hf:
            matches = [order for order in matches if order.is_active]
        return matches[-1] if matches else None

    def _stop_view(self, stop: StopOrder) -> dict[str, object]:
        market = self.engine.markets[stop.symbol]
        return ser.stop_order(stop, market.taker_fee_rate, market.maker_fee_rate)

    def _find_stop(self, call: Call, *, cancelling: bool = False) -> StopOrder:
        order_id = call.groups.get("order_id")
        client_oid = call.query.get("clientOid")
        if order_id is not None:
            stop = self.engine.stop_orders.get(order_id)
            found = [] if stop is None else [stop]
        else:
            found = self.engine.stops_with_client_oid(client_oid) if client_oid else []
        wanted = ("NEW",) if cancelling else ("NEW", "TRIGGERED")
        live = [s for s in found if s.status in wanted]
        if not live:
            raise (CANCEL_NOT_FOUND if cancelling else ORDER_NOT_FOUND).error()
        return live[-1]

    @staticmethod
    def _filtered(items: Sequence[_Item], call: Call) -> list[_Item]:
        keep: list[_Item] = []
        for item in reversed(items):  # KuCoin lists newest first
            if any(
                call.query.get(key) and call.query[key] != value
                for key, value in (
                    ("symbol", item.symbol),
                    ("side", item.side),
                    ("type", item.type),
                )
            ):
                continue
            keep.append(item)
        return keep

    # --- accounts --------------------------------------------------------------------------

    def _accounts(self, call: Call) -> object:
        kind = call.query.get("type")
        # the fake has one spot account: "trade" in classic mode, "trade_hf" after HF migration;
        # ccxt keeps only items whose type equals the one it asked for
        if kind is not None and kind != ("trade_hf" if self.hf else "trade"):
            return []
        currency = call.query.get("currency")
        items = []
        for index, (code, balance) in enumerate(sorted(self.engine.balances.items()), start=1):
            if currency and code != currency:
                continue
            items.append(
                {"id": f"5fa0acc0{index:016x}", "currency": code,
                 "type": kind or ("trade_hf" if self.hf else "trade"),
                 "balance": fmt(balance.total), "available": fmt(balance.available),
                 "holds": fmt(balance.holds)}
            )  # fmt: skip
        return items

    # --- regular orders ----------------------------------------------------------------------

    def _create_order(self, call: Call) -> object:
        return self._placed(self.engine.create_order(call.body, hf=call.hf), call)

    def _create_order_test(self, call: Call) -> object:
        """``POST /api/v1/orders/test`` (classic) or ``/api/v1/hf/orders/test`` (HF).

        Checked exactly like a placement and never placed (:meth:`Engine.validate_order`); the
        answer is a placement's: "the request parameters and return parameters of this endpoint
        are exactly the same as the order endpoint" (Add Order Test,
        https://www.kucoin.com/docs-new/rest/spot-trading/orders/add-order-test, HF example
        ``{"orderId": ..., "clientOid": ...}``; Add Order Test - Old, https://www.kucoin.com/
        docs-new/abandoned-endpoints/spot-trading/orders/add-order-test-old, ``{"orderId":
        ...}``). KuCoin documents no test endpoint for stop orders; ccxt sends a test order
        with a trigger price here too, and the fake checks it as the regular order it names.
        """
        return self._placed(self.engine.validate_order(call.body, hf=call.hf), call)

    @staticmethod
    def _placed(order: Order, call: Call) -> dict[str, object]:
        if call.hf:
            return {"orderId": order.id, "clientOid": order.client_oid}
        return {"orderId": order.id}

    def _classic_stop(self, call: Call) -> StopOrder | None:
        """A stop order addressed by its ``vs…`` id on a classic regular-order endpoint.

        Classic KuCoin answers these for stop ids (ccxt PR 11824); freqtrade reads and cancels
        its KuCoin stop-loss exactly there (no ``stop`` flag). The HF endpoints do not: "HFT
        does not support the Take Profit and Stop Loss type" (HF docs, fills ``stop`` field),
        so on ``/api/v1/hf/orders/{id}`` a stop id is an unknown order.
        """
        order_id = call.groups.get("order_id")
        if call.hf or order_id is None or order_id in self.engine.orders:
            return None
        return self.engine.stop_orders.get(order_id)

    def _fetch_order(self, call: Call) -> object:
        stop = self._classic_stop(call)
        if stop is not None:
            became = self.engine.orders.get(stop.order_id) if stop.order_id else None
            return ser.stop_as_classic_order(stop, became)
        return self._order_view(self._find_order(call), call)

    def _fetch_order_by_client_oid(self, call: Call) -> object:
        return self._order_view(self._find_order(call), call)

    def _list_orders(self, call: Call) -> object:
        state = call.groups.get("state") or call.query.get("status")
        if call.hf:
            self._hf_symbol(call)
        start, end = _time_window(call)
        if state == "active":
            # only what rests, from the per-symbol index: never the whole order history
            pool = self.engine.resting(call.query.get("symbol") or None)
        else:
            pool = list(self.engine.orders.values())
        orders = [
            o for o in self._filtered(pool, call)
            if (state is None or o.is_active == (state == "active"))
            # HF done orders are filtered by their last update, classic ones by creation (docs)
            and start <= (o.updated_at if call.hf else o.created_at) <= end
        ]  # fmt: skip
        if call.hf and state == "active":
            return [self._order_view(o, call) for o in orders]
        if call.hf:
            return _hf_page(
                orders, lambda o: order_sequence(o.id), lambda o: self._order_view(o, call), call
            )
        return _classic_page(orders, lambda o: self._order_view(o, call), call)

    def _cancel_order(self, call: Call) -> object:
        stop = self._classic_stop(call)
        if stop is not None:
            if stop.status != "NEW":
                raise CANCEL_NOT_FOUND.error()
            self.engine.cancel_stop_order(stop)
            return {"cancelledOrderIds": [stop.id]}
        order = self._find_order(call, cancelling=True)
        self.engine.cancel_order(order)
        return {"orderId": order.id} if call.hf else {"cancelledOrderIds": [order.id]}

    def _cancel_order_by_client_oid(self, call: Call) -> object:
        order = self._find_order(call, cancelling=True)
        self.engine.cancel_order(order)
        if call.hf:
            return {"clientOid": order.client_oid}
        # "cancelledOcoOrderIds": null on a plain order (kucoin-universal-sdk 1.3.2
        # test_cancel_order_by_client_oid_old_resp_model)
        return {"cancelledOrderId": order.id, "clientOid": order.client_oid,
                "cancelledOcoOrderIds": None}  # fmt: skip

    def _cancel_all_orders(self, call: Call) -> object:
        """``DELETE /api/v1/orders`` (classic) or ``DELETE /api/v1/hf/orders`` (HF, one symbol).

        Classic "Cancel all orders" cancels every active order, of one symbol if given, stop
        orders excluded, and lists the ids (https://docs.kucoin.com/#cancel-all-orders). HF
        "Cancel all HF orders by symbol" needs the symbol and answers ``"success"``
        (https://www.kucoin.com/docs-new/rest/spot-trading/orders/cancel-all-orders-by-symbol).
        """
        symbol = self._hf_symbol(call)
        if symbol:
            self.engine.market(symbol)
        cancelled = self.engine.cancel_all_orders(symbol)
        return "success" if call.hf else {"cancelledOrderIds": [o.id for o in cancelled]}

    def _cancel_all_hf_orders(self, _call: Call) -> object:
        """``DELETE /api/v1/hf/orders/cancelAll``: every symbol, answered per symbol.

        https://www.kucoin.com/docs-new/rest/spot-trading/orders/cancel-all-orders
        """
        cancelled = self.engine.cancel_all_orders(None)
        symbols = list(dict.fromkeys(order.symbol for order in cancelled))
        return {"succeedSymbols": symbols, "failedSymbols": []}

    # --- stop orders -------------------------------------------------------------------------

    def _cancel_all_stop_orders(self, call: Call) -> object:
        """``DELETE /api/v1/stop-order/cancel``: untriggered stops, by symbol and/or id list.

        https://www.kucoin.com/docs-new/rest/spot-trading/orders/batch-cancel-stop-orders
        """
        symbol = call.query.get("symbol") or None
        if symbol:
            self.engine.market(symbol)
        raw_ids = call.query.get("orderIds")
        ids = {i for i in raw_ids.split(",") if i} if raw_ids else None
        cancelled = [
            stop for stop in self.engine.waiting(symbol) if ids is None or stop.id in ids
        ]  # fmt: skip
        for stop in cancelled:
            self.engine.cancel_stop_order(stop)
        return {"cancelledOrderIds": [stop.id for stop in cancelled]}

    def _create_stop_order(self, call: Call) -> object:
        return {"orderId": self.engine.create_stop_order(call.body).id}

    def _list_stop_orders(self, call: Call) -> object:
        # KuCoin lists only untriggered stop orders here
        start, end = _time_window(call)
        stops = [
            s for s in self.engine.waiting(call.query.get("symbol") or None)
            if start <= s.created_at <= end
        ]  # fmt: skip
        return _classic_page(self._filtered(stops, call), self._stop_view, call)

    def _fetch_stop_order(self, call: Call) -> object:
        return self._stop_view(self._find_stop(call))

    def _fetch_stop_order_by_client_oid(self, call: Call) -> object:
        return [self._stop_view(self._find_stop(call))]

    def _cancel_stop_order(self, call: Call) -> object:
        stop = self._find_stop(call, cancelling=True)
        self.engine.cancel_stop_order(stop)
        return {"cancelledOrderIds": [stop.id]}

    def _cancel_stop_order_by_client_oid(self, call: Call) -> object:
        stop = self._find_stop(call, cancelling=True)
        self.engine.cancel_stop_order(stop)
        return {"cancelledOrderId": stop.id, "clientOid": stop.client_oid}

    # --- fills -------------------------------------------------------------------------------

    def _fills(self, call: Call) -> object:
        symbol = self._hf_symbol(call)
        start, end = _time_window(call)
        fills = [
            f
            # newest first; by order from its index (what bots ask for), else everything
            for f in reversed(
                self.engine.fills_of(call.query["orderId"])
                if call.query.get("orderId")
                else self.engine.fills
            )
            if (not symbol or f.symbol == symbol)
            and call.query.get("orderId", f.order_id) == f.order_id
            and call.query.get("side", f.side) == f.side
            and start <= f.created_at <= end
        ]
        if call.hf:
            return _hf_page(fills, lambda f: f.seq, lambda f: ser.fill(f, hf=True), call)
        return _classic_page(fills, lambda f: ser.fill(f, hf=False), call)
