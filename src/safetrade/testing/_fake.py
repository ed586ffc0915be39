"""The :class:`FakeKucoin` facade: state set-up, assertions, fault injection, ccxt clients."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType, TracebackType
from typing import Any

import attrs
import httpx

from safetrade.testing._auth import Credentials
from safetrade.testing._control import PREFIX as CONTROL_PREFIX
from safetrade.testing._control import Control
from safetrade.testing._engine import Engine
from safetrade.testing._faults import Fault
from safetrade.testing._market_data import BookShape, Candle, PricePath
from safetrade.testing._routes import Api
from safetrade.testing._rules import DEFAULT_MARKETS, MarketRules
from safetrade.testing._server import LoopbackServer
from safetrade.testing._state import (
    Balance,
    Execution,
    FillPolicy,
    Order,
    RecordedRequest,
    StopOrder,
)
from safetrade.testing._wire import Rejection
from safetrade.testing.bridge import session_over

log = logging.getLogger("safetrade.testing")

# Obviously fake credentials; the fake only listens on loopback or in-process.
TEST_API_KEY = "fake-kucoin-api-key"
TEST_API_SECRET = "fake-kucoin-api-secret"  # noqa: S105 - a published test value
TEST_PASSPHRASE = "fake-kucoin-passphrase"  # noqa: S105 - a published test value


def wall_clock_ms() -> int:
    """Epoch milliseconds from the system clock (ccxt signs with the same clock)."""
    return time.time_ns() // 1_000_000


def _kucoin_symbol(symbol: str) -> str:
    return symbol.replace("/", "-")


class FakeKucoin:
    """A wire-faithful fake of KuCoin spot for the real, unmodified ``ccxt.kucoin``.

    See the package docstring (``safetrade.testing``) for endpoints, fees, partial fills, stop
    orders and faults.

    Args:
        markets: Market rules; default SOL-USDT and BTC-USDT.
        balances: Available balance per currency (holds start at 0). Default: USDT 0.
        prices: Last price per symbol (``SOL/USDT`` or ``SOL-USDT``). Default: none.
        clock: Server time in epoch milliseconds; checks ``KC-API-TIMESTAMP`` (±5 s) and stamps
            orders. Default: the system clock, which is what ccxt signs with.
        hf: Answer the HF probe with ``true`` (ccxt then uses ``/api/v1/hf/orders`` and account
            type ``trade_hf``).
        api_key: The one API key the fake accepts.
        api_secret: Its secret.
        passphrase: Its passphrase.
        fill_policy: How much of a market order fills; default everything.
        book: The order book's shape around the last price (spread, depth); market orders
            walk it. Default: no spread, 100 levels of 1000 base each side.
        rate_limits: Enforce KuCoin's VIP0 rate limits (on by default, as KuCoin always limits);
            False only for tests and benchmarks that are not about limits and send thousands of
            requests within one instant of the clock.
    """

    def __init__(
        self,
        *,
        markets: Iterable[MarketRules] | None = None,
        balances: Mapping[str, Decimal | str] | None = None,
        prices: Mapping[str, Decimal | str] | None = None,
        clock: Callable[[], int] | None = None,
        hf: bool = False,
        api_key: str = TEST_API_KEY,
        api_secret: str = TEST_API_SECRET,
        passphrase: str = TEST_PASSPHRASE,
        fill_policy: FillPolicy | None = None,
        book: BookShape | None = None,
        rate_limits: bool = True,
    ) -> None:
        base_clock = clock or wall_clock_ms
        self._clock_offset_ms = 0
        self.clock: Callable[[], int] = lambda: base_clock() + self._clock_offset_ms
        self.credentials = Credentials(api_key, api_secret, passphrase)
        self._engine = Engine(
            DEFAULT_MARKETS if markets is None else markets,
            self.clock,
            fill_policy or FillPolicy(),
        )
        if book is not None:
            self._engine.book_shape = book
        self._api = Api(self._engine, self.credentials, self.clock, hf=hf, rate_limits=rate_limits)
        self.transport = httpx.MockTransport(self._api.dispatch)
        self._control = Control(self)
        self._servers: list[LoopbackServer] = []
        # the KuCoin-only server of loopback_url() and the async clients wired to it
        self._kucoin_server: LoopbackServer | None = None
        self._kucoin_server_lock = threading.Lock()
        self._async_clients: list[Any] = []
        for currency, amount in {"USDT": Decimal(0), **(balances or {})}.items():
            self.set_balance(currency, Decimal(str(amount)))
        for symbol, price in (prices or {}).items():
            self.set_price(symbol, Decimal(str(price)))

    # --- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Close the async clients still open, then stop every loopback server.

        The async clients are those :meth:`async_ccxt_client` made and nobody closed (each is
        closed in its own event loop while that loop is still usable); the servers those
        :meth:`serve` and :meth:`loopback_url` started.
        """
        self.close_async_clients()
        self._kucoin_server = None
        while self._servers:
            self._servers.pop().close()

    def close_async_clients(self, *, close_loops: bool = False) -> None:
        """Close the clients :meth:`async_ccxt_client` made that are still open.

        Each is closed in its own event loop while that loop is usable (not closed, not
        running). A client whose loop is gone cannot be awaited any more; aiohttp then reports
        its unclosed session, the leak of whoever made it.

        Args:
            close_loops: Then close those clients' event loops too (unless running): for a
                harness ending a bot's life, whose loops end with it as with a process.
        """
        clients, self._async_clients = self._async_clients, []
        for client in clients:
            loop = getattr(client, "asyncio_loop", None)
            if loop is None:
                continue  # never sent a request: nothing to close
            if getattr(client, "session", None) is not None:
                _close_async_client(client, loop)
            if close_loops and not loop.is_closed() and not loop.is_running():
                loop.close()

    def __enter__(self) -> FakeKucoin:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- clients --------------------------------------------------------------------------

    def _client_config(self, config: Mapping[str, object]) -> dict[str, object]:
        return {
            "apiKey": self.credentials.api_key,
            "secret": self.credentials.api_secret,
            "password": self.credentials.passphrase,
            "enableRateLimit": False,
            **config,
        }

    def ccxt_client(self, **config: object) -> Any:  # noqa: ANN401 - ccxt is untyped
        """Return a real ``ccxt.kucoin`` whose HTTP session is bridged in-process to this fake.

        Args:
            **config: Extra ccxt constructor settings (e.g. ``options={...}``); they win over
                the defaults (this fake's credentials, ``enableRateLimit=False``).
        """
        import ccxt  # noqa: PLC0415 - ccxt is heavy; only clients need it

        return ccxt.kucoin(self._client_config({"session": session_over(self.transport), **config}))

    def handle_served(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of a served fake: the control API, else KuCoin's routes."""
        if request.url.path.startswith(CONTROL_PREFIX):
            return self._control.handle(request)
        return self._api.dispatch(request)

    def serve(
        self, port: int = 0, *, max_requests: int | None = None, control: bool = True
    ) -> LoopbackServer:
        """Serve this fake over real HTTP on 127.0.0.1 (closed with the fake).

        The server also answers the control API under ``/_safetrade/`` (see
        ``safetrade.testing._control``) unless ``control`` is False.

        Args:
            port: TCP port, 0 for a free one.
            max_requests: Keep at most this many recorded requests (older ones are dropped
                in halves); a long-running server must bound its log.
            control: Answer the control API; False serves KuCoin's routes only (what a bot
                under test may reach: it cannot move prices, balances or faults).
        """
        if max_requests is not None:
            if max_requests < 1:
                msg = f"max_requests must be at least 1, got {max_requests}"
                raise ValueError(msg)
            with self._api.lock:
                self._api.max_recorded = max_requests
        server = LoopbackServer(self.handle_served if control else self._api.dispatch, port)
        self._servers.append(server)
        return server

    def loopback_url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``) of this fake's KuCoin-only loopback server.

        The server answers KuCoin's routes only (no control API), records every request in
        this fake (:attr:`requests`, orders, fills) and takes its injected faults, like the
        in-process clients. It is started by the first call (nothing listens until something
        asks), shared by later calls and by :meth:`async_ccxt_client`, and stopped by
        :meth:`close`.
        """
        with self._kucoin_server_lock:
            if self._kucoin_server is None:
                self._kucoin_server = self.serve(control=False)
            return self._kucoin_server.base_url

    def ccxt_client_over_loopback(self, **config: object) -> Any:  # noqa: ANN401 - ccxt is untyped
        """Return a real ``ccxt.kucoin`` talking real HTTP to this fake on 127.0.0.1.

        Reuses the first server started by :meth:`serve` (starting one if needed) and points
        every ccxt API group (spot, futures, UTA, ...) at it.
        """
        import ccxt  # noqa: PLC0415 - ccxt is heavy; only clients need it

        server = self._servers[0] if self._servers else self.serve()
        client = ccxt.kucoin(self._client_config(config))
        client.urls["api"] = dict.fromkeys(client.urls["api"], server.base_url)
        return client

    def async_ccxt_client(self, **config: object) -> Any:  # noqa: ANN401 - ccxt is untyped
        """Return a real ``ccxt.async_support.kucoin`` talking real HTTP to this fake.

        Every ccxt API group points at :meth:`loopback_url` (started now if needed). Make it
        anywhere; like any ccxt async client it binds to the event loop that runs its first
        request, so use it in that one loop and ``await client.close()`` there when done.
        :meth:`close` closes a client left open whose loop is still usable.

        Args:
            **config: Extra ccxt constructor settings; they win over the defaults (this fake's
                credentials, ``enableRateLimit=False``, ``timeout_on_exit=0``: ccxt's
                ``close()`` otherwise waits 250 ms for websockets this client never opens).
        """
        import ccxt.async_support as ccxt_async  # noqa: PLC0415 - ccxt is heavy

        url = self.loopback_url()
        client = ccxt_async.kucoin(self._client_config({"timeout_on_exit": 0, **config}))
        client.urls["api"] = dict.fromkeys(client.urls["api"], url)
        self._async_clients.append(client)
        return client

    # --- state set-up -----------------------------------------------------------------------

    @property
    def hf(self) -> bool:
        """Whether the fake reports an HF (high-frequency) trading account."""
        return self._api.hf

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Set the last trade price of ``symbol``; crossed limit and stop orders execute now."""
        with self._api.lock:
            self._engine.set_price(_kucoin_symbol(symbol), Decimal(str(price)))

    def advance_clock(self, milliseconds: int) -> None:
        """Move the fake's clock forward (time rules, candles and rate-limit windows follow).

        ccxt signs with the machine's clock, so a client talking to a fake moved by more than
        KuCoin's ±5 s window must set ``options['timeDifference']`` (or call
        ``load_time_difference()``), as it would against a real server whose clock differs.
        """
        if milliseconds < 0:
            msg = f"the clock only moves forward, got {milliseconds} ms"
            raise ValueError(msg)
        with self._api.lock:
            self._clock_offset_ms += milliseconds
            # what KuCoin shows at the new time: a GTT order past its cancelAfter is cancelled
            self._engine.expire_due()

    def set_book(self, shape: BookShape) -> None:
        """Change the order book's shape (spread, depth, size per level) from now on."""
        with self._api.lock:
            self._engine.book_shape = shape

    def replay(self, symbol: str, path: PricePath, *, history: int = 0) -> None:
        """Load a price path for ``symbol``; :meth:`step` then replays it a candle at a time.

        Args:
            symbol: ``SOL/USDT`` or ``SOL-USDT``.
            path: The candles to replay.
            history: How many of its first candles are already the past (served by the
                candles endpoint, stamped to end at the clock's current candle; the last one's
                close becomes the last price).
        """
        with self._api.lock:
            self._engine.load_path(_kucoin_symbol(symbol), path, history=history)

    def step(self, symbol: str) -> Candle | None:
        """Replay the next candle: visit its prices in :meth:`Candle.visits` order.

        Each visited price is a last-price change (crossed limit orders fill, stops trigger),
        then the candle is recorded for the candles endpoint. Returns None at the end of the
        path.
        """
        with self._api.lock:
            return self._engine.step(_kucoin_symbol(symbol))

    def price(self, symbol: str) -> Decimal | None:
        """Return the last price of ``symbol``, or None when never set."""
        with self._api.lock:
            return self._engine.prices.get(_kucoin_symbol(symbol))

    def best_bid(self, symbol: str) -> Decimal | None:
        """The best bid of ``symbol``'s book (what a market sell gets first), None if empty."""
        with self._api.lock:
            bids, _asks = self._engine.book(_kucoin_symbol(symbol), 1)
        return bids[0][0] if bids else None

    def set_balance(self, currency: str, available: Decimal) -> None:
        """Set the available balance of ``currency``; its holds stay unchanged."""
        with self._api.lock:
            self._engine.set_balance(currency, Decimal(str(available)))

    def balance(self, currency: str) -> Balance:
        """Return ``Balance(available, holds)`` of ``currency`` (``.total`` is their sum)."""
        with self._api.lock:
            return self._engine.balance(currency)

    def add_market(self, rules: MarketRules) -> None:
        """Add (or replace) a market; call before the client loads markets."""
        with self._api.lock:
            self._engine.markets[rules.symbol] = rules

    # --- faults ----------------------------------------------------------------------------

    def inject(self, endpoint: str, fault: Fault | Rejection, times: int = 1) -> None:
        """Make the next ``times`` calls of ``endpoint`` fail with ``fault``.

        Args:
            endpoint: An endpoint name (see the package docstring), e.g. ``"create_stop_order"``.
            fault: A :class:`Fault` member or ``Fault.reject(code, msg)``.
            times: How many consecutive calls the fault hits.

        Raises:
            ValueError: For an unknown endpoint name or ``times < 1``.
        """
        with self._api.lock:
            self._api.faults.add(endpoint, fault, times)

    def clear_faults(self) -> None:
        """Disarm every pending fault."""
        with self._api.lock:
            self._api.faults.clear()

    # --- read-only views ---------------------------------------------------------------------

    @property
    def orders(self) -> Mapping[str, Order]:
        """Snapshot of every regular order by id (incl. orders that triggered stops became)."""
        with self._api.lock:
            return MappingProxyType({k: attrs.evolve(v) for k, v in self._engine.orders.items()})

    @property
    def stop_orders(self) -> Mapping[str, StopOrder]:
        """Snapshot of every stop order by id, whatever its status."""
        with self._api.lock:
            return MappingProxyType(
                {k: attrs.evolve(v) for k, v in self._engine.stop_orders.items()}
            )

    @property
    def fills(self) -> tuple[Execution, ...]:
        """Every execution, oldest first."""
        with self._api.lock:
            return tuple(self._engine.fills)

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received, oldest first."""
        with self._api.lock:
            return tuple(self._api.recorded)

    def forget_requests(self) -> None:
        """Drop the recorded requests, e.g. in long-running servers."""
        with self._api.lock:
            self._api.recorded.clear()

    def requests_since(self, sequence: int) -> dict[str, object]:
        """Recorded requests with sequence number >= ``sequence`` (the control API's log view).

        Returns:
            ``{"next": N, "dropped": D, "requests": [...]}``: ask for ``since=N`` next time;
            ``dropped`` counts records the bounded log already let go.
        """
        with self._api.lock:
            first = self._api.dropped
            items = [
                {"seq": first + i, **attrs.asdict(r)}
                for i, r in enumerate(self._api.recorded)
                if first + i >= sequence
            ]
            return {"next": first + len(self._api.recorded), "dropped": first, "requests": items}

    def snapshot(self) -> dict[str, object]:
        """Balances, prices, orders, stop orders, fills and pending faults, as plain data."""
        with self._api.lock:
            engine = self._engine
            return {
                "now_ms": self.clock(),
                "account": "hf" if self.hf else "classic",
                "balances": {
                    c: attrs.asdict(b) | {"total": b.total} for c, b in engine.balances.items()
                },
                "prices": dict(engine.prices),
                "orders": [attrs.asdict(o) for o in engine.orders.values()],
                "stop_orders": [attrs.asdict(o) for o in engine.stop_orders.values()],
                "fills": [attrs.asdict(f) for f in engine.fills],
                "faults": self._api.faults.pending(),
                "book": attrs.asdict(engine.book_shape),
                "fill_policy": attrs.asdict(engine.fill_policy),
            }

    def set_fill_policy(self, policy: FillPolicy) -> None:
        """Change how market orders fill from now on."""
        with self._api.lock:
            self._engine.fill_policy = policy

    def endpoints_called(self) -> list[str]:
        """Endpoint names of the recorded requests, in order (handy in assertions)."""
        return [r.endpoint for r in self.requests]


def _close_async_client(client: Any, loop: asyncio.AbstractEventLoop) -> None:  # noqa: ANN401
    if loop.is_closed() or loop.is_running():
        log.warning("an async ccxt client of the fake was left open and its loop is gone")
        return
    try:
        loop.run_until_complete(client.close())
    except Exception:
        # closing must never fail the fake's close
        log.warning("closing an async ccxt client of the fake failed", exc_info=True)
