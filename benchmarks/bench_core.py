"""How fast the pure core decides one order, and how fast ``import safetrade`` is.

Prints the median time of size + round + build + guard for one order with the incident's
numbers ($123 free, 1 % risk, SOL/USDT entry 87.36, stop 85.61, take-profit 90.1353 on
KuCoin's real SOL-USDT grid), measured with ``time.perf_counter_ns`` over many iterations, and
the median wall time of a fresh ``python -c "import safetrade"``. Targets: <= 50 us per order,
<= 150 ms per import (ccxt must not be imported eagerly). Not a timed test: it prints numbers.

Run: python benchmarks/bench_core.py [orders] [imports]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from safetrade import (
    AccountState,
    GuardLimits,
    MarketSpec,
    PositionSide,
    PricePurpose,
    check,
    entry_order,
    round_price,
    size_position,
    stop_loss_order,
    take_profit_order,
    to_ccxt,
)
from safetrade.plan import TradePlan

ORDER_TARGET_US = 50.0
IMPORT_TARGET_MS = 150.0

# SOL/USDT as ccxt 4.5.90's kucoin.load_markets() describes it (floats), KuCoin's text in info.
SOL_USDT: dict[str, Any] = {
    "id": "SOL-USDT",
    "symbol": "SOL/USDT",
    "base": "SOL",
    "quote": "USDT",
    "taker": 0.001,
    "precision": {"amount": 0.0001, "price": 0.01},
    "limits": {
        "amount": {"min": 0.01, "max": 10000000000.0},
        "cost": {"min": 0.1, "max": 99999999.0},
    },
    "info": {"minFunds": "0.1", "quoteIncrement": "0.000001"},
}

LONG = PositionSide.LONG
FREE = Decimal(123)
RISK = Decimal(1)
ENTRY, STOP, TARGET = Decimal("87.36"), Decimal("85.61"), Decimal("90.1353")


def one_order(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """Round the stop, size, build the entry (as ccxt args) and guard it: one order."""
    stop = round_price(STOP, market, purpose=PricePurpose.STOP_LOSS, side=LONG)
    size = size_position(
        market=market, side=LONG, free_balance=FREE, entry_price=ENTRY, stop_price=stop,
        risk_percent=RISK,
    )  # fmt: skip
    entry = entry_order(
        market, side=LONG, amount=size.amount, reference_price=ENTRY, client_oid="bench-entry"
    )
    plan = TradePlan(
        market=market, side=LONG, size=size, entry=entry, stop_loss_price=stop,
        take_profit_price=None,
    )  # fmt: skip
    return check(plan, account, limits), to_ccxt(entry)


def protected_trade(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """One order plus its stop-loss and take-profit (three ccxt calls): the whole trade."""
    decision, call = one_order(market, account, limits)
    stop = round_price(STOP, market, purpose=PricePurpose.STOP_LOSS, side=LONG)
    amount = Decimal(call.amount)
    sl = stop_loss_order(
        market, side=LONG, amount=amount, stop_price=stop, entry_price=ENTRY, client_oid="bench-sl"
    )
    tp = take_profit_order(
        market, side=LONG, amount=amount, target_price=TARGET, entry_price=ENTRY,
        client_oid="bench-tp",
    )  # fmt: skip
    return decision, (call, to_ccxt(sl), to_ccxt(tp))


def time_calls(fn: Callable[..., Any], n: int) -> list[float]:
    """Per-call times of ``fn`` in microseconds, each of ``n`` calls timed on its own."""
    market = MarketSpec.from_ccxt(SOL_USDT)
    account = AccountState(
        free_quote=FREE,
        configured_balance=FREE,
        open_positions=0,
        last_price=ENTRY,
        kill_switch_reason=None,
        open_position_value=Decimal(0),
    )
    limits = GuardLimits(risk_percent=RISK, max_open_positions=1)
    for _ in range(min(n, 500)):  # warm-up
        fn(market, account, limits)
    times = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        fn(market, account, limits)
        times.append((clock() - start) / 1000)
    return times


def check_incident_numbers() -> None:
    """The benchmark measures the real thing: 0.6396 SOL, stop 85.61, take-profit 90.13."""
    market = MarketSpec.from_ccxt(SOL_USDT)
    account = AccountState(
        free_quote=FREE,
        configured_balance=FREE,
        open_positions=0,
        last_price=ENTRY,
        kill_switch_reason=None,
        open_position_value=Decimal(0),
    )
    limits = GuardLimits(risk_percent=RISK, max_open_positions=1)
    decision, (entry, sl, tp) = protected_trade(market, account, limits)
    assert decision.allowed, decision.reasons
    assert (entry.amount, sl.params["stopPrice"], tp.params["stopPrice"]) == (
        "0.6396",
        "85.61",
        "90.13",
    ), (entry, sl, tp)


def time_imports(n: int) -> list[float]:
    """Wall times in milliseconds of ``n`` fresh interpreters running ``import safetrade``."""
    code = "import safetrade, sys; assert 'ccxt' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)  # warm the file cache
    times = []
    for _ in range(n):
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append((time.perf_counter_ns() - start) / 1e6)
    baseline = []
    for _ in range(n):
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append((time.perf_counter_ns() - start) / 1e6)
    print(f"  (bare interpreter start-up: median {statistics.median(baseline):.1f} ms)")
    return times


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "NOT met"


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    imports = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"python {sys.version.split()[0]}, {orders} orders, {imports} imports{load}")
    check_incident_numbers()
    per_order = time_calls(one_order, orders)
    median_us = statistics.median(per_order)
    p90_us = statistics.quantiles(per_order, n=10)[-1]
    print(
        f"size+round+build+guard, one order: median {median_us:.1f} us, p90 {p90_us:.1f} us "
        f"(target <= {ORDER_TARGET_US:.0f} us: {verdict(median_us, ORDER_TARGET_US)})"
    )
    trade = statistics.median(time_calls(protected_trade, max(orders // 4, 1)))
    print(f"  whole trade incl. stop-loss + take-profit orders: median {trade:.1f} us")
    import_ms = statistics.median(time_imports(imports))
    print(
        f"python -c 'import safetrade' wall time: median {import_ms:.1f} ms "
        f"(target <= {IMPORT_TARGET_MS:.0f} ms: {verdict(import_ms, IMPORT_TARGET_MS)})"
    )


if __name__ == "__main__":
    main()
