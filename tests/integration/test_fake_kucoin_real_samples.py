"""The fake's responses, field by field, against real KuCoin response samples.

``tests/data/kucoin_real_samples.json`` (a copy of ``shared/reference/kucoin-real-samples.json``)
holds real KuCoin ``data`` payloads, each with its source: ccxt's static test fixtures (responses
ccxt recorded from KuCoin) and the example responses of KuCoin's own SDK
(kucoin-universal-sdk 1.3.2). For every sample of an endpoint the fake serves, the fake is driven
through the real ccxt client (implicit API methods return the raw envelope) into the same kind of
response, and compared recursively:

* every key of the sample is in the fake's answer, with the same JSON type (string, number,
  bool, null, list, object); a ``null`` in the sample stands for "any type";
* list items are compared against the sample's first item;
* keys the fake has and the sample lacks are allowed;
* a list the sample fills and the fake leaves empty is a failure unless it is empty by design
  (``EMPTY_BY_DESIGN``), so no comparison passes by having nothing to compare.

Samples of endpoints the fake does not serve are listed with the reason (``SKIPPED``), not run.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from safetrade.testing import FakeKucoin

DATA = Path(__file__).resolve().parents[1] / "data" / "kucoin_real_samples.json"
SAMPLES: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))["samples"]

# endpoints of the samples the fake does not serve (it answers 404000 "Url Not Found")
SKIPPED: dict[str, str] = {
    "hf_multi": "POST /api/v1/hf/orders/multi (HF batch orders) is not served by the fake",
    "hf_alter": "POST /api/v1/hf/orders/alter (HF modify order) is not served by the fake",
    "multi": "POST /api/v1/orders/multi (classic batch orders) is not served by the fake",
    "ledgers": "GET /api/v1/accounts/ledgers (account ledger) is not served by the fake",
    "hf_ledgers": "GET /api/v1/hf/accounts/ledgers (HF ledger) is not served by the fake",
}

# (endpoint, path) of lists the fake leaves empty on purpose (see safetrade.testing docstring)
EMPTY_BY_DESIGN: dict[tuple[str, str], str] = {
    ("currencies", "data[].chains"): "the fake lists no deposit/withdrawal chains",
    ("margin_symbols", "data.items"): "the fake has no margin markets",
    ("isolated_symbols", "data"): "the fake has no isolated-margin markets",
}

SYMBOL = "SOL-USDT"
_oids = itertools.count(1)


def _oid() -> str:
    return f"sample-{next(_oids)}"


@attrs.frozen
class Env:
    """A fresh fake with money and a price, and a real ccxt client talking to it."""

    ex: FakeKucoin
    client: Any

    def order(self, hf: bool = False, **fields: object) -> dict[str, Any]:
        """Place an order through the implicit API; return the request body used."""
        body: dict[str, Any] = {
            "clientOid": _oid(),
            "side": "buy",
            "symbol": SYMBOL,
            "type": "limit",
            "price": "90",
            "size": "1",
            "remark": "order remarks",
        }
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        place = self.client.privatePostHfOrders if hf else self.client.privatePostOrders
        body["orderId"] = place(body)["data"]["orderId"]
        return body

    def market_buy(self, hf: bool = False) -> dict[str, Any]:
        return self.order(hf, type="market", price=None, size="1")

    def stop(self, **fields: object) -> dict[str, Any]:
        body: dict[str, Any] = {
            "clientOid": _oid(),
            "side": "buy",
            "symbol": SYMBOL,
            "type": "limit",
            "price": "130",
            "size": "1",
            "stop": "entry",
            "stopPrice": "120",
            "remark": "order remarks",
        }
        body.update(fields)
        body["orderId"] = self.client.privatePostStopOrder(body)["data"]["orderId"]
        return body


Driver = Callable[[Env, dict[str, Any]], Any]
# endpoint -> (HF account?, driver returning the fake's whole envelope)
DRIVERS: dict[str, tuple[bool, Driver]] = {}


def _driver(endpoint: str, *, hf: bool = False) -> Callable[[Driver], Driver]:
    def register(func: Driver) -> Driver:
        DRIVERS[endpoint] = (hf, func)
        return func

    return register


# --- public market data ----------------------------------------------------------------------


@_driver("timestamp")
def _timestamp(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.publicGetTimestamp()


@_driver("status")
def _status(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.publicGetStatus()


@_driver("symbols")
def _symbols(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.publicGetSymbols()


@_driver("currencies")
def _currencies(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.publicGetCurrencies()


@_driver("stats")
def _stats(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.publicGetMarketStats({"symbol": SYMBOL})


@_driver("all_tickers")
def _all_tickers(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.publicGetMarketAllTickers()


@_driver("candles")
def _candles(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.publicGetMarketCandles({"symbol": SYMBOL, "type": "1min"})


@_driver("level1")
def _level1(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.publicGetMarketOrderbookLevel1({"symbol": SYMBOL})


@_driver("orderbook")
def _orderbook(env: Env, sample: dict[str, Any]) -> Any:
    if "full_order_book" in sample["source"]:  # GET /api/v3/market/orderbook/level2 (signed)
        return env.client.privateGetMarketOrderbookLevel2({"symbol": SYMBOL})
    return env.client.publicGetMarketOrderbookLevel220({"symbol": SYMBOL})


@_driver("histories")
def _histories(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.publicGetMarketHistories({"symbol": SYMBOL})


# --- account, fees, margin -------------------------------------------------------------------


@_driver("accounts")
def _accounts(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetAccounts()


@_driver("hf_status")
def _hf_status(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetHfAccountsOpened()


@_driver("trade_fees")
def _trade_fees(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetTradeFees({"symbols": "SOL-USDT,BTC-USDT"})


@_driver("margin_symbols")
def _margin_symbols(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetMarginSymbols()


@_driver("isolated_symbols")
def _isolated_symbols(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetIsolatedSymbols()


# --- classic orders and fills ----------------------------------------------------------------


@_driver("create_order")
def _create_order(env: Env, _sample: dict[str, Any]) -> Any:
    body = {"clientOid": _oid(), "side": "buy", "symbol": SYMBOL, "type": "limit",
            "price": "90", "size": "1"}  # fmt: skip
    return env.client.privatePostOrders(body)


@_driver("orders_list")
def _orders_list(env: Env, sample: dict[str, Any]) -> Any:
    env.order()
    env.market_buy()
    active = sample["data"]["items"][0]["isActive"]
    return env.client.privateGetOrders({"status": "active" if active else "done"})


@_driver("order")
def _order(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetOrdersOrderId({"orderId": env.order()["orderId"]})


@_driver("order_by_coid")
def _order_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.order()
    return env.client.privateGetOrderClientOrderClientOid({"clientOid": placed["clientOid"]})


@_driver("cancel_order")
def _cancel_order(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateDeleteOrdersOrderId({"orderId": env.order()["orderId"]})


@_driver("cancel_by_coid")
def _cancel_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.order()
    return env.client.privateDeleteOrderClientOrderClientOid({"clientOid": placed["clientOid"]})


@_driver("cancel_all")
def _cancel_all(env: Env, _sample: dict[str, Any]) -> Any:
    env.order()
    env.order()
    return env.client.privateDeleteOrders({"symbol": SYMBOL})


@_driver("fills")
def _fills(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy()
    return env.client.privateGetFills()


# --- stop orders -----------------------------------------------------------------------------


@_driver("create_stop")
def _create_stop(env: Env, _sample: dict[str, Any]) -> Any:
    body = {"clientOid": _oid(), "side": "buy", "symbol": SYMBOL, "type": "limit",
            "price": "130", "size": "1", "stop": "entry", "stopPrice": "120"}  # fmt: skip
    return env.client.privatePostStopOrder(body)


@_driver("stop_list")
def _stop_list(env: Env, _sample: dict[str, Any]) -> Any:
    env.stop()
    return env.client.privateGetStopOrder()


@_driver("stop_order")
def _stop_order(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateGetStopOrderOrderId({"orderId": env.stop()["orderId"]})


@_driver("stop_by_coid")
def _stop_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.stop()
    return env.client.privateGetStopOrderQueryOrderByClientOid({"clientOid": placed["clientOid"]})


@_driver("cancel_stop")
def _cancel_stop(env: Env, _sample: dict[str, Any]) -> Any:
    return env.client.privateDeleteStopOrderOrderId({"orderId": env.stop()["orderId"]})


@_driver("cancel_stop_by_coid")
def _cancel_stop_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.stop()
    return env.client.privateDeleteStopOrderCancelOrderByClientOid(
        {"clientOid": placed["clientOid"], "symbol": SYMBOL}
    )


@_driver("cancel_all_stops")
def _cancel_all_stops(env: Env, _sample: dict[str, Any]) -> Any:
    env.stop()
    return env.client.privateDeleteStopOrderCancel({"symbol": SYMBOL})


# --- HF orders and fills ---------------------------------------------------------------------


@_driver("hf_create_order", hf=True)
def _hf_create_order(env: Env, _sample: dict[str, Any]) -> Any:
    body = {"clientOid": _oid(), "side": "buy", "symbol": SYMBOL, "type": "limit",
            "price": "90", "size": "1"}  # fmt: skip
    return env.client.privatePostHfOrders(body)


@_driver("hf_order", hf=True)
def _hf_order(env: Env, sample: dict[str, Any]) -> Any:
    # an active order for an active sample, a filled one for a done sample
    placed = env.order(hf=True) if sample["data"]["active"] else env.market_buy(hf=True)
    return env.client.privateGetHfOrdersOrderId({"orderId": placed["orderId"], "symbol": SYMBOL})


@_driver("hf_order_by_coid", hf=True)
def _hf_order_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.market_buy(hf=True)
    return env.client.privateGetHfOrdersClientOrderClientOid(
        {"clientOid": placed["clientOid"], "symbol": SYMBOL}
    )


@_driver("hf_active", hf=True)
def _hf_active(env: Env, _sample: dict[str, Any]) -> Any:
    env.order(hf=True)
    return env.client.privateGetHfOrdersActive({"symbol": SYMBOL})


@_driver("hf_done", hf=True)
def _hf_done(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy(hf=True)
    return env.client.privateGetHfOrdersDone({"symbol": SYMBOL})


@_driver("hf_fills", hf=True)
def _hf_fills(env: Env, _sample: dict[str, Any]) -> Any:
    env.market_buy(hf=True)
    return env.client.privateGetHfFills({"symbol": SYMBOL})


@_driver("hf_cancel_order", hf=True)
def _hf_cancel_order(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.order(hf=True)
    return env.client.privateDeleteHfOrdersOrderId({"orderId": placed["orderId"], "symbol": SYMBOL})


@_driver("hf_cancel_by_coid", hf=True)
def _hf_cancel_by_coid(env: Env, _sample: dict[str, Any]) -> Any:
    placed = env.order(hf=True)
    return env.client.privateDeleteHfOrdersClientOrderClientOid(
        {"clientOid": placed["clientOid"], "symbol": SYMBOL}
    )


@_driver("hf_cancel_all", hf=True)
def _hf_cancel_all(env: Env, _sample: dict[str, Any]) -> Any:
    env.order(hf=True)
    return env.client.privateDeleteHfOrders({"symbol": SYMBOL})


@_driver("hf_cancel_all_symbols", hf=True)
def _hf_cancel_all_symbols(env: Env, _sample: dict[str, Any]) -> Any:
    env.order(hf=True)
    return env.client.privateDeleteHfOrdersCancelAll()


# --- the comparison --------------------------------------------------------------------------


def json_type(value: object) -> str:
    """The JSON type name of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    msg = f"not a JSON value: {value!r}"
    raise TypeError(msg)


@attrs.define
class Comparison:
    """Differences found between a real sample and the fake's answer."""

    problems: list[str] = attrs.Factory(list)
    empty: list[str] = attrs.Factory(list)  # paths of lists the sample fills and the fake does not
    keys: int = 0  # sample keys checked

    def compare(self, sample: object, fake: object, path: str = "data") -> None:
        if sample is None:  # null in the sample: any type
            return
        if json_type(sample) != json_type(fake):
            self.problems.append(
                f"{path}: sample has {json_type(sample)} {sample!r:.60}, "
                f"fake has {json_type(fake)} {fake!r:.60}"
            )
            return
        if isinstance(sample, dict):
            assert isinstance(fake, dict)
            for key, value in sample.items():
                self.keys += 1
                if key not in fake:
                    self.problems.append(f"{path}.{key}: missing (sample: {value!r:.60})")
                else:
                    self.compare(value, fake[key], f"{path}.{key}")
        elif isinstance(sample, list) and sample:
            assert isinstance(fake, list)
            if not fake:
                self.empty.append(path)
            for item in fake:
                self.compare(sample[0], item, f"{path}[]")


def _ids() -> Iterator[str]:
    for index, sample in enumerate(SAMPLES):
        yield f"{sample['endpoint']}-{index}"


_RESULTS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    line = (
        f"real KuCoin samples: {_RESULTS['compared']} compared, {_RESULTS['skipped']} skipped "
        f"(of {len(SAMPLES)})"
    )
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:  # pragma: no cover - run without those plugins
        return
    with capture.global_and_fixture_disabled():  # teardown output is otherwise swallowed
        reporter.write_line("")
        reporter.write_line(line)


def test_every_sample_is_compared_or_skipped_for_a_stated_reason() -> None:
    endpoints = {sample["endpoint"] for sample in SAMPLES}
    assert endpoints <= DRIVERS.keys() | SKIPPED.keys(), endpoints - DRIVERS.keys() - SKIPPED.keys()
    assert not DRIVERS.keys() & SKIPPED.keys()
    assert not SKIPPED.keys() - endpoints, "a SKIPPED entry without samples"
    compared = sum(1 for sample in SAMPLES if sample["endpoint"] in DRIVERS)
    assert compared >= 50
    assert all(sample.get("source") for sample in SAMPLES)


# samples of unserved endpoints are not test cases at all: a skipped test is never
# certification evidence (policy allow_skipped = false), and the test above names them
_SERVED = [(s, i) for s, i in zip(SAMPLES, _ids(), strict=True) if s["endpoint"] not in SKIPPED]
_RESULTS["skipped"] = len(SAMPLES) - len(_SERVED)


@pytest.mark.parametrize("sample", [s for s, _ in _SERVED], ids=[i for _, i in _SERVED])
def test_the_fake_answers_with_every_field_of_the_real_sample(sample: dict[str, Any]) -> None:
    endpoint = sample["endpoint"]
    hf, drive = DRIVERS[endpoint]
    with FakeKucoin(
        hf=hf,
        balances={"USDT": Decimal(10000), "SOL": Decimal(10)},
        prices={"SOL/USDT": Decimal(100), "BTC/USDT": Decimal(60000)},
    ) as ex:
        envelope = drive(Env(ex, ex.ccxt_client()), sample)
    assert envelope["code"] == "200000"
    comparison = Comparison()
    comparison.compare(sample["data"], envelope["data"])
    unexpected_empty = [
        path for path in comparison.empty if (endpoint, path) not in EMPTY_BY_DESIGN
    ]
    assert comparison.problems == [], f"{endpoint} ({sample['source']})"
    assert unexpected_empty == [], f"{endpoint}: the fake listed nothing to compare"
    _RESULTS["compared"] += 1


def test_the_comparison_catches_missing_keys_wrong_types_and_empty_lists() -> None:
    comparison = Comparison()
    comparison.compare(
        {"a": "1", "b": 2, "c": None, "d": [{"e": True}], "f": [1]},
        {"a": 1, "c": [], "d": [{"e": "yes"}, {}], "f": [], "extra": 0},
    )
    assert comparison.problems == [
        "data.a: sample has string '1', fake has number 1",
        "data.b: missing (sample: 2)",
        "data.d[].e: sample has bool True, fake has string 'yes'",
        "data.d[].e: missing (sample: True)",
    ]
    assert comparison.empty == ["data.f"]
