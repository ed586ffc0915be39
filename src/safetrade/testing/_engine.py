"""The matching engine of the fake: balances, order placement, fills, stop triggers.

Everything is Decimal and deterministic: ids come from one counter, time from the injected clock.
Money rules (fees, holds, partial fills) are documented on :class:`safetrade.testing.FakeKucoin`.
"""

from __future__ import annotations

import heapq
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import attrs

from safetrade.testing._market_data import (
    BookShape,
    Candle,
    CandleHistory,
    Level,
    PricePath,
    book,
    walk,
)
from safetrade.testing._rules import MarketRules
from safetrade.testing._state import (
    ZERO,
    Balance,
    Execution,
    FillPolicy,
    Order,
    StopOrder,
    order_sequence,
)
from safetrade.testing._wire import (
    BALANCE_INSUFFICIENT,
    CLASSIC_DUPLICATE_CLIENT_OID,
    DUPLICATE_CLIENT_OID,
    FUNDS_BELOW_MIN,
    PRICE_OUT_OF_RANGE,
    TOO_MANY_ORDERS,
    UNSUPPORTED_PAIR,
    KucoinError,
    Rejection,
    market_funds_below_min,
    no_market_price,
    parameter_error,
    parse_decimal,
)

_CLIENT_OID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# KuCoin's time-in-force strategies (place-order docs, classic and HF; kucoin-evidence 4.4)
TIME_IN_FORCE = ("GTC", "GTT", "IOC", "FOK")
# the only real text for a bad value: {"msg":"unknown timeInForce","code":"400100"} (JKorf/
# Kucoin.Net issue 230, 2024; kucoin-evidence 4.4). ccxt raises BadRequest for it.
UNKNOWN_TIME_IN_FORCE = Rejection("400100", "unknown timeInForce")
# remark limits: classic "length cannot exceed 100 utf8 characters" (place order, stop order),
# HF "cannot exceed 20 characters (ASCII)" (kucoin-evidence 4.3)
CLASSIC_REMARK_MAX = 100
HF_REMARK_MAX = 20
MAX_ACTIVE_ORDERS = 200  # per pair, KuCoin docs
MAX_STOP_ORDERS = 20  # untriggered per pair, KuCoin docs
# cancelAfter "-1 means it will not be cancelled automatically, the default value is -1"
# (docs-new Add Order, https://www.kucoin.com/docs-new/api-3470188; kucoin-universal-sdk 1.3.2
# model_add_order_req.py); order views show 0 for orders that do not expire (every GTC
# sample: "cancelAfter": 0) and -1 for stop orders (stop-order samples)
NO_CANCEL_AFTER = -1
# ledger business types (bizType) the fake produces: KuCoin's own query values (classic "Get
# Account Ledgers" bizType: TRANSFER, TRADE_EXCHANGE, ...; HF ledgers: "TRANSFER-transfer funds,
# TRADE_EXCHANGE-Trade"); ccxt maps them to 'transfer' and 'trade'
TRADE_EXCHANGE = "TRADE_EXCHANGE"
TRANSFER = "TRANSFER"


@attrs.frozen
class LedgerEntry:
    """One change of an account balance, as KuCoin's account ledgers list it.

    Holds are not balance changes (KuCoin's ledgers list "transfer (in and out) records", HF
    ledger docs); a trade is two entries, one per currency, and ``amount`` includes the fee on
    the paying side ("The total amount of assets (fees included) involved in assets changes",
    classic Get Account Ledgers) while the receiving side gets the amount net of the fee (HF
    ledger sample: amount 1.59760080, fee 0.00159920, direction in).

    Attributes:
        seq: The entry's own sequence number (its id; HF paging's ``lastId`` refers to it).
        currency: The currency whose balance changed.
        amount: Size of the change (positive; ``direction`` says which way).
        fee: The fee included in the change.
        balance: The currency's total balance (available + holds) after the change.
        biz_type: ``TRADE_EXCHANGE`` or ``TRANSFER``.
        direction: ``in`` or ``out``.
        created_at: Epoch ms.
        fill: The execution behind a ``TRADE_EXCHANGE`` entry.
    """

    seq: int
    currency: str
    amount: Decimal
    fee: Decimal
    balance: Decimal
    biz_type: str
    direction: str
    created_at: int
    fill: Execution | None = None

    def context(self, *, hf: bool) -> str:
        """KuCoin's ``context``: the trade's symbol, order id and trade id, else ``""``.

        "If the bizType is TRADE_EXCHANGE, the context field will include additional transaction
        information (order id, transaction id, and trading pair)" (HF ledger docs); classic
        sample: ``"context": ""`` for a transfer. HF trade ids are the fill's number (HF fills).
        """
        if self.fill is None:
            return ""
        trade_id = str(self.fill.seq) if hf else self.fill.trade_id
        return json.dumps(
            {"symbol": self.fill.symbol, "orderId": self.fill.order_id, "tradeId": trade_id},
            separators=(",", ":"),
        )


class Engine:
    """Exchange state plus the rules that change it. Not thread-safe: the caller locks."""

    def __init__(
        self,
        markets: Iterable[MarketRules],
        clock: Callable[[], int],
        fill_policy: FillPolicy,
    ) -> None:
        self.markets: dict[str, MarketRules] = {m.symbol: m for m in markets}
        self.clock = clock
        self.fill_policy = fill_policy
        self.balances: dict[str, Balance] = {}
        self.prices: dict[str, Decimal] = {}
        self.price_range: dict[str, tuple[Decimal, Decimal]] = {}
        self.orders: dict[str, Order] = {}
        self.stop_orders: dict[str, StopOrder] = {}
        self.fills: list[Execution] = []
        # every regular order ever stored under a clientOid, oldest first (a triggered stop's
        # order shares its stop's clientOid)
        self._by_client_oid: dict[str, list[Order]] = {}
        self._stops_by_client_oid: dict[str, list[StopOrder]] = {}
        self._fills_by_order: dict[str, list[Execution]] = {}
        # per symbol: resting (active) regular orders and untriggered stops, by id, oldest
        # first; so price moves and open-order lists never scan the whole history
        self._resting: dict[str, dict[str, Order]] = {}
        self._waiting: dict[str, dict[str, StopOrder]] = {}
        self._seq = 0
        self.book_shape = BookShape()
        self.history = CandleHistory()
        # trade tape per symbol, newest last: (sequence, price, size, taker side, time in ms)
        self.tape: dict[str, deque[tuple[int, Decimal, Decimal, str, int]]] = {}
        self.volume: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (size, funds)
        self.paths: dict[str, deque[Candle]] = {}
        self.path_slots: dict[str, tuple[int, int]] = {}  # symbol -> (interval, last slot)
        self.tape_sequence = 0
        # a paper venue's books mirrored from KuCoin (bids, asks, best first); a symbol
        # without one gets the generated book
        self.mirrored_books: dict[str, tuple[list[Level], list[Level]]] = {}
        self._placed_before: int | None = None  # see visit_price
        # test orders answered so far: their ids have their own counter, so the ids of real
        # orders, stops and fills are the same whether or not a bot sent test orders first
        self._tested = 0
        # GTT orders (their cancelAfter is on the record: Order.cancel_after; a stop's applies
        # to the order it becomes): a heap of (deadline ms, order id) to expire them in order
        self._deadlines: list[tuple[int, str]] = []
        # account ledgers, oldest first; ids from their own counter, like test orders
        self.ledger: list[LedgerEntry] = []
        self._ledger_seq = 0

    # --- ids, lookups --------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def market(self, symbol: object) -> MarketRules:
        """Return the rules of ``symbol`` (KuCoin form) or reject it like KuCoin."""
        if not isinstance(symbol, str) or symbol not in self.markets:
            raise UNSUPPORTED_PAIR.error()
        return self.markets[symbol]

    def balance(self, currency: str) -> Balance:
        """Return the balance of ``currency`` (zero when never touched)."""
        return self.balances.get(currency, Balance(ZERO))

    def _change(self, currency: str, available: Decimal = ZERO, holds: Decimal = ZERO) -> None:
        old = self.balance(currency)
        self.balances[currency] = Balance(old.available + available, old.holds + holds)

    # --- public state changes ---------------------------------------------------------------

    def set_balance(self, currency: str, available: Decimal) -> None:
        """Set the available balance; holds stay as they are.

        The change is the account ledger's ``TRANSFER`` in (or out): money reaches KuCoin's
        trade account by a transfer from the main account, where deposits land ("users can
        transfer funds between their main account, trading account, and high-frequency trading
        account", HF docs, Internal Funds Transfers), so that is the entry a bot's
        ``fetch_ledger`` sees for the funds a test or the paper venue starts with.
        """
        old = self.balance(currency)
        self.balances[currency] = Balance(available, old.holds)
        change = available - old.available
        if change:
            direction = "in" if change > 0 else "out"
            self._book(currency, abs(change), ZERO, TRANSFER, direction=direction)

    def _book(
        self,
        currency: str,
        amount: Decimal,
        fee: Decimal,
        biz_type: str,
        *,
        direction: str,
        fill: Execution | None = None,
    ) -> None:
        """Append a ledger entry for a change already applied to ``currency``'s balance."""
        self._ledger_seq += 1
        self.ledger.append(
            LedgerEntry(
                seq=self._ledger_seq,
                currency=currency,
                amount=amount,
                fee=fee,
                balance=self.balance(currency).total,
                biz_type=biz_type,
                direction=direction,
                created_at=self.clock(),
                fill=fill,
            )
        )

    # --- GTT expiry ---------------------------------------------------------------------------

    def expire_due(self, at: int | None = None) -> None:
        """Cancel every GTT order whose ``cancelAfter`` has run out by ``at`` (default: now).

        "GTT Good Till Time orders remain open on the book until canceled or the allotted
        cancelAfter is depleted on the matching engine. GTT orders are guaranteed to cancel
        before any other order is processed after the cancelAfter seconds placed in order
        book" (classic docs, Place a new order, TIME IN FORCE, https://docs.kucoin.com/#place-
        a-new-order). The fake has no background thread, so this runs first wherever time can
        have passed: every request (the pipeline), every price move, every placement. The order
        is cancelled at its deadline (``updated_at``), earliest first, holds released.
        """
        now = self.clock() if at is None else at
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, order_id = heapq.heappop(self._deadlines)
            order = self.orders.get(order_id)
            if order is None or not order.is_active:
                continue  # filled or cancelled before its time ran out
            self._release(order)
            order.is_active, order.cancel_exist = False, True
            order.updated_at = deadline
            self._resting.get(order.symbol, {}).pop(order.id, None)

    def _schedule(self, order: Order, cancel_after: int) -> None:
        """Remember a GTT order's cancelAfter; a resting one expires at created_at + it."""
        if order.time_in_force != "GTT" or cancel_after == NO_CANCEL_AFTER:
            return
        order.cancel_after = cancel_after
        self._queue_expiry(order)

    def _queue_expiry(self, order: Order) -> None:
        if order.is_active and order.time_in_force == "GTT" and order.cancel_after >= 0:
            deadline = order.created_at + order.cancel_after * 1000
            heapq.heappush(self._deadlines, (deadline, order.id))

    def set_price(self, symbol: str, price: Decimal) -> None:
        """Move the last trade price; fill crossed limit orders, then trigger crossed stops."""
        market = self.market(symbol)
        if price <= 0:
            msg = f"price must be positive, got {price}"
            raise ValueError(msg)
        self.expire_due()  # an expired GTT order is gone before the new price trades
        previous = self.prices.get(symbol)
        self._move(market, price)
        if previous != price:
            # someone else traded at the new price: the tape and the candle see one trade
            side = "buy" if previous is None or price > previous else "sell"
            self._record_trade(symbol, price, market.base_min_size, side, volume=False)
        self._execute_crossed(market, price)

    def visit_price(self, symbol: str, price: Decimal, *, placed_before: int | None = None) -> None:
        """A last price seen elsewhere (a paper venue's mirror): orders and stops see it.

        Unlike :meth:`set_price` no trade is recorded here: the mirrored candles already
        have it.

        Args:
            symbol: KuCoin symbol.
            price: The price traded.
            placed_before: Only orders and stops created before this time (epoch ms) see the
                price: it was traded then (a past candle's low or high), and KuCoin matches an
                order only against trades after it arrived.
        """
        market = self.market(symbol)
        # a GTT order whose time ran out before this price traded never saw it; one still
        # alive then did, even if it has expired since
        self.expire_due(placed_before)
        self._placed_before = placed_before
        try:
            self._move(market, price)
            self._execute_crossed(market, price)
        finally:
            self._placed_before = None

    def _move(self, market: MarketRules, price: Decimal) -> None:
        symbol = market.symbol
        self.prices[symbol] = price
        low, high = self.price_range.get(symbol, (price, price))
        self.price_range[symbol] = (min(low, price), max(high, price))

    def _execute_crossed(self, market: MarketRules, price: Decimal, *, taker: str = "") -> None:
        # at most 200 resting orders and 20 untriggered stops per pair (KuCoin's limits)
        # the lists are snapshots, and a fill can move the price and re-enter here (a stop's
        # market sell walking the book): skip what an inner pass already executed
        before = self._placed_before
        for order in list(self.resting(market.symbol)):
            assert order.price is not None  # noqa: S101 - only limit orders rest
            if before is not None and order.created_at >= before:
                continue  # placed after this price traded
            if order.id == taker:
                continue  # the order whose own fills made this price: its rest waits for others
            # a trade *at* the limit price does not fill it: orders at one price fill in time
            # priority ("stay in the open state until canceled or subsequently filled by new
            # orders", KuCoin docs-new Terms Definitions), and the fake cannot know the queue
            # ahead; a trade *beyond* it means every order at the limit price was taken first
            crossed = price < order.price if order.side == "buy" else price > order.price
            if crossed and order.is_active:
                self._fill_resting(order, market)
        for stop in list(self.waiting(market.symbol)):
            if before is None or stop.created_at < before:
                self._maybe_trigger(stop, price)

    def resting(self, symbol: str | None) -> list[Order]:
        """Active (resting) regular orders, of ``symbol`` or of every market, oldest first."""
        if symbol is not None:
            return list(self._resting.get(symbol, {}).values())
        every = [o for orders in self._resting.values() for o in orders.values()]
        return sorted(every, key=lambda o: order_sequence(o.id))

    def waiting(self, symbol: str | None) -> list[StopOrder]:
        """Untriggered stop orders, of ``symbol`` or of every market, oldest first."""
        if symbol is not None:
            return list(self._waiting.get(symbol, {}).values())
        every = [s for stops in self._waiting.values() for s in stops.values()]
        return sorted(every, key=lambda s: s.id)

    def stops_with_client_oid(self, client_oid: str) -> list[StopOrder]:
        """Stop orders placed under ``client_oid``, oldest first."""
        return list(self._stops_by_client_oid.get(client_oid, ()))

    def _record_trade(
        self, symbol: str, price: Decimal, size: Decimal, side: str, *, volume: bool
    ) -> None:
        now = self.clock()
        tape = self.tape.setdefault(symbol, deque(maxlen=100))  # KuCoin lists the last 100
        self.tape_sequence += 1
        tape.append((self.tape_sequence, price, size, side, now))
        if volume:
            self.history.trade(symbol, now // 1000, price, size)
            old_size, old_funds = self.volume.get(symbol, (ZERO, ZERO))
            self.volume[symbol] = (old_size + size, old_funds + size * price)
        else:
            self.history.tick(symbol, now // 1000, price)

    # --- market data ------------------------------------------------------------------------

    def book(self, symbol: str, depth: int) -> tuple[list[Level], list[Level]]:
        """Bids and asks (best first) around the last price; empty before any price."""
        market = self.market(symbol)
        mirrored = self.mirrored_books.get(symbol)
        if mirrored is not None:
            return mirrored[0][:depth], mirrored[1][:depth]
        last = self.prices.get(symbol)
        if last is None:
            return [], []
        return book(last, market.price_increment, self.book_shape, depth)

    def load_path(self, symbol: str, path: PricePath, *, history: int) -> None:
        """Queue ``path`` for :meth:`step`; its first ``history`` candles become the past.

        The past is stamped to end in the current candle of the clock (bots reject stale
        history), the last of it sets the last price, and each later step takes the next slot.
        """
        market = self.market(symbol)
        if not 0 <= history <= len(path.candles):
            msg = f"history must be within [0, {len(path.candles)}], got {history}"
            raise ValueError(msg)
        # the past ends with the candle before the clock's current one; the first step is
        # the current candle
        now = self.clock() // 1000 // path.interval * path.interval
        shift = now - path.interval - path.candles[max(history - 1, 0)].time
        candles = [attrs.evolve(c, time=c.time + shift) for c in path.candles]
        for candle in candles[:history]:
            self.history.put(symbol, candle)
        self.expire_due()
        if history:
            self._move(market, candles[history - 1].close)
            self._execute_crossed(market, candles[history - 1].close)
        self.paths[symbol] = deque(candles[history:])
        self.path_slots[symbol] = (path.interval, now - path.interval)

    def step(self, symbol: str) -> Candle | None:
        """Replay the next candle of ``symbol``'s path; None when the path is exhausted."""
        market = self.market(symbol)
        queue = self.paths.get(symbol)
        if not queue:
            return None
        candle = queue.popleft()
        self.expire_due()
        # stamped with the clock's current slot, or the next free one when steps outrun it
        interval, previous = self.path_slots[symbol]
        slot = max(self.clock() // 1000 // interval * interval, previous + interval)
        candle = attrs.evolve(candle, time=slot)
        self.path_slots[symbol] = (interval, slot)
        for price in candle.visits():
            self._move(market, price)
            self._execute_crossed(market, price)
        self.history.put(symbol, candle)
        return candle

    # --- persistence ----------------------------------------------------------------------

    @property
    def sequence(self) -> int:
        """The id counter: every id the engine hands out comes after it."""
        return self._seq

    def restore(
        self,
        *,
        balances: Mapping[str, Balance],
        orders: Iterable[Order],
        stop_orders: Iterable[StopOrder],
        fills: Iterable[Execution],
        sequence: int,
    ) -> None:
        """Load saved records into an empty engine (a paper venue after a restart).

        The indexes are rebuilt from the records, and the id counter continues after
        ``sequence``, so no id is handed out twice.
        """
        if self.orders or self.stop_orders or self.fills or self._seq:
            msg = "restore() needs an engine without orders, stop orders or fills"
            raise ValueError(msg)
        self.balances.update(balances)
        for order in sorted(orders, key=lambda o: order_sequence(o.id)):
            self.orders[order.id] = order
            if order.client_oid is not None:
                self._by_client_oid.setdefault(order.client_oid, []).append(order)
            if order.is_active and order.type == "limit":
                self._resting.setdefault(order.symbol, {})[order.id] = order
            self._queue_expiry(order)  # a GTT order still expires after a restart
        for stop in sorted(stop_orders, key=lambda s: s.id):
            self.stop_orders[stop.id] = stop
            if stop.client_oid is not None:
                self._stops_by_client_oid.setdefault(stop.client_oid, []).append(stop)
            if stop.status == "NEW":
                self._waiting.setdefault(stop.symbol, {})[stop.id] = stop
        for fill in sorted(fills, key=lambda f: f.seq):
            self.fills.append(fill)
            self._fills_by_order.setdefault(fill.order_id, []).append(fill)
        self._seq = sequence

    # --- placing orders -------------------------------------------------------------------

    def _parse_common(
        self, body: Mapping[str, object], *, client_oid_required: bool
    ) -> tuple[str | None, MarketRules, str, str]:
        client_oid = body.get("clientOid")
        if client_oid is None:
            if client_oid_required:
                raise Rejection("400100", "validation.createOrder.clientOidIsRequired").error()
        elif not isinstance(client_oid, str) or not _CLIENT_OID.match(client_oid):
            raise parameter_error("clientOid must be 1-40 letters, digits, '_' or '-'")
        market = self.market(body.get("symbol"))
        side = body.get("side")
        if side not in ("buy", "sell"):
            raise parameter_error("side must be buy or sell")
        kind = body.get("type", "limit")
        if kind not in ("limit", "market"):
            raise parameter_error("type must be limit or market")
        return client_oid, market, str(side), str(kind)

    @staticmethod
    def _remark(body: Mapping[str, object], *, hf: bool) -> str | None:
        """The order's ``remark``: at most 100 characters (classic), 20 ASCII ones (HF)."""
        remark = body.get("remark")
        if remark is None:
            return None
        if not isinstance(remark, str):
            raise parameter_error("remark must be a string")
        if hf and (not remark.isascii() or len(remark) > HF_REMARK_MAX):
            raise parameter_error(f"remark cannot exceed {HF_REMARK_MAX} ASCII characters")
        if len(remark) > CLASSIC_REMARK_MAX:
            raise parameter_error(f"remark cannot exceed {CLASSIC_REMARK_MAX} characters")
        return remark

    @staticmethod
    def _time_in_force(body: Mapping[str, object], kind: str) -> str:
        """The order's time in force: GTC (default), GTT, IOC or FOK, for limit orders only.

        "Market order does not support the TimeInForce strategy" (HF place-order docs): the fake
        ignores the field on a market order rather than rejecting it, and reports ``GTC`` as
        KuCoin does for market orders (ccxt's recorded fetchClosedOrders response: a market
        order with ``"timeInForce": "GTC"``). ``postOnly`` "is invalid when timeInForce is IOC
        or FOK" (classic and HF docs): 400100. A GTT order expires after ``cancelAfter``
        seconds (:meth:`_cancel_after`, :meth:`expire_due`).
        """
        if kind != "limit":
            return "GTC"
        value = body.get("timeInForce")
        if value is None:
            return "GTC"
        if value not in TIME_IN_FORCE:
            raise UNKNOWN_TIME_IN_FORCE.error()
        if body.get("postOnly") is True and value in ("IOC", "FOK"):
            raise parameter_error("postOnly is invalid when timeInForce is IOC or FOK")
        return str(value)

    @staticmethod
    def _cancel_after(body: Mapping[str, object], time_in_force: str) -> int:
        """The order's ``cancelAfter`` in seconds, or -1: it does not expire.

        KuCoin: "cancelAfter | long | cancel after n seconds, requires timeInForce to be GTT"
        (classic Place a new order), "Cancel after n seconds, the order timing strategy is GTT,
        -1 means it will not be cancelled automatically, the default value is -1" (docs-new
        Add Order, https://www.kucoin.com/docs-new/api-3470188). So -1 (or no value) never
        expires, a GTT order with n >= 0 is cancelled n seconds after it was placed, and
        cancelAfter on any other time in force has no effect (KuCoin's own SDK sends its
        default -1 on every order, so the field is accepted without GTT; no rejection is
        documented for a positive value either). KuCoin documents nothing below -1 nor a
        non-integer "long": the fake answers those 400100 rather than guess a meaning.
        """
        raw = body.get("cancelAfter")
        if raw is None:
            return NO_CANCEL_AFTER
        if isinstance(raw, bool):
            raise parameter_error("cancelAfter must be an integer number of seconds")
        try:
            value = Decimal(str(raw))
        except ArithmeticError:
            raise parameter_error("cancelAfter must be an integer number of seconds") from None
        if not value.is_finite() or value != value.to_integral_value():
            raise parameter_error("cancelAfter must be an integer number of seconds")
        seconds = int(value)
        if seconds < NO_CANCEL_AFTER:
            raise parameter_error("cancelAfter must be -1 or a number of seconds >= 0")
        return seconds if time_in_force == "GTT" else NO_CANCEL_AFTER

    def _active_count(self, symbol: str) -> int:
        """Active orders of a pair as KuCoin counts them against its 200: stop orders included.

        "maximum of 200 active orders per trading pair (including stop orders)" (classic
        place-order docs, https://www.kucoin.com/docs/rest/spot-trading/orders/place-order).
        """
        return len(self._resting.get(symbol, ())) + len(self._waiting.get(symbol, ()))

    def orders_with_client_oid(self, client_oid: str) -> list[Order]:
        """Regular orders stored under ``client_oid``, oldest first."""
        return list(self._by_client_oid.get(client_oid, ()))

    def _check_client_oid_unused(self, client_oid: str | None, *, hf: bool) -> None:
        """KuCoin's clientOid uniqueness, which differs by account type.

        Classic (``POST /api/v1/orders``): only an *active* order's clientOid is taken; a done
        order's may be used again (kucoin-api-docs issue 468, "only enforced on active orders"),
        and the duplicate is 400100 ``validation.createOrder.clientOidDuplicated``.
        HF (``POST /api/v1/hf/orders``): the clientOid of any order KuCoin still knows is taken
        (126044 "clientOid duplicate", HF error codes,
        https://www.kucoin.com/docs-new/rest/spot-trading/orders/add-order).
        """
        if client_oid is None:
            return
        known = self._by_client_oid.get(client_oid, ())
        if hf and known:
            raise DUPLICATE_CLIENT_OID.error()
        if not hf and any(order.is_active for order in known):
            raise CLASSIC_DUPLICATE_CLIENT_OID.error()

    @staticmethod
    def _amounts(
        body: Mapping[str, object], kind: str
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        price = parse_decimal(body.get("price"), "price")
        size = parse_decimal(body.get("size"), "size")
        funds = parse_decimal(body.get("funds"), "funds")
        if kind == "limit":
            if price is None:
                raise parameter_error("price is required for limit orders")
            if size is None:
                raise parameter_error("size is required for limit orders")
            if funds is not None:
                raise parameter_error("funds is not allowed for limit orders")
        elif (size is None) == (funds is None):
            raise parameter_error("market orders take exactly one of size or funds")
        return price, size, funds

    def create_order(self, body: Mapping[str, object], *, hf: bool) -> Order:
        """Validate and execute ``POST /api/v1/orders`` (or the HF twin); return the order."""
        self.expire_due()  # an expired GTT order is cancelled before this one is processed
        order, market = self._new_order(body, hf=hf)
        cancel_after = self._cancel_after(body, order.time_in_force)
        self._submit(order, market)
        self._schedule(order, cancel_after)
        return order

    def validate_order(self, body: Mapping[str, object], *, hf: bool) -> Order:
        """Check ``POST /api/v1/orders/test`` (or the HF twin) exactly as :meth:`create_order`.

        KuCoin's test endpoints take "exactly the same" request as placing an order, and "the
        order will not enter the matching system, and the order cannot be queried" (Add Order
        Test, https://www.kucoin.com/docs-new/rest/spot-trading/orders/add-order-test; Add
        Order Test - Old, https://www.kucoin.com/docs-new/abandoned-endpoints/spot-trading/
        orders/add-order-test-old). So every check of a placement runs, in the same order,
        with the same rejections, and then nothing is stored, held, filled or moved. The order
        returned has an id, as KuCoin's answer does, that no lookup finds.
        """
        self.expire_due()
        order, market = self._new_order(body, hf=hf)
        self._cancel_after(body, order.time_in_force)
        self._submit(order, market, execute=False)
        self._tested += 1
        order.id = f"5fa07e57{self._tested:016x}"
        return order

    def _new_order(self, body: Mapping[str, object], *, hf: bool) -> tuple[Order, MarketRules]:
        """Parse a regular order's body and run the checks that come before :meth:`_submit`'s."""
        client_oid, market, side, kind = self._parse_common(body, client_oid_required=not hf)
        price, size, funds = self._amounts(body, kind)
        time_in_force = self._time_in_force(body, kind)
        remark = self._remark(body, hf=hf)
        self._check_client_oid_unused(client_oid, hf=hf)
        if self._active_count(market.symbol) >= MAX_ACTIVE_ORDERS:
            raise TOO_MANY_ORDERS.error()
        if price is not None and kind == "market":
            price = None  # KuCoin ignores a price on market orders
        order = Order(
            id="",
            client_oid=client_oid,
            symbol=market.symbol,
            side=side,
            type=kind,
            price=price,
            size=size,
            funds=funds,
            created_at=self.clock(),
            time_in_force=time_in_force,
            post_only=body.get("postOnly") is True,
            fee_currency=market.quote,
            remark=remark,  # echoed (kucoin-evidence 4.3)
        )
        return order, market

    def create_stop_order(self, body: Mapping[str, object]) -> StopOrder:
        """Validate ``POST /api/v1/stop-order``; store it untriggered (no funds held).

        A GTT stop's ``cancelAfter`` applies to the order it becomes, from the moment it
        triggers: until then "the order will not enter the matching system" and KuCoin
        documents no expiry of untriggered stops.
        """
        self.expire_due()
        client_oid, market, side, kind = self._parse_common(body, client_oid_required=True)
        stop_price = parse_decimal(body.get("stopPrice"), "stopPrice")
        if stop_price is None:
            raise parameter_error("stopPrice is required")
        if stop_price <= 0:
            raise parameter_error("stopPrice must be positive")
        market.check_price(stop_price)
        stop = body.get("stop", "loss")
        if stop not in ("loss", "entry"):
            raise parameter_error("stop must be loss or entry")
        price, size, funds = self._amounts(body, kind)
        time_in_force = self._time_in_force(body, kind)
        cancel_after = self._cancel_after(body, time_in_force)
        # the stop-order API is the classic one for both account types: 100 characters
        remark = self._remark(body, hf=False)
        self._check_shape(market, kind, price, size, funds)
        # the stop-order API is the same for both account types; an untriggered stop's
        # clientOid is taken like an active classic order's
        if client_oid is not None and any(
            s.status == "NEW" for s in self._stops_by_client_oid.get(client_oid, ())
        ):
            raise CLASSIC_DUPLICATE_CLIENT_OID.error()
        if (
            len(self._waiting.get(market.symbol, ())) >= MAX_STOP_ORDERS
            or self._active_count(market.symbol) >= MAX_ACTIVE_ORDERS
        ):
            raise TOO_MANY_ORDERS.error()
        order = StopOrder(
            id=f"vs8fake{self._next():017d}",
            client_oid=client_oid,
            symbol=market.symbol,
            side=side,
            type=kind,
            price=price if kind == "limit" else None,
            size=size,
            funds=funds,
            stop=str(stop),
            stop_price=stop_price,
            created_at=self.clock(),
            time_in_force=time_in_force,
            remark=remark,
            cancel_after=cancel_after,
        )
        self.stop_orders[order.id] = order
        self._waiting.setdefault(market.symbol, {})[order.id] = order
        if client_oid is not None:
            self._stops_by_client_oid.setdefault(client_oid, []).append(order)
        # KuCoin accepts a stop whose condition already holds and triggers it at once
        last = self.prices.get(market.symbol)
        order.last_at_placement = last
        if last is not None:
            self._maybe_trigger(order, last)
        return order

    @staticmethod
    def _check_shape(
        market: MarketRules,
        kind: str,
        price: Decimal | None,
        size: Decimal | None,
        funds: Decimal | None,
    ) -> None:
        if price is not None and kind == "limit":
            market.check_price(price)
        if size is not None:
            market.check_size(size)
        if funds is not None:
            market.check_funds(funds)
            if funds < max(market.min_funds, market.quote_min_size):
                raise market_funds_below_min(market.min_funds, market.quote).error()

    def _submit(self, order: Order, market: MarketRules, *, execute: bool = True) -> None:
        """Check the money rules, then execute. Raises before changing any state.

        Args:
            order: The order, not stored yet.
            market: Its market's rules.
            execute: False for a test order: every check runs and nothing changes.
        """
        self._check_shape(market, order.type, order.price, order.size, order.funds)
        last = self.prices.get(market.symbol)
        if order.type == "limit":
            self._submit_limit(order, market, last, execute=execute)
        else:
            self._submit_market(order, market, last, execute=execute)

    def _store(self, order: Order) -> None:
        if not order.id:
            order.id = f"5fa0c0de{self._next():016x}"
        order.updated_at = self.clock()
        if order.client_oid is not None:
            self._by_client_oid.setdefault(order.client_oid, []).append(order)
        self.orders[order.id] = order

    def _submit_limit(
        self, order: Order, market: MarketRules, last: Decimal | None, *, execute: bool
    ) -> None:
        assert order.price is not None  # noqa: S101 - checked by _amounts
        assert order.size is not None  # noqa: S101 - checked by _amounts
        price, size = order.price, order.size
        if price * size < market.min_funds:
            raise FUNDS_BELOW_MIN.error()
        buy = order.side == "buy"
        if last is not None:
            band = last * market.price_limit_rate
            if (buy and price > last + band) or (not buy and price < last - band):
                raise PRICE_OUT_OF_RANGE.error()
        # buys freeze price x size plus the worst-case fee, so a later fill can always be paid:
        # "When an order is placed, the system puts a hold on a portion of the funds in your
        # account to pay the taker fee" (https://www.kucoin.com/apidoc/project-6000000/
        # doc-338147, Terms Definitions: Handling Fees; classic and HF alike)
        fee_rate = max(market.taker_fee_rate, market.maker_fee_rate)

        def held(amount: Decimal) -> Decimal:
            return amount * price + amount * price * fee_rate if buy else amount

        currency = market.quote if buy else market.base
        if held(size) > self.balance(currency).available:
            raise BALANCE_INSUFFICIENT.error()
        # A limit order matches the resting orders it crosses, best price first, at *their*
        # prices, and only as much as they hold; "a partial execution will put the remaining size
        # of the order in the open state" (KuCoin ORDER LIFECYCLE, classic place-order docs).
        # So the book is walked up to the limit, never the last price filled in full.
        taken = self._crossing(order, market)
        filled = sum((take for _, take in taken), ZERO)
        if not execute:
            return  # the last check has passed; from here on the order changes state
        self._store(order)
        if taken and order.post_only:
            # post-only would take liquidity: KuCoin cancels it
            order.is_active, order.cancel_exist = False, True
            return
        if order.time_in_force == "FOK" and filled < size:
            # fill-or-kill: all of it at once, or nothing
            order.is_active, order.cancel_exist = False, True
            return
        for fill_price, take in taken:
            self._apply_fill(order, market, fill_price, take, "taker")
        left = size - filled
        if not left:
            order.is_active = False
        elif order.time_in_force in ("IOC", "FOK"):
            order.is_active, order.cancel_exist = False, True  # the rest cannot fill now
        else:
            rest = held(left)
            order.hold, order.hold_currency = rest, currency
            self._resting.setdefault(order.symbol, {})[order.id] = order
            self._change(currency, available=-rest, holds=rest)
        if taken and taken[-1][0] != last:
            # taking liquidity moved the last price: other resting orders and stops see it
            self._move(market, taken[-1][0])
            self._execute_crossed(market, taken[-1][0], taker=order.id)

    def _crossing(self, order: Order, market: MarketRules) -> tuple[Level, ...]:
        """What a new limit order takes from the opposite side of the book, best first."""
        assert order.price is not None  # noqa: S101 - a limit order
        assert order.size is not None  # noqa: S101 - a limit order
        limit = order.price
        bids, asks = self.book(market.symbol, self.book_shape.levels)
        if order.side == "buy":
            levels = [lv for lv in asks if lv[0] <= limit]
        else:
            levels = [lv for lv in bids if lv[0] >= limit]
        return walk(levels, size=order.size, funds=None, step=market.base_increment).takes

    def _submit_market(
        self, order: Order, market: MarketRules, last: Decimal | None, *, execute: bool
    ) -> None:
        if last is None:
            raise no_market_price(market.symbol).error()
        if order.size is not None and order.size * last < market.min_funds:
            raise FUNDS_BELOW_MIN.error()
        buy = order.side == "buy"
        bids, asks = self.book(market.symbol, self.book_shape.levels)
        # price protection: a market order fills only within priceLimitRate of the last price
        # and the rest is cancelled (KuCoin "Get Symbols List", priceLimitRate)
        band = last * market.price_limit_rate
        levels = [lv for lv in (asks if buy else bids) if abs(lv[0] - last) <= band]
        step, rate = market.base_increment, market.taker_fee_rate
        wanted = order.size
        if wanted is None:
            assert order.funds is not None  # noqa: S101 - market orders carry size or funds
            wanted = walk(levels, size=None, funds=order.funds, step=step).size
        size = market.truncate_size(wanted * self.fill_policy.fraction)
        if buy:
            # KuCoin fills a market *buy* by size from the quote balance up to what it pays for
            # (Feb 6: 1.417 of 4.5 SOL; "market by size may briefly freeze the whole quote
            # balance": shared/reference/kucoin-wire.md §4); the strict policy refuses a buy
            # the balance cannot pay for in full (the whole order, not the share that fills)
            budget = self.balance(market.quote).available
            if order.funds is not None and order.funds > budget:
                # "market with funds freezes funds" (kucoin-wire.md §4; classic docs HOLDS: the
                # funds of a market order are held), so funds beyond the balance cannot be held
                raise BALANCE_INSUFFICIENT.error()
            # A triggered stop's order is cancelled when the balance cannot pay for it
            # (KuCoin support, "In-depth Explanation for why stop orders are being canceled",
            # scenario 1: insufficient funds): the fill-what-it-pays-for rule is a placed
            # market order's only.
            if not self.fill_policy.up_to_balance or order.stop_triggered:
                payable = walk(levels, size=wanted, funds=None, step=step, fee_rate=rate,
                               budget=budget)  # fmt: skip
                if payable.size < walk(levels, size=wanted, funds=None, step=step).size:
                    raise BALANCE_INSUFFICIENT.error()
            taken = walk(levels, size=size, funds=None, step=step, fee_rate=rate, budget=budget)
            if size > 0 and not taken.takes:
                raise BALANCE_INSUFFICIENT.error()
        else:
            # a sell holds its whole size in base: nothing documents a partial fill of a sell
            # beyond the coins held, so it is refused, whatever share would fill
            if wanted > market.truncate_size(self.balance(market.base).available):
                raise BALANCE_INSUFFICIENT.error()
            taken = walk(levels, size=size, funds=None, step=step)
        if not execute:
            return  # the last check has passed; from here on the order changes state
        self._store(order)
        for price, take in taken.takes:
            self._apply_fill(order, market, price, take, "taker")
        order.is_active = False
        # a market order never rests: what the book, the balance or a partial-fill policy
        # leaves is cancelled, as on KuCoin
        order.cancel_exist = taken.size < wanted
        if taken.takes and taken.takes[-1][0] != last:
            # walking the book moved the last price: resting orders and stops see it
            self._move(market, taken.takes[-1][0])
            self._execute_crossed(market, taken.takes[-1][0])

    def _apply_fill(
        self, order: Order, market: MarketRules, price: Decimal, size: Decimal, liquidity: str
    ) -> None:
        funds = price * size
        rate = market.taker_fee_rate if liquidity == "taker" else market.maker_fee_rate
        fee = funds * rate
        if order.side == "buy":
            self._change(market.quote, available=-(funds + fee))
            self._change(market.base, available=size)
        else:
            self._change(market.base, available=-size)
            self._change(market.quote, available=funds - fee)
        order.deal_size += size
        order.deal_funds += funds
        order.fee += fee
        order.updated_at = self.clock()
        self._record_trade(order.symbol, price, size, order.side, volume=True)
        seq = self._next()
        fill = Execution(
            seq=seq,
            trade_id=f"5fa07ade{seq:016x}",
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            liquidity=liquidity,
            price=price,
            size=size,
            funds=funds,
            fee=fee,
            fee_rate=rate,
            fee_currency=market.quote,
            type=order.type,
            created_at=self.clock(),
            stop=order.stop or "",
        )
        self.fills.append(fill)
        self._fills_by_order.setdefault(order.id, []).append(fill)
        # the ledger's two entries: what was paid (fee included) and what was received (net)
        if order.side == "buy":
            paid, got = (market.quote, funds + fee, fee), (market.base, size, ZERO)
        else:
            paid, got = (market.base, size, ZERO), (market.quote, funds - fee, fee)
        self._book(*paid, TRADE_EXCHANGE, direction="out", fill=fill)
        self._book(*got, TRADE_EXCHANGE, direction="in", fill=fill)

    def fills_of(self, order_id: str) -> list[Execution]:
        """The fills of one order, oldest first."""
        return list(self._fills_by_order.get(order_id, ()))

    def _fill_resting(self, order: Order, market: MarketRules) -> None:
        assert order.price is not None  # noqa: S101 - only limit orders rest
        assert order.size is not None  # noqa: S101 - only limit orders rest
        self._release(order)
        self._apply_fill(order, market, order.price, order.size - order.deal_size, "maker")
        order.is_active = False
        self._resting[order.symbol].pop(order.id, None)

    def _release(self, order: Order) -> None:
        if order.hold:
            self._change(order.hold_currency, available=order.hold, holds=-order.hold)
            order.hold = ZERO

    # --- stop orders -----------------------------------------------------------------------

    def _maybe_trigger(self, stop: StopOrder, last: Decimal) -> None:
        if stop.status != "NEW":
            return  # triggered or cancelled meanwhile (a stop fires once)
        fired = last <= stop.stop_price if stop.stop == "loss" else last >= stop.stop_price
        if not fired:
            return
        stop.status, stop.triggered_at = "TRIGGERED", self.clock()
        self._waiting[stop.symbol].pop(stop.id, None)
        market = self.markets[stop.symbol]
        # a new regular id; the stop keeps its own (stop.order_id links them)
        order = stop.as_order(order_id="", created_at=self.clock(), triggered=True)
        try:
            self._submit(order, market)
            self._schedule(order, stop.cancel_after)
        except KucoinError as exc:
            # no funds are held for an untriggered stop, so it can fail now: KuCoin cancels it
            stop.failure = order.reason = exc.rejection.msg
            stop.failure_code = exc.rejection.code
            order.is_active, order.cancel_exist = False, True
            self._store(order)
        stop.order_id = order.id

    # --- cancelling ------------------------------------------------------------------------

    def cancel_order(self, order: Order) -> None:
        """Cancel an active order and release its hold."""
        self._release(order)
        order.is_active, order.cancel_exist = False, True
        order.updated_at = self.clock()
        self._resting.get(order.symbol, {}).pop(order.id, None)

    def cancel_all_orders(self, symbol: str | None) -> list[Order]:
        """Cancel every active regular order (of ``symbol`` if given); return them, oldest first."""
        cancelled = self.resting(symbol)
        for order in cancelled:
            self.cancel_order(order)
        return cancelled

    def cancel_stop_order(self, stop: StopOrder) -> None:
        """Cancel an untriggered stop order (nothing is held, so nothing is released)."""
        stop.status = "CANCELLED"
        self._waiting.get(stop.symbol, {}).pop(stop.id, None)
