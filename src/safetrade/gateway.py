"""The only module that talks to ccxt: typed values in, typed values out.

Everything ccxt returns is converted here, once: floats become Decimals through ``str()``,
dicts become :class:`OrderStatus` values, and ccxt's exceptions become safetrade errors that
keep the exchange's own code and message (KuCoin's ``400100 Price increment invalid.`` stays
readable in logs and alerts). ccxt is imported lazily, inside :meth:`Gateway.kucoin`, so
``import safetrade`` stays fast.

Idempotency: every order carries a ``clientOid``. When a call fails in a way that leaves the
outcome unknown (timeout, 5xx, lost response), :meth:`Gateway.ensure_submitted_unguarded` first
asks the exchange for that ``clientOid`` and only sends the order if the exchange has never seen
it, so a retry can never double a position or a protective order.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from safetrade._decimal import to_decimal
from safetrade.builder import OrderIntent, OrderPurpose
from safetrade.errors import (
    AuthenticationFailed,
    CertificationError,
    ExchangeError,
    ExchangeUnavailable,
    InvalidValue,
    OrderNotFound,
    OrderRejected,
)
from safetrade.market import MarketSpec
from safetrade.wire import to_ccxt

if TYPE_CHECKING:
    from safetrade.certification.gate import CertifiedRun
    from safetrade.config import Settings
    from safetrade.paper import PaperVenue, PublicKucoin

__all__ = ["Gateway", "OrderStatus", "Prices"]

log = logging.getLogger("safetrade.gateway")

_EXCHANGE_BODY = re.compile(r"\{.*\}", re.DOTALL)


@attrs.frozen(kw_only=True)
class Prices:
    """A market's ticker: the last trade and the best bid and ask (None: that side is empty).

    Attributes:
        last: Last traded price (positive).
        bid: Best bid: what a market sell gets first.
        ask: Best ask: what a market buy pays first.
    """

    last: Decimal
    bid: Decimal | None
    ask: Decimal | None


@attrs.frozen(kw_only=True)
class OrderStatus:
    """An order as the exchange reports it.

    Attributes:
        order_id: The exchange's id.
        client_oid: Our idempotency key, if the exchange echoes it.
        symbol: Unified symbol.
        side: ``"buy"`` or ``"sell"``.
        order_type: ``"market"`` or ``"limit"``.
        status: ccxt's unified status (``open``, ``closed``, ``canceled``, ...), or ``None``.
        amount: Ordered base amount, if known.
        filled: Filled base amount.
        average: Average fill price, if anything filled.
        trigger_price: Stop price of a stop order.
        trigger: KuCoin's ``stop`` kind (``loss``/``entry``) for stop orders.
    """

    order_id: str
    client_oid: str | None
    symbol: str
    side: str | None
    order_type: str | None
    status: str | None
    amount: Decimal | None
    filled: Decimal
    average: Decimal | None
    trigger_price: Decimal | None
    trigger: str | None


# whose request pipelines answer in-process: the fake KuCoin's and the paper venue's
_LOCAL_ENGINES = frozenset({"safetrade.testing._routes", "safetrade.paper.venue"})


def _reaches_only_the_fake(adapter: object) -> bool:
    """An in-process bridge whose transport is the fake KuCoin's own request pipeline.

    ``session_over`` can wrap any httpx transport (a real one too), so the adapter's module is
    not enough: its transport must be a MockTransport answering with the fake's dispatcher.
    """
    transport = getattr(adapter, "_transport", None)
    handler = getattr(transport, "handler", None)
    owner = getattr(handler, "__self__", None)
    return (
        type(adapter).__module__ == "safetrade.testing.bridge"
        and type(transport).__name__ == "MockTransport"
        and type(owner).__module__ in _LOCAL_ENGINES
    )


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# newest done orders read when a clientOid lookup misses; the order just sent is the newest
_DONE_PAGE = 100
_DONE_PAGES = 5  # classic pages of done orders read before giving up (500 orders)


def _system_clock() -> datetime:
    return datetime.now(UTC)


def _dec(value: object, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    # ccxt hands out floats; str() yields the short form KuCoin sent, Decimal keeps it exact
    return to_decimal(str(value) if isinstance(value, float) else value, what)


def _status_from_ccxt(order: Mapping[str, Any]) -> OrderStatus:
    info = order.get("info") or {}
    trigger = info.get("stop") or None
    # ccxt reports triggerPrice 0.0 for plain orders (KuCoin sends stopPrice "0"): no trigger
    trigger_price = _dec(order.get("triggerPrice") or order.get("stopPrice"), "trigger price")
    return OrderStatus(
        order_id=str(order["id"]),
        client_oid=order.get("clientOrderId") or info.get("clientOid"),
        symbol=str(order.get("symbol")),
        side=order.get("side"),
        order_type=order.get("type"),
        status=order.get("status"),
        amount=_dec(order.get("amount"), "order amount"),
        filled=_dec(order.get("filled"), "filled amount") or Decimal(0),
        average=_dec(order.get("average"), "average price"),
        trigger_price=trigger_price if trigger_price else None,
        trigger=trigger if trigger in ("loss", "entry") else None,
    )


def _exchange_detail(exc: BaseException) -> tuple[str | None, str]:
    """Extract KuCoin's ``code`` and ``msg`` from a ccxt exception's text."""
    text = str(exc)
    match = _EXCHANGE_BODY.search(text)
    if match:
        try:
            body = json.loads(match.group(0))
        except ValueError:
            body = None
        if isinstance(body, dict):
            code = body.get("code")
            return (None if code is None else str(code)), str(body.get("msg") or text)
    return None, text


_SECRET_HEADERS = ("KC-API-KEY", "KC-API-SIGN", "KC-API-PASSPHRASE")


class _RedactCcxtHeaders(logging.Filter):
    """Redact KuCoin's key, signature and passphrase from ccxt's DEBUG request log.

    ccxt logs every request's headers at DEBUG; a bot that turns DEBUG logging on must not
    write its credentials to its log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], Mapping):
            headers = {
                k: "***" if str(k).upper() in _SECRET_HEADERS else v for k, v in args[2].items()
            }
            record.args = (*args[:2], headers, *args[3:])
        return True


_REDACT = _RedactCcxtHeaders()


class Gateway:
    """Typed access to one ccxt exchange instance.

    Args:
        exchange: A constructed ccxt exchange (``ccxt.kucoin(...)``). The caller owns its
            configuration, including the HTTP session; tests point it at the fake KuCoin.
        read_only: Refuse every order and cancel before it is sent.
        certified: The certification this gateway trades under (:meth:`kucoin` sets it):
            its expiry is checked again before every order is sent.
        clock: The current time for that check (timezone-aware); the system clock by default.
    """

    def __init__(
        self,
        exchange: Any,  # noqa: ANN401 - ccxt is untyped
        *,
        read_only: bool = False,
        certified: CertifiedRun | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._exchange = exchange
        self._certified = certified
        self._clock = clock if clock is not None else _system_clock
        logger = getattr(exchange, "logger", None)
        if isinstance(logger, logging.Logger) and _REDACT not in logger.filters:
            logger.addFilter(_REDACT)
        self._errors = _ccxt_errors()
        self._markets_loaded = False
        self._read_only = read_only
        # the paper venue this gateway trades on (Gateway.for_settings in paper mode)
        self.paper: PaperVenue | None = None

    @classmethod
    def kucoin(
        cls,
        *,
        api_key: str,
        api_secret: str,
        api_passphrase: str,
        certified: CertifiedRun | None,
        options: Mapping[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Gateway:
        """A gateway over a real ``ccxt.kucoin`` client (real money) with rate limiting on.

        Args:
            api_key: KuCoin API key.
            api_secret: Its secret.
            api_passphrase: Its passphrase.
            certified: What :func:`safetrade.certification.require_valid` returned for the
                bot about to trade. ``None`` builds a **read-only** gateway (balances,
                markets, prices; preflight): every order and cancel is refused before it is
                sent. There is no default, so trading on KuCoin cannot start by accident
                without the certification gate. Its expiry is checked again before every
                entry: a bot still running when the certification expires opens nothing more
                (its stop-losses, take-profits and flattening orders still go out).
            options: Extra ccxt constructor settings.
            clock: The current time for the expiry checks (timezone-aware; tests); the
                system clock by default.

        Raises:
            CertificationError: ``certified`` is not a run the gate issued, or it expired.
        """
        now = clock if clock is not None else _system_clock
        if certified is not None:
            certified.ensure_current(now())
        import ccxt  # noqa: PLC0415 - keep `import safetrade` free of ccxt

        config: dict[str, Any] = {
            "apiKey": api_key,
            "secret": api_secret,
            "password": api_passphrase,
            "enableRateLimit": True,
        }
        config.update(options or {})
        return cls(ccxt.kucoin(config), read_only=certified is None, certified=certified, clock=now)

    @classmethod
    def for_settings(
        cls,
        settings: Settings,
        *,
        symbol: str,
        bot_package: str,
        certified: CertifiedRun | None,
        paper_source: PublicKucoin | None = None,
    ) -> Gateway:
        """The gateway these settings call for: the one obvious way to build it.

        Live mode: KuCoin with the settings' keys, trading only with the ``certified`` run
        :func:`~safetrade.certification.require_valid` returned (None: read-only). Paper mode:
        the local paper venue (:class:`safetrade.paper.PaperVenue`, its state in
        ``SAFETRADE_PAPER_DB``; :attr:`paper` is it); the keys are not used and nothing is
        signed for KuCoin.

        Args:
            settings: Validated settings.
            symbol: The market the bot trades (the paper venue mirrors it).
            bot_package: The bot's importable package (paper evidence is stamped with its
                digest).
            certified: Live mode's certification, or None.
            paper_source: Paper mode's public market data; default
                ``SAFETRADE_PAPER_MARKET_DATA_URL``, else KuCoin's.

        Raises:
            CertificationError: ``certified`` is not a run the gate issued, or it expired.
            ConfigError: The paper venue cannot be opened (see ``PaperVenue.open``).
            ExchangeError: Paper mode cannot read KuCoin's public market data.
        """
        if settings.is_live:
            return cls.kucoin(
                api_key=settings.api_key or "",
                api_secret=settings.api_secret or "",
                api_passphrase=settings.api_passphrase or "",
                certified=certified,
            )
        from safetrade.paper import PaperVenue  # noqa: PLC0415 - paper mode only

        venue = PaperVenue.open(
            settings, symbols=[symbol], bot_package=bot_package, source=paper_source
        )
        return venue.gateway()

    @property
    def read_only(self) -> bool:
        """Whether every order and cancel is refused before it is sent."""
        return self._read_only

    def can_trade_real_money(self) -> bool:
        """Whether orders sent here could reach a real exchange.

        False for a read-only gateway, for a client whose HTTP goes in-process to the fake
        KuCoin (``FakeKucoin.ccxt_client``), and for one whose every API host is loopback
        (a served fake). Paper mode refuses any other gateway.
        """
        return not self._read_only and self.reaches_real_exchange()

    def reaches_real_exchange(self) -> bool:
        """Whether requests sent here could reach a real exchange, orders or not.

        A read-only gateway over a real ``ccxt.kucoin`` sends no order, but it still signs
        balance and order reads with the owner's keys and sends them to KuCoin: paper mode
        refuses that too. False for the in-process fake or paper venue and for loopback hosts.
        """
        session = getattr(self._exchange, "session", None)
        adapters = getattr(session, "adapters", {}) or {}
        if adapters and all(_reaches_only_the_fake(a) for a in adapters.values()):
            return False
        urls = getattr(self._exchange, "urls", {}).get("api", {})
        hosts = [urlsplit(str(u)).hostname for u in urls.values()] if isinstance(urls, dict) else []
        return not hosts or not all(h in _LOOPBACK for h in hosts)

    @property
    def exchange(self) -> Any:  # noqa: ANN401 - ccxt is untyped
        """The wrapped ccxt instance (for reading, e.g. its id)."""
        return self._exchange

    # -- market data -------------------------------------------------------------------

    def load_market(self, symbol: str, *, reload: bool = False) -> MarketSpec:
        """The market's increments and limits, from the exchange.

        Args:
            symbol: Unified symbol, e.g. ``"SOL/USDT"``.
            reload: Fetch markets again (after a rejection that may mean they changed).
        """
        with self._translate(f"loading market {symbol}"):
            if reload or not self._markets_loaded:
                self._exchange.load_markets(reload=reload)
                self._markets_loaded = True
            market = self._exchange.market(symbol)
        return MarketSpec.from_ccxt(market, precision_mode=self._exchange.precisionMode)

    def free_balance(self, currency: str) -> Decimal:
        """Free (available) balance of ``currency`` as the exchange reports it."""
        return self._balance(currency, "free")

    def total_balance(self, currency: str) -> Decimal:
        """Everything held of ``currency``: free plus what resting orders hold."""
        return self._balance(currency, "total")

    def _balance(self, currency: str, kind: str) -> Decimal:
        with self._translate(f"fetching the {currency} balance"):
            balance = self._exchange.fetch_balance()
        return _dec((balance.get(currency) or {}).get(kind), f"{kind} {currency}") or Decimal(0)

    def last_price(self, symbol: str) -> Decimal:
        """Last traded price of ``symbol``."""
        return self._last(self._ticker(symbol), symbol)

    def prices(self, symbol: str) -> Prices:
        """Last traded price and best bid and ask of ``symbol`` (one ticker request).

        A bid or ask that is missing, zero or not a number is None (no price to trade at).
        """
        ticker = self._ticker(symbol)
        last = self._last(ticker, symbol)

        def side(key: str) -> Decimal | None:
            try:
                value = _dec(ticker.get(key), f"{symbol} {key}")
            except InvalidValue:
                return None
            return value if value is not None and value > 0 else None

        return Prices(last=last, bid=side("bid"), ask=side("ask"))

    def _ticker(self, symbol: str) -> Mapping[str, Any]:
        with self._translate(f"fetching the {symbol} ticker"):
            ticker: Mapping[str, Any] = self._exchange.fetch_ticker(symbol)
        return ticker

    @staticmethod
    def _last(ticker: Mapping[str, Any], symbol: str) -> Decimal:
        last = _dec(ticker.get("last"), f"{symbol} last price")
        if last is None or last <= 0:
            raise ExchangeError(
                f"{symbol} has no usable last price ({last})",
                fix=f"check that {symbol} is the market you mean and has traded; nothing is "
                "sized or sent without a reference price",
            )
        return last

    # -- orders ------------------------------------------------------------------------

    def submit_unguarded(self, intent: OrderIntent) -> OrderStatus:
        """Send ``intent`` once, **without any pre-trade check**; returns what was acknowledged.

        The name says it: nothing here asks the guard. Entries go through
        :func:`safetrade.execute_entry` (which needs the guard's Decision); protective orders
        through the :class:`safetrade.Protector`. Those two are the only callers in safetrade.

        Raises:
            ExchangeUnavailable: The outcome is unknown (timeout, 5xx, 429, lost response);
                call :meth:`ensure_submitted_unguarded` with the same intent to retry safely.
            OrderRejected: The exchange refused the order (its message is kept).
            CertificationError: The gateway is read-only, or (for an entry) its certification
                has expired since it was built (nothing is sent). Protective orders are sent
                after expiry too: refusing them would leave held coins bare.
        """
        self._refuse_if_read_only(f"sending {intent.describe()}")
        if intent.purpose is OrderPurpose.ENTRY:
            # only new risk stops at expiry: a stop-loss, take-profit or flatten protecting
            # coins already held must always go out (an expiry must never leave them bare)
            self._refuse_if_expired(f"sending {intent.describe()}")
        call = to_ccxt(intent)
        log.info("sending %s (clientOid %s)", intent.describe(), intent.client_oid)
        with self._translate(f"sending {intent.describe()}", order=True):
            result = self._exchange.create_order(*call.args())
        return OrderStatus(
            order_id=str(result["id"]),
            client_oid=intent.client_oid,
            symbol=intent.symbol,
            side=intent.side,
            order_type=intent.order_type,
            status=result.get("status"),
            amount=intent.amount,
            filled=Decimal(0),
            average=None,
            trigger_price=intent.trigger_price,
            trigger=intent.trigger,
        )

    def ensure_submitted_unguarded(self, intent: OrderIntent) -> OrderStatus:
        """Send ``intent`` unless the exchange already has an order with its ``clientOid``.

        Call it after an attempt whose outcome is unknown: the order may be live.

        Raises:
            ExchangeUnavailable: The outcome is still unknown: the look-up failed (however the
                exchange refused it: a lookup says nothing about the order sent), or the
                exchange refused the clientOid as one it knows (the earlier attempt is live).
                Retry with the same intent.
            ExchangeError: The exchange has no order of that clientOid and refused this one:
                nothing was placed.
        """
        try:
            existing = self.find(intent)
        except ExchangeUnavailable:
            raise
        except ExchangeError as exc:
            raise _still_unknown(intent, "looking it up failed", exc) from exc
        if existing is not None:
            log.warning(
                "order %s already on the exchange as %s; not sending it again",
                intent.client_oid,
                existing.order_id,
            )
            return existing
        try:
            return self.submit_unguarded(intent)
        except ExchangeUnavailable:
            raise
        except ExchangeError as exc:
            if _DUPLICATE_OID in exc.exchange_message.replace(" ", "").lower():
                # classic 400100 validation.createOrder.clientOidDuplicated, HF 126044
                # "clientOid duplicate": the earlier attempt is there, whatever the look-up said
                raise _still_unknown(intent, "the exchange knows its clientOid", exc) from exc
            raise

    def find(self, intent: OrderIntent) -> OrderStatus | None:
        """The exchange's order with ``intent``'s ``clientOid``, or ``None`` if it has none.

        KuCoin's lookup by clientOid differs by account type: on a classic account it sees only
        *active* orders (a market order that filled before its response was lost is "not
        exist"), on an HF account done orders too. So a miss there is checked against the
        newest done orders before the caller may send again; a classic account's done list
        (``GET /api/v1/orders?status=done``) carries each order's clientOid.
        """
        if intent.is_stop_order:
            # untriggered stop orders are listed; that is the state a lost response leaves
            for order in self.open_stop_orders(intent.symbol):
                if order.client_oid == intent.client_oid:
                    return order
            # a stop that triggered meanwhile is a regular order with the stop's clientOid
            # (sending the stop again would sell twice)
        try:
            with self._translate(f"looking up order {intent.client_oid}"):
                order = self._exchange.fetch_order(
                    None, intent.symbol, {"clientOrderId": intent.client_oid}
                )
        except OrderNotFound:
            return self._find_done(intent)
        return _status_from_ccxt(order)

    def _find_done(self, intent: OrderIntent) -> OrderStatus | None:
        # newest first: the order just sent is on the first page unless other orders on the
        # symbol finished meanwhile (another bot on the key), so a full page reads the next
        for page in range(1, _DONE_PAGES + 1):
            with self._translate(f"looking up order {intent.client_oid} among done orders"):
                done = self._exchange.fetch_closed_orders(
                    intent.symbol, None, _DONE_PAGE, {"currentPage": page}
                )
            for order in done:
                status = _status_from_ccxt(order)
                if status.client_oid == intent.client_oid:
                    return status
            if len(done) < _DONE_PAGE:
                return None
        return None

    def fetch_order(self, order_id: str, symbol: str, *, stop: bool = False) -> OrderStatus:
        """Current state of an order (``stop=True`` for stop orders)."""
        params = {"stop": True} if stop else {}
        with self._translate(f"fetching order {order_id}"):
            order = self._exchange.fetch_order(order_id, symbol, params)
        return _status_from_ccxt(order)

    def order_fills(self, order_id: str, symbol: str) -> tuple[Decimal, Decimal | None]:
        """Filled amount and average price of an order, from the exchange's fills (trades).

        The fallback when the order itself cannot be read (KuCoin's ``order not exist.`` race
        right after create, a busy system): a fill is a fill, whatever the order endpoint says.
        """
        with self._translate(f"reading the fills of order {order_id}"):
            trades = self._exchange.fetch_my_trades(symbol, None, None, {"orderId": order_id})
        amount, cost = Decimal(0), Decimal(0)
        for trade in trades:
            if str(trade.get("order")) != order_id:
                continue
            size = _dec(trade.get("amount"), "fill amount") or Decimal(0)
            price = _dec(trade.get("price"), "fill price") or Decimal(0)
            amount += size
            cost += size * price
        return amount, (cost / amount if amount else None)

    def open_stop_orders(self, symbol: str) -> list[OrderStatus]:
        """Untriggered stop orders on ``symbol``, read back from the exchange."""
        with self._translate(f"listing stop orders on {symbol}"):
            orders = self._exchange.fetch_open_orders(symbol, None, None, {"stop": True})
        return [_status_from_ccxt(o) for o in orders]

    def cancel(self, order_id: str, symbol: str, *, stop: bool = False) -> None:
        """Cancel an order; an order that is already gone counts as cancelled."""
        self._refuse_if_read_only(f"cancelling order {order_id}")
        params = {"stop": True} if stop else {}
        try:
            with self._translate(f"cancelling order {order_id}"):
                self._exchange.cancel_order(order_id, symbol, params)
        except OrderNotFound:
            log.info("order %s was already gone when cancelling", order_id)

    def _refuse_if_read_only(self, what: str) -> None:
        if self._read_only:
            raise CertificationError(
                [f"{what}: this KuCoin gateway is read-only (built with certified=None)"],
                fix="in live mode call safetrade.certification.require_valid(...) and pass what "
                "it returns as Gateway.kucoin(..., certified=run); paper mode never trades on "
                "the real exchange",
            )

    def _refuse_if_expired(self, what: str) -> None:
        # a bot started before its certification expired must not trade on after it; only
        # the expiry is checked here: re-measuring the code at every order would cost too much
        if self._certified is None:
            return
        try:
            self._certified.ensure_current(self._clock())
        except CertificationError as exc:
            log.critical("%s refused: %s", what, "; ".join(exc.problems))
            raise CertificationError(
                [f"{what}: {problem}" for problem in exc.problems], fix=exc.fix
            ) from None

    def cancel_by_client_oid(self, client_oid: str, symbol: str, *, stop: bool = False) -> None:
        """Cancel an order by its clientOid (one whose id never reached us); gone counts too."""
        self._refuse_if_read_only(f"cancelling order {client_oid}")
        params: dict[str, object] = {"clientOid": client_oid}
        if stop:
            params["stop"] = True
        try:
            with self._translate(f"cancelling order {client_oid}"):
                self._exchange.cancel_order(None, symbol, params)
        except OrderNotFound:
            log.info("order %s was already gone when cancelling", client_oid)

    # -- error translation -------------------------------------------------------------

    @contextmanager
    def _translate(self, what: str, *, order: bool = False) -> Iterator[None]:
        errors = self._errors
        try:
            yield
        except errors["AuthenticationError"] as exc:
            code, msg = _exchange_detail(exc)
            raise AuthenticationFailed(
                f"{what} failed: authentication refused",
                exchange_code=code,
                exchange_message=msg,
                fix="check KUCOIN_API_KEY, KUCOIN_API_SECRET and KUCOIN_API_PASSPHRASE",
            ) from exc
        except errors["OrderNotFound"] as exc:
            code, msg = _exchange_detail(exc)
            raise OrderNotFound(
                f"{what}: unknown order", exchange_code=code, exchange_message=msg
            ) from exc
        except errors["InvalidNonce"] as exc:
            # KuCoin's 400002 "Invalid KC-API-TIMESTAMP": the request was refused unprocessed,
            # and every signed request will be until the clocks agree again (ccxt counts it a
            # network error: retryable, so it is one; the fix is the clock, not a retry)
            code, msg = _exchange_detail(exc)
            raise ExchangeUnavailable(
                f"{what}: refused, this machine's clock differs from KuCoin's",
                exchange_code=code,
                exchange_message=msg,
                fix="synchronise the clock (NTP: e.g. `timedatectl set-ntp true`), then retry "
                "with the same clientOid (Gateway.ensure_submitted_unguarded)",
            ) from exc
        except errors["NetworkError"] as exc:
            code, msg = _exchange_detail(exc)
            raise ExchangeUnavailable(
                f"{what}: outcome unknown ({type(exc).__name__})",
                exchange_code=code,
                exchange_message=msg,
                fix="retry with the same clientOid (Gateway.ensure_submitted_unguarded)",
            ) from exc
        except errors["ExchangeError"] as exc:
            code, msg = _exchange_detail(exc)
            kind = OrderRejected if order else ExchangeError
            raise kind(
                f"{what}: refused by the exchange",
                exchange_code=code,
                exchange_message=msg,
                fix="correct the request; the exchange's message says what it did not accept",
            ) from exc
        except errors["BaseError"] as exc:
            code, msg = _exchange_detail(exc)
            raise ExchangeError(
                f"{what} failed ({type(exc).__name__})", exchange_code=code, exchange_message=msg
            ) from exc
        except InvalidValue as exc:
            raise ExchangeError(f"{what}: the exchange returned an unusable value: {exc}") from exc


def _ccxt_errors() -> dict[str, type[BaseException]]:
    import ccxt  # noqa: PLC0415 - only a live gateway needs ccxt

    names = (
        "AuthenticationError",
        "OrderNotFound",
        "InvalidNonce",
        "NetworkError",
        "ExchangeError",
        "BaseError",
    )
    return {name: getattr(ccxt, name) for name in names}


_DUPLICATE_OID = "clientoidduplicate"


def _still_unknown(intent: OrderIntent, why: str, exc: ExchangeError) -> ExchangeUnavailable:
    return ExchangeUnavailable(
        f"order {intent.client_oid} after an unanswered attempt: {why}; it may be live",
        exchange_code=exc.exchange_code,
        exchange_message=exc.exchange_message,
        fix="retry with the same clientOid (Gateway.ensure_submitted_unguarded); never send "
        "it under a new one while it may be live",
    )
