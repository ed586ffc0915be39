"""How the paper venue mirrors KuCoin's public data: rules, wicks, books, outages, heartbeats.

The public side is a fake KuCoin served on 127.0.0.1 (the real mirroring code runs over HTTP).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import ccxt
import pytest

import safetrade as st
from safetrade.errors import ConfigError, ExchangeError
from safetrade.paper import PaperStore, PaperVenue, PublicKucoin
from safetrade.paper.summary import HEARTBEAT_MS
from safetrade.testing import BookShape, Candle, FakeKucoin, Fault, PricePath

SOL = "SOL/USDT"
SAMPLES = Path(__file__).parents[1] / "data" / "kucoin_real_samples.json"


def _flat(price: str, count: int) -> list[Candle]:
    p = Decimal(price)
    return [Candle(i * 60, p, p, p, p) for i in range(count)]


@pytest.fixture
def public() -> Iterator[FakeKucoin]:
    with FakeKucoin() as fake:
        history = _flat("87.36", 30)
        wick = Candle(30 * 60, Decimal("87.36"), Decimal("87.40"), Decimal("85.00"),
                      Decimal("87.20"))  # fmt: skip
        after = [Candle((31 + i) * 60, Decimal("87.20"), Decimal("87.20"), Decimal("87.20"),
                        Decimal("87.20")) for i in range(3)]  # fmt: skip
        fake.replay(SOL, PricePath.from_candles([*history, wick, *after]), history=30)
        fake.serve()
        yield fake


def _source(fake: FakeKucoin) -> PublicKucoin:
    client = ccxt.kucoin({"enableRateLimit": False})
    client.urls["api"] = dict.fromkeys(client.urls["api"], fake.serve().base_url)
    return PublicKucoin(client)


def _venue(tmp_path: Path, public: FakeKucoin, **kwargs: object) -> PaperVenue:
    return PaperVenue(store=PaperStore(tmp_path / "p.db"), source=_source(public),
                      symbols=[SOL], starting_balance=Decimal(123),
                      safetrade_digest="s" * 64, bot_digest="b" * 64, **kwargs)  # type: ignore[arg-type]  # fmt: skip


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
    client = venue.ccxt_client()
    client.load_markets()
    client.create_order(SOL, "market", "buy", 1)
    client.create_order(SOL, "market", "sell", 1, None, {"stopPrice": 86, "stop": "loss"})
    public.step(SOL)  # the wick to 85.00: still the forming minute on the venue's next look
    venue.refresh()
    assert venue.balance("SOL").total == 1
    public.step(SOL)  # a new minute: the wick's minute is complete, its low is seen
    venue.refresh()
    assert venue.balance("SOL").total == 0
    fills = [e for e in PaperStore(tmp_path / "p.db").journal() if e.kind == "fill"]
    assert fills[-1].code == "loss"  # the stop-loss's execution


def test_market_orders_walk_the_mirrored_book(tmp_path: Path, public: FakeKucoin) -> None:
    public.set_book(BookShape(spread_ticks=4, level_size=Decimal("0.5")))
    venue = _venue(tmp_path, public)
    client = venue.ccxt_client()
    client.load_markets()
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
    client = venue.ccxt_client()
    client.load_markets()
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
    beats = [e for e in PaperStore(tmp_path / "p.db").journal() if e.kind == "heartbeat"]
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
