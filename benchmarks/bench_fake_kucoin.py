"""How fast the real ccxt.kucoin round-trips against the fake KuCoin, next to ccxt alone.

Prints, per call (a signed private fetch_balance and a public fetch_ticker), measured in the
same run:
  * baseline: ccxt with a canned ``requests`` adapter (a fixed body captured once from the
    fake; no httpx, no routing): ccxt's own per-call cost (signing, requests session, parsing);
  * the fake in-process, as ``FakeKucoin.ccxt_client()`` wires it (direct requests adapter);
  * the fake through the generic requests<->httpx bridge (``HttpxTransportAdapter`` over the
    fake's ``httpx.MockTransport``), the path any other httpx transport takes;
  * the fake served on 127.0.0.1 over real HTTP;
and the ratio to the baseline (target for the in-process row: <= 1.3x). Then construction:
``FakeKucoin()`` and a client's ``load_markets()`` against it.

Runs are interleaved (baseline, fake, bridge, ...) ``ROUNDS`` times and the median is printed,
so machine load moves every column alike.

Run: python benchmarks/bench_fake_kucoin.py [calls]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

import ccxt
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from safetrade.testing import FakeKucoin
from safetrade.testing.bridge import HttpxTransportAdapter

QUIET = {"uta": False, "hf": False}  # skip lazy probes so each call is one HTTP request
ROUNDS = 5


class CannedAdapter(BaseAdapter):
    """Answers every request with a fixed body per path: no server, no httpx."""

    def __init__(self, bodies: Mapping[str, bytes]) -> None:
        super().__init__()
        self.bodies = bodies

    def send(self, request, *args, **kwargs):
        del args, kwargs  # stream, timeout, verify, cert, proxies: nothing is sent
        path = (request.url or "").split("://", 1)[-1].partition("/")[2].partition("?")[0]
        response = requests.Response()
        response.status_code = 200
        response.reason = "OK"
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
        response._content = self.bodies["/" + path]
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def session(adapter: BaseAdapter) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def canned_bodies(ex: FakeKucoin) -> dict[str, bytes]:
    client = ex.ccxt_client(options=dict(QUIET))
    client.load_markets()
    return {
        "/api/v1/accounts": json.dumps(client.privateGetAccounts({"type": "trade"})).encode(),
        "/api/v1/market/stats": json.dumps(
            client.publicGetMarketStats({"symbol": "SOL-USDT"})
        ).encode(),
    }


def per_call_us(ex: FakeKucoin, client: ccxt.kucoin, call: str, n: int) -> float:
    method = getattr(client, call)
    args = ("SOL/USDT",) if call == "fetch_ticker" else ()
    for _ in range(min(20, n)):  # warm-up
        method(*args)
    ex.forget_requests()  # each run starts with an empty call history
    start = time.perf_counter()
    for _ in range(n):
        method(*args)
    return (time.perf_counter() - start) / n * 1e6


def timed_us(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    # measures speed, not limits: thousands of calls within one 30 s rate-limit window
    with FakeKucoin(balances={"USDT": Decimal(1000), "SOL": Decimal(2)},
                    prices={"SOL/USDT": Decimal("87.36")}, rate_limits=False) as ex:  # fmt: skip
        fake = ex.ccxt_client(options=dict(QUIET))
        fake.load_markets()
        clients = {
            "ccxt alone": ex.ccxt_client(
                options=dict(QUIET), session=session(CannedAdapter(canned_bodies(ex)))
            ),
            "fake": fake,
            "httpx bridge": ex.ccxt_client(
                options=dict(QUIET), session=session(HttpxTransportAdapter(ex.transport))
            ),
            "loopback": ex.ccxt_client_over_loopback(options=dict(QUIET)),
        }
        for client in clients.values():
            client.markets, client.markets_by_id = fake.markets, fake.markets_by_id
        print(f"ccxt {ccxt.__version__}, {n} calls per run, median of {ROUNDS} interleaved runs")
        print(f"{'call':14} " + " ".join(f"{name + ' us':>15}" for name in clients)
              + f" {'fake/ccxt':>10} {'bridge/ccxt':>12}")  # fmt: skip
        for call in ("fetch_balance", "fetch_ticker"):
            samples: dict[str, list[float]] = {name: [] for name in clients}
            for _ in range(ROUNDS):
                for name, client in clients.items():
                    calls = n if name != "loopback" else max(1, n // 5)
                    samples[name].append(per_call_us(ex, client, call, calls))
            med = {name: statistics.median(v) for name, v in samples.items()}
            base = med["ccxt alone"]
            print(f"{call:14} " + " ".join(f"{med[name]:15.0f}" for name in clients)
                  + f" {med['fake'] / base:9.2f}x {med['httpx bridge'] / base:11.2f}x")  # fmt: skip
    build = statistics.median(timed_us(FakeKucoin, 200) for _ in range(ROUNDS))
    with FakeKucoin(rate_limits=False) as ex:  # 20 x ROUNDS reloads in one 30 s window
        client = ex.ccxt_client()
        load = statistics.median(
            timed_us(lambda: client.load_markets(reload=True), 20) for _ in range(ROUNDS)
        )
    print(f"FakeKucoin(): {build:.0f} us; load_markets() against it: {load / 1000:.1f} ms")


if __name__ == "__main__":
    main()
