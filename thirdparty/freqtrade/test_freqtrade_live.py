"""freqtrade, a widely used bot nobody here wrote, trading live against the served fake KuCoin.

Run with ``tox -e freqtrade`` (not in the default run: freqtrade is large and takes ~20 s to
start). freqtrade runs as its own process in live mode (``dry_run: false``) with a strategy
that enters once and ``stoploss_on_exchange: true``; every key of ccxt's KuCoin
``urls['api']`` points at the fake on 127.0.0.1, so nothing can leave for the real hosts. The
price path then falls through the stop, and the test judges what the exchange saw: one entry,
one stop-loss, the stop triggered, the coins sold, no stop left live, the trade closed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from safetrade.testing import FakeKucoin, PricePath

HERE = Path(__file__).parent
START_TIMEOUT = 180.0  # freqtrade start-up + first candles + entry, on a loaded 2-core box


def _config(base_url: str, user_data: Path) -> dict[str, object]:
    # every API group ccxt's KuCoin knows, or load_markets leaves for the real hosts
    urls = {"api": dict.fromkeys(ccxt.kucoin().urls["api"], base_url)}
    ccxt_config = {"urls": urls, "enableRateLimit": False}
    return {
        "max_open_trades": 1, "stake_currency": "USDT", "stake_amount": 50,
        "tradable_balance_ratio": 0.99, "fiat_display_currency": "", "dry_run": False,
        "cancel_open_orders_on_exit": False, "trading_mode": "spot", "margin_mode": "",
        "timeframe": "1m", "strategy": "EnterOnce",
        "unfilledtimeout": {"entry": 1, "exit": 1, "exit_timeout_count": 0, "unit": "minutes"},
        "entry_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1,
                          "price_last_balance": 0.0,
                          "check_depth_of_market": {"enabled": False, "bids_to_ask_delta": 1}},
        "exit_pricing": {"price_side": "other", "use_order_book": True, "order_book_top": 1},
        "order_types": {"entry": "market", "exit": "market", "stoploss": "market",
                        "stoploss_on_exchange": True, "stoploss_on_exchange_interval": 5},
        "exchange": {
            "name": "kucoin", "key": "fake-kucoin-api-key", "secret": "fake-kucoin-api-secret",
            "password": "fake-kucoin-passphrase", "ccxt_config": ccxt_config,
            "ccxt_async_config": ccxt_config, "enable_ws": False,
            "pair_whitelist": ["SOL/USDT"], "pair_blacklist": [],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "telegram": {"enabled": False, "token": "", "chat_id": ""},
        "bot_name": "freqtrade-on-fake-kucoin", "initial_state": "running",
        "force_entry_enable": False, "user_data_dir": str(user_data),
        "internals": {"process_throttle_secs": 1, "heartbeat_interval": 60},
    }  # fmt: skip


def _wait(what: str, check: object, timeout: float, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        if proc.poll() is not None:
            pytest.fail(f"freqtrade exited ({proc.returncode}) before {what}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def freqtrade(tmp_path: Path) -> Iterator[tuple[FakeKucoin, subprocess.Popen[str], Path, Path]]:
    fake = FakeKucoin(balances={"USDT": Decimal(1000)})
    # 200 quiet candles at 100 are the past; then the price falls through the stop (95)
    closes = ["100"] * 200 + ["99", "96", "93", "92"]
    fake.replay("SOL/USDT", PricePath.from_closes(closes, start=0), history=200)
    server = fake.serve(max_requests=5000)
    user_data = tmp_path / "user_data"
    (user_data / "strategies").mkdir(parents=True)
    (user_data / "strategies" / "EnterOnce.py").write_text(
        (HERE / "strategies/EnterOnce.py").read_text()
    )
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_config(server.base_url, user_data)))
    db, log = tmp_path / "trades.sqlite", tmp_path / "freqtrade.log"
    command = [sys.executable, "-m", "freqtrade", "trade", "-c", str(config),
               "--db-url", f"sqlite:///{db}", "--logfile", str(log)]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=tmp_path, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        yield fake, proc, db, log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        fake.close()


def _stops(fake: FakeKucoin, status: str) -> list[object]:
    return [s for s in fake.stop_orders.values() if s.status == status]


def test_freqtrade_stop_loss_on_exchange_through_a_falling_price(freqtrade) -> None:
    fake, proc, db, log = freqtrade
    _wait("the stop-loss on exchange", lambda: _stops(fake, "NEW"), START_TIMEOUT, proc)
    # let freqtrade check its stop a few times (it reads it back through /api/v1/orders/{id})
    checks = lambda: sum(  # noqa: E731
        1 for r in fake.requests if r.endpoint == "fetch_order" and "/vs" in r.path
    )
    _wait("freqtrade reading its stop back", lambda: checks() >= 2, 60, proc)
    assert len(fake.stop_orders) == 1, "freqtrade placed more than one stop-loss"
    while fake.step("SOL/USDT") is not None:  # 99, 96, 93 (the stop fires), 92
        pass
    (stop,) = fake.stop_orders.values()
    assert stop.status == "TRIGGERED"

    def closed() -> bool:
        if not db.exists():
            return False
        with sqlite3.connect(db) as conn:
            rows = conn.execute("select is_open, exit_reason from trades").fetchall()
        return rows == [(0, "stoploss_on_exchange")]

    _wait("freqtrade closing the trade", closed, 90, proc)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    entries = [o for o in fake.orders.values() if o.side == "buy"]
    assert len(entries) == 1, entries
    assert [s.status for s in fake.stop_orders.values()] == ["TRIGGERED"]
    assert _stops(fake, "NEW") == []
    assert fake.balance("SOL").total < Decimal("0.0001")  # every coin sold by the stop
    creates = [r for r in fake.requests if r.endpoint in ("create_order", "create_stop_order")]
    assert [r.endpoint for r in creates] == ["create_order", "create_stop_order"]
    assert all(r.host == "127.0.0.1" for r in fake.requests)
    print(f"freqtrade against the fake: {len(fake.requests)} requests, log {log}")
