"""More of KuCoin's request rules as the fake enforces them, through the real ccxt client.

Malformed bodies go through ccxt's implicit API methods (signed and error-parsed like
``create_order``), so what is tested is the fake's wire behaviour: KuCoin's code and message,
and no state change on a rejected request.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin, MarketRules

_oids = itertools.count(1)


def _oid() -> str:
    return f"more-{next(_oids)}"


def _order(client: Any, **fields: str | bool | None) -> Any:
    body: dict[str, Any] = {"clientOid": _oid(), "side": "buy", "symbol": "SOL-USDT"}
    body.update(fields)
    return client.privatePostOrders({k: v for k, v in body.items() if v is not None})


def _stop(client: Any, **fields: str | None) -> Any:
    body: dict[str, Any] = {
        "clientOid": _oid(),
        "side": "sell",
        "symbol": "SOL-USDT",
        "type": "market",
        "stop": "loss",
        "stopPrice": "90",
        "size": "1",
    }
    body.update(fields)
    return client.privatePostStopOrder({k: v for k, v in body.items() if v is not None})


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"clientOid": None, "type": "limit", "price": "90", "size": "1"}, ccxt.BadRequest,
         "clientOidIsRequired"),
        ({"clientOid": "has spaces!", "type": "limit", "price": "90", "size": "1"},
         ccxt.BadRequest, "clientOid must be 1-40 letters"),
        ({"side": "hold", "type": "limit", "price": "90", "size": "1"}, ccxt.BadRequest,
         "side must be buy or sell"),
        ({"type": "iceberg", "price": "90", "size": "1"}, ccxt.BadRequest,
         "type must be limit or market"),
        ({"type": "limit", "size": "1"}, ccxt.BadRequest, "price is required for limit orders"),
        ({"type": "limit", "price": "90"}, ccxt.BadRequest, "size is required for limit orders"),
        ({"type": "limit", "price": "90", "size": "1", "funds": "90"}, ccxt.BadRequest,
         "funds is not allowed for limit orders"),
        ({"type": "market", "size": "1", "funds": "100"}, ccxt.BadRequest,
         "market orders take exactly one of size or funds"),
        ({"type": "limit", "price": "-1", "size": "1"}, ccxt.BadRequest, "price must be positive"),
        ({"type": "limit", "price": "90", "size": "0"}, ccxt.BadRequest, "size must be positive"),
        ({"type": "limit", "price": "90", "size": "20000000000"}, ccxt.BadRequest,
         "Order size above the maximum requirement."),
        ({"type": "market", "funds": "-5"}, ccxt.BadRequest, "funds must be positive"),
        ({"type": "market", "funds": "10.123456789"}, ccxt.BadRequest,
         "Funds increment invalid."),
        ({"symbol": "DOGE-USDT", "type": "market", "size": "1"}, ccxt.BadSymbol,
         "Unsupported trading pair."),
    ],
)  # fmt: skip
def test_malformed_orders_are_refused_with_kucoins_words(
    client: Any, ex: FakeKucoin, fields: dict[str, str | None], error: type, message: str
) -> None:
    with pytest.raises(ccxt.BaseError) as caught:
        _order(client, **fields)
    assert isinstance(caught.value, error), type(caught.value)
    assert message in str(caught.value)
    assert ex.orders == {}
    assert ex.balance("USDT").available == 1000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"stopPrice": None}, "stopPrice is required"),
        ({"stopPrice": "-90"}, "stopPrice must be positive"),
        ({"stop": "trailing"}, "stop must be loss or entry"),
    ],
)
def test_malformed_stop_orders_are_refused(
    client: Any, ex: FakeKucoin, fields: dict[str, str | None], message: str
) -> None:
    with pytest.raises(ccxt.BadRequest, match=message):
        _stop(client, **fields)
    assert ex.stop_orders == {}


def test_price_on_a_market_order_is_ignored(client: Any, ex: FakeKucoin) -> None:
    _order(client, type="market", size="1", price="1")
    (order,) = ex.orders.values()
    assert order.price is None
    assert order.deal_funds == Decimal(100)  # filled at the market, not at 1


@pytest.mark.parametrize(
    "fields", [{"postOnly": True, "price": "101"}, {"timeInForce": "IOC", "price": "99"}]
)
def test_orders_that_cannot_rest_or_take_are_cancelled(
    client: Any, ex: FakeKucoin, fields: dict[str, Any]
) -> None:
    """Post-only that would take, and IOC that cannot fill now: KuCoin cancels, holds nothing."""
    _order(client, type="limit", size="1", **fields)
    (order,) = ex.orders.values()
    assert (order.is_active, order.cancel_exist, order.deal_size) == (False, True, Decimal(0))
    assert ex.balance("USDT").holds == 0


def test_too_many_active_orders_and_stops_per_pair() -> None:
    # "maximum of 200 active orders per trading pair (including stop orders)", and at most 20
    # untriggered stops (KuCoin place-order and stop-order docs)
    with FakeKucoin(balances={"USDT": "100000", "SOL": "100"}, prices={"SOL/USDT": "100"}) as ex:
        client = ex.ccxt_client()
        for _ in range(20):
            _stop(client)
        with pytest.raises(ccxt.BaseError, match="Number of orders breached the limit"):
            _stop(client)
        for _ in range(180):
            _order(client, type="limit", price="95", size="0.01")
        with pytest.raises(ccxt.BaseError, match="Number of orders breached the limit"):
            _order(client, type="limit", price="95", size="0.01")
        assert len(ex.orders) == 180
        assert len(ex.stop_orders) == 20


def test_stop_orders_count_against_the_200_active_orders_of_a_pair() -> None:
    with FakeKucoin(balances={"USDT": "100000", "SOL": "100"}, prices={"SOL/USDT": "100"}) as ex:
        client = ex.ccxt_client()
        for _ in range(200):
            _order(client, type="limit", price="95", size="0.01")
        with pytest.raises(ccxt.BaseError, match="Number of orders breached the limit"):
            _stop(client)
        assert ex.stop_orders == {}
        # another pair has its own 200
        client.create_order("BTC/USDT", "limit", "buy", 0.0001, 50000)
        assert len(ex.orders) == 201


def test_market_order_worth_less_than_min_funds_is_refused() -> None:
    eth = MarketRules("ETH-USDT", min_funds=Decimal(10), base_min_size=Decimal("0.001"))
    with FakeKucoin(markets=[eth], balances={"USDT": "1000"}, prices={"ETH/USDT": "3000"}) as ex:
        client = ex.ccxt_client()
        with pytest.raises(ccxt.InsufficientFunds, match="Funds below the minimum requirement"):
            _order(client, symbol="ETH-USDT", type="market", size="0.002")  # 6 USDT < 10
        assert ex.orders == {}


def test_stop_orders_by_client_oid(client: Any, ex: FakeKucoin) -> None:
    _stop(client, clientOid="sl-1")
    found = client.privateGetStopOrderQueryOrderByClientOid({"clientOid": "sl-1"})
    assert [o["clientOid"] for o in found["data"]] == ["sl-1"]
    cancelled = client.privateDeleteStopOrderCancelOrderByClientOid({"clientOid": "sl-1"})
    assert cancelled["data"]["clientOid"] == "sl-1"
    (stop,) = ex.stop_orders.values()
    assert stop.status == "CANCELLED"
    with pytest.raises(ccxt.OrderNotFound):
        client.privateDeleteStopOrderCancelOrderByClientOid({"clientOid": "sl-1"})
    with pytest.raises(ccxt.OrderNotFound):
        client.privateGetStopOrderQueryOrderByClientOid({"clientOid": "nobody"})


def test_order_lists_filter_and_paginate(client: Any, ex: FakeKucoin) -> None:
    _order(client, type="limit", price="95", size="1")
    _order(client, type="market", size="1")
    _order(client, side="sell", type="market", size="0.5")
    # the resting limit is active: without a status KuCoin lists done orders only
    listed = client.privateGetOrders({"side": "buy", "type": "limit", "status": "active"})["data"]
    assert [o["type"] for o in listed["items"]] == ["limit"]
    page = client.privateGetOrders({"pageSize": "1", "currentPage": "2"})["data"]
    assert (page["totalNum"], len(page["items"])) == (2, 1)
    with pytest.raises(ccxt.BadRequest, match="pageSize must be an integer within"):
        client.privateGetOrders({"pageSize": "0"})
    with pytest.raises(ccxt.BadRequest, match="currentPage must be an integer"):
        client.privateGetOrders({"currentPage": "first"})


def test_accounts_filter_by_type_and_currency(client: Any) -> None:
    assert client.privateGetAccounts({"type": "margin"})["data"] == []
    (usdt,) = client.privateGetAccounts({"currency": "USDT"})["data"]
    assert (usdt["currency"], usdt["type"], usdt["available"]) == ("USDT", "trade", "1000")


def test_hf_order_history_and_cancel_by_client_oid() -> None:
    with FakeKucoin(hf=True, balances={"USDT": "1000"}, prices={"SOL/USDT": "100"}) as ex:
        client = ex.ccxt_client()
        client.load_markets()
        client.create_order("SOL/USDT", "market", "buy", 1)
        client.create_order("SOL/USDT", "limit", "buy", 1, 95, {"clientOid": "hf-rest"})
        done = client.privateGetHfOrdersDone({"symbol": "SOL-USDT", "limit": "1"})["data"]
        assert len(done["items"]) == 1
        # lastId is the last returned item's numeric id (KuCoin's HF examples), for the next page
        assert done["lastId"] == int(done["items"][0]["id"][8:], 16) > 0
        with pytest.raises(ccxt.BadRequest, match="symbol is required"):
            client.privateGetHfOrdersDone({})
        cancelled = client.privateDeleteHfOrdersClientOrderClientOid(
            {"clientOid": "hf-rest", "symbol": "SOL-USDT"}
        )
        assert cancelled["data"] == {"clientOid": "hf-rest"}
        assert ex.balance("USDT").holds == 0


def test_market_rules_validate_their_symbol() -> None:
    for bad in ("SOLUSDT", "SOL-", "-USDT", "SOL-USDT-X"):
        with pytest.raises(ValueError, match="KuCoin symbols look like 'SOL-USDT'"):
            MarketRules(bad)
    assert MarketRules("ETH-BTC").unified == "ETH/BTC"


def test_prices_must_be_positive(ex: FakeKucoin) -> None:
    with pytest.raises(ValueError, match="price must be positive, got 0"):
        ex.set_price("SOL/USDT", Decimal(0))
    assert ex.price("SOL/USDT") == Decimal(100)
