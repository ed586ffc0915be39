"""Injected faults and what the real ccxt client raises for each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin, Fault


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.TIMEOUT, ccxt.RequestTimeout),
        (Fault.SERVER_ERROR, ccxt.ExchangeNotAvailable),
        (Fault.RATE_LIMIT, ccxt.RateLimitExceeded),
        (Fault.RESPONSE_LOST, ccxt.RequestTimeout),
    ],
)
def test_fault_maps_to_ccxt_exception(
    ex: FakeKucoin, client: Any, fault: Fault, error: type[Exception]
) -> None:
    """Each fault surfaces as the documented ccxt exception class, once."""
    ex.inject("ticker", fault)
    with pytest.raises(error) as excinfo:
        client.fetch_ticker("SOL/USDT")
    assert type(excinfo.value) is error
    assert client.fetch_ticker("SOL/USDT")["last"] == 100.0
    assert [r.fault for r in ex.requests if r.endpoint == "ticker"] == [fault.name, None]


@pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.SERVER_ERROR, Fault.RATE_LIMIT])
def test_failing_create_changes_nothing(ex: FakeKucoin, client: Any, fault: Fault) -> None:
    """TIMEOUT, SERVER_ERROR and RATE_LIMIT on create_order leave no order and no fill."""
    ex.inject("create_order", fault)
    with pytest.raises(ccxt.NetworkError):
        client.create_order("SOL/USDT", "market", "buy", 1)
    assert ex.orders == {}
    assert ex.balance("USDT").available == Decimal(1000)


def _account(*, hf: bool) -> tuple[FakeKucoin, Any]:
    fake = FakeKucoin(hf=hf, balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)})
    kucoin = fake.ccxt_client()
    kucoin.load_markets()
    return fake, kucoin


def test_response_lost_keeps_the_order(ex: FakeKucoin, client: Any) -> None:
    """RESPONSE_LOST: the client times out, but the order was accepted and filled."""
    ex.inject("create_order", Fault.RESPONSE_LOST)
    with pytest.raises(ccxt.RequestTimeout):
        client.create_order("SOL/USDT", "market", "buy", 1, None, {"clientOid": "lost-1"})
    (order,) = ex.orders.values()
    assert (order.client_oid, order.deal_size, order.is_active) == ("lost-1", Decimal(1), False)
    assert ex.balance("SOL").available == Decimal(1)
    # the done order is listed with its clientOid (where a classic account must look for it)
    (done,) = client.fetch_closed_orders("SOL/USDT")
    assert (done["id"], done["clientOrderId"], done["filled"]) == (order.id, "lost-1", 1.0)


def test_classic_lookup_by_client_oid_sees_only_active_orders() -> None:
    """Classic: a filled order is "not exist." by clientOid, and its clientOid may be reused.

    This is why a lost response on a classic account cannot be recovered by the clientOid
    lookup alone (kucoin-api-docs issues 287 and 468).
    """
    ex, client = _account(hf=False)
    with ex:
        ex.inject("create_order", Fault.RESPONSE_LOST)
        params = {"clientOid": "lost-1"}
        with pytest.raises(ccxt.RequestTimeout):
            client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        with pytest.raises(ccxt.OrderNotFound, match="order not exist"):
            client.fetch_order(None, "SOL/USDT", {"clientOrderId": "lost-1"})
        client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        assert [o.client_oid for o in ex.orders.values()] == ["lost-1", "lost-1"]
        assert ex.balance("SOL").available == Decimal(2)


def test_classic_duplicate_of_an_active_client_oid_is_400100() -> None:
    """Classic: an active order's clientOid sent again is BadRequest clientOidDuplicated."""
    ex, client = _account(hf=False)
    with ex:
        client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"clientOid": "rest-1"})
        found = client.fetch_order(None, "SOL/USDT", {"clientOrderId": "rest-1"})
        assert found["status"] == "open"
        with pytest.raises(ccxt.BadRequest, match="clientOidDuplicated"):
            client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"clientOid": "rest-1"})
        assert len(ex.orders) == 1


def test_hf_lookup_by_client_oid_sees_done_orders_and_refuses_a_retry() -> None:
    """HF: a filled order is found by clientOid, and sending its clientOid again is 126044."""
    ex, client = _account(hf=True)
    with ex:
        ex.inject("create_order", Fault.RESPONSE_LOST)
        params = {"clientOid": "retry-1"}
        with pytest.raises(ccxt.RequestTimeout):
            client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        found = client.fetch_order(None, "SOL/USDT", {"clientOrderId": "retry-1"})
        assert (found["status"], found["filled"]) == ("closed", 1.0)
        with pytest.raises(ccxt.InvalidOrder, match="clientOid duplicate"):
            client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        assert len(ex.orders) == 1
    assert ex.balance("SOL").available == Decimal(1)


def test_injected_rejection(ex: FakeKucoin, client: Any) -> None:
    """Fault.reject answers with KuCoin's body for the given number of calls, then recovers."""
    ex.inject("create_stop_order", Fault.reject("400100", "Parameter Error"), times=2)
    for _ in range(2):
        with pytest.raises(ccxt.BadRequest, match="Parameter Error"):
            client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
    assert ex.stop_orders == {}
    client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 90})
    assert len(ex.stop_orders) == 1


def test_faults_queue_in_order(ex: FakeKucoin, client: Any) -> None:
    """Faults on one endpoint are played in injection order, one per call."""
    ex.inject("accounts", Fault.RATE_LIMIT)
    ex.inject("accounts", Fault.SERVER_ERROR)
    with pytest.raises(ccxt.RateLimitExceeded):
        client.fetch_balance()
    with pytest.raises(ccxt.ExchangeNotAvailable):
        client.fetch_balance()
    assert client.fetch_balance()["USDT"]["free"] == 1000.0


def test_inject_validates_endpoint(ex: FakeKucoin) -> None:
    """An unknown endpoint name is a ValueError naming the known ones."""
    with pytest.raises(ValueError, match="create_stop_order"):
        ex.inject("create_stop", Fault.TIMEOUT)


def test_clear_faults(ex: FakeKucoin, client: Any) -> None:
    """clear_faults disarms pending faults."""
    ex.inject("ticker", Fault.TIMEOUT, times=3)
    ex.clear_faults()
    assert client.fetch_ticker("SOL/USDT")["last"] == 100.0
