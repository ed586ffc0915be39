"""KuCoin's test-order endpoints through the real ccxt client: checked like a placement, not placed.

KuCoin: "the request parameters and return parameters of this endpoint are exactly the same as the
order endpoint ... the order will not enter the matching system, and the order cannot be queried"
(POST /api/v1/hf/orders/test, https://www.kucoin.com/docs-new/rest/spot-trading/orders/
add-order-test; POST /api/v1/orders/test, https://www.kucoin.com/docs-new/abandoned-endpoints/
spot-trading/orders/add-order-test-old). ccxt sends there when ``params`` has ``{'test': True}``.

Every test runs against a classic and an HF account. The market has a thin book (1 SOL a level), a
resting sell at 100.01 and an untriggered buy stop at 100.02, so an executed test order could move
the price, fill the resting order and trigger the stop, on top of holding or spending balance:
the state before and after is compared whole.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.certification.conformance.observe import orders_sent
from safetrade.testing import BookShape, FakeKucoin, Fault
from safetrade.testing._fake import wall_clock_ms

_oids = itertools.count(1)


def client_oid() -> str:
    return f"test-order-oid-{next(_oids)}"


def new_fake(*, hf: bool, clock: Any = None) -> FakeKucoin:
    return FakeKucoin(
        hf=hf,
        clock=clock,
        balances={"USDT": Decimal(1000), "SOL": Decimal(5)},
        prices={"SOL/USDT": Decimal(100)},
        book=BookShape(level_size=Decimal(1)),
    )


def set_up(ex: FakeKucoin) -> Any:
    """A loaded client, plus a resting sell at 100.01 and a buy stop (entry) at 100.02."""
    kucoin = ex.ccxt_client()
    # ccxt signs with the machine's clock; a fake with a frozen clock is a server whose clock
    # differs, so the client signs with the difference (zero for a fake on the wall clock)
    kucoin.options["timeDifference"] = kucoin.milliseconds() - ex.clock()
    kucoin.load_markets()
    kucoin.create_order("SOL/USDT", "limit", "sell", 1, 100.01)
    kucoin.create_order(
        "SOL/USDT", "market", "buy", 0.5, None, {"triggerPrice": 100.02, "stop": "entry"}
    )
    return kucoin


@pytest.fixture(params=[False, True], ids=["classic", "hf"])
def ex(request: pytest.FixtureRequest) -> Iterator[FakeKucoin]:
    with new_fake(hf=request.param) as fake:
        yield fake


@pytest.fixture
def client(ex: FakeKucoin) -> Any:
    return set_up(ex)


def state(ex: FakeKucoin, client: Any) -> dict[str, object]:
    """Everything a placement could change: balances and holds, prices, orders, stop orders,
    fills, and the public trade tape."""
    snapshot = ex.snapshot()
    snapshot.pop("now_ms")
    snapshot["trades"] = [t["id"] for t in client.fetch_trades("SOL/USDT")]
    return snapshot


def endpoint_path(ex: FakeKucoin) -> str:
    return "/api/v1/hf/orders/test" if ex.hf else "/api/v1/orders/test"


# (id, create_order arguments after the symbol); each would change the state if placed
ACCEPTED = [
    ("limit buy that rests and holds USDT", ("limit", "buy", 1, 99, {})),
    ("limit sell that rests and holds SOL", ("limit", "sell", 2, 101, {})),
    ("limit buy that takes three levels", ("limit", "buy", 3, 100.02, {})),
    ("market buy by size", ("market", "buy", 3, None, {})),
    ("market buy by cost", ("market", "buy", None, None, {"cost": 50})),
    ("market sell", ("market", "sell", 4, None, {})),
]


class TestAccepted:
    @pytest.mark.parametrize("args", [a for _, a in ACCEPTED], ids=[i for i, _ in ACCEPTED])
    def test_answered_like_a_placement_and_nothing_changes(
        self, ex: FakeKucoin, client: Any, args: tuple[Any, ...]
    ) -> None:
        """200000 with a placement's answer (classic: orderId; HF: orderId and clientOid);
        no order, hold, balance change, fill, trade, price move or stop trigger follows."""
        kind, side, amount, price, params = args
        before = state(ex, client)
        order = client.create_order("SOL/USDT", kind, side, amount, price, {"test": True, **params})
        sent = ex.requests[-1]
        assert (sent.endpoint, sent.method, sent.path, sent.code) == (
            "create_order_test", "POST", endpoint_path(ex), "200000",
        )  # fmt: skip
        assert isinstance(sent.body, dict)
        if ex.hf:
            assert order["info"] == {"orderId": order["id"], "clientOid": sent.body["clientOid"]}
        else:
            assert order["info"] == {"orderId": order["id"]}
        assert isinstance(order["id"], str)
        assert len(order["id"]) == 24
        assert state(ex, client) == before
        # the same order placed for real does change the state: the comparison above is not empty
        client.create_order("SOL/USDT", kind, side, amount, price, params)
        assert state(ex, client) != before

    def test_the_order_cannot_be_queried(self, ex: FakeKucoin, client: Any) -> None:
        """Neither by its id nor by its clientOid, nor among the open orders."""
        order = client.create_order(
            "SOL/USDT", "limit", "buy", 1, 99, {"test": True, "clientOid": "never-placed"}
        )
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(order["id"], "SOL/USDT")
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(None, "SOL/USDT", {"clientOid": "never-placed"})
        assert [o["price"] for o in client.fetch_open_orders("SOL/USDT")] == [100.01]

    def test_its_client_oid_stays_free(self, ex: FakeKucoin, client: Any) -> None:
        """A test order takes no clientOid: the order placed with it afterwards is accepted."""
        params = {"clientOid": "tried-first"}
        client.create_order("SOL/USDT", "limit", "buy", 1, 99, {"test": True, **params})
        placed = client.create_order("SOL/USDT", "limit", "buy", 1, 99, params)
        assert ex.orders[placed["id"]].client_oid == "tried-first"

    def test_real_ids_do_not_depend_on_test_orders(self, ex: FakeKucoin, client: Any) -> None:
        """An order placed after test orders gets the id it would have had without them."""
        for _ in range(3):
            client.create_order("SOL/USDT", "market", "buy", 1, None, {"test": True})
        placed = client.create_order("SOL/USDT", "market", "buy", 1)
        with new_fake(hf=ex.hf) as twin:
            placed_twin = set_up(twin).create_order("SOL/USDT", "market", "buy", 1)
        assert placed["id"] == placed_twin["id"]

    def test_a_trigger_price_creates_no_stop_order(self, ex: FakeKucoin, client: Any) -> None:
        """ccxt sends a test order with a trigger price to the test endpoint too (KuCoin
        documents no stop-order test endpoint): no stop order results."""
        before = state(ex, client)
        client.create_order(
            "SOL/USDT", "market", "sell", 1, None, {"test": True, "triggerPrice": 95}
        )
        sent = ex.requests[-1]
        assert sent.path == endpoint_path(ex)
        assert isinstance(sent.body, dict)
        assert sent.body["stopPrice"] == "95"
        assert state(ex, client) == before

    def test_an_injected_fault_hits_the_endpoint_by_name(self, ex: FakeKucoin, client: Any) -> None:
        """``create_order_test`` is a name ``inject`` accepts; the fault answers, nothing else."""
        before = state(ex, client)
        ex.inject("create_order_test", Fault.SERVER_ERROR)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            client.create_order("SOL/USDT", "market", "buy", 1, None, {"test": True})
        assert ex.requests[-1].fault == Fault.SERVER_ERROR.name
        assert state(ex, client) == before


# (id, body fields over a limit buy of SOL-USDT, KuCoin's code, a part of its message)
REJECTED = [
    ("price off the tick", {"size": "1", "price": "87.365"}, "400100", "Price increment invalid"),
    ("size off the increment", {"size": "1.00005", "price": "90"}, "400100", "size increment"),
    ("size below the minimum", {"size": "0.001", "price": "90"}, "400100", "below the minimum"),
    ("limit funds below minFunds", {"size": "0.01", "price": "5"}, "600100", "Funds below"),
    ("balance insufficient", {"size": "100", "price": "90"}, "200004", "Balance insufficient"),
    ("price above the band", {"size": "1", "price": "120"}, "400100", "not in the given range"),
    ("sell below the band", {"side": "sell", "size": "1", "price": "80"}, "400100", "range"),
    ("no size", {"price": "90"}, "400100", "size is required"),
    ("unknown timeInForce", {"size": "1", "price": "90", "timeInForce": "XYZ"}, "400100",
     "unknown timeInForce"),
    ("postOnly with IOC", {"size": "1", "price": "90", "timeInForce": "IOC", "postOnly": True},
     "400100", "postOnly"),
    ("remark too long", {"size": "1", "price": "90", "remark": "x" * 101}, "400100", "remark"),
    ("unsupported pair", {"symbol": "FOO-USDT", "size": "1", "price": "90"}, "400100",
     "Unsupported trading pair"),
    ("bad clientOid", {"clientOid": "not ok!", "size": "1", "price": "90"}, "400100",
     "clientOid"),
    ("market funds below minFunds", {"type": "market", "funds": "0.05"}, "600101",
     "The order funds should more then"),
    ("market funds beyond the balance", {"type": "market", "funds": "2000"}, "200004",
     "Balance insufficient"),
    ("market sell beyond the coins", {"type": "market", "side": "sell", "size": "4.5"},
     "200004", "Balance insufficient"),
    ("market without a price", {"type": "market", "symbol": "BTC-USDT", "size": "0.001"},
     "400100", "No market price"),
]  # fmt: skip


def answer(ex: FakeKucoin, call: Any, body: Mapping[str, object]) -> tuple[type, str, str]:
    """The ccxt exception class, KuCoin's code and message of one rejected request."""
    with pytest.raises(ccxt.BaseError) as excinfo:
        call(dict(body))
    sent = ex.requests[-1]
    assert sent.code is not None
    assert sent.msg is not None
    return type(excinfo.value), sent.code, sent.msg


def both_answers(ex: FakeKucoin, client: Any, body: Mapping[str, object]) -> list[Any]:
    """The rejection of the test endpoint, then the placement's, for the same body."""
    if ex.hf:
        test, place = client.privatePostHfOrdersTest, client.privatePostHfOrders
    else:
        test, place = client.privatePostOrdersTest, client.privatePostOrders
    tested = answer(ex, test, body)
    assert ex.requests[-1].path == endpoint_path(ex)
    return [tested, answer(ex, place, body)]


class TestRejected:
    @pytest.mark.parametrize(
        ("fields", "code", "msg"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED]
    )
    def test_rejected_exactly_like_a_placement(
        self, ex: FakeKucoin, client: Any, fields: dict[str, object], code: str, msg: str
    ) -> None:
        """Same code and message, so the same ccxt exception; nothing changes."""
        body: dict[str, object] = {
            "clientOid": client_oid(), "side": "buy", "symbol": "SOL-USDT", "type": "limit",
        }  # fmt: skip
        body.update(fields)
        before = state(ex, client)
        tested, placed = both_answers(ex, client, body)
        assert tested == placed
        assert tested[1] == code
        assert msg in tested[2]
        assert state(ex, client) == before

    def test_client_oid_of_an_active_order(self, ex: FakeKucoin, client: Any) -> None:
        """Taken on both account types: classic 400100, HF 126044, as for a placement."""
        (resting,) = [o for o in ex.orders.values() if o.is_active]
        body = {"clientOid": resting.client_oid, "side": "buy", "symbol": "SOL-USDT",
                "type": "limit", "size": "1", "price": "90"}  # fmt: skip
        before = state(ex, client)
        tested, placed = both_answers(ex, client, body)
        assert tested == placed
        expected = ("126044", "clientOid duplicate") if ex.hf else (
            "400100", "validation.createOrder.clientOidDuplicated"
        )  # fmt: skip
        assert tested[1:] == expected
        assert state(ex, client) == before

    def test_client_oid_of_a_done_order(self, ex: FakeKucoin, client: Any) -> None:
        """HF refuses any clientOid it knows, classic only an active order's: the test endpoint
        answers what placing would."""
        client.create_order("SOL/USDT", "market", "buy", 1, None, {"clientOid": "done-once"})
        params = {"test": True, "clientOid": "done-once"}
        if ex.hf:
            with pytest.raises(ccxt.InvalidOrder, match="clientOid duplicate"):
                client.create_order("SOL/USDT", "market", "buy", 1, None, params)
        else:
            client.create_order("SOL/USDT", "market", "buy", 1, None, params)
            assert ex.requests[-1].code == "200000"

    def test_classic_needs_a_client_oid(self) -> None:
        """Classic requires clientOid on the test endpoint as on placement; HF does not."""
        body = {"side": "buy", "symbol": "SOL-USDT", "type": "limit", "size": "1", "price": "90"}
        with new_fake(hf=False) as ex:
            client = set_up(ex)
            tested, placed = both_answers(ex, client, body)
            assert tested == placed
            assert tested[1:] == ("400100", "validation.createOrder.clientOidIsRequired")
        with new_fake(hf=True) as ex:
            answered = set_up(ex).privatePostHfOrdersTest(dict(body))
            assert answered["data"] == {"orderId": answered["data"]["orderId"], "clientOid": None}

    def test_a_wrong_secret(self, ex: FakeKucoin, client: Any) -> None:
        """The test endpoint is private and authenticated like a placement: a wrong secret
        fails on the passphrase first (API key v2 signs it with the secret), 400004."""
        client.secret = "not-the-secret"
        body = {"clientOid": client_oid(), "side": "buy", "symbol": "SOL-USDT",
                "type": "limit", "size": "1", "price": "90"}  # fmt: skip
        before = {k: v for k, v in ex.snapshot().items() if k != "now_ms"}
        tested, placed = both_answers(ex, client, body)
        assert tested == placed
        assert tested == (ccxt.AuthenticationError, "400004", "Invalid KC-API-PASSPHRASE")
        assert {k: v for k, v in ex.snapshot().items() if k != "now_ms"} == before


class Clock:
    """A frozen clock: every request of a test falls into one rate-limit window."""

    def __init__(self) -> None:
        self.ms = wall_clock_ms()

    def __call__(self) -> int:
        return self.ms


@pytest.mark.parametrize(("hf", "weight"), [(False, 2), (True, 1)], ids=["classic", "hf"])
def test_rate_limit_weight(hf: bool, weight: int) -> None:
    """Spot pool; classic 2 (docs-new/api-3470341), HF 1 (docs-new/api-3470187)."""
    with new_fake(hf=hf, clock=Clock()) as ex:
        client = set_up(ex)
        remaining = []
        for _ in range(2):
            client.create_order("SOL/USDT", "limit", "buy", 1, 99, {"test": True})
            headers = {k.lower(): v for k, v in client.last_response_headers.items()}
            remaining.append(int(headers["gw-ratelimit-remaining"]))
        assert remaining[0] - remaining[1] == weight
        assert int(headers["gw-ratelimit-limit"]) == 4000  # the Spot pool's quota


def test_conformance_does_not_count_test_orders_as_sent(ex: FakeKucoin, client: Any) -> None:
    """The judges read ``orders_sent``: a test order, accepted or rejected, is no order sent."""
    assert [o.kind for o in orders_sent(ex)] == ["order", "stop order"]
    client.create_order("SOL/USDT", "market", "buy", 1, None, {"test": True})
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order("SOL/USDT", "market", "buy", None, None, {"test": True, "cost": 5000})
    assert [r.endpoint for r in ex.requests[-2:]] == ["create_order_test"] * 2
    assert [o.kind for o in orders_sent(ex)] == ["order", "stop order"]
    client.create_order("SOL/USDT", "market", "buy", 1)
    assert [o.kind for o in orders_sent(ex)] == ["order", "stop order", "order"]
