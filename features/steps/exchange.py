"""Steps about the fake KuCoin: accounts, markets, prices, faults and raw ccxt calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import attrs
import pytest
from pytest_bdd import given, when

from features.steps.types import parse
from safetrade.testing import (
    BTC_USDT,
    SOL_USDT,
    BookShape,
    FakeKucoin,
    Fault,
    FillPolicy,
    MarketRules,
)


@dataclass
class RawCall:
    """A request sent straight through the real ccxt client, bypassing safetrade."""

    result: Any = None
    error: Exception | None = None


def _open_exchange(
    request: pytest.FixtureRequest, usdt: Decimal, policy: FillPolicy | None = None
) -> FakeKucoin:
    exchange = FakeKucoin(balances={"USDT": usdt}, fill_policy=policy)
    request.addfinalizer(exchange.close)
    return exchange


def _raw(call: Callable[[Any], Any], exchange: FakeKucoin) -> RawCall:
    client = exchange.ccxt_client()
    client.load_markets()
    try:
        return RawCall(result=call(client))
    except Exception as exc:  # noqa: BLE001 - the Then step inspects whatever ccxt raised
        return RawCall(error=exc)


def _list_market(  # noqa: PLR0917 - one argument per market rule
    exchange: FakeKucoin,
    symbol: str,
    tick: Decimal,
    step: Decimal,
    min_size: Decimal,
    min_funds: Decimal,
) -> None:
    exchange.add_market(
        MarketRules(
            symbol.replace("/", "-"),
            price_increment=tick,
            base_increment=step,
            base_min_size=min_size,
            min_funds=min_funds,
        )
    )


# --------------------------------------------------------------------------- accounts


@given(parse("a KuCoin account with {usdt:Dec} USDT free"), target_fixture="exchange")
def account(request: pytest.FixtureRequest, usdt: Decimal) -> FakeKucoin:
    return _open_exchange(request, usdt)


@given(
    parse(
        "a KuCoin account with {usdt:Dec} USDT free that fills market orders only up to "
        "what the balance pays for"
    ),
    target_fixture="exchange",
)
def account_filling_up_to_balance(request: pytest.FixtureRequest, usdt: Decimal) -> FakeKucoin:
    return _open_exchange(request, usdt, FillPolicy.available_balance())


@given(
    parse(
        "a KuCoin account with {usdt:Dec} USDT free whose order book offers only {size:Dec} "
        "SOL at each price"
    ),
    target_fixture="exchange",
)
def account_with_a_thin_book(
    request: pytest.FixtureRequest, usdt: Decimal, size: Decimal
) -> FakeKucoin:
    exchange = _open_exchange(request, usdt)
    exchange.set_book(BookShape(level_size=size))
    return exchange


# --------------------------------------------------------------------------- markets and prices


@given(parse("{symbol:Word} last traded at {price:Dec}"))
def last_traded(exchange: FakeKucoin, symbol: str, price: Decimal) -> None:
    exchange.set_price(symbol, price)


@given(
    parse(
        "KuCoin lists {symbol:Word} with price tick {tick:Dec}, size step {step:Dec} and "
        "minimum order value {min_funds:Dec} USDT"
    )
)
def market_listed(
    exchange: FakeKucoin, symbol: str, tick: Decimal, step: Decimal, min_funds: Decimal
) -> None:
    _list_market(exchange, symbol, tick, step, step, min_funds)


@given(
    parse(
        "KuCoin lists {symbol:Word} with price tick {tick:Dec}, size step {step:Dec}, "
        "minimum size {min_size:Dec} and minimum order value {min_funds:Dec} USDT"
    )
)
def market_listed_with_min_size(  # noqa: PLR0917 - one argument per step value
    exchange: FakeKucoin,
    symbol: str,
    tick: Decimal,
    step: Decimal,
    min_size: Decimal,
    min_funds: Decimal,
) -> None:
    _list_market(exchange, symbol, tick, step, min_size, min_funds)


@given(parse("KuCoin then changes {symbol:Word}'s price tick to {tick:Dec}"))
def tick_changed(exchange: FakeKucoin, symbol: str, tick: Decimal) -> None:
    kucoin = symbol.replace("/", "-")
    rules = next(m for m in (SOL_USDT, BTC_USDT) if m.symbol == kucoin)
    exchange.add_market(attrs.evolve(rules, price_increment=tick))


# --------------------------------------------------------------------------- faults


@given(parse('KuCoin rejects the next {times:d} stop orders with {code:Word} "{message}"'))
def stop_orders_rejected(exchange: FakeKucoin, times: int, code: str, message: str) -> None:
    exchange.inject("create_stop_order", Fault.reject(code, message), times=times)


@given(parse("KuCoin answers the next {times:d} stop-order listings with a server error"))
def stop_listing_fails(exchange: FakeKucoin, times: int) -> None:
    exchange.inject("list_stop_orders", Fault.SERVER_ERROR, times=times)


# --------------------------------------------------------------------------- raw ccxt calls


@when(
    parse(
        "a take-profit stop order selling {size:Dec} {symbol:Word} at {price:Dec} is sent "
        "to KuCoin as is, through ccxt's raw API"
    ),
    target_fixture="raw",
)
def raw_take_profit(exchange: FakeKucoin, size: Decimal, symbol: str, price: Decimal) -> RawCall:
    body = {
        "clientOid": "raw-take-profit-1",
        "side": "sell",
        "symbol": symbol.replace("/", "-"),
        "type": "market",
        "size": str(size),
        "stopPrice": str(price),
        "stop": "entry",
    }
    return _raw(lambda client: client.private_post_stop_order(body), exchange)


@when(
    parse(
        "a market order buying {size:Dec} {symbol:Word} is sent to KuCoin as is, "
        "through ccxt's raw API"
    ),
    target_fixture="raw",
)
def raw_size(exchange: FakeKucoin, size: Decimal, symbol: str) -> RawCall:
    body = {
        "clientOid": "raw-entry-1",
        "side": "buy",
        "symbol": symbol.replace("/", "-"),
        "type": "market",
        "size": str(size),
    }
    return _raw(lambda client: client.private_post_orders(body), exchange)


@when(
    parse(
        'the incident\'s hot-fixed stop-loss call is made through ccxt: a "limit" sell of '
        '{size:Dec} SOL with stop "loss" and stop_price {price:Dec}'
    ),
    target_fixture="raw",
)
def incident_stop_call(exchange: FakeKucoin, size: Decimal, price: Decimal) -> RawCall:
    params = {"stop": "loss", "stop_price": str(price)}
    return _raw(
        lambda client: client.create_order("SOL/USDT", "limit", "sell", str(size), None, params),
        exchange,
    )


@when(
    parse(
        "a stop-loss selling {size:Dec} SOL is sent to KuCoin through ccxt's raw API "
        'with stop "loss" but no stopPrice'
    ),
    target_fixture="raw",
)
def raw_stop_without_price(exchange: FakeKucoin, size: Decimal) -> RawCall:
    body = {
        "clientOid": "raw-stop-loss-1",
        "side": "sell",
        "symbol": "SOL-USDT",
        "type": "market",
        "size": str(size),
        "stop": "loss",
    }
    return _raw(lambda client: client.private_post_stop_order(body), exchange)
