"""The HTTP face of the fake: a respx route table (one named route per endpoint) and handlers.

Every route runs the same pipeline: record the request, play an injected fault, check
authentication on private endpoints, charge the endpoint's weight to its rate-limit pool, call
the handler, wrap its result in KuCoin's envelope.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import attrs
import respx

from safetrade.testing._auth import Credentials, verify
from safetrade.testing._engine import Engine
from safetrade.testing._faults import Fault, FaultPlan
from safetrade.testing._handlers import TradingHandlers
from safetrade.testing._market_handlers import MarketDataHandlers
from safetrade.testing._ratelimit import RateLimiter, Verdict, cost_of
from safetrade.testing._state import RecordedRequest
from safetrade.testing._wire import (
    OK_CODE,
    RATE_LIMITED,
    SERVER_ERROR,
    URL_NOT_FOUND,
    KucoinError,
    Rejection,
    ok,
    parameter_error,
)
from safetrade.testing.bridge import Unanswered, WireAnswer, WireApp, WireRequest

_COID = r"(?P<client_oid>[^/]+)"
# KuCoin's own sub-resources under the order paths; none of them is ever read as an order id
# (``/api/v1/hf/orders/cancelAll`` is "cancel everything", not "cancel order cancelAll")
_SUB_RESOURCES = (
    "cancel", "cancelAll", "sync", "multi", "alter", "active", "done", "symbols",
    "client-order", "dead-cancel-all", "queryOrderByClientOid", "cancelOrderByClientOid", "test",
)  # fmt: skip
_ID = rf"(?P<order_id>(?!(?:{'|'.join(_SUB_RESOURCES)})(?:/|$))[^/]+)"
# (endpoint name, method, path regex, private). Order matters: specific paths before {id} paths.
ENDPOINTS: tuple[tuple[str, str, str, bool], ...] = (
    ("timestamp", "GET", r"^/api/v1/timestamp$", False),
    ("status", "GET", r"^/api/v1/status$", False),
    ("symbols", "GET", r"^/api/v2/symbols$", False),
    ("currencies", "GET", r"^/api/v3/currencies$", False),
    ("all_tickers", "GET", r"^/api/v1/market/allTickers$", False),
    ("ticker", "GET", r"^/api/v1/market/stats$", False),
    ("candles", "GET", r"^/api/v1/market/candles$", False),
    ("level1", "GET", r"^/api/v1/market/orderbook/level1$", False),
    ("order_book", "GET", r"^/api/v1/market/orderbook/level2_(?P<depth>20|100)$", False),
    ("full_order_book", "GET", r"^/api/v3/market/orderbook/level2$", True),
    ("trades", "GET", r"^/api/v1/market/histories$", False),
    ("trade_fees", "GET", r"^/api/v1/trade-fees$", True),
    ("contracts", "GET", r"^/api/v1/contracts/active$", False),
    ("account_mode", "GET", r"^/api/ua/v1/account/mode$", True),
    ("margin_symbols", "GET", r"^/api/v3/margin/symbols$", True),
    ("isolated_symbols", "GET", r"^/api/v1/isolated/symbols$", True),
    ("hf_status", "GET", r"^/api/v1/hf/accounts/opened$", True),
    ("accounts", "GET", r"^/api/v1/accounts$", True),
    # Get Account Ledgers (classic, https://docs.kucoin.com/#get-account-ledgers) and Account
    # Ledger in high-frequency trading accounts (HF docs): ccxt's fetch_ledger
    ("ledgers", "GET", r"^/api/v1/(?P<hf>hf/)?accounts/ledgers$", True),
    ("create_order", "POST", r"^/api/v1/(?P<hf>hf/)?orders$", True),
    # KuCoin's "Add Order Test" endpoints; it documents none for stop orders (see the handler)
    ("create_order_test", "POST", r"^/api/v1/(?P<hf>hf/)?orders/test$", True),
    ("create_stop_order", "POST", r"^/api/v1/stop-order$", True),
    ("list_orders", "GET", r"^/api/v1/(?:orders|(?P<hf>hf/)orders/(?P<state>active|done))$", True),
    (
        "fetch_order_by_client_oid",
        "GET",
        rf"^/api/v1/(?:order|(?P<hf>hf/)orders)/client-order/{_COID}$",
        True,
    ),
    ("fetch_order", "GET", rf"^/api/v1/(?P<hf>hf/)?orders/{_ID}$", True),
    (
        "cancel_order_by_client_oid",
        "DELETE",
        rf"^/api/v1/(?:order|(?P<hf>hf/)orders)/client-order/{_COID}$",
        True,
    ),
    ("cancel_order", "DELETE", rf"^/api/v1/(?P<hf>hf/)?orders/{_ID}$", True),
    ("cancel_all_orders", "DELETE", r"^/api/v1/(?P<hf>hf/)?orders$", True),
    ("cancel_all_hf_orders", "DELETE", r"^/api/v1/hf/orders/cancelAll$", True),
    ("cancel_all_stop_orders", "DELETE", r"^/api/v1/stop-order/cancel$", True),
    ("list_stop_orders", "GET", r"^/api/v1/stop-order$", True),
    ("fetch_stop_order_by_client_oid", "GET", r"^/api/v1/stop-order/queryOrderByClientOid$", True),
    ("fetch_stop_order", "GET", rf"^/api/v1/stop-order/{_ID}$", True),
    (
        "cancel_stop_order_by_client_oid",
        "DELETE",
        r"^/api/v1/stop-order/cancelOrderByClientOid$",
        True,
    ),
    ("cancel_stop_order", "DELETE", rf"^/api/v1/stop-order/{_ID}$", True),
    ("fills", "GET", r"^/api/v1/(?P<hf>hf/)?fills$", True),
)
ENDPOINT_NAMES = frozenset(name for name, *_ in ENDPOINTS)


def _route_table() -> tuple[tuple[respx.Route, str, bool], ...]:
    """The respx route table, built once per process (its mock objects are costly to make).

    Only its patterns are used: each fake dispatches to its own handlers, and respx records no
    calls (a long test run or a served fake would keep every request forever otherwise).
    Nothing is patched globally (``using=None``).
    """
    router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True, using=None)
    return tuple(
        (router.route(method=method, path__regex=regex, name=name), name, private)
        for name, method, regex, private in ENDPOINTS
    )


_ROUTES = _route_table()


def _by_method() -> dict[str, tuple[tuple[re.Pattern[str], str, bool], ...]]:
    """The compiled patterns of each route, grouped by HTTP method, in table order.

    A route's pattern is ``Method & Path(regex)``; respx matches them as ``method ==`` and
    ``regex.search(url.path)``, and so does :func:`route_of`, on the patterns respx compiled.
    """
    table: dict[str, list[tuple[re.Pattern[str], str, bool]]] = {}
    for route, name, private in _ROUTES:
        parts = {type(p).__name__: p.value for p in route.pattern}
        table.setdefault(parts["Method"], []).append((parts["Path"], name, private))
    return {method: tuple(routes) for method, routes in table.items()}


_BY_METHOD = _by_method()
_ROUTE_CACHE: dict[tuple[str, str], tuple[str, bool, dict[str, str | None]]] = {}
_ROUTE_CACHE_SIZE = 4096  # distinct (method, path) pairs remembered; ids make paths vary


def route_of(method: str, path: str) -> tuple[str, bool, dict[str, str | None]]:
    """The endpoint name, whether it is private, and the path's named groups.

    Args:
        method: Upper-case HTTP method.
        path: The URL path, percent-decoded (what respx matches: ``httpx.URL.path``).
    """
    key = (method, path)
    found = _ROUTE_CACHE.get(key)
    if found is None:
        found = "unknown", False, {}
        for regex, name, private in _BY_METHOD.get(method, ()):
            match = regex.search(path)
            if match:
                found = name, private, match.groupdict()
                break
        if len(_ROUTE_CACHE) >= _ROUTE_CACHE_SIZE:
            _ROUTE_CACHE.clear()
        _ROUTE_CACHE[key] = found
    name, private, groups = found
    return name, private, dict(groups)  # a caller may keep its groups; the cache keeps its own


@attrs.frozen
class Call:
    """One parsed request as a handler sees it."""

    query: dict[str, str]
    body: Mapping[str, Any]
    groups: dict[str, str | None]

    @property
    def hf(self) -> bool:
        """Whether the HF twin of the endpoint was called."""
        return bool(self.groups.get("hf"))


def _fault_name(fault: Fault | Rejection | None) -> str | None:
    if isinstance(fault, Rejection):
        return f"reject {fault.code} {fault.msg}"
    return None if fault is None else fault.name


def _rejection_for(fault: Fault | Rejection | None) -> Rejection | None:
    """The error body a fault answers with, or None when the request must be processed."""
    if isinstance(fault, Rejection):
        return fault
    if fault is Fault.SERVER_ERROR:
        return SERVER_ERROR
    if fault is Fault.RATE_LIMIT:
        return RATE_LIMITED
    return None


class Api(WireApp, TradingHandlers, MarketDataHandlers):
    """Request pipeline plus one handler per endpoint (``_<endpoint name>``).

    ``dispatch`` (from :class:`WireApp`) answers an ``httpx.Request`` through :meth:`respond`.
    """

    def __init__(
        self,
        engine: Engine,
        credentials: Credentials,
        clock: Callable[[], int],
        *,
        hf: bool,
        rate_limits: bool = True,
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.clock = clock
        self.hf = hf
        self.faults = FaultPlan(ENDPOINT_NAMES)
        # KuCoin's resource pools (safetrade.testing._ratelimit); None: nothing is limited
        self.limiter: RateLimiter | None = RateLimiter() if rate_limits else None
        self.recorded: list[RecordedRequest] = []
        # a served fake runs for days: keep at most this many records (None: all, in tests)
        self.max_recorded: int | None = None
        self.dropped = 0  # records trimmed so far; recorded[i] has sequence dropped + i
        self.lock = threading.RLock()

    def respond(self, request: WireRequest) -> WireAnswer:
        """Run the pipeline for one request: KuCoin's status, JSON body and rate-limit headers.

        The route is looked up in the shared respx table, then: record the request, play an
        injected fault, check authentication on private endpoints, charge the endpoint's weight
        to its pool (429 ``429000`` when it is used up), call the handler, wrap its result in
        KuCoin's envelope. An answer the limiter saw carries KuCoin's ``gw-ratelimit-*``
        headers.

        Raises:
            Unanswered: for an injected ``TIMEOUT`` or ``RESPONSE_LOST``.
        """
        name, private, groups = route_of(request.method, request.path)
        raw_body = request.body.decode()
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        with self.lock:
            fault = self.faults.take(name) if name != "unknown" else None
            try:
                body = json.loads(raw_body, parse_float=Decimal) if raw_body else {}
            except ValueError:
                body = None
            record = RecordedRequest(
                endpoint=name,
                method=request.method,
                host=request.host,
                path=request.path,
                query=query,
                body=body if raw_body else None,
                fault=_fault_name(fault),
            )
            if self.max_recorded is not None and len(self.recorded) >= self.max_recorded:
                # drop the older half at once (amortised O(1) per request)
                cut = max(1, len(self.recorded) // 2)
                del self.recorded[:cut]
                self.dropped += cut
            index = len(self.recorded)
            self.recorded.append(record)
            if fault is Fault.TIMEOUT:
                raise Unanswered("fake KuCoin: injected timeout")
            # an injected fault answers before the limiter: an injected 429 is KuCoin's
            # server-overload 429, which "does not count toward the number of rate limits" and
            # carries no rate-limit headers (https://www.kucoin.com/docs-new/rate-limit, 5.)
            rejection = _rejection_for(fault)
            verdict: Verdict | None = None
            if rejection is None:
                try:
                    if private:
                        verify(
                            self.credentials,
                            self.clock,
                            headers=request.headers,
                            method=request.method,
                            raw_target=request.raw_target,
                            body=raw_body,
                        )
                    verdict = self._charge(name, private=private, groups=groups)
                    if verdict is not None and not verdict.allowed:
                        raise RATE_LIMITED.error()
                    if not isinstance(body, dict):
                        raise parameter_error("body must be a JSON object")
                    # time has passed since the last request: GTT orders whose cancelAfter ran
                    # out are cancelled before this request sees or changes anything
                    self.engine.expire_due()
                    handler: Callable[[Call], object] = getattr(self, f"_{name}")
                    data = handler(Call(query, body, groups))
                except KucoinError as exc:
                    rejection = exc.rejection
            payload: object
            if rejection is not None:
                status, payload = rejection.status, rejection.body()
                answer = attrs.evolve(record, code=rejection.code, msg=rejection.msg)
            else:
                status, payload = 200, ok(data)
                answer = attrs.evolve(record, code=OK_CODE)
            # what the exchange answered is part of what it saw (conformance judges by it)
            self.recorded[index] = answer
            if fault is Fault.RESPONSE_LOST:
                raise Unanswered("fake KuCoin: response lost")
            headers = () if verdict is None else verdict.headers()
            return WireAnswer(status, json.dumps(payload).encode(), headers)

    def _charge(
        self, name: str, *, private: bool, groups: Mapping[str, str | None]
    ) -> Verdict | None:
        """Charge one call of endpoint ``name`` to its pool; None when nothing is counted.

        A private request is charged after it authenticated: KuCoin counts private pools per
        UID (https://www.kucoin.com/docs-new/rate-limit, 5. "based on UID") and a request is
        only known to be the UID's once its signature checks out. KuCoin does not document the
        order; counting unauthenticated requests would let anyone who knows an API key use up
        its owner's quota. A request that authenticated is charged even if the handler then
        rejects it (a bad parameter costs as much as a good one). Unknown paths (404) cost
        nothing.
        """
        if self.limiter is None:
            return None
        cost = cost_of(name, hf=bool(groups.get("hf")), depth=groups.get("depth"))
        if cost is None:
            return None
        api_key = self.credentials.api_key if private else None
        return self.limiter.take(cost, api_key=api_key, now_ms=self.clock())

    # --- public / load_markets -------------------------------------------------------------

    def _unknown(self, _call: Call) -> object:
        raise URL_NOT_FOUND.error()

    def _timestamp(self, _call: Call) -> object:
        return self.clock()

    def _status(self, _call: Call) -> object:
        return {"status": "open", "msg": ""}

    def _symbols(self, _call: Call) -> object:
        return [m.symbol_item() for m in self.engine.markets.values()]

    def _currencies(self, _call: Call) -> object:
        codes = dict.fromkeys(c for m in self.engine.markets.values() for c in (m.base, m.quote))
        return [
            {"currency": c, "name": c, "fullName": c, "precision": 8, "confirms": None,
             "contractAddress": None, "isMarginEnabled": True, "isDebitEnabled": True,
             "chains": []}
            for c in codes
        ]  # fmt: skip

    def _contracts(self, _call: Call) -> object:
        return []

    def _account_mode(self, _call: Call) -> object:
        # anything but UNIFIED keeps ccxt on the classic spot endpoints this fake implements
        return {"selfAccountMode": "CLASSIC", "unifiedSubAccount": [], "classicSubAccount": []}

    def _margin_symbols(self, _call: Call) -> object:
        return {"timestamp": self.clock(), "items": []}

    def _isolated_symbols(self, _call: Call) -> object:
        return []

    def _hf_status(self, _call: Call) -> object:
        return self.hf
