"""KuCoin API-key authentication as the fake checks it, seen through the real ccxt client."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin
from safetrade.testing._fake import wall_clock_ms

PRIVATE_URL = "https://api.kucoin.com/api/v1/accounts?type=trade"
# ccxt options that skip the account-mode and HF probes, so a call hits one endpoint only
QUIET = {"uta": False, "hf": False}


def bad_client(ex: FakeKucoin, **credentials: str) -> Any:
    client = ex.ccxt_client(options=dict(QUIET), **credentials)
    client.load_markets(False, {"marginables": False})  # no private calls while loading
    return client


def test_public_endpoints_need_no_credentials(ex: FakeKucoin) -> None:
    """Without credentials load_markets makes only the four public calls, and they succeed."""
    client = ex.ccxt_client(apiKey=None, secret=None, password=None)
    markets = client.load_markets()
    assert {"SOL/USDT", "BTC/USDT"} <= set(markets)
    assert ex.endpoints_called() == ["currencies", "symbols", "all_tickers", "contracts"]


def test_unknown_key(ex: FakeKucoin) -> None:
    """An unknown API key -> 400003 -> AuthenticationError."""
    client = bad_client(ex, apiKey="someone-else")
    with pytest.raises(ccxt.AuthenticationError, match="KC-API-KEY not exists"):
        client.fetch_balance()


def test_wrong_secret_fails_on_passphrase_first(ex: FakeKucoin) -> None:
    """A wrong secret also breaks the signed passphrase, so KuCoin reports 400004 first."""
    client = bad_client(ex, secret="not-the-secret")
    with pytest.raises(ccxt.AuthenticationError, match="400004"):
        client.fetch_balance()


def test_wrong_passphrase(ex: FakeKucoin) -> None:
    """A wrong passphrase -> 400004 -> AuthenticationError."""
    client = bad_client(ex, password="not-the-passphrase")
    with pytest.raises(ccxt.AuthenticationError, match="Invalid KC-API-PASSPHRASE"):
        client.fetch_balance()


def test_bad_signature(ex: FakeKucoin, client: Any) -> None:
    """Right key and passphrase but a signature over other bytes -> 400005."""
    headers = client.sign("accounts", ["private"], "GET", {"type": "trade"})["headers"]
    headers["KC-API-SIGN"] = client.sign("accounts", ["private"], "GET", {"type": "main"})[
        "headers"
    ]["KC-API-SIGN"]
    with pytest.raises(ccxt.AuthenticationError, match="Invalid KC-API-SIGN"):
        client.fetch(PRIVATE_URL, "GET", headers, None)


def test_missing_headers(ex: FakeKucoin, client: Any) -> None:
    """A private call without KC-API-* headers -> 400001 -> AuthenticationError."""
    with pytest.raises(ccxt.AuthenticationError, match="400001"):
        client.fetch(PRIVATE_URL, "GET", {}, None)


def test_signature_covers_the_query(ex: FakeKucoin, client: Any) -> None:
    """A signature made for one query string is rejected for another."""
    headers = client.sign("accounts", ["private"], "GET", {"type": "trade"})["headers"]
    with pytest.raises(ccxt.AuthenticationError, match="Invalid KC-API-SIGN"):
        client.fetch(PRIVATE_URL.replace("trade", "main"), "GET", headers, None)


@pytest.mark.parametrize("skew_ms", [6_000, -6_000])
def test_clock_skew_beyond_five_seconds(skew_ms: int) -> None:
    """A request timestamp more than 5 s from the server clock -> 400002 -> InvalidNonce."""
    with FakeKucoin(clock=lambda: wall_clock_ms() + skew_ms) as ex:
        client = bad_client(ex)
        with pytest.raises(ccxt.InvalidNonce, match="Invalid KC-API-TIMESTAMP"):
            client.fetch_balance()


def test_clock_skew_within_window_is_fine() -> None:
    """A 4 s skew is within KuCoin's window."""
    with FakeKucoin(clock=lambda: wall_clock_ms() + 4_000, balances={"USDT": "5"}) as ex:
        assert bad_client(ex).fetch_balance()["USDT"]["free"] == 5.0
