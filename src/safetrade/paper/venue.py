"""The paper venue: the fake KuCoin's engine, fed with KuCoin's public market data, on disk.

A bot in paper mode trades here through the real, unmodified ``ccxt.kucoin`` client bridged
in-process to the engine, so every order meets KuCoin's rules and error codes (increments,
minimums, balances, stop-order parameters) while nothing leaves the machine: the only network
reads are KuCoin's public, unsigned market-data endpoints (:class:`PublicKucoin`), and the
client the bot gets carries fake credentials, never the settings' keys.

Prices are refreshed from KuCoin at most every ``refresh_seconds`` before a request of the bot
is answered (and on every ``Trader.tick``). Stops and resting orders see the last price at
each refresh and, once a minute has closed, that minute's low and high, but only if they were
placed before the minute opened: KuCoin matches an order against trades after it arrived, and
the candle does not say when within the minute its extremes traded. A wick inside the minute an
order was placed is therefore missed, and a trigger can come up to a minute late; minutes that
passed while the venue was closed are replayed when it opens again, as KuCoin's own stops would
have seen them. A stop triggered by a past minute's price fills against a book generated around
that price (the real book of that moment is gone); other market orders walk KuCoin's real
order book (100 levels a side) as last mirrored, within ``priceLimitRate``. The mirrored book is
not depleted by the bot's own orders between refreshes.

Every request that could change the account is followed by one sqlite transaction (the
records) and journal entries (orders, rejections by KuCoin code, fills, cancels, positions left
without a stop-loss, round trips), each stamped with the digests of the code that ran.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx

from safetrade.alerts import Alert, AlertHook
from safetrade.errors import ConfigError, ExchangeError
from safetrade.gateway import Gateway
from safetrade.paper.position import PaperPosition
from safetrade.paper.source import PublicKucoin
from safetrade.paper.store import PaperStore, SavedState
from safetrade.paper.summary import HEARTBEAT_MS
from safetrade.testing._auth import Credentials
from safetrade.testing._engine import Engine
from safetrade.testing._routes import Api
from safetrade.testing._state import ZERO, Balance, FillPolicy, RecordedRequest
from safetrade.testing.bridge import session_over

__all__ = ["PaperVenue"]

log = logging.getLogger("safetrade.paper")

# the in-process client's credentials: published test values, never the user's keys
_KEY, _SECRET, _PASSPHRASE = "paper-api-key", "paper-api-secret", "paper-api-passphrase"
_ORDER_ENDPOINTS = frozenset({"create_order", "create_stop_order"})
_CANCEL_ENDPOINTS = frozenset({
    "cancel_order", "cancel_order_by_client_oid", "cancel_stop_order",
    "cancel_stop_order_by_client_oid", "cancel_all_orders", "cancel_all_hf_orders",
    "cancel_all_stop_orders",
})  # fmt: skip
_FIRST_HISTORY_S = 1500 * 60  # the candles a new venue serves as history (one KuCoin page)
_BODY_FIELDS = ("clientOid", "side", "type", "size", "price", "funds", "stop", "stopPrice")


def wall_clock_ms() -> int:
    """Epoch milliseconds (ccxt signs with the same clock)."""
    return time.time_ns() // 1_000_000


class PaperVenue:
    """A local KuCoin for paper trading (see the module docstring).

    Use :meth:`open` (from settings); the constructor is for tests that inject parts. One
    venue per database at a time (the store locks it).

    Args:
        store: The paper account's database (opened for writing).
        source: Where public market data comes from.
        symbols: Markets traded (``SOL/USDT``); their rules come from ``source``. Markets on
            which the saved account still holds orders or coins are mirrored too.
        starting_balance: Quote currency credited when the account is new.
        safetrade_digest: Digest of the safetrade code running (stamped on the journal).
        bot_digest: Digest of the bot package running.
        clock: Epoch milliseconds.
        refresh_seconds: Minimum time between two refreshes of the market data.
        hf: Copy an HF account's rules (``SAFETRADE_PAPER_ACCOUNT=hf``), not a classic one's.
    """

    def __init__(
        self,
        *,
        store: PaperStore,
        source: PublicKucoin,
        symbols: Sequence[str],
        starting_balance: Decimal,
        safetrade_digest: str,
        bot_digest: str,
        clock: Callable[[], int] = wall_clock_ms,
        refresh_seconds: float = 2.0,
        hf: bool = False,
    ) -> None:
        if not symbols:
            raise ConfigError("a paper venue needs at least one symbol", fix="pass symbols=[...]")
        self.store = store
        self.source = source
        self.clock = clock
        self.digests = (safetrade_digest, bot_digest)
        # public: a test (or an impatient user) may refresh on every request with 0
        self.refresh_interval_ms = int(refresh_seconds * 1000)
        self._last_refresh: int | None = None
        self._last_heartbeat: int | None = None
        # the time a request arrived: KuCoin checks its signature's timestamp then, not after
        # a slow refresh of the public data
        self._arrival: int | None = None
        saved = store.load()
        wanted = {s.replace("/", "-") for s in symbols} | _symbols_in_use(saved)
        markets = source.markets(sorted(wanted))
        self._symbols = tuple(m.symbol for m in markets)
        self.engine = Engine(markets, self._now, FillPolicy())
        self._api = Api(self.engine, Credentials(_KEY, _SECRET, _PASSPHRASE), self._now, hf=hf)
        self._transport = httpx.MockTransport(self.handle)
        self._done_candle: dict[str, int] = {}
        self._positions = {s: PaperPosition() for s in self._symbols}
        self._session: int | None = None
        # stop orders whose failure at trigger time is journaled already (across restarts)
        self._failed_stops = {
            str(e.detail["stop_id"])
            for e in store.journal()
            if e.kind == "rejection" and e.detail.get("stop_id")
        }
        self._restore(saved, starting_balance)

    @classmethod
    def open(
        cls,
        settings: Any,  # noqa: ANN401 - safetrade.config.Settings (import cycle)
        *,
        symbols: Sequence[str],
        bot_package: str,
        source: PublicKucoin | None = None,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> PaperVenue:
        """The paper venue of ``settings`` (``SAFETRADE_PAPER_DB``, ``ACCOUNT_BALANCE_USD``).

        Args:
            settings: Paper-mode settings.
            symbols: Markets the bot trades.
            bot_package: The bot's importable package (its digest stamps the journal, so
                certify counts paper time of exactly this code).
            source: Public market data; default ``SAFETRADE_PAPER_MARKET_DATA_URL``, else
                KuCoin's (``https://api.kucoin.com``).
            clock: Epoch milliseconds.

        Raises:
            ConfigError: Live mode, no starting balance, the database cannot be opened or
                another process has it open.
            ExchangeError: KuCoin's public market data cannot be read.
        """
        from safetrade.paper.digests import code_digests  # noqa: PLC0415 - hashing is slow-ish

        if settings.is_live:
            raise ConfigError(
                "the paper venue was asked for in live mode",
                fix="use TRADING_MODE=paper to paper-trade; live mode trades on KuCoin",
            )
        if settings.account_balance_usd is None:
            raise ConfigError(
                "paper mode needs a starting balance: ACCOUNT_BALANCE_USD is not set",
                fix="set ACCOUNT_BALANCE_USD to the USDT the paper account starts with "
                "(the balance you would trade live, e.g. ACCOUNT_BALANCE_USD=123)",
            )
        safetrade_digest, bot_digest = code_digests(bot_package)
        from safetrade.config import DEFAULT_PAPER_DB  # noqa: PLC0415 - settings load lazily

        store = PaperStore(settings.paper_db or DEFAULT_PAPER_DB)
        try:
            return cls(
                store=store,
                source=source or PublicKucoin.at(settings.paper_market_data_url),
                symbols=symbols,
                starting_balance=settings.account_balance_usd,
                safetrade_digest=safetrade_digest,
                bot_digest=bot_digest,
                clock=clock,
                hf=getattr(settings, "paper_account", "classic") == "hf",
            )
        except BaseException:
            store.close()
            raise

    def _now(self) -> int:
        return self.clock() if self._arrival is None else self._arrival

    # --- the bot's side -------------------------------------------------------------------

    def ccxt_client(self, **config: object) -> Any:  # noqa: ANN401 - ccxt is untyped
        """A real ``ccxt.kucoin`` whose every request is answered in-process by this venue."""
        import ccxt  # noqa: PLC0415 - ccxt is heavy

        return ccxt.kucoin({
            "apiKey": _KEY, "secret": _SECRET, "password": _PASSPHRASE,
            "enableRateLimit": False, "session": session_over(self._transport), **config,
        })  # fmt: skip

    def gateway(self) -> Gateway:
        """A trading gateway on this venue (it cannot reach a real exchange).

        Its :attr:`~safetrade.Gateway.paper` is this venue, so ``Trader`` journals its
        refusals and outcomes here.
        """
        gateway = Gateway(self.ccxt_client())
        gateway.paper = self
        return gateway

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request of the bot: refresh prices if due, then KuCoin's rules."""
        arrival = self.clock()  # before waiting for another thread's request or refresh
        with self._api.lock:
            self.refresh_if_due()
            seen, filled = len(self._api.recorded), len(self.engine.fills)
            self._arrival = arrival
            try:
                return self._api.dispatch(request)
            finally:
                self._arrival = None
                self._after(self._api.recorded[seen:], filled)
                # the log is only needed for this request's journal entries
                del self._api.recorded[:]

    def alert_hook(self, forward: AlertHook) -> AlertHook:
        """A hook that journals each alert (protection events) and then calls ``forward``."""

        def hook(alert: Alert) -> None:
            self.journal("protection", alert.symbol, alert.event,
                         {"level": alert.level, "message": alert.message,
                          "exchange_message": alert.exchange_message})  # fmt: skip
            forward(alert)

        return hook

    def journal(
        self,
        kind: str,
        symbol: str | None,
        code: str | None,
        detail: dict[str, Any],
        *,
        by: tuple[str, str] | None = None,
    ) -> None:
        """Append one entry to the journal, stamped with the running code's digests.

        Args:
            kind: What happened (see :class:`~safetrade.paper.store.JournalEntry`).
            symbol: The market, if any.
            code: KuCoin's code, the outcome, the alert's event.
            detail: The rest.
            by: Other code's digests (a bare window that code left), default the running code.
        """
        safetrade_digest, bot_digest = by or self.digests
        with self._api.lock:
            entry = self.store.append(
                at_ms=self.clock(),
                kind=kind,
                symbol=None if symbol is None else symbol.replace("/", "-"),
                code=code,
                detail=detail,
                safetrade_digest=safetrade_digest,
                bot_digest=bot_digest,
                session=self._session,
            )
            if self._session is None:
                self._session = entry.seq

    # --- market data ----------------------------------------------------------------------

    def refresh_if_due(self) -> None:
        """Refresh the market data unless the last refresh is recent."""
        now = self.clock()
        if self._last_refresh is None or now - self._last_refresh >= self.refresh_interval_ms:
            self.refresh()

    def refresh(self) -> None:
        """Mirror KuCoin's last prices, books and candles; trigger what they cross.

        A failed read keeps the previous data (logged): the bot's requests are still
        answered, at the last known prices.
        """
        with self._api.lock:
            now = self.clock()
            self._last_refresh = now
            filled = len(self.engine.fills)
            for symbol in self._symbols:
                try:
                    self._mirror(symbol, now)
                except ExchangeError as exc:
                    log.warning("paper venue: %s kept at its last price: %s", symbol, exc)
            self._after((), filled)
            if self._last_heartbeat is None or now - self._last_heartbeat >= HEARTBEAT_MS:
                # paper time lasts until a session's last entry (safetrade.paper.summary)
                self._last_heartbeat = now
                self.journal("heartbeat", None, None, {})

    def _mirror(self, symbol: str, now: int) -> None:
        quote = self.source.quote(symbol)
        bids, asks = self.source.book(symbol)
        done = self._done_candle.get(symbol)
        since = now // 1000 - _FIRST_HISTORY_S if done is None else done
        candles = self.source.candles(symbol, since_s=since, now_s=now // 1000)
        for candle in candles:
            self.engine.history.put(symbol, candle)
        # the newest candle is still forming: its range is visited once it is complete
        completed = candles[:-1]
        if done is not None:
            # a past minute's prices: the book of that moment is gone, a generated one
            # around each price stands in for it
            self.engine.mirrored_books.pop(symbol, None)
            for candle in completed:
                if candle.time > done:
                    for price in candle.visits():
                        self.engine.visit_price(symbol, price, placed_before=candle.time * 1000)
        if completed:
            self._done_candle[symbol] = completed[-1].time
        elif done is None:
            self._done_candle[symbol] = since
        if bids or asks:
            self.engine.mirrored_books[symbol] = (bids, asks)
        self.engine.visit_price(symbol, quote.last)

    # --- records and journal --------------------------------------------------------------

    def _restore(self, saved: SavedState | None, starting_balance: Decimal) -> None:
        if saved is None:
            quote = self._symbols[0].partition("-")[2]
            self.engine.set_balance(quote, starting_balance)
            self.journal("start", None, "new",
                         {"starting_balance": str(starting_balance), "quote": quote})  # fmt: skip
            self._save({"starting_balance": str(starting_balance), "quote": quote})
            return
        self.engine.restore(
            balances=saved.balances,
            orders=saved.orders,
            stop_orders=saved.stop_orders,
            fills=saved.executions,
            sequence=saved.sequence,
        )
        counts = {"orders": len(saved.orders), "stop_orders": len(saved.stop_orders)}
        self.journal("start", None, "restored", counts)
        now = self.clock()
        for symbol in self._symbols:
            done = self.store.meta(f"candle:{symbol}")
            if done is not None:
                # replay the minutes that passed while the venue was closed
                self._done_candle[symbol] = int(done)
            text = self.store.meta(f"position:{symbol}")
            if text:
                position = PaperPosition.loads(text)
                if position.bare_since is not None and position.bare_by != self.digests:
                    # the code that left it bare owns the window up to now; from now on the
                    # running code leaves it bare
                    self._close_bare(symbol, position, now)
                    position.bare_since, position.bare_by = now, self.digests
                self._positions[symbol] = position
        stored = self.store.meta("starting_balance")
        if stored is not None and Decimal(stored) != starting_balance:
            log.warning(
                "paper account %s started with %s; ACCOUNT_BALANCE_USD now says %s (the saved "
                "account is kept; point SAFETRADE_PAPER_DB at a new file to start over)",
                self.store.path, stored, starting_balance,
            )  # fmt: skip

    def _save(self, meta: dict[str, str | None] | None = None) -> None:
        engine = self.engine
        state: dict[str, str | None] = {f"position:{s}": p.dumps()
                                        for s, p in self._positions.items()}  # fmt: skip
        state |= {f"candle:{s}": str(t) for s, t in self._done_candle.items()}
        self.store.save(
            balances=engine.balances,
            orders=engine.orders,
            stop_orders=engine.stop_orders,
            executions=engine.fills,
            sequence=engine.sequence,
            meta={**state, **(meta or {})},
        )

    def _after(self, records: Sequence[RecordedRequest], filled: int) -> None:
        for record in records:
            self._journal_request(record)
        for fill in self.engine.fills[filled:]:
            self.journal("fill", fill.symbol, fill.stop or None, {
                "order_id": fill.order_id, "side": fill.side, "price": str(fill.price),
                "size": str(fill.size), "funds": str(fill.funds), "fee": str(fill.fee),
            })  # fmt: skip
        for stop in self.engine.stop_orders.values():
            if stop.failure and stop.id not in self._failed_stops:
                # it fired but KuCoin cancelled its order (coins held by a limit sell, no
                # balance): a rejection as real as one answered to a request
                self._failed_stops.add(stop.id)
                self.journal("rejection", stop.symbol, stop.failure_code, {
                    "endpoint": "stop triggered", "msg": stop.failure, "stop_id": stop.id,
                    "stop": stop.stop, "size": str(stop.size), "stopPrice": str(stop.stop_price),
                })  # fmt: skip
        self._track_positions(filled)
        # a refresh can trigger stops without a request: save after each pass
        self._save()

    def _journal_request(self, record: RecordedRequest) -> None:
        body = record.body if isinstance(record.body, dict) else {}
        raw_symbol = body.get("symbol") or record.query.get("symbol")
        symbol = raw_symbol if isinstance(raw_symbol, str) else None
        terms = {k: str(body[k]) for k in _BODY_FIELDS if body.get(k) is not None}
        if record.endpoint == "create_order_test":
            # KuCoin's order test (POST /api/v1[/hf]/orders/test) places nothing: a bot that
            # validates before sending is doing it right, so its refusal is no rejection
            self.journal("order test", symbol, record.code,
                         {"msg": record.msg, **terms})  # fmt: skip
        elif record.code not in (None, "200000"):
            self.journal("rejection", symbol, record.code,
                         {"endpoint": record.endpoint, "msg": record.msg, **terms})  # fmt: skip
        elif record.endpoint in _ORDER_ENDPOINTS:
            self.journal("order", symbol, record.endpoint, terms)
        elif record.endpoint in _CANCEL_ENDPOINTS:
            self.journal("cancel", symbol, record.endpoint, {"path": record.path, **terms})

    def _close_bare(self, symbol: str, position: PaperPosition, now: int) -> None:
        assert position.bare_since is not None  # noqa: S101 - callers check
        self.journal("bare", symbol, None, {
            "since_ms": position.bare_since, "until_ms": now,
            "seconds": str(Decimal(now - position.bare_since) / 1000),
        }, by=position.bare_by)  # fmt: skip

    def _track_positions(self, filled: int) -> None:
        now = self.clock()
        for fill in self.engine.fills[filled:]:
            position = self._positions.get(fill.symbol)
            if position is None:
                continue
            paid = fill.funds + fill.fee if fill.side == "buy" else -(fill.funds - fill.fee)
            position.flow -= paid
            position.sold = position.sold or fill.side == "sell"
            if position.opened_at is None and fill.side == "buy":
                position.opened_at, position.opened_by = fill.created_at, self.digests
        for symbol, position in self._positions.items():
            market = self.engine.markets[symbol]
            balance = self.engine.balance(market.base)
            held = balance.total
            stops = sum(
                (s.size or ZERO for s in self.engine.waiting(symbol)
                 if s.side == "sell" and s.stop == "loss"),
                ZERO,
            )  # fmt: skip
            # a stop-loss sells only coins no order holds: under a resting take-profit limit it
            # fires into "Balance insufficient!" and is cancelled, so those coins are bare
            covered = min(stops, balance.available)
            bare = held - covered >= market.base_min_size
            if bare and position.bare_since is None:
                position.bare_since, position.bare_by = now, self.digests
                # in the hash chain too: read_summary takes an open window from the journal,
                # not from the state tables an edit could clear unseen
                self.journal("bare_open", symbol, None, {"since_ms": now})
            elif not bare and position.bare_since is not None:
                self._close_bare(symbol, position, now)
                position.bare_since = None
            if held < market.base_min_size and position.opened_at is not None and position.sold:
                # a round trip: bought, then sold down to dust (a buy that filled only dust
                # is not one: nothing was sold)
                self.journal("round_trip", symbol, None, {
                    "opened_ms": position.opened_at, "closed_ms": now,
                    "pnl": str(position.flow), "quote": market.quote,
                    "opened_by": list(position.opened_by or self.digests),
                })  # fmt: skip
                position.opened_at, position.flow, position.sold = None, ZERO, False

    def balance(self, currency: str) -> Balance:
        """The paper account's balance of ``currency``."""
        with self._api.lock:
            return self.engine.balance(currency)

    def close(self) -> None:
        """Save, journal the end of this session and close the database."""
        with self._api.lock:
            self._save()
            self.journal("stop", None, None, {})
            self.store.close()


def _symbols_in_use(saved: SavedState | None) -> set[str]:
    """Markets on which a saved account still has resting orders, waiting stops or coins."""
    if saved is None:
        return set()
    used = {o.symbol for o in saved.orders if o.is_active}
    used |= {s.symbol for s in saved.stop_orders if s.status == "NEW"}
    held = {c for c, b in saved.balances.items() if b.total > 0}
    # a coin is in use on a market only if some order of the account traded it there
    used |= {o.symbol for o in saved.orders if o.symbol.partition("-")[0] in held}
    return used
