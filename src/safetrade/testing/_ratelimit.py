"""KuCoin's REST rate limit: resource pools with a quota per 30 s window, a weight per endpoint.

What KuCoin documents (https://www.kucoin.com/docs-new/rate-limit, "Rest Rate Limit"):

* Every endpoint belongs to one resource pool and has a weight. VIP0 quotas per 30 s: Spot
  (incl. Margin) 4000, Futures 2000, Management 2000, Earn 2000, CopyTrading 2000, Public 2000.
  The fake serves endpoints of three pools: Spot, Management and Public.
* A request deducts its endpoint's weight from its pool. The quota is "updated every 30s
  (starting from the arrival time of the user's first request)": a fixed window that opens with
  the first request and is reset to the full quota once 30 s have passed; the next request opens
  the next window. Nothing leaks back before that (no sliding window, no token refill).
* A pool used up within the window answers HTTP 429 ``{"code":"429000"}`` (ccxt
  ``RateLimitExceeded``) until the window resets.
* Every answer carries ``gw-ratelimit-limit`` (the pool's quota), ``gw-ratelimit-remaining``
  and ``gw-ratelimit-reset`` (milliseconds until the window resets).
* The Public pool is counted per IP; every other pool per UID (a sub-account has its own).

What the fake decides where KuCoin says nothing:

* A request whose weight is more than what is left is refused whole (the quota never goes
  negative); a refused request deducts nothing and does not move the window.
* The fake has one client, so one Public pool (one IP); private pools are counted per API key,
  and the fake accepts one key (one UID).

This module is pure: no wall time and no I/O; the caller passes the time (the fake's clock, epoch
milliseconds). Counts are ints.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = [
    "COSTS",
    "QUOTAS",
    "WINDOW_MS",
    "Cost",
    "Pool",
    "RateLimiter",
    "Verdict",
    "Window",
    "charge",
    "cost_of",
]

#: https://www.kucoin.com/docs-new/rate-limit: every quota is "per 30s"
WINDOW_MS = 30_000


class Pool(enum.Enum):
    """A KuCoin resource pool (https://www.kucoin.com/docs-new/rate-limit, "Resource Pool")."""

    SPOT = "spot"
    MANAGEMENT = "management"
    PUBLIC = "public"


#: VIP0 quota per 30 s of each pool (https://www.kucoin.com/docs-new/rate-limit, VIP0 row)
QUOTAS: Mapping[Pool, int] = MappingProxyType(
    {Pool.SPOT: 4000, Pool.MANAGEMENT: 2000, Pool.PUBLIC: 2000}
)


def _positive(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 1:
        msg = f"{attribute.name} must be a positive int, got {value!r}"
        raise ValueError(msg)


def _not_negative(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 0:
        msg = f"{attribute.name} must be an int >= 0, got {value!r}"
        raise ValueError(msg)


def _an_int(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int:
        msg = f"{attribute.name} must be an int, got {value!r}"
        raise TypeError(msg)


@attrs.frozen
class Cost:
    """What one call of an endpoint costs: its pool and its weight."""

    pool: Pool
    weight: int = attrs.field(validator=_positive)


def _spot(weight: int) -> Cost:
    return Cost(Pool.SPOT, weight)


def _public(weight: int) -> Cost:
    return Cost(Pool.PUBLIC, weight)


def _management(weight: int) -> Cost:
    return Cost(Pool.MANAGEMENT, weight)


# The cost of every endpoint the fake serves, keyed by its name in ``_routes.ENDPOINTS``, or
# ``name/hf`` for the HF twin of a classic endpoint and ``order_book/<depth>`` for the two part
# books. Each weight is the API-RATE-LIMIT-POOL / API-RATE-LIMIT-WEIGHT of the KuCoin page
# cited (https://www.kucoin.com/docs-new/api-<id>, the links KuCoin's own generated SDK,
# Kucoin/kucoin-universal-sdk, prints for each method). Where KuCoin's previous documentation
# (https://www.kucoin.com/docs/rest/...) gives a different weight, the larger one is used: the
# fake must never be more forgiving than KuCoin, and which page the gateway follows is unknown.
# ccxt 4.5.90's cost table (ccxt/kucoin.py 'api') differs in places; KuCoin's pages win.
_COSTS: dict[str, Cost] = {
    # --- Public pool (per IP) --------------------------------------------------------------
    "timestamp": _public(3),  # Get Server Time, docs-new/api-3470156
    "status": _public(3),  # Get Service Status, docs-new/api-3470158
    "symbols": _public(4),  # Get All Symbols, docs-new/api-3470154
    "currencies": _public(3),  # Get All Currencies, docs-new/api-3470152
    "all_tickers": _public(15),  # Get All Tickers, docs-new/api-3470167
    "ticker": _public(15),  # Get 24hr Stats (/market/stats), docs-new/api-3470161
    "candles": _public(3),  # Get Klines, docs-new/api-3470163
    "level1": _public(2),  # Get Ticker (/market/orderbook/level1), docs-new/api-3470160
    # Get Part OrderBook: docs-new/api-3470165 gives 2 for both depths; the previous page
    # (docs/rest/spot-trading/market-data/get-part-order-book-aggregated-) "depth20 2, depth100 4"
    "order_book/20": _public(2),
    "order_book/100": _public(4),
    "trades": _public(3),  # Get Trade History (/market/histories), docs-new/api-3470162
    # Futures Get All Symbols (/api/v1/contracts/active), docs-new/api-3470220: Public pool
    "contracts": _public(3),
    # Get Symbols - Cross Margin, docs-new/api-3470189: a public endpoint in the Public pool
    # (ccxt signs the request; KuCoin counts it per IP all the same)
    "margin_symbols": _public(3),
    # Get Symbols - Isolated Margin, docs-new/api-3470194: Public pool, as above
    "isolated_symbols": _public(3),
    # --- Management pool (per UID) ---------------------------------------------------------
    "accounts": _management(5),  # Get Account List - Spot, docs-new/api-3470125
    # Get Account Mode (/api/ua/v1/account/mode), docs-new/rest/ua/get-account-mode: the page
    # itself was not readable here; 30 in the Management pool is what two client libraries that
    # cite it publish (JKorf/Kucoin.Net, knowm/XChange), and it equals the documented weight of
    # its nearest sibling, Get Account Type - Spot (docs-new/api-3470120, 30)
    "account_mode": _management(30),
    # --- Spot pool (per UID) ---------------------------------------------------------------
    "full_order_book": _spot(3),  # Get Full OrderBook, docs-new/api-3470164
    "trade_fees": _spot(3),  # Get Actual Fee - Spot/Margin, docs-new/api-3470150
    # Get Account Type - Spot (/api/v1/hf/accounts/opened), docs-new/api-3470120 (ccxt: 2)
    "hf_status": _spot(30),
    "create_order": _spot(2),  # Add Order - Old (/api/v1/orders), docs-new/api-3470333
    "create_order/hf": _spot(1),  # Add Order (/api/v1/hf/orders), docs-new/api-3470188
    # Add Order Test - Old (/api/v1/orders/test), docs-new/api-3470341; the same 2 on
    # docs-new/abandoned-endpoints/spot-trading/orders/add-order-test-old
    "create_order_test": _spot(2),
    "create_order_test/hf": _spot(1),  # Add Order Test (/api/v1/hf/orders/test), api-3470187
    # Add Stop Order: docs-new/api-3470334 gives 1, the previous page
    # (docs/rest/spot-trading/stop-order/place-order) "Spot weight: 2"
    "create_stop_order": _spot(2),
    "list_orders": _spot(2),  # Get Orders List - Old (/api/v1/orders), docs-new/api-3470346
    # Get Open Orders (/hf/orders/active) docs-new/api-3470178, Get Closed Orders
    # (/hf/orders/done) docs-new/api-3470179: both 2
    "list_orders/hf": _spot(2),
    # Get Order By ClientOid - Old (/api/v1/order/client-order/{clientOid}), docs-new/api-3470349
    "fetch_order_by_client_oid": _spot(3),
    "fetch_order_by_client_oid/hf": _spot(2),  # Get Order By ClientOid, docs-new/api-3470182
    "fetch_order": _spot(2),  # Get Order By OrderId - Old, docs-new/api-3470348
    "fetch_order/hf": _spot(2),  # Get Order By OrderId, docs-new/api-3470181
    # Cancel Order By ClientOid - Old: docs-new/api-3470344 gives 3, the previous page
    # (docs/rest/spot-trading/orders/cancel-order-by-clientoid) "Spot weight: 5"
    "cancel_order_by_client_oid": _spot(5),
    "cancel_order_by_client_oid/hf": _spot(1),  # Cancel Order By ClientOid, docs-new/api-3470184
    "cancel_order": _spot(3),  # Cancel Order By OrderId - Old, docs-new/api-3470343
    "cancel_order/hf": _spot(1),  # Cancel Order By OrderId, docs-new/api-3470174
    "cancel_all_orders": _spot(20),  # Batch Cancel Order - Old (DELETE /api/v1/orders), 3470345
    # Cancel All Orders By Symbol (DELETE /api/v1/hf/orders), docs-new/api-3470175
    "cancel_all_orders/hf": _spot(2),
    "cancel_all_hf_orders": _spot(30),  # Cancel All Orders (/hf/orders/cancelAll), api-3470176
    "cancel_all_stop_orders": _spot(3),  # Batch Cancel Stop Orders, docs-new/api-3470337
    "list_stop_orders": _spot(8),  # Get Stop Orders List, docs-new/api-3470338
    "fetch_stop_order_by_client_oid": _spot(3),  # Get Stop Order By ClientOid, api-3470340
    "fetch_stop_order": _spot(3),  # Get Stop Order By OrderId, docs-new/api-3470339
    "cancel_stop_order_by_client_oid": _spot(5),  # Cancel Stop Order By ClientOid, api-3470336
    "cancel_stop_order": _spot(3),  # Cancel Stop Order By OrderId, docs-new/api-3470335
    "fills": _spot(10),  # Get Trade History - Old (/api/v1/fills), docs-new/api-3470350
    "fills/hf": _spot(2),  # Get Trade History (/api/v1/hf/fills), docs-new/api-3470180
    "ledgers": _management(2),  # Get Account Ledgers - Spot/Margin, docs-new/api-3470121
    "ledgers/hf": _spot(2),  # Get Account Ledgers - Trade_hf, docs-new/api-3470122
}
COSTS: Mapping[str, Cost] = MappingProxyType(_COSTS)


def cost_of(endpoint: str, *, hf: bool = False, depth: str | None = None) -> Cost | None:
    """The cost of one call of ``endpoint``, or None for a path KuCoin does not serve.

    Args:
        endpoint: The endpoint name (``_routes.ENDPOINTS``); ``"unknown"`` costs nothing.
        hf: Whether the HF twin (``/api/v1/hf/...``) was called.
        depth: ``"20"`` or ``"100"`` for the part order book.
    """
    if endpoint == "order_book":
        return _COSTS[f"order_book/{depth}"]
    if hf and f"{endpoint}/hf" in _COSTS:
        return _COSTS[f"{endpoint}/hf"]
    return _COSTS.get(endpoint)


@attrs.frozen
class Window:
    """One pool's current window: when it opened and how much weight it has used."""

    start_ms: int = attrs.field(validator=_an_int)
    used: int = attrs.field(validator=_not_negative)


@attrs.frozen
class Verdict:
    """The limiter's answer to one request, with the values of KuCoin's headers.

    Attributes:
        allowed: Whether the request may go on (False: answer 429 ``429000``).
        limit: ``gw-ratelimit-limit``, the pool's quota.
        remaining: ``gw-ratelimit-remaining``, the weight left in the window after this request.
        reset_ms: ``gw-ratelimit-reset``, milliseconds until the window resets.
    """

    allowed: bool
    limit: int = attrs.field(validator=_positive)
    remaining: int = attrs.field(validator=_not_negative)
    reset_ms: int = attrs.field(validator=_an_int)

    def headers(self) -> tuple[tuple[str, str], ...]:
        """KuCoin's three ``gw-ratelimit-*`` response headers."""
        return (
            ("gw-ratelimit-limit", str(self.limit)),
            ("gw-ratelimit-remaining", str(self.remaining)),
            ("gw-ratelimit-reset", str(self.reset_ms)),
        )


def charge(
    window: Window | None, *, quota: int, weight: int, now_ms: int, period_ms: int = WINDOW_MS
) -> tuple[Window, Verdict]:
    """Charge ``weight`` to a pool whose window is ``window`` at ``now_ms``.

    A window that has run its ``period_ms`` (or none yet) is replaced by a fresh one opening at
    ``now_ms``. The request is allowed when its weight fits in what is left; a refused request
    leaves the window as it was.

    Returns:
        The pool's window after this request, and the verdict.
    """
    if window is None or now_ms - window.start_ms >= period_ms:
        window = Window(now_ms, 0)
    allowed = window.used + weight <= quota
    if allowed:
        window = Window(window.start_ms, window.used + weight)
    verdict = Verdict(
        allowed=allowed,
        limit=quota,
        remaining=quota - window.used,
        reset_ms=window.start_ms + period_ms - now_ms,
    )
    return window, verdict


class RateLimiter:
    """The windows of every pool of every scope (the one client IP, each API key).

    Not thread-safe on its own; the fake calls it under its request lock.
    """

    #: the scope of the Public pool: the fake has a single client, i.e. a single IP
    CLIENT = "client-ip"

    def __init__(self, quotas: Mapping[Pool, int] = QUOTAS, period_ms: int = WINDOW_MS) -> None:
        self.quotas = MappingProxyType(dict(quotas))
        self.period_ms = period_ms
        self._windows: dict[tuple[str, Pool], Window] = {}

    def take(self, cost: Cost, *, api_key: str | None, now_ms: int) -> Verdict:
        """Charge one request of ``cost``: to the client's Public pool, else to ``api_key``'s.

        Args:
            cost: The endpoint's cost.
            api_key: The authenticated key of a private request (ignored for the Public pool).
            now_ms: The fake's clock, epoch milliseconds.

        Raises:
            ValueError: A private pool without an API key.
        """
        if cost.pool is Pool.PUBLIC:
            scope = self.CLIENT
        elif api_key is None:
            msg = f"the {cost.pool.value} pool is counted per API key; none given"
            raise ValueError(msg)
        else:
            scope = api_key
        key = (scope, cost.pool)
        window, verdict = charge(
            self._windows.get(key),
            quota=self.quotas[cost.pool],
            weight=cost.weight,
            now_ms=now_ms,
            period_ms=self.period_ms,
        )
        self._windows[key] = window
        return verdict
