"""How the paper venue mirrors KuCoin's public data: rules, wicks, books, outages, heartbeats.

The public side is a fake KuCoin served on 127.0.0.1 (the real mirroring code runs over HTTP).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import ccxt
import pytest

import safetrade as st
from safetrade.errors import ConfigError, ExchangeError
from safetrade.paper import PaperStore, PaperVenue, PublicKucoin, Quote, summarize
from safetrade.paper.summary import HEARTBEAT_MS
from safetrade.paper.venue import wall_clock_ms
from safetrade.testing import BookShape, Candle, FakeKucoin, Fault, PricePath

SOL = "SOL/USDT"
SAMPLES = Path(__file__).parents[1] / "data" / "kucoin_real_samples.json"


def _flat(price: str, count: int) -> list[Candle]:
    p = Decimal(price)
    return [Candle(i * 60, p, p, p, p) for i in range(count)]


def _serve(*after_history: Candle) -> FakeKucoin:
    fake = FakeKucoin()
    history = _flat("87.36", 30)
    fake.replay(SOL, PricePath.from_candles([*history, *after_history]), history=30)
    fake.serve()
    return fake


def _wick(minute: int) -> Candle:
    return Candle(minute * 60, Decimal("87.36"), Decimal("87.40"), Decimal("85.00"),
                  Decimal("87.20"))  # fmt: skip


def _after(first: int) -> list[Candle]:
    price = Decimal("87.20")
    return [Candle((first + i) * 60, price, price, price, price) for i in range(3)]


@pytest.fixture
def public() -> Iterator[FakeKucoin]:
    """The current minute flat, then a wick to 85.00 in the next minute, then flat."""
    with _serve(*_flat("87.36", 31)[30:], _wick(31), *_after(32)) as fake:
        yield fake


@pytest.fixture
def public_wick_now() -> Iterator[FakeKucoin]:
    """A wick to 85.00 in the current minute, then flat."""
    with _serve(_wick(30), *_after(31)) as fake:
        yield fake


def _source(fake: FakeKucoin) -> PublicKucoin:
    return PublicKucoin.at(fake.serve().base_url)


_OPEN: list[PaperVenue] = []


@pytest.fixture(autouse=True)
def _close_venues() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _venue(tmp_path: Path, public: FakeKucoin, **kwargs: object) -> PaperVenue:
    venue = PaperVenue(store=PaperStore(tmp_path / "p.db"), source=_source(public),
                       symbols=[SOL], starting_balance=Decimal(123),
                       safetrade_digest="s" * 64, bot_digest="b" * 64, **kwargs)  # type: ignore[arg-type]  # fmt: skip
    _OPEN.append(venue)
    return venue


def _client(venue: PaperVenue) -> Any:
    client = venue.ccxt_client()
    client.load_markets()
    return client


def _long_with_stop(client: Any) -> None:
    """Buy 1 SOL at market and protect it with a stop-loss at 86."""
    client.create_order(SOL, "market", "buy", 1)
    client.create_order(SOL, "market", "sell", 1, None, {"stopPrice": 86, "stop": "loss"})


def test_the_public_client_must_carry_no_credentials() -> None:
    with pytest.raises(ConfigError, match="carries API credentials"):
        PublicKucoin(ccxt.kucoin({"apiKey": "k", "secret": "s"}))


def test_market_rules_come_from_kucoins_symbol_list(public: FakeKucoin) -> None:
    source = _source(public)
    (rules,) = source.markets([SOL])
    assert rules.symbol == "SOL-USDT"
    assert rules.price_increment == Decimal("0.01")
    with pytest.raises(ExchangeError, match="KuCoin lists no spot market DOGE-EUR"):
        source.markets(["DOGE/EUR"])


def test_a_real_kucoin_symbol_item_reads_exactly() -> None:
    from safetrade.paper.source import _rules

    samples = json.loads(SAMPLES.read_text(encoding="utf-8"))["samples"]
    item = next(s for s in samples if s["endpoint"] == "symbols")["data"][0]
    rules = _rules(item)
    for field, key in (("base_min_size", "baseMinSize"), ("base_increment", "baseIncrement"),
                       ("price_increment", "priceIncrement"), ("min_funds", "minFunds"),
                       ("price_limit_rate", "priceLimitRate")):  # fmt: skip
        assert getattr(rules, field) == Decimal(item[key])
    with pytest.raises(ExchangeError, match="minFunds=None"):
        _rules({**item, "minFunds": None})  # no silent default for a missing rule


def test_a_stop_triggers_on_a_completed_minutes_wick_not_on_the_forming_one(
    tmp_path: Path, public: FakeKucoin
) -> None:
    venue = _venue(tmp_path, public)
    client = _client(venue)
    _long_with_stop(client)
    public.step(SOL)  # the current minute (the stop was placed in it), flat
    public.step(SOL)  # the next minute: the wick to 85.00, still forming on the next look
    venue.refresh()
    assert venue.balance("SOL").total == 1
    public.step(SOL)  # a new minute: the wick's minute is complete, its low is seen
    venue.refresh()
    assert venue.balance("SOL").total == 0
    fills = [e for e in venue.store.journal() if e.kind == "fill"]
    assert fills[-1].code == "loss"  # the stop-loss's execution
    # it sold around the wick's price, not at the price after it (87.20)
    assert Decimal(fills[-1].detail["price"]) <= Decimal("86")


def test_a_wick_never_reaches_orders_placed_in_its_minute(
    tmp_path: Path, public_wick_now: FakeKucoin
) -> None:
    """The minute's low may have traded before the orders arrived: KuCoin would not match it."""
    venue = _venue(tmp_path, public_wick_now)
    client = _client(venue)
    public_wick_now.step(SOL)  # the wick, in the minute the orders below are placed
    _long_with_stop(client)
    client.create_order(SOL, "limit", "buy", 0.3, 85.5)
    public_wick_now.step(SOL)
    public_wick_now.step(SOL)
    venue.refresh()  # the wick's minute is complete now, but it opened before the orders
    assert venue.balance("SOL").total == 1
    assert len(client.fetch_open_orders(SOL)) == 1  # the limit buy still rests


def test_market_orders_walk_the_mirrored_book(tmp_path: Path, public: FakeKucoin) -> None:
    public.set_book(BookShape(spread_ticks=4, level_size=Decimal("0.5")))
    venue = _venue(tmp_path, public)
    client = _client(venue)
    order = client.create_order(SOL, "market", "buy", 1)
    trades = client.fetch_my_trades(SOL)
    # best ask two ticks above 87.36, 0.5 a level: 0.5 at 87.38 and 0.5 at 87.39
    assert sorted(Decimal(str(t["price"])) for t in trades) == [Decimal("87.38"),
                                                                 Decimal("87.39")]  # fmt: skip
    assert order["id"]


def test_a_failed_refresh_keeps_the_last_prices_and_the_venue_answering(
    tmp_path: Path, public: FakeKucoin, caplog: pytest.LogCaptureFixture
) -> None:
    venue = _venue(tmp_path, public)
    client = _client(venue)
    public.inject("level1", Fault.SERVER_ERROR)
    venue.refresh()
    assert "kept at its last price" in caplog.text
    assert client.fetch_ticker(SOL)["last"] == pytest.approx(87.36)


def test_a_running_venue_journals_a_heartbeat_every_hour(
    tmp_path: Path, public: FakeKucoin
) -> None:
    now = [public.clock()]
    venue = _venue(tmp_path, public, clock=lambda: now[0])
    for _ in range(5):
        venue.refresh()
        now[0] += HEARTBEAT_MS // 2
    beats = [e for e in venue.store.journal() if e.kind == "heartbeat"]
    assert len(beats) == 3  # at 0, 1 h and 2 h


def _settings(tmp_path: Path, **env: str) -> st.Settings:
    return st.load_settings(env={"TRADING_MODE": "paper", "RISK_PERCENT": "1",
                                 "MAX_OPEN_POSITIONS": "1",
                                 "SAFETRADE_PAPER_DB": str(tmp_path / "p.db"), **env})  # fmt: skip


def test_the_venue_needs_a_starting_balance_and_paper_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ACCOUNT_BALANCE_USD is not set"):
        PaperVenue.open(_settings(tmp_path), symbols=[SOL], bot_package="safetrade.reference_bot")
    live = attrs.evolve(_settings(tmp_path, ACCOUNT_BALANCE_USD="123"), mode=st.Mode.LIVE)
    with pytest.raises(ConfigError, match="live mode"):
        PaperVenue.open(live, symbols=[SOL], bot_package="safetrade.reference_bot")


def test_minutes_that_passed_while_the_venue_was_closed_reach_its_stops(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """KuCoin's stops live on the exchange: a wick while the bot was down still fires them."""
    venue = _venue(tmp_path, public)
    client = _client(venue)
    _long_with_stop(client)
    _OPEN.remove(venue)
    venue.close()
    for _ in range(3):  # down: the current minute, the wick's minute, one after it
        public.step(SOL)
    again = _venue(tmp_path, public)
    again.refresh()
    assert again.balance("SOL").total == 0
    assert [e.code for e in again.store.journal() if e.kind == "fill"][-1] == "loss"


def test_a_second_venue_on_the_same_account_is_refused(tmp_path: Path, public: FakeKucoin) -> None:
    _venue(tmp_path, public)
    with pytest.raises(ConfigError, match="another paper venue has"):
        _venue(tmp_path, public)


def test_a_slow_public_read_never_turns_the_bots_request_into_a_kucoin_rejection(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """KuCoin checks a request's timestamp when it arrives, not after the venue's refresh."""
    skew = [0]

    class SlowSource(PublicKucoin):
        def quote(self, symbol: str) -> Quote:
            skew[0] += 10_000  # each public read takes 10 s
            return super().quote(symbol)

    client_for_source = _source(public)
    venue = PaperVenue(store=PaperStore(tmp_path / "p.db"),
                       source=SlowSource(client_for_source._client),
                       symbols=[SOL], starting_balance=Decimal(123), safetrade_digest="s",
                       bot_digest="b", clock=lambda: wall_clock_ms() + skew[0],
                       refresh_seconds=0)  # fmt: skip
    _OPEN.append(venue)
    client = venue.ccxt_client()
    client.milliseconds = lambda: wall_clock_ms() + skew[0]  # the bot's clock moves alike
    client.load_markets()
    client.create_order(SOL, "market", "buy", 1)
    assert venue.balance("SOL").total == 1
    assert [e for e in venue.store.journal() if e.kind == "rejection"] == []


def _venue_of(tmp_path: Path, public: FakeKucoin, bot: str, symbols: list[str] | None = None,
              usdt: str = "123") -> PaperVenue:  # fmt: skip
    venue = PaperVenue(store=PaperStore(tmp_path / "p.db"), source=_source(public),
                       symbols=symbols or [SOL], starting_balance=Decimal(usdt),
                       safetrade_digest="s", bot_digest=bot)  # fmt: skip
    _OPEN.append(venue)
    return venue


def _reopen(venue: PaperVenue) -> None:
    _OPEN.remove(venue)
    venue.close()


def test_a_bare_position_is_the_record_of_the_code_that_left_it(
    tmp_path: Path, public: FakeKucoin
) -> None:
    old = _venue_of(tmp_path, public, "old-bot")
    client = _client(old)
    client.create_order(SOL, "market", "buy", 1)  # and no stop-loss: the old code's bug
    _reopen(old)
    new = _venue_of(tmp_path, public, "new-bot")
    client = new.ccxt_client()
    client.create_order(SOL, "market", "sell", 1, None, {"stopPrice": 86, "stop": "loss"})
    journal = new.store.journal()
    bare = [(e.bot_digest, e.detail["until_ms"] - e.detail["since_ms"]) for e in journal
            if e.kind == "bare"]  # fmt: skip
    assert [who for who, _ in bare] == ["old-bot", "new-bot"]
    new_bare = summarize(journal, safetrade_digest="s", bot_digest="new-bot")
    assert new_bare.longest_bare_seconds < 5  # protected at once after the restart


def test_a_buy_that_fills_only_dust_is_no_round_trip(tmp_path: Path, public: FakeKucoin) -> None:
    venue = _venue_of(tmp_path, public, "bot", usdt="0.5")
    client = _client(venue)
    client.create_order(SOL, "market", "buy", 1)  # 0.5 USDT pays for 0.0057 SOL: dust
    assert Decimal(0) < venue.balance("SOL").total < Decimal("0.01")
    assert [e for e in venue.store.journal() if e.kind == "round_trip"] == []


def test_reopening_for_another_market_keeps_the_first_markets_stops_alive(
    tmp_path: Path, public: FakeKucoin
) -> None:
    first = _venue_of(tmp_path, public, "bot")
    client = _client(first)
    _long_with_stop(client)
    _reopen(first)
    public.set_price("BTC/USDT", Decimal(70000))
    second = _venue_of(tmp_path, public, "bot", symbols=["BTC/USDT"])
    assert set(second.engine.markets) == {"BTC-USDT", "SOL-USDT"}
    client = second.ccxt_client()
    assert len(client.fetch_open_orders(SOL, params={"stop": True})) == 1
    public.set_price(SOL, Decimal(85))
    second.refresh()
    assert second.balance("SOL").total == 0  # the SOL stop still watches SOL's price


def test_an_odd_symbol_is_rejected_and_journaled_not_a_crash(
    tmp_path: Path, public: FakeKucoin
) -> None:
    venue = _venue_of(tmp_path, public, "bot")
    client = _client(venue)
    with pytest.raises(ccxt.BaseError):
        client.private_post_orders({"clientOid": "x1", "symbol": 123, "side": "buy",
                                    "type": "market", "size": "1"})  # fmt: skip
    rejected = [e for e in venue.store.journal() if e.kind == "rejection"]
    assert len(rejected) == 1
    assert rejected[0].symbol is None
