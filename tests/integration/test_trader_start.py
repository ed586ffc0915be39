"""Trader.start: paper mode can never reach a real exchange; the gateway comes from settings."""

from __future__ import annotations

from pathlib import Path

import ccxt
import httpx
import pytest

import safetrade as st
from safetrade.testing import FakeKucoin, session_over


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


def _no_network(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("no network in tests", request=request)


def test_paper_mode_without_a_venue_builds_a_read_only_kucoin_gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[dict[str, object]] = []
    real_kucoin = st.Gateway.kucoin

    def kucoin(**kwargs: object) -> st.Gateway:
        built.append(kwargs)
        gateway = real_kucoin(**kwargs)  # type: ignore[arg-type]
        # no network here: every read of the start-up sync fails to connect
        gateway.exchange.session = session_over(httpx.MockTransport(_no_network))
        return gateway

    monkeypatch.setattr(st.Gateway, "kucoin", staticmethod(kucoin))
    settings = _paper(
        tmp_path, KUCOIN_API_KEY="key", KUCOIN_API_SECRET="secret", KUCOIN_API_PASSPHRASE="pass"
    )
    alerts: list[st.Alert] = []
    trader = st.Trader.start(settings, symbol="SOL/USDT", bot_package="mybot",
                             alert=alerts.append)  # fmt: skip
    assert built[0]["certified"] is None
    assert trader.gateway.read_only
    assert not trader.gateway.can_trade_real_money()
    assert [a.event for a in alerts] == ["sync-failed"]  # it said it could not look
    with pytest.raises(st.CertificationError, match="read-only"):
        trader.gateway.cancel("some-order", "SOL/USDT")


def test_fake_gateways_cannot_trade_real_money_and_real_ones_can() -> None:
    with FakeKucoin() as fake:
        assert not st.Gateway(fake.ccxt_client()).can_trade_real_money()
        assert not st.Gateway(fake.ccxt_client_over_loopback()).can_trade_real_money()
    assert st.Gateway(ccxt.kucoin()).can_trade_real_money()
    half = ccxt.kucoin()
    half.urls["api"]["public"] = "http://127.0.0.1:8090"  # the other hosts are still KuCoin's
    assert st.Gateway(half).can_trade_real_money()
