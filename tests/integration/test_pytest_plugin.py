"""The ``fake_kucoin`` pytest plugin, used the way a bot author would: a test suite elsewhere."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = """
import pytest

pytestmark = pytest.mark.fake_kucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"})


def test_module_marker_sets_up_the_fake(fake_kucoin, fake_kucoin_client):
    fake_kucoin_client.create_order("SOL/USDT", "market", "buy", 1)
    assert fake_kucoin.balance("SOL").total == 1
    assert not fake_kucoin.hf


@pytest.mark.fake_kucoin(hf=True)
def test_the_tests_own_marker_wins_key_by_key(fake_kucoin, fake_kucoin_client):
    assert fake_kucoin.hf
    assert fake_kucoin_client.fetch_balance()["USDT"]["free"] == 123.0


def test_each_test_gets_a_fresh_exchange(fake_kucoin):
    assert fake_kucoin.orders == {}


def test_served_over_loopback(fake_kucoin, fake_kucoin_url):
    import ccxt

    client = ccxt.kucoin()
    client.urls["api"] = dict.fromkeys(client.urls["api"], fake_kucoin_url)
    assert client.fetch_ticker("SOL/USDT")["last"] == 87.36


@pytest.mark.fake_kucoin(balance={"USDT": "1"})
def test_a_misspelt_option_is_a_usage_error(fake_kucoin):
    pass
"""


def test_a_bot_authors_suite_gets_the_fixture_from_the_installed_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_my_bot.py").write_text(USER_TESTS)
    run = subprocess.run(  # noqa: S603 - our own interpreter and a tmp test file
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers",
         "-p", "no:randomly", "-W", "ignore::DeprecationWarning", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert "4 passed, 1 error" in out, out
    assert "unexpected keyword argument 'balance'" in out, out
