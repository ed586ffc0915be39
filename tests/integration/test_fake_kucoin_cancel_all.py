"""Cancel-all on KuCoin's four routes, through the real ccxt client; no sub-path is an order id."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin


def _fake(*, hf: bool) -> FakeKucoin:
    return FakeKucoin(
        hf=hf,
        balances={"USDT": Decimal(10_000), "SOL": Decimal(10), "BTC": Decimal(1)},
        prices={"SOL/USDT": Decimal(100), "BTC/USDT": Decimal(50_000)},
    )


@pytest.fixture(params=["classic", "hf"])
def world(request: pytest.FixtureRequest) -> Iterator[tuple[FakeKucoin, Any]]:
    with _fake(hf=request.param == "hf") as fake:
        client = fake.ccxt_client()
        client.load_markets()
        yield fake, client


def _rest(client: Any) -> None:
    """Two resting SOL orders, one resting BTC order, two SOL stops and one BTC stop."""
    client.create_order("SOL/USDT", "limit", "buy", 1, 95)
    client.create_order("SOL/USDT", "limit", "sell", 1, 105)
    client.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), 49_000)
    client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
    client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 80})
    client.create_order("BTC/USDT", "market", "sell", Decimal("0.01"), None, {"stopLossPrice": 1})


def _active(fake: FakeKucoin, symbol: str) -> int:
    return sum(1 for o in fake.orders.values() if o.is_active and o.symbol == symbol)


def _waiting(fake: FakeKucoin, symbol: str) -> int:
    return sum(1 for s in fake.stop_orders.values() if s.status == "NEW" and s.symbol == symbol)


def test_cancel_all_of_one_symbol_cancels_its_orders_not_its_stops(world) -> None:
    fake, client = world
    _rest(client)
    client.cancel_all_orders("SOL/USDT")
    assert (_active(fake, "SOL-USDT"), _active(fake, "BTC-USDT")) == (0, 1)
    assert _waiting(fake, "SOL-USDT") == 2  # stop orders are cancelled only by their own route
    assert fake.balance("USDT").holds == Decimal("490.49")  # only BTC's buy still holds funds
    endpoint = [r for r in fake.requests if r.method == "DELETE"][-1]
    assert (endpoint.endpoint, endpoint.path) == (
        "cancel_all_orders",
        "/api/v1/hf/orders" if fake.hf else "/api/v1/orders",
    )


def test_cancel_all_of_every_symbol(world) -> None:
    fake, client = world
    _rest(client)
    client.cancel_all_orders()
    assert (_active(fake, "SOL-USDT"), _active(fake, "BTC-USDT")) == (0, 0)
    request = [r for r in fake.requests if r.method == "DELETE"][-1]
    assert request.path == ("/api/v1/hf/orders/cancelAll" if fake.hf else "/api/v1/orders")
    assert request.code == "200000"


def test_cancel_all_shapes_are_kucoins(world) -> None:
    fake, client = world
    _rest(client)
    sol = [o.id for o in fake.orders.values() if o.symbol == "SOL-USDT"]
    if fake.hf:
        assert client.privateDeleteHfOrders({"symbol": "SOL-USDT"})["data"] == "success"
        answer = client.privateDeleteHfOrdersCancelAll()["data"]
        assert answer == {"succeedSymbols": ["BTC-USDT"], "failedSymbols": []}
    else:
        answer = client.privateDeleteOrders({"symbol": "SOL-USDT"})["data"]
        assert answer == {"cancelledOrderIds": sol}


def test_hf_cancel_all_by_symbol_needs_the_symbol() -> None:
    with _fake(hf=True) as fake:
        client = fake.ccxt_client()
        with pytest.raises(ccxt.BadRequest, match="symbol"):
            client.privateDeleteHfOrders()


def test_cancel_all_stop_orders_cancels_untriggered_stops(world) -> None:
    fake, client = world
    _rest(client)
    client.cancel_all_orders("SOL/USDT", {"trigger": True})
    assert (_waiting(fake, "SOL-USDT"), _waiting(fake, "BTC-USDT")) == (0, 1)
    assert _active(fake, "SOL-USDT") == 2  # regular orders are untouched
    assert client.fetch_open_orders("SOL/USDT", None, None, {"trigger": True}) == []
    client.cancel_all_orders(None, {"trigger": True})
    assert _waiting(fake, "BTC-USDT") == 0


def test_cancel_stop_orders_by_id_list(world) -> None:
    fake, client = world
    _rest(client)
    first, *_ = (s.id for s in fake.stop_orders.values())
    answer = client.privateDeleteStopOrderCancel({"orderIds": first})["data"]
    assert answer == {"cancelledOrderIds": [first]}
    assert [s.status for s in fake.stop_orders.values()] == ["CANCELLED", "NEW", "NEW"]


@pytest.mark.parametrize(
    ("call", "order_id"),
    [
        ("privateGetOrdersOrderId", "cancel"),
        ("privateDeleteOrdersOrderId", "multi"),
        ("privateGetHfOrdersOrderId", "cancelAll"),
        ("privateDeleteHfOrdersOrderId", "sync/abc"),
        ("privateGetStopOrderOrderId", "cancel"),
        ("privateDeleteHfOrdersOrderId", "dead-cancel-all"),
    ],
)
def test_no_sub_path_is_ever_taken_for_an_order_id(call: str, order_id: str) -> None:
    """A KuCoin sub-resource the fake does not serve is Url Not Found, never "order X"."""
    with _fake(hf=False) as fake:
        client = fake.ccxt_client()
        with pytest.raises(ccxt.NotSupported, match="Url Not Found"):
            getattr(client, call)({"orderId": order_id, "symbol": "SOL-USDT"})
        assert [r.endpoint for r in fake.requests] == ["unknown"]


def test_an_unknown_market_in_cancel_all_is_refused() -> None:
    with _fake(hf=False) as fake:
        client = fake.ccxt_client()
        with pytest.raises(ccxt.BadSymbol):
            client.privateDeleteOrders({"symbol": "NOPE-USDT"})
        with pytest.raises(ccxt.BadSymbol):
            client.privateDeleteStopOrderCancel({"symbol": "NOPE-USDT"})
