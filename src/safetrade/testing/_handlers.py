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
    Rejection,
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


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Classic "List Fills" (https://docs.kucoin.com/#list-fills, Data time range) and classic "List
# Orders" in done status (https://docs.kucoin.com/#list-orders, ORDER STATUS AND SETTLEMENT):
# at most 7*24 hours from startAt to endAt
CLASSIC_WINDOW_MS = 7 * DAY_MS
_SEVEN_DAYS = Rejection(
    "400100", "The duration between the start time and the end time should not exceed 7 days."
)
# "The history for cancelled orders is only kept for one month. You will not be able to query
# for cancelled orders that have happened more than a month ago." (classic List Orders)
CANCELLED_KEPT_MS = 30 * DAY_MS
# HF done orders, HF fills, HF ledgers, HF single non-active orders: "You can only obtain data
# from within a 3 * 24 hour time range (i.e., from now up to 3 * 24 hours ago)" (HF docs,
# Kucoin/kucoin-api-docs-hf "Obtain List of Filled HF Orders", "HF transaction records",
# "Account Ledger in high-frequency trading accounts", "Details of a Single HF Order")
HF_WINDOW_MS = 3 * DAY_MS
# classic account ledgers: a 24-hour range, an error beyond it, one bound derives the other
# (KuCoin docs after "Modify the request parameter time range of Get Account Ledgers",
# Kucoin/kucoin-api-docs PR 313, 2021-08; the stored KuCoin doc predates it, and the rule is
# read from the docs of KuCoin's white-label twin, VaexExchange/vaex-api-docs, Chinese edition:
# only data within 24 hours from start to end, an error beyond it, start = end - 24 hours
# when only the end is given and vice versa, at most one year back)
LEDGER_WINDOW_MS = DAY_MS
_UNBOUNDED = 2**62
MAX_LEDGER_CURRENCIES = 10  # "select no more than 10 currencys" (HF ledgers; classic: 10)


def _bound(call: Call, name: str) -> int | None:
    """``startAt``/``endAt`` in ms, None when absent (400100 when not an integer)."""
    if not call.query.get(name):
        return None
    return query_int(call.query, name, 0)


def _time_window(call: Call) -> tuple[int, int]:
    """``startAt``/``endAt`` in ms (400100 when not an integer); absent means unbounded.

    For the lists KuCoin puts no range on: active orders ("When you query orders in active
    status, there is no time limit", classic List Orders) and untriggered stop orders.
    """
    start, end = _bound(call, "startAt"), _bound(call, "endAt")
    return start or 0, _UNBOUNDED if end is None else end


def _classic_window(
    call: Call, span: int, default: int, now: int, too_wide: Rejection | None = None
) -> tuple[int, int]:
    """A classic list's range: at most ``span`` ms, one bound derived from the other.

    "If the time period of the queried data exceeds one week (time range from the start time
    to end time exceeded 7*24 hours), the system will prompt to remind you that you have
    exceeded the time limit. If you only specified the start time, the system will
    automatically calculate the end time (end time = start time + 7 * 24 hours). On the
    contrary, if you only specified the end time, the system will calculate the start time
    (start time= end time - 7 * 24 hours) the same way." (classic List Fills; List Orders in
    done status and account ledgers say the same with their own span). With neither bound the
    range is the ``default`` ms up to now. A range wider than ``span`` answers ``too_wide``
    (the docs give no text; :data:`_SEVEN_DAYS` is what ccxt issue #5443 recorded), or a 400100
    naming the limit.
    """
    start, end = _bound(call, "startAt"), _bound(call, "endAt")
    if start is not None and end is not None:
        if end - start > span:
            if too_wide is not None:
                raise too_wide.error()
            hours = span // HOUR_MS
            raise parameter_error(f"the time range from startAt to endAt exceeds {hours} hours")
        return start, end
    if start is not None:
        return start, start + span
    if end is not None:
        return end - span, end
    return now - default, now


def _done_window(
    call: Call, now: int, span: int, default: int, too_wide: Rejection | None = None
) -> tuple[int, int]:
    """The range of a list of what is done (orders, fills, ledgers): HF's or classic's rule."""
    if call.hf:
        return _hf_window(call, now)
    return _classic_window(call, span, default, now, too_wide)


def _hf_window(call: Call, now: int) -> tuple[int, int]:
    """An HF list's range: what was asked for, within the last 3*24 hours.

    "You can only obtain data from within a 3 * 24 hour time range (i.e., from now up to
    3 * 24 hours ago). If the time range limit is exceeded, the system will default to looking
    up data from within the 3 * 24 hour time range." (HF docs, Obtain List of Filled HF
    Orders; HF transaction records). No error: a wider range is cut to the window.
    """
    start, end = _time_window(call)
    return max(start, now - HF_WINDOW_MS), min(end, now)


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
        cancel_after = max(order.cancel_after, 0)  # KuCoin shows 0 for an order that never expires
        if call.hf:
            return ser.hf_order(order, cancel_after)
        return ser.classic_order(order, cancel_after)

    def _still_kept(self, order: Order, *, hf: bool) -> bool:
        """Whether KuCoin still answers for a done order, by account type.

        HF: "If the order is not an active order, you can only get data within the time frame
        of 3 * 24 hours (ie: from the current time to 3 * 24 hours ago)" (HF docs, Details of a
        Single HF Order, and the same by clientOid); the time is its last update, when it
        became done. Classic: cancelled orders are kept one month (classic List Orders); filled
        ones have no documented limit.
        """
        if order.is_active:
            return True
        now = self.engine.clock()
        if hf:
            return order.updated_at >= now - HF_WINDOW_MS
        return not order.cancel_exist or order.updated_at >= now - CANCELLED_KEPT_MS

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
            or not self._still_kept(found, hf=call.hf)
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
        cancel_after = stop.cancel_after
        return ser.stop_order(stop, market.taker_fee_rate, market.maker_fee_rate, cancel_after)

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
            cancel_after = max(stop.cancel_after, 0)
            return ser.stop_as_classic_order(stop, became, cancel_after)
        return self._order_view(self._find_order(call), call)

    def _fetch_order_by_client_oid(self, call: Call) -> object:
        return self._order_view(self._find_order(call), call)

    def _list_orders(self, call: Call) -> object:
        """``GET /api/v1/orders`` (classic) or ``/api/v1/hf/orders/active|done`` (HF).

        Classic: "If the status parameter is not specified, orders of done status will be
        returned by default"; done orders within a 7*24-hour range of their creation (an error
        beyond it, one bound derives the other, see :func:`_classic_window`), cancelled ones for
        a month; active orders without a time limit (https://docs.kucoin.com/#list-orders).
        Without startAt/endAt KuCoin does not say which 7*24 hours it lists; the fake lists the
        7*24 hours up to now (the only range the rule allows that ends now).
        HF: done orders by their last update, within the last 3*24 hours (:func:`_hf_window`).
        """
        state = call.groups.get("state") or call.query.get("status") or "done"
        if call.hf:
            self._hf_symbol(call)
        now = self.engine.clock()
        if state == "active":
            start, end = _time_window(call)
            # only what rests, from the per-symbol index: never the whole order history
            pool = self.engine.resting(call.query.get("symbol") or None)
        else:
            start, end = _done_window(call, now, CLASSIC_WINDOW_MS, CLASSIC_WINDOW_MS, _SEVEN_DAYS)
            pool = list(self.engine.orders.values())
        orders = [
            o for o in self._filtered(pool, call)
            if o.is_active == (state == "active")
            # HF done orders are filtered by their last update, classic ones by creation (docs)
            and start <= (o.updated_at if call.hf else o.created_at) <= end
            and self._still_kept(o, hf=call.hf)
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
        """``GET /api/v1/fills`` (classic) or ``/api/v1/hf/fills`` (HF), newest first.

        ``orderId``: "If you specify orderId, ignore other conditions" (classic List Fills), "If
        orderId is specified, please ignore the other query parameters" (HF transaction
        records): an order's fills are found whenever they happened, whatever the window or the
        filters (paging still applies). Otherwise classic: "The system allows you to retrieve
        data up to one week (start from the last day by default)", 7*24 hours at most (an error
        beyond, one bound derives the other); HF: within the last 3*24 hours, a wider range cut
        to it.
        """
        symbol = self._hf_symbol(call)
        order_id = call.query.get("orderId")
        if order_id:
            fills = list(reversed(self.engine.fills_of(order_id)))
        else:
            now = self.engine.clock()
            start, end = _done_window(call, now, CLASSIC_WINDOW_MS, DAY_MS, _SEVEN_DAYS)
            fills = [
                f
                for f in reversed(self.engine.fills)
                if (not symbol or f.symbol == symbol)
                and call.query.get("side", f.side) == f.side
                and start <= f.created_at <= end
            ]
        if call.hf:
            return _hf_page(fills, lambda f: f.seq, lambda f: ser.fill(f, hf=True), call)
        return _classic_page(fills, lambda f: ser.fill(f, hf=False), call)

    # --- account ledgers ---------------------------------------------------------------------

    def _ledgers(self, call: Call) -> object:
        """``GET /api/v1/accounts/ledgers`` (classic) or ``/api/v1/hf/accounts/ledgers`` (HF).

        The entries are the balance changes the fake made (:class:`~safetrade.testing._engine.
        LedgerEntry`: each fill's two sides, and ``set_balance`` as a transfer), "sorted in
        descending order by createdAt and id" (HF ledgers). Filters: ``currency`` ("can select
        more than one, separate with commas, select no more than 10"), ``direction``,
        ``bizType``. Classic: paginated (``currentPage``/``pageSize``), within a 24-hour range
        (:data:`LEDGER_WINDOW_MS`; the last 24 hours when neither bound is given). HF: "If
        lastId is configured, the information obtained < lastId", ``limit`` "Default 100, Max
        200", within the last 3*24 hours, and the answer is the bare list (the HF sample).
        The classic endpoint lists every account type ("transaction records from all your
        account types", docs-new Get Account Ledgers - Spot/Margin), so it shows the fake's
        one account in either mode; the HF one lists only an HF account's entries.
        """
        raw = call.query.get("currency")
        currencies = {c for c in raw.split(",") if c} if raw else set()
        if len(currencies) > MAX_LEDGER_CURRENCIES:
            raise parameter_error("currency: select no more than 10 currencies")
        start, end = _done_window(call, self.engine.clock(), LEDGER_WINDOW_MS, LEDGER_WINDOW_MS)
        entries = [
            e for e in reversed(self.engine.ledger)
            if (not currencies or e.currency in currencies)
            and call.query.get("direction", e.direction) == e.direction
            and call.query.get("bizType", e.biz_type) == e.biz_type
            and start <= e.created_at <= end
        ]  # fmt: skip
        account_type = "TRADE_HF" if self.hf else "TRADE"
        if not call.hf:
            return _classic_page(
                entries,
                lambda e: ser.ledger_entry(e, hf=False, account_type=account_type),
                call,
            )
        if not self.hf:
            return []  # a classic account has no HF trading account to list
        limit = _int(call, "limit", 100, 200)
        last_id = query_int(call.query, "lastId", 0)
        if last_id < 0:
            raise parameter_error("lastId must be a positive integer")
        kept = [e for e in entries if not last_id or e.seq < last_id][:limit]
        return [ser.ledger_entry(e, hf=True, account_type="TRADE_HF") for e in kept]
