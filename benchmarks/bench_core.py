"""How fast the pure core decides one order, and how fast ``import safetrade`` is.

Every row is printed next to its baseline, measured in the same run and interleaved with it
(round by round: a baseline batch and a safetrade batch, in alternating order), so machine
load moves both alike; the ratio is the median of the per-round ratios. On a shared 2-core
machine absolute times move ~2x with load; the ratios hold.

Rows (targets from issue 14):

* one order: round the stop, size, build the entry, guard it, encode it for ccxt, against the
  same checks written inline in Decimal (the "inline floor"): <= 4x;
* the README's high-level path ``plan_trade`` (with take-profit) + ``check`` + ``to_ccxt``,
  against the same floor: <= 6x;
* ``round_amount`` / ``round_price`` (0.01 and 0.05 ticks) against one idiomatic
  ``value.quantize(step, rounding=...)``: <= 2.5x; ccxt's own ``amount_to_precision`` /
  ``price_to_precision`` on the same values, against the same quantize, for comparison;
* ``import safetrade`` in a fresh interpreter against ``import attrs; import decimal``: <= 1.3x;
  then, for information, what the names that load on first use add, and the whole
  ``python -c`` wall time as this environment runs it.

The numbers are the incident's ($123 free, 1 % risk, SOL/USDT entry 87.36, stop 85.61,
take-profit 90.1353 on KuCoin's real SOL-USDT grid). Not a timed test: it prints numbers.

Run: python benchmarks/bench_core.py [rounds] [imports]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal, localcontext
from typing import Any

from safetrade import (
    AccountState,
    GuardLimits,
    MarketSpec,
    PositionSide,
    PricePurpose,
    check,
    entry_order,
    plan_trade,
    round_amount,
    round_price,
    size_position,
    stop_loss_order,
    take_profit_order,
    to_ccxt,
)
from safetrade.plan import TradePlan

ONE_ORDER_TARGET = 4.0
README_TARGET = 6.0
ROUNDING_TARGET = 2.5
IMPORT_TARGET = 1.3

# SOL/USDT as ccxt 4.5.90's kucoin.load_markets() describes it (floats), KuCoin's text in info.
SOL_USDT: dict[str, Any] = {
    "id": "SOL-USDT",
    "symbol": "SOL/USDT",
    "base": "SOL",
    "quote": "USDT",
    "type": "spot",
    "spot": True,
    "active": True,
    "taker": 0.001,
    "maker": 0.001,
    "precision": {"amount": 0.0001, "price": 0.01},
    "limits": {
        "amount": {"min": 0.01, "max": 10000000000.0},
        "cost": {"min": 0.1, "max": 99999999.0},
    },
    "info": {"minFunds": "0.1", "quoteIncrement": "0.000001"},
}
# The same market on a 0.05 tick: not a power of ten, the slow path of grid rounding.
SOL_USDT_005: dict[str, Any] = {
    **SOL_USDT,
    "symbol": "SOL/USDT:005",
    "precision": {"amount": 0.0001, "price": 0.05},
}

LONG = PositionSide.LONG
FREE = Decimal(123)
RISK = Decimal(1)
ENTRY, STOP, TARGET = Decimal("87.36"), Decimal("85.61"), Decimal("90.1353")
SIGNAL = Decimal("0.5")


# --- the inline floor -----------------------------------------------------------------------
# What a careful author writes by hand in Decimal for the same order: the same inputs checked,
# the stop rounded toward the entry, the size floored, the minimums re-checked after rounding,
# every guard control, the ccxt arguments. Exact like safetrade (an explicit context, divisions
# floored), so the ratio measures safetrade's overhead, not a precision difference.
_EXACT = Context(prec=999_999, Emax=999_999, Emin=-999_999)
_DIVIDE_DOWN = Context(prec=80, rounding=ROUND_FLOOR, Emax=999_999, Emin=-999_999)


def inline_order(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """The floor: one order's sizing, rounding, order checks and guard, inline in Decimal."""
    tick, step, fee = market.price_increment, market.amount_increment, market.taker_fee
    min_amount, max_amount = market.min_amount, market.max_amount
    min_notional, max_notional = market.min_notional, market.max_notional
    free, cap, last = account.free_quote, account.configured_balance, account.last_price
    entry, risk = ENTRY, limits.risk_percent
    # the benchmark's market and account have every limit (checked by check_incident_numbers)
    assert cap is not None
    assert last is not None
    assert min_amount is not None
    assert max_amount is not None
    assert min_notional is not None
    assert max_notional is not None
    divide = _DIVIDE_DOWN.divide
    with localcontext(_EXACT):
        if not (entry > 0 and 0 < STOP < entry and 0 < risk <= 100 and free >= 0):
            raise ValueError("bad input")
        stop = STOP.quantize(tick, rounding=ROUND_CEILING)
        spendable = min(free, cap)
        per_unit_risk = (entry - stop) + fee * (entry + stop)
        unrounded = min(
            divide(divide(spendable * risk, 100), per_unit_risk),
            divide(spendable, entry * (1 + fee)),
            max_amount,
            divide(max_notional, entry),
        )
        amount = unrounded.quantize(step, rounding=ROUND_DOWN)
        notional = amount * entry
        if amount <= 0 or amount < min_amount or notional < min_notional:
            raise ValueError("too small")
        # the entry order: on the grid, inside the market's limits
        if amount.quantize(step, rounding=ROUND_DOWN) != amount or amount > max_amount:
            raise ValueError("bad order")
        # the guard: every control, all of them evaluated
        held = free + account.open_position_value
        cost = notional * (1 + fee)
        checks = (
            account.kill_switch_reason is None,
            abs(cap - held) * 100 <= limits.balance_tolerance_percent * max(cap, held),
            cost <= free and cost <= cap,
            amount * per_unit_risk * 100 <= spendable * risk,
            account.open_positions < limits.max_open_positions,
            limits.min_signal_strength is None or limits.min_signal_strength <= SIGNAL,
            abs(entry - last) * 100 <= limits.price_collar_percent * last,
            limits.max_order_value is None or notional <= limits.max_order_value,
            stop.quantize(tick, rounding=ROUND_FLOOR) == stop,
            amount >= min_amount and notional >= min_notional,
        )
    call = (market.symbol, "market", "buy", format(amount, "f"), None, {"clientOid": "bench"})
    return all(checks), call


# --- safetrade ------------------------------------------------------------------------------
def one_order(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """Round the stop, size, build the entry (as ccxt args) and guard it: one order."""
    stop = round_price(STOP, market, purpose=PricePurpose.STOP_LOSS, side=LONG)
    size = size_position(
        market=market,
        side=LONG,
        free_balance=account.free_quote,
        entry_price=ENTRY,
        stop_price=stop,
        risk_percent=limits.risk_percent,
        balance_cap=account.configured_balance,
    )
    entry = entry_order(
        market, side=LONG, amount=size.amount, reference_price=ENTRY, client_oid="bench"
    )
    plan = TradePlan(
        market=market,
        side=LONG,
        size=size,
        entry=entry,
        stop_loss_price=stop,
        take_profit_price=None,
        signal_strength=SIGNAL,
    )
    return check(plan, account, limits).allowed, to_ccxt(entry)


def readme_path(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """The README's way: plan_trade (stop, size, entry, take-profit), check, to_ccxt."""
    plan = plan_trade(
        market,
        side=LONG,
        free_balance=account.free_quote,
        entry_price=ENTRY,
        stop_price=STOP,
        take_profit_price=TARGET,
        risk_percent=limits.risk_percent,
        balance_cap=account.configured_balance,
        max_order_value=limits.max_order_value,
        signal_strength=SIGNAL,
        client_oid="bench",
    )
    return check(plan, account, limits).allowed, to_ccxt(plan.entry)


def protected_trade(market: MarketSpec, account: AccountState, limits: GuardLimits) -> Any:
    """The README path plus the stop-loss and take-profit orders (three ccxt calls)."""
    allowed, call = readme_path(market, account, limits)
    amount = Decimal(call.amount)
    sl = stop_loss_order(
        market, side=LONG, amount=amount, stop_price=STOP, entry_price=ENTRY, client_oid="sl"
    )
    tp = take_profit_order(
        market, side=LONG, amount=amount, target_price=TARGET, entry_price=ENTRY, client_oid="tp"
    )
    return allowed, (call, to_ccxt(sl), to_ccxt(tp))


def setup() -> tuple[MarketSpec, AccountState, GuardLimits]:
    market = MarketSpec.from_ccxt(SOL_USDT)
    account = AccountState(
        free_quote=FREE,
        configured_balance=FREE,
        open_positions=0,
        last_price=ENTRY,
        kill_switch_reason=None,
        open_position_value=Decimal(0),
    )
    # every limit the README's settings can set, so every control does its arithmetic
    limits = GuardLimits(
        risk_percent=RISK,
        max_open_positions=1,
        min_signal_strength=Decimal("0.3"),
        max_order_value=Decimal(1000),
    )
    return market, account, limits


def check_incident_numbers() -> None:
    """The benchmark measures the real thing: 0.6396 SOL, stop 85.61, take-profit 90.13."""
    market, account, limits = setup()
    allowed, (entry, sl, tp) = protected_trade(market, account, limits)
    assert allowed
    assert (entry.amount, sl.params["stopPrice"], tp.params["stopPrice"]) == (
        "0.6396",
        "85.61",
        "90.13",
    ), (entry, sl, tp)
    # the floor and safetrade agree on the order
    floor_allowed, floor_call = inline_order(market, account, limits)
    lib_allowed, lib_call = one_order(market, account, limits)
    assert floor_allowed
    assert lib_allowed
    assert floor_call[3] == lib_call.amount == "0.6396"


# --- measurement ----------------------------------------------------------------------------
def batch_timer(fn: Callable[[], Any], batch: int) -> Callable[[], float]:
    """A function that calls ``fn`` ``batch`` times and returns the mean ns per call."""

    def run() -> float:
        clock = time.perf_counter_ns
        start = clock()
        for _ in range(batch):
            fn()
        return (clock() - start) / batch

    return run


def paired(
    baseline: Callable[[], float], candidate: Callable[[], float], rounds: int
) -> tuple[float, float, float]:
    """Median ns of baseline and candidate, and the median of their per-round ratios."""
    for _ in range(3):  # warm-up
        baseline()
        candidate()
    base, cand, ratios = [], [], []
    for i in range(rounds):
        # alternate which goes first, so neither always runs on the warmer machine state
        if i % 2:
            c = candidate()
            b = baseline()
        else:
            b = baseline()
            c = candidate()
        base.append(b)
        cand.append(c)
        ratios.append(c / b)
    return statistics.median(base), statistics.median(cand), statistics.median(ratios)


def _unit(ns: float) -> tuple[str, float]:
    return ("ms", 1e6) if ns > 1e6 else ("us", 1e3) if ns > 1e3 else ("ns", 1.0)


def verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


def row(what: str, base_name: str, result: tuple[float, float, float], target: float) -> None:
    base, cand, ratio = result
    unit, scale = _unit(base)
    print(
        f"{what:<44} {cand / scale:8.2f} {unit}  vs {base_name:<34} {base / scale:8.2f} {unit}  "
        f"= {ratio:5.2f}x  (target <= {target}x: {verdict(ratio, target)})"
    )


def info_row(what: str, base_name: str, result: tuple[float, float, float]) -> None:
    base, cand, ratio = result
    unit, scale = _unit(base)
    print(
        f"{what:<44} {cand / scale:8.2f} {unit}  vs {base_name:<34} {base / scale:8.2f} {unit}  "
        f"= {ratio:5.2f}x"
    )


def order_rows(rounds: int) -> None:
    market, account, limits = setup()
    floor = batch_timer(lambda: inline_order(market, account, limits), 200)
    row(
        "one order: size + round + build + guard",
        "the same checks inline in Decimal",
        paired(floor, batch_timer(lambda: one_order(market, account, limits), 200), rounds),
        ONE_ORDER_TARGET,
    )
    row(
        "README path: plan_trade + check + to_ccxt",
        "the same inline floor",
        paired(floor, batch_timer(lambda: readme_path(market, account, limits), 200), rounds),
        README_TARGET,
    )
    info_row(
        "  ... plus stop-loss and take-profit orders",
        "the same inline floor",
        paired(floor, batch_timer(lambda: protected_trade(market, account, limits), 100), rounds),
    )


def _timed(loop: Callable[[], int]) -> Callable[[], float]:
    """Mean ns per call of a loop that returns how many calls it made."""

    def run() -> float:
        clock = time.perf_counter_ns
        start = clock()
        calls = loop()
        return (clock() - start) / calls

    return run


def rounding_rows(rounds: int) -> None:
    market = MarketSpec.from_ccxt(SOL_USDT)
    market_005 = MarketSpec.from_ccxt(SOL_USDT_005)
    # sizer-like amounts (8 decimals) and prices with a digit or two past the tick, distinct,
    # the same list for every contender
    amounts = [Decimal("0.6396") + Decimal(i * 7919).scaleb(-8) for i in range(1000)]
    prices = [Decimal("85.5") + Decimal(i * 37).scaleb(-4) for i in range(1000)]
    step, tick, tick_005 = market.amount_increment, market.price_increment, Decimal("0.05")
    stop, side = PricePurpose.STOP_LOSS, LONG

    # Each loop body is the one call measured (no wrapper function per call), so the baseline
    # carries exactly the loop's overhead, as the contender does.
    def quantize_amounts() -> int:
        for value in amounts:
            value.quantize(step, rounding=ROUND_DOWN)
        return len(amounts)

    def quantize_prices() -> int:
        for value in prices:
            value.quantize(tick, rounding=ROUND_CEILING)
        return len(prices)

    def quantize_prices_005() -> int:
        for value in prices:
            value.quantize(tick_005, rounding=ROUND_CEILING)
        return len(prices)

    def positional_quantize() -> int:
        for value in amounts:
            value.quantize(step, ROUND_DOWN)
        return len(amounts)

    def round_amounts() -> int:
        for value in amounts:
            round_amount(value, market)
        return len(amounts)

    def round_prices() -> int:
        for value in prices:
            round_price(value, market, purpose=stop, side=side)
        return len(prices)

    def round_prices_005() -> int:
        for value in prices:
            round_price(value, market_005, purpose=stop, side=side)
        return len(prices)

    base_amount = _timed(quantize_amounts)
    base_price = _timed(quantize_prices)
    base_price_005 = _timed(quantize_prices_005)
    quantize = "one value.quantize(step, rounding=...)"
    row(
        "round_amount (0.0001 step)",
        quantize,
        paired(base_amount, _timed(round_amounts), rounds),
        ROUNDING_TARGET,
    )
    row(
        "round_price (0.01 tick)",
        quantize,
        paired(base_price, _timed(round_prices), rounds),
        ROUNDING_TARGET,
    )
    row(
        "round_price (0.05 tick)",
        quantize,
        paired(base_price_005, _timed(round_prices_005), rounds),
        ROUNDING_TARGET,
    )
    # the fastest form Decimal offers (positional arguments skip keyword parsing), for scale
    info_row(
        "  (positional quantize(step, ROUND_DOWN))",
        quantize,
        paired(base_amount, _timed(positional_quantize), rounds),
    )
    try:
        import ccxt  # noqa: PLC0415 - only these rows need it, and it takes ~1 s to import
    except ImportError:
        print("ccxt's helpers: ccxt is not installed")
        return
    exchange = ccxt.kucoin()
    exchange.set_markets([SOL_USDT, SOL_USDT_005])
    # ccxt takes numbers as floats or text; text keeps them exact, as safetrade's are
    amount_texts = [str(v) for v in amounts]
    price_texts = [str(v) for v in prices]

    def ccxt_amounts() -> int:
        for text in amount_texts:
            exchange.amount_to_precision("SOL/USDT", text)
        return len(amount_texts)

    def ccxt_prices() -> int:
        for text in price_texts:
            exchange.price_to_precision("SOL/USDT", text)
        return len(price_texts)

    def ccxt_prices_005() -> int:
        for text in price_texts:
            exchange.price_to_precision("SOL/USDT:005", text)
        return len(price_texts)

    info_row(
        "ccxt amount_to_precision (0.0001 step)",
        quantize,
        paired(base_amount, _timed(ccxt_amounts), rounds),
    )
    info_row(
        "ccxt price_to_precision (0.01 tick)",
        quantize,
        paired(base_price, _timed(ccxt_prices), rounds),
    )
    info_row(
        "ccxt price_to_precision (0.05 tick)",
        quantize,
        paired(base_price_005, _timed(ccxt_prices_005), rounds),
    )


# --- import ---------------------------------------------------------------------------------
_TIMED_IMPORT = (
    "import time; start = time.perf_counter_ns(); {stmt}; "
    "end = time.perf_counter_ns(); import sys; "
    "assert 'ccxt' not in sys.modules; print(end - start)"
)


def _import_timer(stmt: str, env: dict[str, str]) -> Callable[[], float]:
    """ns of ``stmt`` in a fresh interpreter, timed inside it (start-up excluded)."""
    code = _TIMED_IMPORT.format(stmt=stmt)

    def run() -> float:
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True
        )
        return float(out.stdout)

    return run


def _wall_timer(stmt: str) -> Callable[[], float]:
    """ns of a whole ``python -c stmt`` (start-up included), in this environment as it is."""

    def run() -> float:
        start = time.perf_counter_ns()
        subprocess.run([sys.executable, "-c", stmt], check=True)
        return time.perf_counter_ns() - start

    return run


def import_row(runs: int) -> None:
    """``import safetrade`` vs ``import attrs; import decimal``, each in a fresh interpreter.

    The target row is timed inside the interpreter (start-up excluded, which would dilute the
    ratio), with a bytecode cache as any installed package has one: a private
    PYTHONPYCACHEPREFIX written by a warm-up run, so an environment with
    PYTHONDONTWRITEBYTECODE does not make both sides compile from source.
    """
    baseline_stmt = "import attrs; import decimal"
    with tempfile.TemporaryDirectory(prefix="safetrade-bench-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        baseline = _import_timer(baseline_stmt, env)
        row(
            "import safetrade (fresh interpreter)",
            baseline_stmt,
            paired(baseline, _import_timer("import safetrade", env), runs),
            IMPORT_TARGET,
        )
        # what the names that load on first use add (all but the network parts, which
        # import ccxt): the guard, then also the settings, kill switch, retry policy and wire
        first_use = "import safetrade; safetrade.check"
        info_row(
            "  + the guard: the whole decision core",
            baseline_stmt,
            paired(baseline, _import_timer(first_use, env), runs),
        )
        first_use += ", safetrade.Settings, safetrade.KillSwitch, safetrade.RetryPolicy"
        first_use += ", safetrade.to_ccxt"
        info_row(
            "  + Settings, KillSwitch, RetryPolicy, to_ccxt",
            baseline_stmt,
            paired(baseline, _import_timer(first_use, env), runs),
        )
    # the whole `python -c`, with whatever bytecode caching this environment has (a dev venv
    # with PYTHONDONTWRITEBYTECODE compiles attrs and safetrade from source every time)
    info_row(
        "  python -c 'import safetrade' wall, as is",
        f"python -c '{baseline_stmt}'",
        paired(_wall_timer(baseline_stmt), _wall_timer("import safetrade"), max(runs // 2, 3)),
    )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 41
    imports = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"python {sys.version.split()[0]}, {rounds} rounds, {imports} import runs{load}")
    print("median per call; ratio = median of per-round ratios against the baseline")
    check_incident_numbers()
    order_rows(rounds)
    rounding_rows(rounds)
    import_row(imports)


if __name__ == "__main__":
    main()
