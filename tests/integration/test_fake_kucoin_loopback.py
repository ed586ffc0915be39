"""The same fake served over real HTTP on 127.0.0.1, and the `safetrade fake-kucoin` command."""

from __future__ import annotations

import argparse
import io
import threading
from contextlib import redirect_stdout
from decimal import Decimal

import ccxt
import pytest
import requests

from safetrade.testing import FakeKucoin, Fault, serve


def test_ccxt_over_loopback_round_trip() -> None:
    """ccxt over real loopback HTTP: load markets, buy, read back; signatures checked."""
    with FakeKucoin(balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)}) as ex:
        client = ex.ccxt_client_over_loopback()
        client.load_markets()
        assert client.urls["api"]["futuresPublic"].startswith("http://127.0.0.1:")
        order = client.create_order("SOL/USDT", "market", "buy", 1)
        assert client.fetch_order(order["id"])["status"] == "closed"
        assert client.fetch_balance()["SOL"]["free"] == 1.0
        assert ex.requests[0].host == "127.0.0.1"
        ex.inject("accounts", Fault.SERVER_ERROR)
        with pytest.raises(ccxt.ExchangeNotAvailable):
            client.fetch_balance()
        bad = ex.ccxt_client_over_loopback(password="wrong", options={"uta": False, "hf": False})
        bad.markets, bad.markets_by_id = client.markets, client.markets_by_id
        with pytest.raises(ccxt.AuthenticationError, match="400004"):
            bad.fetch_balance()


def test_lost_response_over_loopback_is_a_network_error() -> None:
    """Over loopback a lost response is a dropped connection (ccxt NetworkError); order kept."""
    with FakeKucoin(balances={"USDT": Decimal(1000)}, prices={"SOL/USDT": Decimal(100)}) as ex:
        client = ex.ccxt_client_over_loopback()
        client.load_markets()
        ex.inject("create_order", Fault.RESPONSE_LOST)
        with pytest.raises(ccxt.NetworkError):
            client.create_order("SOL/USDT", "market", "buy", 1)
        assert [o.deal_size for o in ex.orders.values()] == [Decimal(1)]


class _Announced(io.StringIO):
    """Captures stdout and signals once the server has printed its banner."""

    def __init__(self) -> None:
        super().__init__()
        self.ready = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if "Ctrl-C" in self.getvalue():
            self.ready.set()
        return written


def test_cli_serves_until_stopped() -> None:
    """`safetrade fake-kucoin` prints base URL and credentials and serves until stopped."""
    parser = argparse.ArgumentParser()
    serve.configure(parser, "fake-kucoin")
    args = parser.parse_args(["--port", "0", "--balance", "USDT=123", "--price", "SOL-USDT=87.36"])
    stop, out, status = threading.Event(), _Announced(), []

    def run() -> None:
        with redirect_stdout(out):
            status.append(serve.run(args, "fake-kucoin", stop=stop))

    thread = threading.Thread(target=run)
    thread.start()
    assert out.ready.wait(5)
    text = out.getvalue()
    base_url = text.split("listening on ")[1].split()[0]
    ticker = requests.get(f"{base_url}/api/v1/market/stats?symbol=SOL-USDT", timeout=5).json()
    stop.set()
    thread.join(5)
    assert ticker["data"]["last"] == "87.36"
    assert "fake-kucoin-api-key" in text
    assert status == [0]
