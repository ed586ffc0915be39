"""Smaller points of KuCoin fidelity, through the real ccxt client.

HF ``lastId`` paging, ``timeInForce`` validation, ``remark`` echo and limits, and malformed
query values on the list endpoints (evidence: ``/tmp/research/kucoin-evidence.md`` §4).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin

SYMBOL = "SOL-USDT"
_oids = itertools.count(1)


def _oid() -> str:
    return f"fidelity-{next(_oids)}"


@pytest.fixture
def hf_ex() -> Iterator[FakeKucoin]:
    with FakeKucoin(
        hf=True, balances={"USDT": Decimal(100000)}, prices={"SOL/USDT": Decimal(100)}
    ) as fake:
        yield fake


@pytest.fixture
def hf_client(hf_ex: FakeKucoin) -> Any:
    return hf_ex.ccxt_client()


def _body(**fields: object) -> dict[str, Any]:
    body: dict[str, Any] = {"clientOid": _oid(), "side": "buy", "symbol": SYMBOL,
                            "type": "limit", "price": "90", "size": "1"}  # fmt: skip
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def _market_buys(client: Any, count: int) -> list[str]:
    """Place ``count`` small HF market buys; return their ids, oldest first."""
    ids = []
    for _ in range(count):
        body = _body(type="market", price=None, size="0.1")
        ids.append(client.privatePostHfOrders(body)["data"]["orderId"])
    return ids


# --- 1. HF lastId paging ---------------------------------------------------------------------


def test_hf_done_orders_page_by_last_id_newest_first(hf_client: Any, hf_ex: FakeKucoin) -> None:
    ids = _market_buys(hf_client, 5)
    first = hf_client.privateGetHfOrdersDone({"symbol": SYMBOL, "limit": "2"})["data"]
    assert [o["id"] for o in first["items"]] == ids[::-1][:2]
    assert isinstance(first["lastId"], int)
    assert first["lastId"] > 0
    seen = [o["id"] for o in first["items"]]
    last_id = first["lastId"]
    while True:
        page = hf_client.privateGetHfOrdersDone(
            {"symbol": SYMBOL, "limit": "2", "lastId": str(last_id)}
        )["data"]
        if not page["items"]:
            assert page["lastId"] == 0
            break
        assert page["lastId"] < last_id  # every later page holds older items only
        seen += [o["id"] for o in page["items"]]
        last_id = page["lastId"]
    assert seen == ids[::-1]  # all of them, newest first, each once
    assert set(seen) == {o.id for o in hf_ex.orders.values()}


def test_hf_done_orders_default_to_20_and_allow_at_most_100(hf_client: Any) -> None:
    _market_buys(hf_client, 22)
    done = hf_client.privateGetHfOrdersDone({"symbol": SYMBOL})["data"]
    assert len(done["items"]) == 20
    assert len(hf_client.privateGetHfOrdersDone({"symbol": SYMBOL, "limit": "100"})["data"]
               ["items"]) == 22  # fmt: skip
    for bad in ("0", "101", "abc", "-1", "2.5"):
        with pytest.raises(ccxt.BadRequest, match="limit must be an integer within"):
            hf_client.privateGetHfOrdersDone({"symbol": SYMBOL, "limit": bad})


def test_hf_fills_page_by_numeric_last_id(hf_client: Any, hf_ex: FakeKucoin) -> None:
    _market_buys(hf_client, 3)
    first = hf_client.privateGetHfFills({"symbol": SYMBOL, "limit": "2"})["data"]
    numbers = [f["id"] for f in first["items"]]
    assert all(isinstance(n, int) for n in numbers)
    assert all(isinstance(f["tradeId"], int) for f in first["items"])
    assert numbers == sorted(numbers, reverse=True)  # newest first
    assert first["lastId"] == numbers[-1]
    rest = hf_client.privateGetHfFills({"symbol": SYMBOL, "lastId": str(first["lastId"])})["data"]
    assert [f["id"] for f in rest["items"]] == [hf_ex.fills[0].seq]
    assert rest["lastId"] == hf_ex.fills[0].seq
    for bad in ("0", "101", "x"):
        with pytest.raises(ccxt.BadRequest, match="limit must be an integer within"):
            hf_client.privateGetHfFills({"symbol": SYMBOL, "limit": bad})
    # ccxt's unified call reads the numeric tradeId as the trade id
    trades = hf_client.fetch_my_trades("SOL/USDT")
    assert sorted(t["id"] for t in trades) == sorted(str(f.seq) for f in hf_ex.fills)


def test_hf_closed_orders_through_ccxt(hf_client: Any) -> None:
    ids = _market_buys(hf_client, 3)
    closed = hf_client.fetch_closed_orders("SOL/USDT")
    assert sorted(o["id"] for o in closed) == sorted(ids)


def test_classic_lists_keep_current_page_and_page_size(client: Any) -> None:
    for _ in range(3):
        client.privatePostOrders(_body(type="market", price=None, size="0.1"))
    listed = client.privateGetOrders({"status": "done", "pageSize": "2"})["data"]
    assert (listed["currentPage"], listed["pageSize"], listed["totalNum"]) == (1, 2, 3)
    assert "lastId" not in listed
    fills = client.privateGetFills({"pageSize": "2", "currentPage": "2"})["data"]
    assert (fills["currentPage"], fills["totalPage"], len(fills["items"])) == (2, 2, 1)
    assert all(isinstance(f["tradeId"], str) for f in fills["items"])


# --- 2. timeInForce --------------------------------------------------------------------------


@pytest.mark.parametrize("tif", ["GTC", "GTT", "IOC", "FOK"])
def test_kucoin_time_in_force_values_are_accepted(client: Any, ex: FakeKucoin, tif: str) -> None:
    order = client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"timeInForce": tif})
    assert ex.orders[order["id"]].time_in_force == tif
    assert client.privateGetOrdersOrderId({"orderId": order["id"]})["data"]["timeInForce"] == tif


@pytest.mark.parametrize("tif", ["GTX", "gtc", "FillOrKill", "PO", ""])
@pytest.mark.parametrize("hf", [False, True])
def test_an_unknown_time_in_force_is_400100(tif: str, hf: bool) -> None:
    with FakeKucoin(hf=hf, balances={"USDT": "1000"}, prices={"SOL/USDT": "100"}) as ex:
        client = ex.ccxt_client()
        place = client.privatePostHfOrders if hf else client.privatePostOrders
        with pytest.raises(ccxt.BadRequest, match="unknown timeInForce"):
            place(_body(timeInForce=tif))
        assert ex.orders == {}
        assert (ex.requests[-1].code, ex.requests[-1].msg) == ("400100", "unknown timeInForce")


def test_a_stop_order_with_an_unknown_time_in_force_is_400100(client: Any, ex: FakeKucoin) -> None:
    with pytest.raises(ccxt.BadRequest, match="unknown timeInForce"):
        client.privatePostStopOrder(_body(stop="loss", stopPrice="95", timeInForce="DAY"))
    assert ex.stop_orders == {}


def test_a_market_order_ignores_time_in_force(client: Any, ex: FakeKucoin) -> None:
    """HF docs: "Market order does not support the TimeInForce strategy"; KuCoin shows GTC."""
    placed = client.privatePostOrders(
        _body(type="market", price=None, size="1", timeInForce="whatever")
    )
    order = ex.orders[placed["data"]["orderId"]]
    assert (order.is_active, order.deal_size, order.time_in_force) == (False, 1, "GTC")


@pytest.mark.parametrize("tif", ["IOC", "FOK"])
def test_post_only_with_ioc_or_fok_is_400100(client: Any, ex: FakeKucoin, tif: str) -> None:
    with pytest.raises(ccxt.BadRequest, match="postOnly is invalid when timeInForce is"):
        client.privatePostOrders(_body(timeInForce=tif, postOnly=True))
    assert ex.orders == {}
    # post-only alone (GTC) is fine
    client.privatePostOrders(_body(postOnly=True))
    assert len(ex.orders) == 1


# --- 3. remark -------------------------------------------------------------------------------


def test_classic_remark_is_echoed_and_limited_to_100_characters(
    client: Any, ex: FakeKucoin
) -> None:
    order = client.create_order("SOL/USDT", "limit", "buy", 1, 90, {"remark": "order remarks"})
    assert order["info"]["orderId"] == order["id"]
    fetched = client.fetch_order(order["id"], "SOL/USDT")
    assert fetched["info"]["remark"] == "order remarks"
    (listed,) = client.privateGetOrders({"status": "active"})["data"]["items"]
    assert listed["remark"] == "order remarks"
    # 100 utf8 characters are fine, 101 are not
    client.privatePostOrders(_body(remark="é" * 100))
    with pytest.raises(ccxt.BadRequest, match="remark cannot exceed 100 characters"):
        client.privatePostOrders(_body(remark="x" * 101))
    with pytest.raises(ccxt.BadRequest, match="remark must be a string"):
        client.privatePostOrders(_body(remark=7))
    assert len(ex.orders) == 2
    # an order placed without remark shows null, as in KuCoin's traces
    plain = client.privatePostOrders(_body())["data"]["orderId"]
    assert client.privateGetOrdersOrderId({"orderId": plain})["data"]["remark"] is None


def test_hf_remark_is_echoed_and_limited_to_20_ascii_characters(hf_client: Any) -> None:
    placed = hf_client.privatePostHfOrders(_body(remark="x" * 20))["data"]
    view = hf_client.privateGetHfOrdersOrderId({"orderId": placed["orderId"], "symbol": SYMBOL})
    assert view["data"]["remark"] == "x" * 20
    (active,) = hf_client.privateGetHfOrdersActive({"symbol": SYMBOL})["data"]
    assert active["remark"] == "x" * 20
    for bad in ("x" * 21, "é"):
        with pytest.raises(ccxt.BadRequest, match="remark cannot exceed 20 ASCII characters"):
            hf_client.privatePostHfOrders(_body(remark=bad))


def test_stop_order_remark_is_echoed_and_limited_to_100_characters(
    client: Any, ex: FakeKucoin
) -> None:
    body = _body(side="sell", type="market", price=None, stop="loss", stopPrice="95",
                 remark="protect")  # fmt: skip
    stop_id = client.privatePostStopOrder(body)["data"]["orderId"]
    assert client.privateGetStopOrderOrderId({"orderId": stop_id})["data"]["remark"] == "protect"
    (listed,) = client.privateGetStopOrder()["data"]["items"]
    assert listed["remark"] == "protect"
    # freqtrade's plain fetch_order of the vs-id (classic /api/v1/orders/{id})
    assert client.fetch_order(stop_id, "SOL/USDT")["info"]["remark"] == "protect"
    with pytest.raises(ccxt.BadRequest, match="remark cannot exceed 100 characters"):
        client.privatePostStopOrder(_body(stop="loss", stopPrice="95", remark="r" * 101))
    assert list(ex.stop_orders) == [stop_id]


def test_a_stop_that_fails_at_trigger_shows_why_in_remark(client: Any, ex: FakeKucoin) -> None:
    body = _body(
        side="sell", type="market", price=None, stop="loss", stopPrice="95", remark="protect"
    )  # fmt: skip  (sells 1 SOL, and there is none)
    stop_id = client.privatePostStopOrder(body)["data"]["orderId"]
    ex.set_price("SOL/USDT", Decimal(94))
    view = client.privateGetStopOrderOrderId({"orderId": stop_id})["data"]
    assert (view["status"], view["remark"]) == ("TRIGGERED", "Balance insufficient!")


# --- 4. malformed query values ---------------------------------------------------------------

_MALFORMED = [
    ("startAt", "abc"), ("endAt", "1.5"), ("pageSize", "x"), ("currentPage", "0"),
    ("pageSize", "²"), ("currentPage", "-1"),
]  # fmt: skip
_HF_MALFORMED = [("startAt", "abc"), ("endAt", "12e3"), ("limit", "abc"), ("lastId", "abc"),
                 ("limit", "²"), ("lastId", "-5")]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), _MALFORMED)
@pytest.mark.parametrize("method", ["privateGetOrders", "privateGetFills", "privateGetStopOrder"])
def test_malformed_classic_list_queries_are_400100(
    client: Any, ex: FakeKucoin, method: str, name: str, value: str
) -> None:
    with pytest.raises(ccxt.BadRequest, match=f"Parameter Error: {name} must be"):
        getattr(client, method)({name: value})
    assert ex.requests[-1].code == "400100"


@pytest.mark.parametrize(("name", "value"), _HF_MALFORMED)
@pytest.mark.parametrize("method", ["privateGetHfOrdersDone", "privateGetHfFills"])
def test_malformed_hf_list_queries_are_400100(
    hf_client: Any, hf_ex: FakeKucoin, method: str, name: str, value: str
) -> None:
    with pytest.raises(ccxt.BadRequest, match=f"Parameter Error: {name} must be"):
        getattr(hf_client, method)({"symbol": SYMBOL, name: value})
    assert hf_ex.requests[-1].code == "400100"


def test_time_windows_filter_lists(client: Any, ex: FakeKucoin) -> None:
    client.privatePostOrders(_body(type="market", price=None, size="0.1"))
    ex.advance_clock(2_000)  # within the ±5 s signature window
    later_id = client.privatePostOrders(_body())["data"]["orderId"]
    later = ex.orders[later_id].created_at
    # the later order rests (active); done orders are what KuCoin lists without a status
    listed = client.privateGetOrders({"startAt": str(later), "status": "active"})["data"]["items"]
    assert [o["createdAt"] for o in listed] == [later]
    assert client.privateGetFills({"endAt": str(later - 1)})["data"]["totalNum"] == 1
    assert client.privateGetFills({"startAt": str(later)})["data"]["totalNum"] == 0
