"""Wall time of the conformance run for one bot (the reference bot), next to its baseline.

Prints, per scenario and in total, the median of several runs, side by side with the baseline
every scenario pays before the bot does anything: a fresh fake KuCoin, its ccxt client, the
scenario certificate and ``load_markets``. Target: the whole run at most 30 s on 2 cores.

Run: python benchmarks/bench_conformance.py [runs]
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from safetrade.certification.bots import load_bot
from safetrade.certification.conformance import SCENARIOS, run_conformance
from safetrade.certification.conformance.stage import Stage
from safetrade.certification.gate import allow_test_harness
from safetrade.certification.provenance import measure_running_code

TARGET_SECONDS = 30.0


def baseline(bot: object, runs: int) -> float:
    """Median seconds to set a scenario's stage up and load markets once."""
    running = measure_running_code("safetrade.reference_bot")
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        for i in range(runs):
            start = time.perf_counter()
            stage = Stage(bot, running, SCENARIOS[0].setup, Path(scratch) / str(i))
            stage.context.exchange.load_markets()
            stage.close()
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    logging.disable(logging.CRITICAL)
    # this script is a harness: the bot's live start-up runs beside it, outside the bot package
    allow_test_harness(Path(__file__))
    bot = load_bot(None)
    run_conformance(bot)  # warm-up: imports, ccxt's first client
    totals, per_scenario = [], {s.id: [] for s in SCENARIOS}
    for _ in range(runs):
        result = run_conformance(bot)
        totals.append(result.seconds)
        for scenario in result.scenarios:
            per_scenario[scenario.id].append(scenario.seconds)
    base = baseline(bot, runs * 2)
    print(f"conformance of the reference bot, median of {runs} runs (2 cores)")
    print(f"{'scenario':<30} {'median ms':>10} {'baseline ms':>12} {'ratio':>7}")
    for scenario_id, times in per_scenario.items():
        median = statistics.median(times)
        print(
            f"{scenario_id:<30} {median * 1000:>10.1f} {base * 1000:>12.1f} {median / base:>6.1f}x"
        )
    total = statistics.median(totals)
    floor = base * len(SCENARIOS)
    print(f"{'whole run':<30} {total * 1000:>10.1f} {floor * 1000:>12.1f} {total / floor:>6.1f}x")
    verdict = "meets" if total <= TARGET_SECONDS else "MISSES"
    print(f"whole run {total:.2f} s {verdict} the target of <= {TARGET_SECONDS:.0f} s")


if __name__ == "__main__":
    main()
