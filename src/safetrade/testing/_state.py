"""The fake exchange's records: balances, orders, stop orders, fills, recorded requests."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["Balance", "Execution", "FillPolicy", "Order", "RecordedRequest", "StopOrder"]

ZERO = Decimal(0)


@attrs.frozen
class Balance:
    """One currency of the trading account.

    Attributes:
        available: Free to trade.
        holds: Frozen by resting limit orders.
    """

    available: Decimal
    holds: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        """``available + holds`` (KuCoin's ``balance`` field)."""
        return self.available + self.holds


@attrs.frozen
class FillPolicy:
    """How much of a market order the fake fills; the unfilled rest is cancelled.

    KuCoin market orders never rest: whatever does not fill is cancelled (the order ends with
    ``cancelExist: true``, which ccxt reports as status ``canceled`` with ``filled`` < ``amount``).

    Attributes:
        fraction: Share of each market order that fills (1 = all). The filled size is rounded
            down to ``baseIncrement``.
        up_to_balance: When the quote balance cannot pay for a whole market *buy*, fill what it
            pays for (taker fee included) and cancel the rest, as KuCoin does
            (https://www.kucoin.com/docs/rest/spot-trading/orders/place-order; and on Feb 6:
            1.417 SOL of a 4.5 SOL market buy with 123 USDT available). The default: a fake that
            rejected instead (200004 ``Balance insufficient!``) would be more protective than
            KuCoin. :meth:`strict_balance` keeps the rejection for tests that want it. A market
            *sell* beyond the available base is always rejected with 200004: nothing documents
            KuCoin filling part of it, and a fake that did would be more forgiving.
    """

    fraction: Decimal = attrs.field(default=Decimal(1), converter=Decimal)
    up_to_balance: bool = True

    @fraction.validator
    def _check_fraction(self, _attribute: object, value: Decimal) -> None:
        if not ZERO <= value <= 1:
            msg = f"fraction must be within [0, 1], got {value}"
            raise ValueError(msg)

    @classmethod
    def full(cls) -> FillPolicy:
        """Fill every market order completely (the default)."""
        return cls()

    @classmethod
    def partial(cls, fraction: Decimal | str) -> FillPolicy:
        """Fill only ``fraction`` of every market order; cancel the rest."""
        return cls(fraction=Decimal(str(fraction)))

    @classmethod
    def strict_balance(cls) -> FillPolicy:
        """Reject a market order the balance cannot pay for in full (200004), not KuCoin's way."""
        return cls(up_to_balance=False)

    @classmethod
    def available_balance(cls) -> FillPolicy:
        """Fill market orders only up to what the available balance pays for; cancel the rest."""
        return cls(up_to_balance=True)


@attrs.define
class Order:
    """A regular (non-stop) order; also the order a triggered stop order turns into.

    ``hold`` is what the order currently freezes, in ``hold_currency``. ``reason`` says why the
    fake cancelled it on its own (e.g. a triggered stop order that could not be paid for);
    KuCoin's ``remark`` shows it, else the request's ``remark``.
    """

    id: str
    client_oid: str | None
    symbol: str
    side: str
    type: str
    price: Decimal | None
    size: Decimal | None
    funds: Decimal | None
    created_at: int
    time_in_force: str = "GTC"
    post_only: bool = False
    deal_size: Decimal = ZERO
    deal_funds: Decimal = ZERO
    fee: Decimal = ZERO
    fee_currency: str = ""
    is_active: bool = True
    cancel_exist: bool = False
    hold: Decimal = ZERO
    hold_currency: str = ""
    stop: str | None = None
    stop_price: Decimal | None = None
    stop_triggered: bool = False
    updated_at: int = 0
    reason: str | None = None
    remark: str | None = None  # the request's remark, echoed
    # a GTT order's cancelAfter seconds (-1: it never expires; KuCoin's default): on the record,
    # so a paper account restored from its store still expires it
    cancel_after: int = -1


@attrs.define
class StopOrder:
    """A stop / take-profit order (``/api/v1/stop-order``). Holds nothing until it triggers.

    ``status`` is ``NEW``, ``TRIGGERED`` or ``CANCELLED`` (the last one only inside the fake: KuCoin
    forgets cancelled stop orders). ``failure`` is the KuCoin message of a triggered stop order
    whose order was cancelled at trigger time (e.g. ``Balance insufficient!``). A triggered stop
    becomes a regular order with a new 24-hex id and the stop's clientOid (``order_id``; ccxt PR
    18747 shows a ``vs…`` stop event followed by the hex-id order it became).
    """

    id: str
    client_oid: str | None
    symbol: str
    side: str
    type: str
    price: Decimal | None
    size: Decimal | None
    funds: Decimal | None
    stop: str
    stop_price: Decimal
    created_at: int
    time_in_force: str = "GTC"
    status: str = "NEW"
    triggered_at: int | None = None
    failure: str | None = None
    remark: str | None = None  # the request's remark, echoed
    # a GTT stop's cancelAfter seconds, counted from its trigger (-1: never; KuCoin's default)
    cancel_after: int = -1
    order_id: str | None = None  # the regular order it became when it triggered
    # the last price when KuCoin accepted it: a stop whose condition already held then was
    # triggered at once (a stop-loss above the price sells at market the moment it is placed)
    last_at_placement: Decimal | None = None
    failure_code: str | None = None  # KuCoin's code for ``failure``

    def as_order(self, *, order_id: str, created_at: int, triggered: bool) -> Order:
        """A regular order with this stop's terms (what it becomes, or how it reads as one)."""
        return Order(
            id=order_id,
            client_oid=self.client_oid,
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            price=self.price,
            size=self.size,
            funds=self.funds,
            created_at=created_at,
            time_in_force=self.time_in_force,
            fee_currency=self.symbol.partition("-")[2],  # KuCoin charges fees in the quote
            stop=self.stop,
            stop_price=self.stop_price,
            stop_triggered=triggered,
        )


@attrs.frozen
class Execution:
    """One execution of an order as the exchange records it (an item of ``/api/v1/fills``).

    Not :class:`safetrade.Fill` (what a bot holds after an entry): fees here are in the quote
    currency, per execution.
    """

    seq: int
    trade_id: str
    order_id: str
    symbol: str
    side: str
    liquidity: str
    price: Decimal
    size: Decimal
    funds: Decimal
    fee: Decimal
    fee_rate: Decimal
    fee_currency: str
    type: str
    created_at: int
    stop: str = ""


@attrs.frozen
class RecordedRequest:
    """A request the fake received.

    Attributes:
        endpoint: Endpoint name (the names ``FakeKucoin.inject`` accepts), ``"unknown"`` for 404s.
        method: HTTP method.
        host: Host the client addressed.
        path: URL path without the query.
        query: Query parameters (last value wins).
        body: Parsed JSON body, or None.
        fault: Name of the injected fault that hit this request, if any.
        code: KuCoin's ``code`` in the answer the fake produced (``"200000"`` for success), or
            None when no answer was produced (injected timeout). A lost response still has
            the code of the answer that was dropped.
        msg: KuCoin's ``msg`` of an error answer, else None.
    """

    endpoint: str
    method: str
    host: str
    path: str
    query: dict[str, str]
    body: object
    fault: str | None = None
    code: str | None = None
    msg: str | None = None


def order_sequence(order_id: str) -> int:
    """The numeric id an HF list uses for an order: its sequence number in the fake.

    The fake's order ids end in the sequence number in hex (``5fa0c0de`` + 16 hex digits).
    """
    try:
        return int(order_id[-16:], 16)
    except ValueError:
        return 0
