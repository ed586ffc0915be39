"""Does the fake stay flat as orders pile up? Calls/s at 1, 100 and 10,000 orders.

For each size N the fake holds N resting limit orders on the book (KuCoin allows 200 active
orders per pair, so they are spread over N/200 extra markets) and N done orders on SOL-USDT,
the market being measured. Then it times, through the real ccxt client in-process:

* set_price on SOL-USDT (the hot path: crossed limits and stops are checked);
* fetch_open_orders('SOL/USDT') and the open stop orders (fetch_open_orders trigger);
* create + cancel of a resting limit order;
* fetch_order by id.

Each row prints calls/s next to the N=1 baseline and the slowdown 1/10k (target <= 1.5x).
Run: python benchmarks/bench_fake_scaling.py [calls]
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from safetrade.testing import FakeKucoin, MarketRules

SIZES = (1, 100, 10_000)
PER_PAIR = 200


def build(n: int) -> tuple[FakeKucoin, Any, str]:
    extra = [MarketRules(f"X{i:03d}-USDT") for i in range(-(-n // PER_PAIR))]
    fake = FakeKucoin(
        markets=[MarketRules("SOL-USDT"), *extra],
        balances={"USDT": Decimal(10**9), "SOL": Decimal(10**6)},
        prices={"SOL/USDT": Decimal(100), **{m.symbol: Decimal(10) for m in extra}},
        rate_limits=False,  # measures the fake's speed: thousands of calls per 30 s window
    )
    engine = fake._engine
    for i in range(n):  # n resting orders, 200 per extra market
        market = extra[i // PER_PAIR].symbol
        engine.create_order(
            {"clientOid": f"r{i}", "symbol": market, "side": "buy", "type": "limit",
             "price": "9", "size": "1"},
            hf=False,
        )  # fmt: skip
    for i in range(n):  # n done orders on the measured market
        engine.create_order(
            {"clientOid": f"d{i}", "symbol": "SOL-USDT", "side": "buy", "type": "market",
             "size": "0.01"},
            hf=False,
        )  # fmt: skip
    client = fake.ccxt_client(options={"uta": False, "hf": False})
    client.load_markets()
    stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 50})
    resting = client.create_order("SOL/USDT", "limit", "buy", 1, 90)
    del stop
    return fake, client, resting["id"]


def rate(call: Callable[[], object], n: int) -> float:
    for _ in range(min(20, n)):
        call()
    start = time.perf_counter()
    for _ in range(n):
        call()
    return n / (time.perf_counter() - start)


def measure(size: int, n: int) -> dict[str, float]:
    fake, client, resting_id = build(size)
    # Python's cyclic collector scans every live object, whoever owns it: freeze the set-up's
    # objects so the rows measure the fake's own work per call, not the size of the heap
    gc.collect()
    gc.freeze()
    prices = iter([Decimal(100) + Decimal(i % 50) / 100 for i in range(10**7)])

    def create_cancel() -> None:
        order = client.create_order("SOL/USDT", "limit", "buy", 1, 80)
        client.cancel_order(order["id"], "SOL/USDT")

    calls: dict[str, Callable[[], object]] = {
        "set_price": lambda: fake.set_price("SOL/USDT", next(prices)),
        "fetch_open_orders": lambda: client.fetch_open_orders("SOL/USDT"),
        "open stop orders": lambda: client.fetch_open_orders(
            "SOL/USDT", None, None, {"trigger": True}
        ),
        "create+cancel": create_cancel,
        "fetch_order": lambda: client.fetch_order(resting_id, "SOL/USDT"),
    }
    rates = {}
    for name, call in calls.items():
        fake.forget_requests()
        rates[name] = rate(call, n)
    fake.close()
    gc.unfreeze()
    return rates


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rows: dict[str, dict[int, float]] = {}
    for size in SIZES:
        for name, value in measure(size, n).items():
            rows.setdefault(name, {})[size] = value
    print(f"calls/s with N resting orders (+ N done on the measured market), {n} calls each")
    header = "".join(f"{f'N={s}':>12}" for s in SIZES)
    print(f"{'call':18}{header}{'1/10k':>9}")
    for name, by_size in rows.items():
        values = "".join(f"{by_size[s]:12.0f}" for s in SIZES)
        print(f"{name:18}{values}{by_size[1] / by_size[SIZES[-1]]:8.2f}x")


if __name__ == "__main__":
    main()
