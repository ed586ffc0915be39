"""What the exchange saw: the order requests a bot sent, KuCoin's answers, the stops left live.

Conformance is judged from these records only (never from the bot's or safetrade's objects), so
a bot that ignores safetrade entirely is judged exactly like one built on it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from safetrade.testing import FakeKucoin, MarketRules, RecordedRequest, StopOrder

__all__ = ["OrderSent", "Position", "observe_position", "orders_sent", "sells_at"]

# Only endpoints that create an order. ``create_order_test`` (POST /api/v1[/hf]/orders/test)
# is checked like a placement and creates nothing, so it is no order sent to the exchange.
_ORDER_ENDPOINTS = {"create_order": "order", "create_stop_order": "stop order"}


def _dec(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@attrs.frozen
class OrderSent:
    """One order-creating request the exchange received, with KuCoin's answer.

    Attributes:
        kind: ``"order"`` (POST /api/v1[/hf]/orders) or ``"stop order"`` (/api/v1/stop-order).
        side: ``buy`` / ``sell`` as sent.
        type: ``market`` / ``limit`` as sent.
        symbol: KuCoin symbol as sent (``SOL-USDT``).
        size: ``size`` as sent, if any.
        funds: ``funds`` as sent, if any.
        price: ``price`` as sent, if any.
        stop: ``stop`` (``loss`` / ``entry``) of a stop order, if any.
        stop_price: ``stopPrice``, if any.
        time_in_force: ``timeInForce`` (``GTC``, ``IOC``, ...), if sent.
        client_oid: ``clientOid``, if any.
        code: KuCoin's answer code (``200000`` accepted); None when no answer was produced.
        msg: KuCoin's error message, if rejected.
        fault: The fault the harness injected into this request, if any.
        raw: The body exactly as sent (strings as the bot wrote them).
    """

    kind: str
    side: str
    type: str
    symbol: str
    size: Decimal | None
    funds: Decimal | None
    price: Decimal | None
    stop: str | None
    stop_price: Decimal | None
    time_in_force: str | None
    client_oid: str | None
    code: str | None
    msg: str | None
    fault: str | None
    raw: str

    @property
    def accepted(self) -> bool:
        """KuCoin created the order (even if the answer was then lost on the way back)."""
        return self.code == "200000"

    @property
    def is_stop_loss(self) -> bool:
        """A sell stop order that triggers on a falling price."""
        return self.kind == "stop order" and self.side == "sell" and self.stop in (None, "loss")

    def describe(self) -> str:
        """One report line, e.g. ``stop order sell limit size 0.6396 price 90.1353 ...``."""
        parts = [self.kind, self.side, self.type, self.symbol]
        for label, value in (
            ("size", self.size),
            ("funds", self.funds),
            ("price", self.price),
            ("stop", self.stop),
            ("stopPrice", self.stop_price),
            ("timeInForce", self.time_in_force),
        ):
            if value is not None:
                parts.append(f"{label} {value}")
        if self.fault:
            answer = f"fault {self.fault}" + (f" (answer was {self.code})" if self.code else "")
        elif self.accepted:
            answer = "accepted"
        else:
            answer = f"rejected {self.code} {self.msg}"
        return " ".join(parts) + f" -> {answer}"


def _order_sent(request: RecordedRequest) -> OrderSent | None:
    kind = _ORDER_ENDPOINTS.get(request.endpoint)
    if kind is None:
        return None
    body = request.body if isinstance(request.body, dict) else {}

    def text(key: str) -> str | None:
        value = body.get(key)
        return None if value is None else str(value)

    return OrderSent(
        kind=kind,
        side=text("side") or "?",
        type=text("type") or "limit",  # KuCoin's default order type
        symbol=text("symbol") or "?",
        size=_dec(body.get("size")),
        funds=_dec(body.get("funds")),
        price=_dec(body.get("price")),
        stop=text("stop"),
        stop_price=_dec(body.get("stopPrice")),
        time_in_force=text("timeInForce"),
        client_oid=text("clientOid"),
        code=request.code,
        msg=request.msg,
        fault=request.fault,
        raw=", ".join(f"{k}={v}" for k, v in sorted(body.items()) if k != "remark"),
    )


def orders_sent(exchange: FakeKucoin) -> list[OrderSent]:
    """Every order-creating request the exchange received, oldest first."""
    return [o for r in exchange.requests if (o := _order_sent(r)) is not None]


@attrs.frozen
class Position:
    """The account's position on one market as the exchange holds it now.

    Attributes:
        held: Base currency held (available + held by resting orders).
        available: Base currency no resting order holds (what a stop-loss can sell).
        stop_loss: Total size of live (untriggered) sell stop-losses.
        take_profit: Total size of live sell take-profits (``stop: entry``).
        live_stops: One line per live stop order.
        smallest: The market's smallest order size: less than this held is dust.
        last_price: What the coins sell for now: the best bid, or the last price if lower.
        value: The account's value at that price: quote held plus base held times it.
        loss_at_stops: What the live stop-losses lose from that price if they fire, each
            at the price it sells at (a stop-limit's limit, else its stopPrice).
        fired_at_placement: One line per stop-loss KuCoin triggered the moment it accepted
            it (its stopPrice at or above the price then): it sold at market, protecting
            nothing.
        failed_stops: One line per stop-loss that fired but whose order KuCoin cancelled
            (its message: e.g. the coins were locked by a take-profit limit order).
        stop_losses_created: Size of every sell stop-loss KuCoin ever accepted on the market,
            whatever became of it.
        resting_buys: One line per buy order still resting on the book.
        resting_sells: One line per sell order still resting on the book (e.g. a triggered
            stop-limit whose limit the price fell through).
    """

    held: Decimal
    stop_loss: Decimal
    take_profit: Decimal
    live_stops: tuple[str, ...]
    smallest: Decimal
    available: Decimal = Decimal("Infinity")
    last_price: Decimal = Decimal(0)
    value: Decimal = Decimal(0)
    loss_at_stops: Decimal = Decimal(0)
    fired_at_placement: tuple[str, ...] = ()
    failed_stops: tuple[str, ...] = ()
    stop_losses_created: Decimal = Decimal(0)
    resting_buys: tuple[str, ...] = ()
    resting_sells: tuple[str, ...] = ()

    @property
    def flat(self) -> bool:
        """Nothing held that could be sold (dust below the minimum size)."""
        return self.held < self.smallest

    @property
    def covered(self) -> bool:
        """Live stop-losses cover every sellable coin held, and can sell them when they fire.

        A stop-loss holds nothing until it fires, and then sells only coins no other order
        holds: under a resting take-profit limit sell it meets "Balance insufficient!" and
        KuCoin cancels it.
        """
        return self.flat or self.held - min(self.stop_loss, self.available) < self.smallest


def observe_position(exchange: FakeKucoin, rules: MarketRules) -> Position:
    """Read the position on ``rules.symbol`` from the exchange's own state."""
    base = rules.symbol.partition("-")[0]
    live = [
        s
        for s in exchange.stop_orders.values()
        if s.symbol == rules.symbol and s.status == "NEW" and s.side == "sell"
    ]
    zero = Decimal(0)
    quote = rules.symbol.partition("-")[2]
    coins = exchange.balance(base)
    held = coins.total
    symbol = rules.symbol.replace("-", "/")
    last = exchange.price(symbol) or zero
    # what the coins sell for now: the best bid (a bot's own buy walking the asks moves the
    # last price to its worst fill, a gain no sale would realise), never above the last price
    bid = exchange.best_bid(symbol)
    mark = last if bid is None else min(last, bid)
    stop_losses = [s for s in live if s.stop == "loss"]
    created = [
        s
        for s in exchange.stop_orders.values()
        if s.symbol == rules.symbol and s.side == "sell" and s.stop == "loss"
    ]
    fired = [
        s
        for s in created
        if s.last_at_placement is not None and s.stop_price >= s.last_at_placement
    ]
    active = [o for o in exchange.orders.values() if o.symbol == rules.symbol and o.is_active]
    return Position(
        held=held,
        available=coins.available,
        stop_loss=sum((s.size or zero for s in stop_losses), zero),
        take_profit=sum((s.size or zero for s in live if s.stop == "entry"), zero),
        live_stops=tuple(
            f"{'stop-loss' if s.stop == 'loss' else 'take-profit'} {s.size} {base} "
            f"at {s.stop_price}{_limit_of(s)} ({s.client_oid or s.id})"
            for s in live
        ),
        smallest=max(rules.base_min_size, rules.base_increment),
        last_price=mark,
        value=exchange.balance(quote).total + held * mark,
        loss_at_stops=sum(((s.size or zero) * (mark - sells_at(s)) for s in stop_losses), zero),
        fired_at_placement=tuple(
            f"stop-loss {s.size} {base} at stopPrice {s.stop_price} placed with {base} at "
            f"{s.last_at_placement} ({s.client_oid or s.id})"
            for s in fired
        ),
        failed_stops=tuple(
            f"stop-loss {s.size} {base} at {s.stop_price}: KuCoin cancelled its order ({s.failure})"
            for s in created
            if s.failure
        ),
        stop_losses_created=sum((s.size or zero for s in created), zero),
        resting_buys=tuple(
            f"buy {o.type} {o.size} {base} at {o.price} ({o.client_oid or o.id})"
            for o in active
            if o.side == "buy"
        ),
        resting_sells=tuple(
            f"sell {o.type} {o.size} {base} at {o.price} ({o.client_oid or o.id})"
            for o in active
            if o.side == "sell"
        ),
    )


def _limit(stop: StopOrder) -> Decimal | None:
    """A stop-limit's limit price; None for a stop-market."""
    return stop.price if stop.type == "limit" else None


def _limit_of(stop: StopOrder) -> str:
    """A stop-limit's ", limit 84.32": what it sells at, which the loss is judged from."""
    limit = _limit(stop)
    return "" if limit is None else f", limit {limit}"


def sells_at(stop: StopOrder) -> Decimal:
    """The price a stop-loss sells at once it fires: a stop-limit's limit, else its trigger."""
    limit = _limit(stop)
    return stop.stop_price if limit is None else min(limit, stop.stop_price)
