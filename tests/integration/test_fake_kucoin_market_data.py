"""Market data through the real ccxt client: candles, books, trades, fees, tickers, price paths."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from safetrade.testing import BookShape, FakeKucoin, PricePath

START = 1_764_547_200  # 2025-12-01 00:00 UTC, a Monday
NOW_MS = (START + 3600) * 1000


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def _client(fake: FakeKucoin) -> Any:
    # the fake's clock is not the machine's: tell ccxt the difference, as for any server
    client = fake.ccxt_client()
    client.options["timeDifference"] = client.milliseconds() - fake.clock()
    return client


def _path() -> PricePath:
    return PricePath.from_closes(["100", "101", "99", "98", "102", "97"], start=START)


def test_a_replayed_path_is_served_as_kucoin_candles_newest_first() -> None:
    fake = FakeKucoin(clock=Clock(NOW_MS))
    fake.replay("SOL/USDT", _path(), history=6)
    client = _client(fake)
    rows = client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": "1min"})["data"]
    # [time, open, close, high, low, volume, turnover], strings, newest first, ending with the
    # candle before the clock's (the first step replays the current one)
    assert [r[0] for r in rows] == [str(START + 3540 - 60 * i) for i in range(6)]
    assert rows[0][1:5] == ["102", "97", "102", "97"]
    ohlcv = client.fetch_ohlcv("SOL/USDT", "1m")
    assert [c[4] for c in ohlcv] == [
        100.0,
        101.0,
        99.0,
        98.0,
        102.0,
        97.0,
    ]  # ccxt sorts oldest first
    assert fake.price("SOL/USDT") == Decimal(97)


def test_candles_aggregate_to_every_kucoin_interval() -> None:
    fake = FakeKucoin(clock=Clock(NOW_MS))
    fake.replay("SOL/USDT", _path(), history=6)
    client = _client(fake)
    five = client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": "5min"})["data"]
    # the six candles end at 00:59: 00:55-00:59 holds the last five, 00:50-00:54 the first
    assert [r[0] for r in five] == [str(START + 3300), str(START + 3000)]
    assert five[0][1:5] == ["100", "97", "102", "97"]
    assert five[1][1:5] == ["100", "100", "100", "100"]
    for kind in ("1min", "3min", "15min", "30min", "1hour", "2hour", "4hour", "6hour",
                 "8hour", "12hour", "1day", "1week", "1month"):  # fmt: skip
        rows = client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": kind})["data"]
        assert rows, kind
        assert min(Decimal(r[4]) for r in rows) == Decimal(97), kind
    week = client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": "1week"})["data"]
    assert week[0][0] == str(START)  # KuCoin weeks start on Monday


def test_candles_window_is_in_seconds_and_bad_values_are_400100() -> None:
    fake = FakeKucoin(clock=Clock(NOW_MS))
    fake.replay("SOL/USDT", _path(), history=6)
    client = _client(fake)
    query = {"symbol": "SOL-USDT", "type": "1min", "startAt": START + 3360, "endAt": START + 3540}
    rows = client.publicGetMarketCandles(query)["data"]
    assert [r[0] for r in rows] == [str(START + 3480), str(START + 3420), str(START + 3360)]
    with pytest.raises(ccxt.BadRequest, match="startAt must be an integer"):
        client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": "1min", "startAt": "abc"})
    with pytest.raises(ccxt.BadRequest, match="type must be one of"):
        client.publicGetMarketCandles({"symbol": "SOL-USDT", "type": "2min"})
    with pytest.raises(ccxt.BadSymbol):
        client.publicGetMarketCandles({"symbol": "NOPE-USDT", "type": "1min"})


def test_stepping_a_path_triggers_the_stop_inside_a_candle() -> None:
    """The stop at 95 triggers on a candle whose low touches it, though it closes above."""
    path = PricePath.from_csv(
        "time,open,high,low,close\n"
        f"{START},100,100,100,100\n{START + 60},100,101,94.5,99\n{START + 120},99,99,90,90\n"
    )
    with FakeKucoin(clock=Clock(NOW_MS), balances={"SOL": "1"}) as fake:
        fake.replay("SOL/USDT", path, history=1)
        client = _client(fake)
        stop = client.create_order("SOL/USDT", "market", "sell", 1, None, {"stopLossPrice": 95})
        fill_at = None
        while (candle := fake.step("SOL/USDT")) is not None:
            if fake.stop_orders[stop["id"]].status == "TRIGGERED" and fill_at is None:
                fill_at = candle.time
        assert fill_at == NOW_MS // 1000 // 60 * 60  # the first step is the current candle
        (fill,) = fake.fills
        # a falling-then-rising candle (close 99 < open 100) visits the high first, then 94.5
        assert fill.price == Decimal("94.5")
        assert fake.price("SOL/USDT") == Decimal(90)


def test_order_books_have_the_configured_spread_and_depth() -> None:
    shape = BookShape(spread_ticks=4, levels=30, level_size=Decimal("2.5"), step_ticks=2)
    with FakeKucoin(prices={"SOL/USDT": "100"}, book=shape) as fake:
        client = fake.ccxt_client()
        top = client.fetch_order_book("SOL/USDT", 20)
        assert (top["bids"][0], top["asks"][0]) == ([99.98, 2.5], [100.02, 2.5])
        assert (len(top["bids"]), len(top["asks"])) == (20, 20)
        assert top["asks"][1][0] == 100.04
        assert len(client.fetch_order_book("SOL/USDT", 100)["asks"]) == 30
        full = client.fetch_order_book("SOL/USDT")  # signed /api/v3/market/orderbook/level2
        assert len(full["bids"]) == 30
        assert "full_order_book" in fake.endpoints_called()
        ticker = client.fetch_ticker("SOL/USDT")
        assert (ticker["bid"], ticker["ask"], ticker["last"]) == (99.98, 100.02, 100.0)
        level1 = client.publicGetMarketOrderbookLevel1({"symbol": "SOL-USDT"})["data"]
        assert (level1["bestBid"], level1["bestAsk"], level1["price"]) == ("99.98", "100.02", "100")


def test_a_market_order_walks_the_book_and_moves_the_price() -> None:
    shape = BookShape(spread_ticks=2, levels=10, level_size=Decimal(1))
    with FakeKucoin(prices={"SOL/USDT": "100"}, balances={"USDT": "1000"}, book=shape) as fake:
        client = fake.ccxt_client()
        order = client.create_order("SOL/USDT", "market", "buy", Decimal("2.5"))
        assert [(f.price, f.size) for f in fake.fills] == [
            (Decimal("100.01"), 1),
            (Decimal("100.02"), 1),
            (Decimal("100.03"), Decimal("0.5")),
        ]
        read = client.fetch_order(order["id"], "SOL/USDT")
        assert read["filled"] == 2.5
        assert read["average"] == pytest.approx(100.018)
        assert fake.price("SOL/USDT") == Decimal("100.03")


def test_a_market_order_beyond_the_book_fills_what_is_there() -> None:
    shape = BookShape(levels=2, level_size=Decimal(1))
    with FakeKucoin(prices={"SOL/USDT": "100"}, balances={"USDT": "1000"}, book=shape) as fake:
        client = fake.ccxt_client()
        order = client.create_order("SOL/USDT", "market", "buy", 5)
        read = client.fetch_order(order["id"], "SOL/USDT")
        assert (read["filled"], read["status"]) == (2.0, "canceled")


def test_trades_fees_and_tickers() -> None:
    with FakeKucoin(
        prices={"SOL/USDT": "100", "BTC/USDT": "50000"}, balances={"USDT": "500"}
    ) as fake:
        client = fake.ccxt_client()
        fake.set_price("SOL/USDT", Decimal(101))
        client.create_order("SOL/USDT", "market", "buy", 2)
        trades = client.fetch_trades("SOL/USDT")
        assert [(t["price"], t["amount"], t["side"]) for t in trades][-1] == (101.0, 2.0, "buy")
        assert len(trades) == 3  # the two price moves and our own fill
        fee = client.fetch_trading_fee("SOL/USDT")
        assert (fee["taker"], fee["maker"]) == (0.001, 0.001)
        tickers = client.fetch_tickers()
        assert set(tickers) == {"SOL/USDT", "BTC/USDT"}
        assert tickers["SOL/USDT"]["baseVolume"] == 2.0
        with pytest.raises(ccxt.BadRequest, match="1 to 10"):
            client.privateGetTradeFees({"symbols": ",".join(["SOL-USDT"] * 11)})


def test_served_market_data_over_loopback_with_async_ccxt() -> None:
    async def read(base_url: str) -> tuple[Any, Any, Any]:
        client = ccxt_async.kucoin({"enableRateLimit": False})
        client.urls["api"] = dict.fromkeys(client.urls["api"], base_url)
        try:
            return (
                await client.fetch_ohlcv("SOL/USDT", "1m"),
                await client.fetch_order_book("SOL/USDT", 20),
                await client.fetch_ticker("SOL/USDT"),
            )
        finally:
            await client.close()

    with FakeKucoin() as fake:
        fake.replay("SOL/USDT", _path(), history=6)
        server = fake.serve()
        ohlcv, book, ticker = asyncio.run(read(server.base_url))
        assert [c[4] for c in ohlcv] == [100.0, 101.0, 99.0, 98.0, 102.0, 97.0]
        assert book["asks"][0][0] == 97.0
        assert ticker["last"] == 97.0
