"""The ``fake_kucoin`` pytest plugin, used the way a bot author would: a test suite elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_a_bot_authors_suite_gets_the_fixture_from_the_installed_plugin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test_my_bot.py").write_text(USER_TESTS)
    # in-process, like a bot author's `pytest`: the plugin comes from the installed entry point
    status = pytest.main(
        ["-q", "-p", "no:cacheprovider", "--strict-markers", "--rootdir", str(tmp_path),
         "-W", "ignore::DeprecationWarning", str(tmp_path)]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == pytest.ExitCode.TESTS_FAILED, out
    assert "4 passed, 1 error" in out, out
    assert "unexpected keyword argument 'balance'" in out, out


def test_the_plugin_is_installed_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "safetrade"]
    assert plugin.value == "safetrade.testing.pytest_plugin"
