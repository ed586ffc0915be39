"""The in-process fast path (DirectAdapter) answers exactly as the requests<->httpx bridge does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import httpx
import pytest
import requests

from safetrade.testing import FakeKucoin, Fault, session_over
from safetrade.testing._routes import route_of
from safetrade.testing.bridge import (
    DirectAdapter,
    HttpxTransportAdapter,
    Unanswered,
    WireAnswer,
    WireApp,
    WireRequest,
)


def _adapter(session: requests.Session) -> object:
    return session.get_adapter("https://api.kucoin.com")


def _fake() -> FakeKucoin:
    return FakeKucoin(balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)})


def test_a_session_over_the_fakes_own_transport_takes_the_direct_path() -> None:
    with _fake() as fake:
        assert isinstance(_adapter(session_over(fake.transport)), DirectAdapter)
        assert isinstance(_adapter(fake.ccxt_client().session), DirectAdapter)


class _Overriding(WireApp):
    def respond(self, request: WireRequest) -> WireAnswer:
        return WireAnswer(200, b'{"code": "200000", "data": "direct"}')

    def dispatch(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": "200000", "data": "dispatch"})


@pytest.mark.parametrize(
    "transport",
    [
        httpx.MockTransport(lambda _request: httpx.Response(200, json={})),  # not a WireApp
        httpx.MockTransport(_Overriding().dispatch),  # dispatch is more than the conversion
        httpx.HTTPTransport(),  # a real network
    ],
    ids=["plain-handler", "overridden-dispatch", "real-transport"],
)
def test_any_other_transport_goes_through_httpx(transport: httpx.BaseTransport) -> None:
    adapter = _adapter(session_over(transport))
    assert type(adapter) is HttpxTransportAdapter


def _pair(fake: FakeKucoin) -> tuple[Any, Any]:
    """A ccxt client on the direct path and one on the httpx bridge, both on ``fake``."""
    bridged = requests.Session()
    bridged.trust_env = False
    bridged.mount("https://", HttpxTransportAdapter(fake.transport))
    direct = fake.ccxt_client()
    return direct, fake.ccxt_client(session=bridged)


def _exchange_view(fake: FakeKucoin, since: int) -> list[tuple[Any, ...]]:
    return [
        (r.endpoint, r.method, r.host, r.path, r.query, r.body, r.fault, r.code, r.msg)
        for r in fake.requests[since:]
    ]


def test_both_paths_record_and_answer_the_same() -> None:
    with _fake() as fake:
        direct, bridged = _pair(fake)
        results = []
        for client, oid in ((direct, "st-direct"), (bridged, "st-bridged")):
            since = len(fake.requests)
            client.load_markets()
            order = client.create_order("SOL/USDT", "market", "buy", 0.5, None, {"clientOid": oid})
            found = client.fetch_order(order["id"], "SOL/USDT")
            with pytest.raises(ccxt.OrderNotFound):
                client.fetch_order("no-such-order", "SOL/USDT")
            with pytest.raises(ccxt.NotSupported):  # ccxt sends it as is: %41 is "A", / splits
                client.fetch_order("no such/order %41", "SOL/USDT")
            with pytest.raises(ccxt.BadSymbol):
                client.fetch_ticker("NOPE/USDT")
            results.append(
                (
                    _exchange_view(fake, since),
                    client.last_http_response,
                    {k.lower(): v for k, v in client.last_response_headers.items()},
                    found["status"],
                )
            )
        (view_d, *rest_d), (view_b, *rest_b) = results
        assert rest_d == rest_b
        assert len(view_d) == len(view_b)
        for d, b in zip(view_d, view_b, strict=True):
            if d[0] == "create_order":  # the two orders differ only by their clientOid
                assert d[5]["clientOid"] == "st-direct"
                assert b[5]["clientOid"] == "st-bridged"
                d, b = d[:5] + d[6:], b[:5] + b[6:]  # noqa: PLW2901
            elif d[0] == "fetch_order" and d[7] == "200000":  # the ids of the two orders
                d, b = d[:3] + d[4:], b[:3] + b[4:]  # noqa: PLW2901
            assert d == b


@pytest.mark.parametrize("fault", [Fault.TIMEOUT, Fault.RESPONSE_LOST])
def test_no_answer_is_a_timeout_on_both_paths(fault: Fault) -> None:
    with _fake() as fake:
        for client in _pair(fake):
            client.load_markets()
            fake.inject("accounts", fault)
            with pytest.raises(ccxt.RequestTimeout):
                client.fetch_balance()
            assert fake.requests[-1].fault == fault.name


def test_the_direct_path_is_still_only_the_fake_for_the_gateway() -> None:
    from safetrade.gateway import Gateway

    with _fake() as fake:
        assert not Gateway(fake.ccxt_client()).can_trade_real_money()


def test_an_unanswered_request_is_a_requests_timeout() -> None:
    class Silent(WireApp):
        def respond(self, request: WireRequest) -> WireAnswer:
            raise Unanswered("nothing")

    session = session_over(httpx.MockTransport(Silent().dispatch))
    assert isinstance(_adapter(session), DirectAdapter)
    with pytest.raises(requests.exceptions.Timeout, match="nothing"):
        session.get("https://example.invalid/x")


def test_routes_are_looked_up_by_method_and_decoded_path() -> None:
    assert route_of("GET", "/api/v1/accounts") == ("accounts", True, {})
    name, private, groups = route_of("GET", "/api/v1/hf/orders/abc")
    assert (name, private, groups) == ("fetch_order", True, {"hf": "hf/", "order_id": "abc"})
    groups["order_id"] = "changed"  # a caller's copy; the cached answer is unchanged
    assert route_of("GET", "/api/v1/hf/orders/abc")[2]["order_id"] == "abc"
    assert route_of("PUT", "/api/v1/accounts") == ("unknown", False, {})
    assert route_of("DELETE", "/api/v1/hf/orders/cancelAll")[0] == "cancel_all_hf_orders"
