"""Trader.start: paper mode can never reach a real exchange; the gateway comes from settings."""

from __future__ import annotations

from pathlib import Path

import ccxt
import pytest

import safetrade as st
from safetrade.paper import PublicKucoin
from safetrade.testing import FakeKucoin


def _paper(tmp_path: Path, **extra: str) -> st.Settings:
    return st.load_settings(
        env={
            "TRADING_MODE": "paper", "ACCOUNT_BALANCE_USD": "123", "RISK_PERCENT": "1",
            "MAX_OPEN_POSITIONS": "1", "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "ks.json"),
            **extra,
        }
    )  # fmt: skip


def test_paper_mode_refuses_a_gateway_to_the_real_exchange(tmp_path: Path) -> None:
    real = ccxt.kucoin({"apiKey": "k", "secret": "s", "password": "p"})
    with pytest.raises(st.ConfigError, match="TRADING_MODE=paper") as refused:
        st.Trader.start(_paper(tmp_path), lambda: st.Gateway(real), symbol="SOL/USDT",
                        bot_package="mybot")  # fmt: skip
    assert "fake KuCoin" in (refused.value.fix or "")


def test_paper_mode_refuses_a_read_only_kucoin_gateway_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only sends no order, but its reads are signed with the real keys: not in paper."""
    import requests

    sent: list[str] = []

    def send(_session: object, request: requests.PreparedRequest, **_kw: object) -> None:
        sent.append(str(request.url))
        raise requests.ConnectionError("a request was about to leave the machine")

    monkeypatch.setattr(requests.Session, "send", send)
    read_only = st.Gateway.kucoin(
        api_key="5f3c9b1e2a7d4c0012345678", api_secret="a1b2c3d4", api_passphrase="horse",
        certified=None,
    )  # fmt: skip
    assert not read_only.can_trade_real_money()
    assert read_only.reaches_real_exchange()
    with pytest.raises(st.ConfigError, match="would send reads signed with your KuCoin keys"):
        st.Trader.start(_paper(tmp_path), lambda: read_only, symbol="SOL/USDT",
                        bot_package="mybot")  # fmt: skip
    assert sent == []
    with FakeKucoin() as fake:
        assert not st.Gateway(fake.ccxt_client(), read_only=True).reaches_real_exchange()


def test_paper_mode_without_a_venue_trades_on_the_paper_venue_never_on_kucoin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kucoin(**_kwargs: object) -> st.Gateway:
        raise AssertionError("paper mode built a KuCoin gateway")

    monkeypatch.setattr(st.Gateway, "kucoin", staticmethod(kucoin))
    settings = _paper(
        tmp_path, KUCOIN_API_KEY="key", KUCOIN_API_SECRET="secret", KUCOIN_API_PASSPHRASE="pass",
        SAFETRADE_PAPER_DB=str(tmp_path / "paper.sqlite3"),
    )  # fmt: skip
    with FakeKucoin(prices={"SOL/USDT": "87.36"}) as public:
        source = PublicKucoin.at(public.serve().base_url)
        trader = st.Trader.start(settings, symbol="SOL/USDT", bot_package="safetrade.reference_bot",
                                 paper_source=source)  # fmt: skip
        assert trader.paper is not None
        assert not trader.gateway.can_trade_real_money()
        assert trader.gateway.free_balance("USDT") == 123  # the paper account's start
        # the keys went nowhere: the venue's client has its own published test values
        assert trader.gateway.exchange.apiKey != "key"
        trader.paper.close()


def test_fake_gateways_cannot_trade_real_money_and_real_ones_can() -> None:
    with FakeKucoin() as fake:
        assert not st.Gateway(fake.ccxt_client()).can_trade_real_money()
        assert not st.Gateway(fake.ccxt_client_over_loopback()).can_trade_real_money()
    assert st.Gateway(ccxt.kucoin()).can_trade_real_money()
    half = ccxt.kucoin()
    half.urls["api"]["public"] = "http://127.0.0.1:8090"  # the other hosts are still KuCoin's
    assert st.Gateway(half).can_trade_real_money()
