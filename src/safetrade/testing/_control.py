"""The control API of a served fake: drive it over HTTP from a bot in any language.

It lives on the fake's own port under ``/_safetrade/``, a path KuCoin never uses (all of
KuCoin's REST paths start with ``/api/``), and only on a served fake, which listens on
127.0.0.1 only. Control requests are not exchange traffic: they are not recorded and take no
faults. Every answer is JSON; a bad request is HTTP 400 ``{"error": "..."}`` naming the field.

=======  =============================  =====================================================
Method   Path                           Body / answer
=======  =============================  =====================================================
GET      /_safetrade/state              balances, prices, orders, stop orders, fills, faults
GET      /_safetrade/requests?since=N   recorded requests from sequence N on (bounded log)
POST     /_safetrade/price              ``{"symbol": "SOL-USDT", "price": "85.5"}``
POST     /_safetrade/step               ``{"symbol": "SOL-USDT", "candles": 1}`` next candles
POST     /_safetrade/balance            ``{"currency": "USDT", "available": "123"}``
POST     /_safetrade/fault              ``{"endpoint": "create_stop_order", "fault":
                                        "timeout"|"server_error"|"rate_limit"|
                                        "response_lost"|{"code": "400100", "msg": "..."},
                                        "times": 1}``
POST     /_safetrade/faults/clear       ``{}``
POST     /_safetrade/clock              ``{"advance_ms": 60000}``
POST     /_safetrade/book               ``{"spread_ticks": 2, "levels": 50, "level_size": "10",
                                        "step_ticks": 1}``
POST     /_safetrade/fill-policy        ``{"fraction": "0.5", "up_to_balance": true}``
POST     /_safetrade/market             MarketRules fields, e.g. ``{"symbol": "ETH-USDT",
                                        "price_increment": "0.01"}``
=======  =============================  =====================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from safetrade.testing._faults import Fault
from safetrade.testing._market_data import BookShape
from safetrade.testing._rules import MarketRules
from safetrade.testing._state import FillPolicy
from safetrade.testing._wire import Rejection, fmt

if TYPE_CHECKING:
    from safetrade.testing._fake import FakeKucoin

PREFIX = "/_safetrade/"


class ControlError(ValueError):
    """A control request the fake cannot carry out (answered with HTTP 400)."""


def _json(status: int, payload: object) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(payload, default=_encode),
        headers={"Content-Type": "application/json"},
    )


def _encode(value: object) -> object:
    if isinstance(value, Decimal):
        return fmt(value)
    if attrs.has(type(value)):
        return attrs.asdict(value, recurse=True)  # type: ignore[arg-type]  # checked just above
    return str(value)


def _field(body: Mapping[str, Any], name: str) -> Any:  # noqa: ANN401 - raw JSON
    if name not in body:
        msg = f"missing field {name!r}"
        raise ControlError(msg)
    return body[name]


def _decimal(body: Mapping[str, Any], name: str) -> Decimal:
    raw = _field(body, name)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    if isinstance(raw, bool) or not value.is_finite():
        msg = f"{name} must be a number, got {raw!r}"
        raise ControlError(msg)
    return value


def _int(body: Mapping[str, Any], name: str, default: int) -> int:
    raw = body.get(name, default)
    if isinstance(raw, bool) or not isinstance(raw, int):
        msg = f"{name} must be an integer, got {raw!r}"
        raise ControlError(msg)
    return raw


def parse_fault(raw: object) -> Fault | Rejection:
    """A fault from its control/TOML form: a :class:`Fault` value or ``{"code", "msg"}``."""
    if isinstance(raw, Mapping):
        code, msg = raw.get("code"), raw.get("msg")
        if not isinstance(code, str) or not isinstance(msg, str):
            text = f"a rejection fault needs string code and msg, got {raw!r}"
            raise ControlError(text)
        status = raw.get("status", 200)
        if not isinstance(status, int):
            text = f"status must be an integer, got {status!r}"
            raise ControlError(text)
        return Fault.reject(code, msg, status)
    names = [f.value for f in Fault]
    if raw not in names:
        text = f"fault must be one of {names} or {{'code', 'msg'}}, got {raw!r}"
        raise ControlError(text)
    return Fault(raw)


def market_rules(body: Mapping[str, Any]) -> MarketRules:
    """MarketRules from its field names (numbers as strings or numbers)."""
    known = {a.name for a in attrs.fields(MarketRules)}
    unknown = sorted(set(body) - known)
    if unknown:
        msg = f"unknown market fields {unknown}; known: {sorted(known)}"
        raise ControlError(msg)
    try:
        fields: dict[str, Any] = {k: v if isinstance(v, bool) else str(v) for k, v in body.items()}
        return MarketRules(**fields)
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise ControlError(str(exc)) from None


def book_shape(body: Mapping[str, Any]) -> BookShape:
    """A BookShape from its field names."""
    try:
        return BookShape(
            spread_ticks=_int(body, "spread_ticks", 0),
            levels=_int(body, "levels", 100),
            level_size=_decimal({"level_size": body.get("level_size", "1000")}, "level_size"),
            step_ticks=_int(body, "step_ticks", 1),
        )
    except ValueError as exc:
        raise ControlError(str(exc)) from None


def fill_policy(body: Mapping[str, Any]) -> FillPolicy:
    """A FillPolicy from ``fraction`` and ``up_to_balance``."""
    up_to_balance = body.get("up_to_balance", True)
    if not isinstance(up_to_balance, bool):
        msg = f"up_to_balance must be true or false, got {up_to_balance!r}"
        raise ControlError(msg)
    try:
        fraction = _decimal({"fraction": body.get("fraction", "1")}, "fraction")
        return FillPolicy(fraction=fraction, up_to_balance=up_to_balance)
    except ValueError as exc:
        raise ControlError(str(exc)) from None


class Control:
    """Answers ``/_safetrade/...`` requests for one fake."""

    def __init__(self, fake: FakeKucoin) -> None:
        self._fake = fake
        self._posts: dict[str, Callable[[Mapping[str, Any]], object]] = {
            "price": self._price,
            "step": self._step,
            "balance": self._balance,
            "fault": self._fault,
            "faults/clear": self._clear,
            "clock": self._clock,
            "book": self._book,
            "fill-policy": self._fill_policy,
            "market": self._market,
        }

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one control request."""
        name = request.url.path.removeprefix(PREFIX)
        try:
            if request.method == "GET" and name == "state":
                return _json(200, self._fake.snapshot())
            if request.method == "GET" and name == "requests":
                since = request.url.params.get("since", "0")
                if not since.isdigit():
                    raise ControlError(f"since must be a sequence number, got {since!r}")
                return _json(200, self._fake.requests_since(int(since)))
            action = self._posts.get(name)
            if action is None or request.method != "POST":
                known = ["GET state", "GET requests", *(f"POST {p}" for p in self._posts)]
                return _json(404, {"error": f"no control {request.method} {name}; known: {known}"})
            body = json.loads(request.content or b"{}", parse_float=Decimal)
            if not isinstance(body, dict):
                raise ControlError("the body must be a JSON object")
            return _json(200, {"ok": True, "result": action(body)})
        except (ControlError, ValueError) as exc:
            return _json(400, {"error": str(exc)})

    def _price(self, body: Mapping[str, Any]) -> object:
        symbol = str(_field(body, "symbol"))
        self._fake.set_price(symbol, _decimal(body, "price"))
        return {"symbol": symbol, "price": self._fake.price(symbol)}

    def _step(self, body: Mapping[str, Any]) -> object:
        symbol = str(_field(body, "symbol"))
        replayed = []
        for _ in range(_int(body, "candles", 1)):
            candle = self._fake.step(symbol)
            if candle is None:
                break
            replayed.append(candle)
        return {"replayed": replayed, "price": self._fake.price(symbol)}

    def _balance(self, body: Mapping[str, Any]) -> object:
        currency = str(_field(body, "currency"))
        self._fake.set_balance(currency, _decimal(body, "available"))
        return self._fake.balance(currency)

    def _fault(self, body: Mapping[str, Any]) -> object:
        endpoint = str(_field(body, "endpoint"))
        self._fake.inject(endpoint, parse_fault(_field(body, "fault")), _int(body, "times", 1))
        return {"endpoint": endpoint}

    def _clear(self, _body: Mapping[str, Any]) -> object:
        self._fake.clear_faults()
        return {}

    def _clock(self, body: Mapping[str, Any]) -> object:
        self._fake.advance_clock(_int(body, "advance_ms", 0))
        return {"now_ms": self._fake.clock()}

    def _book(self, body: Mapping[str, Any]) -> object:
        shape = book_shape(body)
        self._fake.set_book(shape)
        return shape

    def _fill_policy(self, body: Mapping[str, Any]) -> object:
        policy = fill_policy(body)
        self._fake.set_fill_policy(policy)
        return policy

    def _market(self, body: Mapping[str, Any]) -> object:
        rules = market_rules(body)
        self._fake.add_market(rules)
        return rules
