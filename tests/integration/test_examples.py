"""The README's example runs and does what the README says."""

from __future__ import annotations

import importlib
import os
import runpy
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import safetrade as st
from safetrade.reference_bot import ReferenceBot
from safetrade.testing import FakeKucoin, Fault

EXAMPLE = Path(__file__).parents[2] / "examples" / "quickstart.py"
MYBOT = Path(__file__).parents[2] / "examples" / "mybot"


def test_quickstart_protects_the_incident_trade(capsys):
    """The quickstart sizes 0.6396 SOL from 123 USDT and ends Protected at 85.61 / 90.13."""
    outcome = runpy.run_path(str(EXAMPLE))["main"]()
    assert isinstance(outcome, st.Protected)
    assert outcome.fill.amount == Decimal("0.6396")
    assert outcome.stop_loss.trigger_price == Decimal("85.61")
    assert outcome.take_profit is not None
    assert outcome.take_profit.trigger_price == Decimal("90.13")
    assert "0.6396 SOL/USDT @ 87.36" in capsys.readouterr().out


def test_mybot_runs_as_the_readme_starts_it(tmp_path: Path) -> None:
    """`python -m mybot` (README: start live with the certify env's `python -m mybot`), in
    paper mode on prices served by a fake KuCoin: it starts, loops, journals and exits 0."""
    with FakeKucoin(prices={"SOL/USDT": "87.36"}) as public:
        public.serve()
        url = str(public.ccxt_client_over_loopback().urls["api"]["public"])
        (tmp_path / ".env").write_text(
            "TRADING_MODE=paper\nACCOUNT_BALANCE_USD=123\nRISK_PERCENT=1\nMAX_OPEN_POSITIONS=1\n"
            f"SAFETRADE_KILL_SWITCH_FILE={tmp_path / 'ks.json'}\n"
            f"SAFETRADE_PAPER_MARKET_DATA_URL={url}\n",
            encoding="utf-8",
        )
        env = {**os.environ, "PYTHONPATH": str(MYBOT)}  # mybot as its folder holds it
        done = subprocess.run(
            [sys.executable, "-m", "mybot", "--ticks", "2", "--interval", "0"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".safetrade" / "paper.sqlite3").is_file()  # the paper account it kept


def test_mybots_loop_survives_a_failed_price_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One KuCoin timeout on the loop's own ticker read used to end `python -m mybot`, leaving
    the open position's one-cancels-the-other unwatched."""
    monkeypatch.syspath_prepend(str(MYBOT))
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "TRADING_MODE=paper\nRISK_PERCENT=1\nMAX_OPEN_POSITIONS=1\n"
        f"SAFETRADE_KILL_SWITCH_FILE={tmp_path / 'ks.json'}\n",
        encoding="utf-8",
    )
    # mybot imported from its folder must not stay loaded: later live start-ups in this
    # process would find a module outside every certified tree
    for name in ("mybot", "mybot.__main__", "mybot.strategy"):
        monkeypatch.setitem(sys.modules, name, None)  # restored (removed) at teardown
        del sys.modules[name]
    run = importlib.import_module("mybot.__main__")
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as fake:
        start = ReferenceBot.start.__func__  # type: ignore[attr-defined]

        def on_the_fake(cls: type[ReferenceBot], settings: st.Settings, **kw: Any) -> Any:
            bot = start(cls, settings, lambda: st.Gateway(fake.ccxt_client()), **kw)
            fake.inject("ticker", Fault.TIMEOUT, 1)  # the loop's next price read
            return bot

        monkeypatch.setattr(run.ReferenceBot, "start", classmethod(on_the_fake))
        assert run.main(["--ticks", "3", "--interval", "0"]) == 0
        assert fake.endpoints_called().count("ticker") >= 3  # it went on reading
