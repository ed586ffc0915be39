"""KuCoin's time windows, GTT expiry and the account ledgers, through the real ccxt client.

Each test would have passed on the old fake only by accident: it listed every fill and done
order ever made, never expired a GTT order and answered the ledgers with 404.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin

HOUR = 3_600_000
DAY = 24 * HOUR
SYMBOL = "SOL/USDT"
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "kucoin_real_samples.json"


def _fake(*, hf: bool = False, usdt: str = "10000", sol: str = "0") -> FakeKucoin:
    balances = {"USDT": usdt} | ({"SOL": sol} if sol != "0" else {})
    return FakeKucoin(balances=balances, prices={SYMBOL: "100"}, hf=hf, rate_limits=False)


def _client(fake: FakeKucoin) -> Any:
    client = fake.ccxt_client()
    client.load_markets()
    return client


def _advance(fake: FakeKucoin, client: Any, ms: int) -> None:
    """Move the fake's clock; ccxt signs with the machine's, so it learns the difference."""
    fake.advance_clock(ms)
    client.options["timeDifference"] = client.milliseconds() - fake.clock()


def _two_buys_ten_days_apart(fake: FakeKucoin, client: Any) -> tuple[int, str, str]:
    start = fake.clock()
    first = client.create_order(SYMBOL, "market", "buy", 1)["id"]
    _advance(fake, client, 10 * DAY)
    second = client.create_order(SYMBOL, "market", "buy", 1)["id"]
    return start, first, second


# --- classic windows -----------------------------------------------------------------------


def test_classic_fills_since_a_start_cover_the_seven_days_after_it() -> None:
    with _fake() as fake:
        client = _client(fake)
        start, first, _second = _two_buys_ten_days_apart(fake, client)
        trades = client.fetch_my_trades(SYMBOL, since=start)
        assert [t["order"] for t in trades] == [first]


def test_classic_fills_without_a_window_are_the_last_day_only() -> None:
    with _fake() as fake:
        client = _client(fake)
        _advance(fake, client, 0)
        first = client.create_order(SYMBOL, "market", "buy", 1)["id"]
        _advance(fake, client, 2 * DAY)
        second = client.create_order(SYMBOL, "market", "buy", 1)["id"]
        assert [t["order"] for t in client.fetch_my_trades(SYMBOL)] == [second]
        assert first != second


def test_classic_fills_wider_than_seven_days_are_an_error() -> None:
    with _fake() as fake:
        client = _client(fake)
        now = fake.clock()
        with pytest.raises(ccxt.BadRequest, match="should not exceed 7 days"):
            client.privateGetFills({"startAt": str(now - 8 * DAY), "endAt": str(now)})
        # exactly seven days is allowed
        answer = client.privateGetFills({"startAt": str(now - 7 * DAY), "endAt": str(now)})
        assert answer["code"] == "200000"


def test_classic_fills_of_an_order_ignore_the_window() -> None:
    """The gateway's order_fills reads an order's fills by orderId, whenever they happened."""
    with _fake() as fake:
        client = _client(fake)
        _start, first, _second = _two_buys_ten_days_apart(fake, client)
        trades = client.fetch_my_trades(SYMBOL, None, None, {"orderId": first})
        assert [t["order"] for t in trades] == [first]


def test_classic_order_list_without_status_lists_done_orders() -> None:
    with _fake() as fake:
        client = _client(fake)
        resting = client.create_order(SYMBOL, "limit", "buy", 1, 90)["id"]
        done = client.create_order(SYMBOL, "market", "buy", 1)["id"]
        items = client.privateGetOrders({})["data"]["items"]
        assert [(i["id"], i["isActive"]) for i in items] == [(done, False)]
        assert resting != done


def test_classic_closed_orders_since_a_start_cover_seven_days_and_wider_is_an_error() -> None:
    with _fake() as fake:
        client = _client(fake)
        start, first, second = _two_buys_ten_days_apart(fake, client)
        assert [o["id"] for o in client.fetch_closed_orders(SYMBOL, since=start)] == [first]
        assert [o["id"] for o in client.fetch_closed_orders(SYMBOL)] == [second]
        now = fake.clock()
        with pytest.raises(ccxt.BadRequest, match="should not exceed 7 days"):
            client.privateGetOrders(
                {"status": "done", "startAt": str(now - 30 * DAY), "endAt": str(now)}
            )
        # active orders have no time limit
        answer = client.privateGetOrders(
            {"status": "active", "startAt": str(now - 30 * DAY), "endAt": str(now)}
        )
        assert answer["code"] == "200000"


def test_a_classic_cancelled_order_is_gone_after_a_month_a_filled_one_is_not() -> None:
    with _fake() as fake:
        client = _client(fake)
        cancelled = client.create_order(SYMBOL, "limit", "buy", 1, 90)["id"]
        client.cancel_order(cancelled, SYMBOL)
        filled = client.create_order(SYMBOL, "market", "buy", 1)["id"]
        _advance(fake, client, 29 * DAY)
        assert client.fetch_order(cancelled, SYMBOL)["status"] == "canceled"
        _advance(fake, client, 2 * DAY)
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(cancelled, SYMBOL)
        assert client.fetch_order(filled, SYMBOL)["status"] == "closed"


# --- HF windows ------------------------------------------------------------------------------


def test_hf_fills_and_done_orders_are_the_last_three_days_whatever_was_asked() -> None:
    with _fake(hf=True) as fake:
        client = _client(fake)
        start, first, second = _two_buys_ten_days_apart(fake, client)
        assert [t["order"] for t in client.fetch_my_trades(SYMBOL, since=start)] == [second]
        assert [o["id"] for o in client.fetch_closed_orders(SYMBOL, since=start)] == [second]
        # a range wider than 3*24 hours is cut to it, not refused
        now = fake.clock()
        answer = client.privateGetHfFills(
            {"symbol": "SOL-USDT", "startAt": str(now - 30 * DAY), "endAt": str(now)}
        )
        assert [i["orderId"] for i in answer["data"]["items"]] == [second]
        # the fills of an order are found by its id whenever they happened
        trades = client.fetch_my_trades(SYMBOL, None, None, {"orderId": first})
        assert [t["order"] for t in trades] == [first]


def test_an_hf_done_order_is_found_for_three_days_then_not() -> None:
    with _fake(hf=True) as fake:
        client = _client(fake)
        order = client.create_order(SYMBOL, "market", "buy", 1, None, {"clientOid": "old-1"})
        _advance(fake, client, 3 * DAY - 1000)
        assert client.fetch_order(order["id"], SYMBOL)["status"] == "closed"
        found = client.fetch_order(None, SYMBOL, {"clientOrderId": "old-1"})
        assert found["id"] == order["id"]
        _advance(fake, client, 2000)
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(order["id"], SYMBOL)
        with pytest.raises(ccxt.OrderNotFound):
            client.fetch_order(None, SYMBOL, {"clientOrderId": "old-1"})


def test_an_hf_active_order_is_found_however_old() -> None:
    with _fake(hf=True) as fake:
        client = _client(fake)
        order = client.create_order(SYMBOL, "limit", "buy", 1, 90)
        _advance(fake, client, 30 * DAY)
        assert client.fetch_order(order["id"], SYMBOL)["status"] == "open"
        assert [o["id"] for o in client.fetch_open_orders(SYMBOL)] == [order["id"]]


# --- GTT / cancelAfter -----------------------------------------------------------------------


@pytest.mark.parametrize("hf", [False, True], ids=["classic", "hf"])
def test_a_gtt_order_is_cancelled_after_cancel_after_seconds(hf: bool) -> None:
    with _fake(hf=hf, usdt="1000") as fake:
        client = _client(fake)
        params = {"timeInForce": "GTT", "cancelAfter": 60}
        order = client.create_order(SYMBOL, "limit", "buy", 1, 99, params)
        assert client.fetch_balance()["USDT"]["used"] > 0
        _advance(fake, client, 59_000)
        seen = client.fetch_order(order["id"], SYMBOL)
        assert seen["status"] == "open"
        assert seen["info"]["cancelAfter"] == 60
        _advance(fake, client, 1_000)
        seen = client.fetch_order(order["id"], SYMBOL)
        assert seen["status"] == "canceled"
        assert seen["info"]["cancelExist"] is True
        assert seen["info"]["timeInForce"] == "GTT"
        balance = client.fetch_balance()["USDT"]
        assert (balance["free"], balance["used"]) == (1000, 0)  # the hold is released
        assert client.fetch_open_orders(SYMBOL) == []


def test_an_expired_gtt_order_is_cancelled_before_a_later_price_move_fills_it() -> None:
    with _fake(usdt="1000") as fake:
        client = _client(fake)
        params = {"timeInForce": "GTT", "cancelAfter": 60}
        order = client.create_order(SYMBOL, "limit", "buy", 1, 99, params)
        fake.advance_clock(61_000)  # no request in between: the price move itself expires it
        fake.set_price(SYMBOL, Decimal("98.5"))
        _advance(fake, client, 0)
        seen = client.fetch_order(order["id"], SYMBOL)
        assert (seen["status"], seen["filled"]) == ("canceled", 0)
        assert fake.fills == ()


def test_a_gtt_order_that_fills_before_its_time_runs_out_stays_filled() -> None:
    with _fake(usdt="1000") as fake:
        client = _client(fake)
        params = {"timeInForce": "GTT", "cancelAfter": 60}
        order = client.create_order(SYMBOL, "limit", "buy", 1, 99, params)
        fake.set_price(SYMBOL, Decimal("98.5"))
        _advance(fake, client, 120_000)
        seen = client.fetch_order(order["id"], SYMBOL)
        assert (seen["status"], seen["filled"]) == ("closed", 1)


def test_cancel_after_without_gtt_has_no_effect_and_bad_values_are_refused() -> None:
    with _fake(usdt="1000") as fake:
        client = _client(fake)
        gtc = client.create_order(SYMBOL, "limit", "buy", 1, 90, {"cancelAfter": 60})
        forever = client.create_order(SYMBOL, "limit", "buy", 1, 90, {"timeInForce": "GTT"})
        minus_one = {"timeInForce": "GTT", "cancelAfter": -1}
        also_forever = client.create_order(SYMBOL, "limit", "buy", 1, 90, minus_one)
        for bad in (-5, "soon", 1.5):
            with pytest.raises(ccxt.BadRequest, match="cancelAfter"):
                client.create_order(
                    SYMBOL, "limit", "buy", 1, 90, {"timeInForce": "GTT", "cancelAfter": bad}
                )
        _advance(fake, client, 7 * DAY)
        for order in (gtc, forever, also_forever):
            seen = client.fetch_order(order["id"], SYMBOL)
            assert seen["status"] == "open"
            assert seen["info"]["cancelAfter"] == 0


def test_a_gtt_stop_order_expires_counted_from_its_trigger() -> None:
    with _fake(usdt="0", sol="5") as fake:
        client = _client(fake)
        # a stop-loss limit sell whose limit (99) is above the trigger (95): it rests once fired
        params = {"stopLossPrice": 95, "timeInForce": "GTT", "cancelAfter": 30}
        client.create_order(SYMBOL, "limit", "sell", 1, 99, params)
        stops = client.fetch_open_orders(SYMBOL, None, None, {"stop": True})
        assert [s["info"]["cancelAfter"] for s in stops] == [30]
        _advance(fake, client, 10 * 60_000)  # an untriggered stop does not expire
        fake.set_price(SYMBOL, Decimal(95))
        (became,) = [o.id for o in fake.orders.values() if o.stop_triggered]
        _advance(fake, client, 29_000)
        seen = client.fetch_order(became, SYMBOL)
        assert (seen["status"], seen["info"]["cancelAfter"]) == ("open", 30)
        _advance(fake, client, 1_000)
        assert client.fetch_order(became, SYMBOL)["status"] == "canceled"
        assert fake.balance("SOL").holds == 0


# --- account ledgers -------------------------------------------------------------------------


def _shape(value: object) -> object:
    """A JSON value's structure: the type of each leaf, lists by their first item."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _sample(endpoint: str) -> Any:
    samples = json.loads(SAMPLES.read_text(encoding="utf-8"))["samples"]
    return next(s["data"] for s in samples if s["endpoint"] == endpoint)


def _has_sample_shape(sample: object, answer: object) -> bool:
    """Every key of the sample is in the answer with the same JSON type (recursively)."""
    if isinstance(sample, dict):
        return isinstance(answer, dict) and all(
            key in answer and _has_sample_shape(item, answer[key]) for key, item in sample.items()
        )
    if isinstance(sample, list):
        return isinstance(answer, list) and bool(answer) and _has_sample_shape(sample[0], answer[0])
    return type(sample) is type(answer)


@pytest.mark.parametrize(
    ("hf", "endpoint", "method"),
    [(False, "ledgers", "privateGetAccountsLedgers"),
     (True, "hf_ledgers", "privateGetHfAccountsLedgers")],
    ids=["classic", "hf"],
)  # fmt: skip
def test_the_ledgers_answer_in_the_shape_of_kucoins_samples(
    hf: bool, endpoint: str, method: str
) -> None:
    with _fake(hf=hf) as fake:
        client = _client(fake)
        client.create_order(SYMBOL, "market", "buy", 1)
        answer = getattr(client, method)({})["data"]
        assert _has_sample_shape(_sample(endpoint), answer), (_shape(answer), endpoint)


@pytest.mark.parametrize("hf", [False, True], ids=["classic", "hf"])
def test_fetch_ledger_lists_the_funding_and_both_sides_of_a_trade(hf: bool) -> None:
    with _fake(hf=hf, usdt="1000") as fake:
        client = _client(fake)
        order = client.create_order(SYMBOL, "market", "buy", 1)
        fill = fake.fills[0]
        entries = client.fetch_ledger(None, None, None, {"hf": hf})
        # ccxt sorts by time; entries of one instant by their id
        entries.sort(key=lambda e: (e["timestamp"], int(e["id"])))
        assert [(e["currency"], e["direction"], e["type"]) for e in entries] == [
            ("USDT", "in", "transfer"),
            ("USDT", "out", "trade"),
            ("SOL", "in", "trade"),
        ]
        funding, paid, got = entries
        assert funding["amount"] == 1000
        assert Decimal(str(paid["amount"])) == fill.funds + fill.fee  # fees included
        assert Decimal(str(paid["fee"]["cost"])) == fill.fee
        if hf:  # HF: the balance after it; classic: a deprecated field KuCoin sends as "0"
            assert Decimal(str(paid["after"])) == fake.balance("USDT").total
        else:
            assert paid["info"]["balance"] == "0"
            assert paid["after"] is None  # as ccxt reads KuCoin's own answer
        assert got["amount"] == 1
        assert paid["referenceId"] == (str(fill.seq) if hf else fill.trade_id)
        assert paid["info"]["accountType"] == ("TRADE_HF" if hf else "TRADE")
        assert order["id"] in paid["info"]["context"]
        usdt_only = client.fetch_ledger("USDT", None, None, {"hf": hf})
        assert [e["currency"] for e in usdt_only] == ["USDT", "USDT"]


def test_classic_ledgers_cover_a_day_and_wider_is_an_error() -> None:
    with _fake(usdt="1000") as fake:
        client = _client(fake)
        start = fake.clock() - 60_000  # the funding was booked when the fake was made
        _advance(fake, client, 2 * DAY)
        client.create_order(SYMBOL, "market", "buy", 1)
        # the last 24 hours by default: the trade, not the funding two days ago
        assert [e["type"] for e in client.fetch_ledger()] == ["trade", "trade"]
        # since a start: the 24 hours after it
        assert [e["type"] for e in client.fetch_ledger(None, start)] == ["transfer"]
        with pytest.raises(ccxt.BadRequest, match="exceeds 24 hours"):
            client.fetch_ledger(None, start, None, {"until": fake.clock()})


def test_hf_ledgers_are_the_last_three_days_paged_by_last_id() -> None:
    with _fake(hf=True, usdt="1000") as fake:
        client = _client(fake)
        start = fake.clock()
        _advance(fake, client, 4 * DAY)
        for _ in range(2):
            client.create_order(SYMBOL, "market", "buy", 1)
        items = client.privateGetHfAccountsLedgers({"startAt": str(start)})["data"]
        assert [i["bizType"] for i in items] == ["TRADE_EXCHANGE"] * 4  # the funding is too old
        ids = [int(i["id"]) for i in items]
        assert ids == sorted(ids, reverse=True)
        page = client.privateGetHfAccountsLedgers({"limit": "2", "lastId": str(ids[1])})["data"]
        assert [int(i["id"]) for i in page] == ids[2:4]


def test_a_classic_account_has_no_hf_ledger() -> None:
    with _fake(usdt="1000") as fake:
        client = _client(fake)
        client.create_order(SYMBOL, "market", "buy", 1)
        assert client.privateGetHfAccountsLedgers({})["data"] == []
