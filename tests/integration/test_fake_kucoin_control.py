"""The served fake, set up from a TOML file and driven over its control API.

A bot in any language sees only HTTP: this is what it can do. The bot here is the real ccxt
client over loopback (sync and ``ccxt.async_support``); the control calls are plain HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import httpx
import pytest

from safetrade.testing import TEST_API_KEY, TEST_API_SECRET, TEST_PASSPHRASE, serve

CONFIG = """
account = "classic"
max_requests = 40
[balances]
USDT = "123"
SOL = "1.417"
[book]
spread_ticks = 2
levels = 20
level_size = "50"
[[paths]]
symbol = "SOL-USDT"
csv = "sol.csv"
history = 3
[[faults]]
endpoint = "create_stop_order"
fault = "timeout"
times = 1
"""
CSV = """time,open,high,low,close
0,87,88,86,87.36
60,87.36,88,87,87.5
120,87.5,87.6,87.2,87.36
180,87.36,87.4,84,84.5
"""


@pytest.fixture
def served(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    (tmp_path / "sol.csv").write_text(CSV)
    (tmp_path / "fake.toml").write_text(CONFIG)
    parser = argparse.ArgumentParser()
    serve.configure(parser, "fake-kucoin")
    args = parser.parse_args(["--port", "0", "--config", str(tmp_path / "fake.toml")])
    stop = threading.Event()
    thread = threading.Thread(target=serve.run, args=(args, "fake-kucoin"), kwargs={"stop": stop})
    thread.start()
    try:
        for _ in range(200):
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", capsys.readouterr().out)
            if match:
                yield match.group(1)
                break
            stop.wait(0.01)
        else:
            pytest.fail("the served fake did not start")
    finally:
        stop.set()
        thread.join(5)


@pytest.fixture
def closing() -> Iterator[list[httpx.Client]]:
    opened: list[httpx.Client] = []
    yield opened
    for client in opened:
        client.close()


def _control(base_url: str) -> httpx.Client:
    # one request per connection: nothing is left open when the test ends
    return httpx.Client(base_url=f"{base_url}/_safetrade/", headers={"Connection": "close"})


def _client(base_url: str, module: Any = ccxt) -> Any:
    client = module.kucoin(
        {"apiKey": TEST_API_KEY, "secret": TEST_API_SECRET, "password": TEST_PASSPHRASE,
         "enableRateLimit": False}
    )  # fmt: skip
    client.urls["api"] = dict.fromkeys(client.urls["api"], base_url)
    return client


def test_a_bot_is_driven_through_its_stop_loss_over_http(served: str) -> None:
    control = _control(served)
    client = _client(served)
    assert client.fetch_ticker("SOL/USDT")["last"] == 87.36
    assert (client.fetch_ticker("SOL/USDT")["bid"], client.fetch_ticker("SOL/USDT")["ask"]) == (
        87.35,
        87.37,
    )
    assert len(client.fetch_ohlcv("SOL/USDT", "1m")) == 3
    # the config armed one timeout on the first stop order
    with pytest.raises(ccxt.NetworkError):
        client.create_order("SOL/USDT", "market", "sell", 1.417, None, {"stopLossPrice": 85.61})
    stop = client.create_order("SOL/USDT", "market", "sell", 1.417, None, {"stopLossPrice": 85.61})
    stepped = control.post("step", json={"symbol": "SOL-USDT"}).json()
    assert stepped["result"]["price"] == "84.5"
    state = control.get("state").json()
    (stop_order,) = state["stop_orders"]
    assert (stop_order["id"], stop_order["status"]) == (stop["id"], "TRIGGERED")
    assert Decimal(state["balances"]["SOL"]["total"]) == 0
    # the falling candle visits its high, then 84: the stop fires there and sells into the
    # book's best bid, one tick under 84 (a gap, as a real stop suffers)
    assert state["fills"][0]["price"] == "83.99"
    assert state["faults"] == {}
    # candles now include the replayed one; the path is exhausted
    # endAt one minute ahead: ccxt's default endAt (now, in whole seconds) excludes a candle
    # that started this very second, and the replayed candle starts on the clock's minute
    later = {"endAt": int(time.time()) + 60}
    assert len(client.fetch_ohlcv("SOL/USDT", "1m", params=later)) == 4
    assert control.post("step", json={"symbol": "SOL-USDT"}).json()["result"]["replayed"] == []


def test_prices_faults_clock_and_the_request_log(served: str) -> None:
    control = _control(served)
    client = _client(served)
    assert control.post("price", json={"symbol": "SOL-USDT", "price": "90.1"}).status_code == 200
    assert client.fetch_ticker("SOL/USDT")["last"] == 90.1
    answer = control.post(
        "fault", json={"endpoint": "ticker", "fault": {"code": "400100", "msg": "x"}}
    )
    assert answer.status_code == 200
    with pytest.raises(ccxt.BadRequest):
        client.fetch_ticker("SOL/USDT")
    log = control.get("requests", params={"since": 0}).json()
    assert [r["endpoint"] for r in log["requests"]][-2:] == ["ticker", "ticker"]
    assert log["requests"][-1]["code"] == "400100"
    later = control.get("requests", params={"since": log["next"]}).json()
    assert later["requests"] == []
    before = control.get("state").json()["now_ms"]
    control.post("clock", json={"advance_ms": 3_000})
    assert control.get("state").json()["now_ms"] >= before + 3_000
    control.post("fill-policy", json={"fraction": "0.5"})
    assert control.get("state").json()["fill_policy"]["fraction"] == "0.5"
    control.post("balance", json={"currency": "USDT", "available": "1000"})
    assert client.fetch_balance()["USDT"]["free"] == 1000.0
    control.post("market", json={"symbol": "ETH-USDT", "price_increment": "0.01"})
    assert "ETH/USDT" in client.load_markets(reload=True)


def test_the_request_log_is_bounded(served: str) -> None:
    control = _control(served)
    client = _client(served)
    for _ in range(60):
        client.fetch_time()
    log = control.get("requests", params={"since": 0}).json()
    assert len(log["requests"]) <= 40
    assert log["dropped"] >= 20
    assert log["next"] == log["dropped"] + len(log["requests"])


def test_bad_control_requests_name_the_problem(served: str) -> None:
    control = _control(served)
    cases = [
        ("price", {"symbol": "SOL-USDT"}, "missing field 'price'"),
        ("price", {"symbol": "SOL-USDT", "price": "cheap"}, "price must be a number"),
        ("fault", {"endpoint": "ticker", "fault": "explode"}, "fault must be one of"),
        ("fault", {"endpoint": "nope", "fault": "timeout"}, "unknown endpoint 'nope'"),
        ("book", {"levels": 0}, "levels"),
        ("market", {"symbol": "ETH-USDT", "tick": "1"}, "unknown market fields ['tick']"),
    ]
    for path, body, text in cases:
        answer = control.post(path, json=body)
        assert answer.status_code == 400, path
        assert text in answer.json()["error"], (path, answer.json())
    assert control.get("nothing").status_code == 404


def test_an_absurd_body_is_413_not_a_dropped_connection(served: str) -> None:
    with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1]))) as sock:
        sock.sendall(
            b"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"
        )
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")
    assert "Request Entity Too Large" in answer


def test_async_ccxt_trades_against_the_served_fake(served: str) -> None:
    async def trade() -> tuple[Any, Any]:
        client = _client(served, ccxt_async)
        try:
            order = await client.create_order("SOL/USDT", "market", "buy", 0.5)
            return order, await client.fetch_order(order["id"], "SOL/USDT")
        finally:
            await client.close()

    order, read = asyncio.run(trade())
    assert read["id"] == order["id"]
    assert (read["status"], read["filled"], read["average"]) == ("closed", 0.5, 87.37)


def _args(config: Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve.configure(parser, "fake-kucoin")
    return parser.parse_args(["--port", "0", "--config", str(config)])


def test_a_path_timer_comes_from_the_config_and_two_timers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "sol.csv").write_text(CSV)
    path = '[[paths]]\nsymbol = "{s}"\ncsv = "sol.csv"\nstep_seconds = {t}\n'
    (tmp_path / "one.toml").write_text(path.format(s="SOL-USDT", t=5))
    setup = serve.build(_args(tmp_path / "one.toml"))
    assert setup.step_seconds == 5
    setup.fake.close()
    two = path.format(s="SOL-USDT", t=5) + path.format(s="BTC-USDT", t=7)
    (tmp_path / "two.toml").write_text(two)
    with pytest.raises(serve.ControlError, match=r"different step_seconds \[5.0, 7.0\]"):
        serve.build(_args(tmp_path / "two.toml"))
