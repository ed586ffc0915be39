"""KuCoin's rate limits through the real ccxt client: pools, weights, windows, 429000.

KuCoin (https://www.kucoin.com/docs-new/rate-limit): VIP0 quotas per 30 s window, Spot 4000,
Management 2000, Public 2000; each endpoint's weight is on its page; over quota is HTTP 429
``429000``; answers carry ``gw-ratelimit-limit/-remaining/-reset``. The fake's clock is frozen
here, so windows move only when the test moves them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade.testing import FakeKucoin, Fault
from safetrade.testing._fake import wall_clock_ms

WINDOW_MS = 30_000


class Clock:
    """A frozen clock the test moves by hand."""

    def __init__(self) -> None:
        self.ms = wall_clock_ms()

    def __call__(self) -> int:
        return self.ms


def _fake(*, hf: bool = False, rate_limits: bool = True) -> FakeKucoin:
    return FakeKucoin(
        clock=Clock(),
        balances={"USDT": Decimal(1000)},
        prices={"SOL/USDT": Decimal(100)},
        hf=hf,
        rate_limits=rate_limits,
    )


def _client(fake: FakeKucoin, **config: object) -> Any:
    client = fake.ccxt_client(**config)
    _follow_clock(client, fake)
    client.load_markets()
    return client


def _follow_clock(client: Any, fake: FakeKucoin) -> None:
    # the fake's clock is not the machine's: ccxt signs with the difference, as for any server
    client.options["timeDifference"] = client.milliseconds() - fake.clock()


def _gw(client: Any) -> dict[str, int]:
    """The ``gw-ratelimit-*`` headers of the client's last answer, as ints."""
    headers = {k.lower(): v for k, v in (client.last_response_headers or {}).items()}
    return {
        key.removeprefix("gw-ratelimit-"): int(value)
        for key, value in headers.items()
        if key.startswith("gw-ratelimit-")
    }


def _remaining(client: Any) -> int:
    return _gw(client)["remaining"]


def _exhaust_spot(client: Any, *, leave: int) -> None:
    """Use the Spot pool up until exactly ``leave`` is left, by weights of 30, 3 and 2."""
    client.fetch_open_orders("SOL/USDT")  # Get Orders List - Old: 2 (and a first header)

    def left() -> int:
        return _remaining(client) - leave

    while left() >= 32 or left() == 30:
        client.privateGetHfAccountsOpened()  # Get Account Type - Spot: 30
    while left() >= 5 or left() == 3:
        client.fetch_trading_fee("SOL/USDT")  # Get Actual Fee - Spot/Margin: 3
    while left() >= 2:
        client.privateGetOrders()  # Get Orders List - Old: 2
    assert _gw(client)["limit"] == 4000
    assert _remaining(client) == leave


def _tickers_until_refused(client: Any) -> int:
    """Fetch the ticker (Get 24hr Stats: 15) until the Public pool refuses; how many passed."""
    calls = 0
    while True:
        try:
            client.fetch_ticker("SOL/USDT")
        except ccxt.RateLimitExceeded:
            return calls
        calls += 1


def test_every_counted_answer_carries_kucoins_headers() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.fetch_ticker("SOL/USDT")
        # load_markets took 31 of the Public pool (symbols 4, currencies 3, allTickers 15,
        # contracts 3, cross and isolated margin symbols 3 each), the ticker 15; the frozen
        # clock has not moved since the window opened
        assert _gw(client) == {"limit": 2000, "remaining": 2000 - 31 - 15, "reset": WINDOW_MS}
        client.fetch_balance()  # the Management pool
        assert _gw(client)["limit"] == 2000
        client.fetch_open_orders("SOL/USDT")  # the Spot pool
        assert _gw(client)["limit"] == 4000
        assert 0 < _gw(client)["reset"] <= WINDOW_MS


def test_over_quota_an_order_is_refused_with_429000_and_nothing_changes() -> None:
    with _fake() as fake:
        client = _client(fake)
        _exhaust_spot(client, leave=1)
        before = (fake.balance("USDT"), fake.balance("SOL"), len(fake.fills))
        with pytest.raises(ccxt.RateLimitExceeded, match="429000"):  # classic order: weight 2
            client.create_order("SOL/USDT", "market", "buy", 1, None, {"clientOid": "over"})
        assert fake.orders == {}
        assert (fake.balance("USDT"), fake.balance("SOL"), len(fake.fills)) == before
        refused = fake.requests[-1]
        assert (refused.endpoint, refused.code, refused.msg) == (
            "create_order",
            "429000",
            "Too Many Requests",
        )
        # the refusal carries the headers and deducted nothing
        assert _gw(client)["remaining"] == 1
        with pytest.raises(ccxt.RateLimitExceeded):
            client.fetch_open_orders("SOL/USDT")
        assert fake.orders == {}


def test_the_window_resets_when_the_clock_passes_it() -> None:
    with _fake() as fake:
        client = _client(fake)
        calls = _tickers_until_refused(client)
        left = _remaining(client)
        assert (calls, left) == (131, 4)  # 2000 - 31 (load_markets) = 131 x 15 + 4
        fake.advance_clock(WINDOW_MS - 1)
        _follow_clock(client, fake)
        with pytest.raises(ccxt.RateLimitExceeded):
            client.fetch_ticker("SOL/USDT")
        assert _gw(client) == {"limit": 2000, "remaining": left, "reset": 1}
        fake.advance_clock(1)
        _follow_clock(client, fake)
        assert client.fetch_ticker("SOL/USDT")["last"] == 100.0
        assert _gw(client) == {"limit": 2000, "remaining": 2000 - 15, "reset": WINDOW_MS}


def test_pools_are_independent() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.fetch_open_orders("SOL/USDT")
        spot = _remaining(client)
        client.fetch_balance()
        management = _remaining(client)
        assert _tickers_until_refused(client) > 0
        # the Public pool is empty; the private pools have not moved
        client.fetch_open_orders("SOL/USDT")
        assert _remaining(client) == spot - 2
        client.privateGetAccounts()
        assert _remaining(client) == management - 5
        order = client.create_order("SOL/USDT", "market", "buy", 1)
        assert fake.orders[order["id"]].deal_size == Decimal(1)


def test_the_management_pool_is_not_the_spot_pool() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.privateGetAccounts()
        management = _remaining(client)
        _exhaust_spot(client, leave=0)
        with pytest.raises(ccxt.RateLimitExceeded):
            client.fetch_open_orders("SOL/USDT")
        client.privateGetAccounts()
        assert _remaining(client) == management - 5


def _cost(client: Any, call: Callable[[], Any]) -> tuple[int, Any]:
    """The weight ``call`` took from its pool (the last call was on the same pool), its result."""
    before = _remaining(client)
    result = call()
    assert _gw(client)["reset"] == WINDOW_MS  # the frozen clock: still the same window
    return before - _remaining(client), result


def _weight(client: Any, call: Callable[[], Any]) -> int:
    return _cost(client, call)[0]


def _limit_buy(client: Any) -> Any:
    return client.create_order("SOL/USDT", "limit", "buy", 1, 90)


def test_weights_are_the_documented_ones_classic() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.fetch_ticker("SOL/USDT")
        assert _weight(client, client.publicGetMarketAllTickers) == 15  # Get All Tickers
        assert _weight(client, lambda: client.fetch_ticker("SOL/USDT")) == 15  # Get 24hr Stats
        level1 = {"symbol": "SOL-USDT"}
        assert _weight(client, lambda: client.publicGetMarketOrderbookLevel1(level1)) == 2
        assert _weight(client, lambda: client.fetch_order_book("SOL/USDT", 20)) == 2
        assert _weight(client, lambda: client.fetch_order_book("SOL/USDT", 100)) == 4
        client.privateGetAccounts()
        assert _weight(client, client.privateGetAccounts) == 5  # Management pool
        client.fetch_open_orders("SOL/USDT")
        weight, order = _cost(client, lambda: _limit_buy(client))
        assert weight == 2  # Add Order - Old
        order_id = order["id"]
        assert _weight(client, lambda: client.cancel_order(order_id, "SOL/USDT")) == 3
        assert _weight(client, lambda: client.fetch_my_trades("SOL/USDT")) == 10  # /api/v1/fills
        assert fake.requests[-1].path == "/api/v1/fills"


def test_weights_are_the_documented_ones_hf() -> None:
    with _fake(hf=True) as fake:
        client = _client(fake)
        client.fetch_open_orders("SOL/USDT")
        weight, order = _cost(client, lambda: _limit_buy(client))
        assert weight == 1  # Add Order (HF)
        order_id = order["id"]
        assert _weight(client, lambda: client.cancel_order(order_id, "SOL/USDT")) == 1
        assert _weight(client, lambda: client.fetch_my_trades("SOL/USDT")) == 2  # /api/v1/hf/fills
        assert fake.requests[-1].path == "/api/v1/hf/fills"


def test_an_injected_rate_limit_is_the_overload_429_it_counts_nothing() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.fetch_ticker("SOL/USDT")
        left = _remaining(client)
        fake.inject("ticker", Fault.RATE_LIMIT)
        with pytest.raises(ccxt.RateLimitExceeded):
            client.fetch_ticker("SOL/USDT")
        assert _gw(client) == {}  # KuCoin: "the request header will not carry" them
        client.fetch_ticker("SOL/USDT")
        assert _remaining(client) == left - 15


def test_an_unauthenticated_request_is_not_counted() -> None:
    with _fake() as fake:
        client = _client(fake)
        client.fetch_open_orders("SOL/USDT")
        spot = _remaining(client)
        forger = fake.ccxt_client(secret="not-the-secret")
        _follow_clock(forger, fake)
        forger.markets, forger.markets_by_id = client.markets, client.markets_by_id
        for _ in range(3):
            with pytest.raises(ccxt.AuthenticationError):
                forger.fetch_open_orders("SOL/USDT")
            assert _gw(forger) == {}
        client.fetch_open_orders("SOL/USDT")
        assert _remaining(client) == spot - 2


def test_unknown_paths_are_not_counted() -> None:
    with _fake() as fake:
        client = _client(fake)
        with pytest.raises(ccxt.NotSupported):
            client.fetch_order("no such/order", "SOL/USDT")
        assert _gw(client) == {}
        assert fake.requests[-1].endpoint == "unknown"


def test_over_loopback_the_headers_and_the_429_are_the_same() -> None:
    with _fake() as fake:
        client = fake.ccxt_client_over_loopback()
        _follow_clock(client, fake)
        client.load_markets()
        assert _tickers_until_refused(client) > 0
        assert _gw(client)["limit"] == 2000
        assert _gw(client)["remaining"] < 15


def test_without_rate_limits_nothing_is_limited_and_no_header_is_sent() -> None:
    with _fake(rate_limits=False) as fake:
        client = _client(fake)
        for _ in range(200):  # 3000 of weight: over the Public quota of 2000
            client.fetch_ticker("SOL/USDT")
        assert _gw(client) == {}
