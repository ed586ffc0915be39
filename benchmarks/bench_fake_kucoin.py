"""How fast the real ccxt.kucoin round-trips against the fake KuCoin.

Prints calls per second for a signed private call (fetch_balance) and a public one
(fetch_ticker), three ways:
  * baseline: ccxt against a trivial canned httpx.MockTransport (ccxt's own per-call cost:
    signing, requests session, JSON parsing);
  * fake in-process: the same ccxt client bridged to FakeKucoin (auth check, routing, state);
  * fake loopback: FakeKucoin served on 127.0.0.1 over real HTTP.
Then the fake's added cost per call relative to ccxt's own (target: <= 2x).

Run: python benchmarks/bench_fake_kucoin.py [calls]
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal

import ccxt
import httpx

from safetrade.testing import FakeKucoin, session_over

QUIET = {"uta": False, "hf": False}  # skip lazy probes so each call is one HTTP request


def canned_transport(ex: FakeKucoin) -> httpx.MockTransport:
    """Answers every request with a fixed body captured once from the fake."""
    client = ex.ccxt_client(options=dict(QUIET))
    client.load_markets()
    bodies = {
        "/api/v1/accounts": json.dumps(client.privateGetAccounts({"type": "trade"})).encode(),
        "/api/v1/market/stats": json.dumps(
            client.publicGetMarketStats({"symbol": "SOL-USDT"})
        ).encode(),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.path])

    return httpx.MockTransport(handler)


def rate(ex: FakeKucoin, client: ccxt.kucoin, call: str, n: int) -> float:
    method = getattr(client, call)
    args = ("SOL/USDT",) if call == "fetch_ticker" else ()
    for _ in range(min(50, n)):  # warm-up
        method(*args)
    ex.forget_requests()  # each run starts with an empty call history
    start = time.perf_counter()
    for _ in range(n):
        method(*args)
    return n / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with FakeKucoin(balances={"USDT": Decimal(1000), "SOL": Decimal(2)},
                    prices={"SOL/USDT": Decimal("87.36")}) as ex:  # fmt: skip
        fake = ex.ccxt_client(options=dict(QUIET))
        fake.load_markets()
        base = ex.ccxt_client(options=dict(QUIET), session=session_over(canned_transport(ex)))
        base.markets, base.markets_by_id = fake.markets, fake.markets_by_id
        loop = ex.ccxt_client_over_loopback(options=dict(QUIET))
        loop.markets, loop.markets_by_id = fake.markets, fake.markets_by_id
        print(f"ccxt {ccxt.__version__}, {n} calls each")
        print(f"{'call':14} {'baseline/s':>11} {'fake/s':>9} {'loopback/s':>11} {'added/ccxt':>11}")
        for call in ("fetch_balance", "fetch_ticker"):
            r_base, r_fake, r_loop = (rate(ex, c, call, n) for c in (base, fake, loop))
            ccxt_us, fake_us = 1e6 / r_base, 1e6 / r_fake
            added = (fake_us - ccxt_us) / ccxt_us
            print(f"{call:14} {r_base:11.0f} {r_fake:9.0f} {r_loop:11.0f} {added:10.2f}x")
            print(f"{'':14} per call: ccxt {ccxt_us:.0f} us, fake adds {fake_us - ccxt_us:.0f} us,"
                  f" loopback {1e6 / r_loop:.0f} us")  # fmt: skip


if __name__ == "__main__":
    main()
