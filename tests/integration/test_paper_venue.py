"""The paper venue: KuCoin's rules on the fake's engine, public prices mirrored over loopback.

The "public KuCoin" here is itself a fake KuCoin served on 127.0.0.1 replaying a price path, so
the mirroring code that runs is the code that reads the real KuCoin in paper mode.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import safetrade as st
from safetrade.certification.contract import Signal
from safetrade.cli import main
from safetrade.paper import PaperRequirement, PaperStore, PaperVenue, PublicKucoin, read_summary
from safetrade.reference_bot import ReferenceBot
from safetrade.testing import FakeKucoin, PricePath
from safetrade.testing._fake import wall_clock_ms

FIXTURES = Path(__file__).parents[1] / "fixtures" / "bots"

SOL = "SOL/USDT"
BOT = "safetrade.reference_bot"


def _closes(*closes: str) -> PricePath:
    return PricePath.from_closes([Decimal(c) for c in closes], start=0, interval=60)


@pytest.fixture
def public() -> Iterator[FakeKucoin]:
    """KuCoin's public side: SOL at 87.36 after an hour of history, then a fall."""
    with FakeKucoin() as fake:
        history = ["87.00"] * 59 + ["87.36"]
        fake.replay(SOL, _closes(*history, "87.40", "86.90", "85.00", "84.00", "84.10"),
                    history=len(history))  # fmt: skip
        fake.serve()
        yield fake


def _source(fake: FakeKucoin) -> PublicKucoin:
    # the fixture's server (serve() would start another one)
    return PublicKucoin.at(str(fake.ccxt_client_over_loopback().urls["api"]["public"]))


def _settings(tmp_path: Path, **extra: str) -> st.Settings:
    return st.load_settings(env={
        "TRADING_MODE": "paper", "ACCOUNT_BALANCE_USD": "123", "RISK_PERCENT": "1",
        "MAX_OPEN_POSITIONS": "1", "SAFETRADE_PAPER_DB": str(tmp_path / "paper.sqlite3"),
        "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "ks.json"), **extra,
    })  # fmt: skip


def _venue(tmp_path: Path, public: FakeKucoin) -> PaperVenue:
    """A paper venue of 123 USDT on SOL/USDT, journaling for made-up digests."""
    return PaperVenue(store=PaperStore(tmp_path / "p.sqlite3"), source=_source(public),
                      symbols=[SOL], starting_balance=Decimal(123),
                      safetrade_digest="s" * 64, bot_digest="b" * 64)  # fmt: skip


def _start(settings: st.Settings, public: FakeKucoin, alerts: list[st.Alert]) -> ReferenceBot:
    return ReferenceBot.start(settings, symbol=SOL, bot_package=BOT, paper_source=_source(public),
                              alert=alerts.append, sleep=lambda _s: None)  # fmt: skip


def test_a_paper_run_trades_on_public_prices_survives_a_restart_and_is_journaled(
    tmp_path: Path, public: FakeKucoin, capsys: pytest.CaptureFixture[str]
) -> None:
    alerts: list[st.Alert] = []
    settings = _settings(tmp_path)
    trader = _start(settings, public, alerts)
    assert trader.paper is not None
    assert trader.gateway.free_balance("USDT") == Decimal(123)  # ACCOUNT_BALANCE_USD
    assert trader.gateway.last_price(SOL) == Decimal("87.36")  # mirrored from the source
    result = trader.trade(stop_price=Decimal("85.61"), take_profit_price=Decimal("90.1353"))
    assert isinstance(result.outcome, st.Protected), result
    assert result.outcome.take_profit is not None
    assert result.outcome.take_profit.trigger_price == Decimal("90.13")
    held = trader.gateway.free_balance("SOL")
    assert held == Decimal("0.6396")
    trader.paper.close()
    trader.kill_switch.release_instance_lock()

    # a new process: the same database, the same account, the position still protected
    again = _start(settings, public, alerts)
    assert again.paper is not None
    assert again.gateway.free_balance("SOL") == held
    assert again.gateway.free_balance("USDT") < Decimal(123) - Decimal("55")
    assert len(again.positions) == 1  # adopted from the venue's saved stop orders
    # the public price falls through the stop: the paper stop triggers from it
    for _ in range(4):
        public.step(SOL)
    again.paper.refresh()
    assert again.gateway.free_balance("SOL") == 0
    again.tick()  # one-cancels-the-other: the take-profit goes
    assert again.gateway.exchange.fetch_open_orders(SOL, params={"stop": True}) == []
    again.paper.close()

    summary = read_summary(settings.paper_db)
    assert summary is not None
    assert summary.round_trips == 1
    assert summary.pnl < 0  # sold below the entry
    assert summary.orders == 3  # entry, stop-loss, take-profit
    assert summary.rejections == {}
    assert summary.bare_windows == 1
    assert summary.longest_bare_seconds < 5
    assert summary.journal_problem is None
    assert main(["paper", "status", "--db", str(settings.paper_db), "--bot", BOT]) == 0
    status = capsys.readouterr().out
    assert "round trips: 1" in status
    assert "rejections by KuCoin code: none" in status
    assert "positions left bare: 1 time(s)" in status
    assert "hash chain intact" in status
    with PaperStore(settings.paper_db, read_only=True) as store:
        kinds = [e.kind for e in store.journal()]
    assert kinds.count("start") == 2
    assert "outcome" in kinds
    assert "cancel" in kinds


def test_paper_mode_with_real_looking_keys_connects_only_to_loopback(
    tmp_path: Path, public: FakeKucoin, monkeypatch: pytest.MonkeyPatch
) -> None:
    connections: list[Any] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        connections.append(address)
        if address[0] not in ("127.0.0.1", "::1"):
            raise OSError(f"test: no connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    settings = _settings(tmp_path, KUCOIN_API_KEY="5f3c9b1e2a7d4c0012345678",
                         KUCOIN_API_SECRET="a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                         KUCOIN_API_PASSPHRASE="correct horse battery")  # fmt: skip
    trader = _start(settings, public, [])
    result = trader.trade(stop_price=Decimal("85.61"), take_profit_price=Decimal("90.13"))
    assert isinstance(result.outcome, st.Protected)
    assert connections
    assert all(a[0] == "127.0.0.1" for a in connections)
    # the public source saw no signed request and none of the keys
    for request in public.requests:
        assert request.endpoint in ("symbols", "level1", "order_book", "candles"), request
    assert trader.paper is not None
    trader.paper.close()


def test_the_incident_is_rejected_in_paper_as_kucoin_rejected_it_live(
    tmp_path: Path, public: FakeKucoin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feb 6's own bot on the paper venue: its three order bugs meet KuCoin's answers."""
    monkeypatch.syspath_prepend(str(FIXTURES / "incident_bot"))
    from incident_bot.certify import IncidentBot

    venue = _venue(tmp_path, public)
    dotenv = tmp_path / ".env"
    dotenv.write_text("ACCOUNT_BALANCE=123\n")  # bug 1: the key the code does not read
    bot = IncidentBot(SimpleNamespace(exchange=venue.ccxt_client(), env={}, dotenv_path=dotenv))
    bot.start()
    bot.on_signal(Signal(symbol=SOL, side=st.PositionSide.LONG, strength=Decimal("0.5"),
                         entry_price=Decimal("87.36"), stop_loss=Decimal("85.61"),
                         take_profit=Decimal("90.1353")))  # fmt: skip
    journal = venue.store.journal()
    rejected = [(e.code, e.detail["msg"], e.detail.get("price")) for e in journal
                if e.kind == "rejection"]  # fmt: skip
    # bug 1 + 4: 4.5101 SOL ($394) sized from the 10000 default on a $123 account; the market
    # buy fills only what 123 USDT pays (taker fee included), as on Feb 6 (1.417 SOL)
    entry = next(e for e in journal if e.kind == "order")
    assert entry.detail["size"] == "4.5101"
    bought = sum(Decimal(e.detail["size"]) for e in journal if e.kind == "fill")
    assert bought == Decimal("1.4065")
    # bug 2 failed inside the bot (a TypeError), so the exchange saw no stop-loss at all;
    # bug 3: the take-profit at 90.1353 on a 0.01 tick, KuCoin's code and text
    assert rejected == [("400100", "Price increment invalid.", "90.1353")]
    # and the paper record shows the position bare since the entry
    later = read_summary(tmp_path / "p.sqlite3", now_ms=venue.clock() + 60_000)
    assert later is not None
    assert later.rejections == {"400100": 1}
    assert later.bare_windows == 1
    assert later.longest_bare_seconds >= 60
    assert PaperRequirement(max_bare_seconds=Decimal(10)).problems(later)
    venue.close()


def test_a_flat_paper_bot_still_mirrors_prices_and_runs_on_every_tick(
    tmp_path: Path, public: FakeKucoin
) -> None:
    trader = _start(_settings(tmp_path), public, [])
    assert trader.paper is not None
    trader.paper.refresh_interval_ms = 0
    before = len(public.requests)
    public.step(SOL)
    trader.tick()  # nothing held, nothing sent by the bot itself
    assert [r.endpoint for r in public.requests[before:]] == ["level1", "order_book", "candles"]
    assert trader.gateway.last_price(SOL) == Decimal("87.40")
    trader.paper.close()


def test_an_order_test_refused_in_paper_is_journaled_but_is_no_rejection(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """KuCoin's order test places nothing: validating first must not count against the bot."""
    venue = _venue(tmp_path, public)
    client = venue.ccxt_client()
    with pytest.raises(Exception, match="size below the minimum"):
        client.create_order(SOL, "limit", "buy", 0.001, 87.0, {"test": True})
    client.create_order(SOL, "limit", "buy", 0.5, 87.0, {"test": True})
    with pytest.raises(Exception, match="size below the minimum"):
        client.create_order(SOL, "limit", "buy", 0.001, 87.0)  # a real order: a rejection
    journal = venue.store.journal()
    tests = [(e.code, e.detail.get("msg")) for e in journal if e.kind == "order test"]
    assert tests == [("400100", "Order size below the minimum requirement."), ("200000", None)]
    assert [e.code for e in journal if e.kind == "rejection"] == ["400100"]
    assert not [e for e in journal if e.kind == "order"]  # nothing was placed
    summary = read_summary(tmp_path / "p.sqlite3", now_ms=venue.clock())
    assert summary is not None
    assert summary.rejections == {"400100": 1}
    venue.close()


def test_coins_a_take_profit_limit_holds_are_bare_in_paper_though_a_stop_loss_names_them(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """A stop-loss sells only coins no order holds: beside a limit sell of them all it is void."""
    venue = _venue(tmp_path, public)
    client = venue.ccxt_client()
    client.create_order(SOL, "market", "buy", 0.5)
    client.create_order(SOL, "market", "sell", 0.5, None, {"stop": "loss", "stopPrice": 85.61})
    covered_at = venue.clock()
    client.create_order(SOL, "limit", "sell", 0.5, 90.14)  # the take-profit, holding the coins
    later = read_summary(tmp_path / "p.sqlite3", now_ms=covered_at + 60_000)
    assert later is not None
    assert later.bare_windows == 2  # from the buy to its stop-loss, then from the limit sell on
    assert later.longest_bare_seconds >= 59
    assert PaperRequirement(max_bare_seconds=Decimal(10)).problems(later)
    venue.close()


def test_paper_copies_the_account_type_it_is_told_hf_refuses_what_classic_accepts(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """An HF account refuses any clientOid KuCoin still knows; a classic one only an active one."""
    settings = _settings(tmp_path, SAFETRADE_PAPER_ACCOUNT="HF")
    assert settings.paper_account == "hf"
    assert _settings(tmp_path).paper_account == "classic"
    with pytest.raises(st.ConfigError, match="not a KuCoin account type"):
        _settings(tmp_path, SAFETRADE_PAPER_ACCOUNT="unified")
    answers = {}
    for account in ("classic", "hf"):
        folder = tmp_path / account
        folder.mkdir()
        venue = PaperVenue.open(
            _settings(folder, SAFETRADE_PAPER_ACCOUNT=account), symbols=[SOL],
            bot_package=BOT, source=_source(public),
        )  # fmt: skip
        client = venue.ccxt_client()
        client.create_order(SOL, "market", "buy", 0.5, None, {"clientOid": "reused-oid"})
        try:
            client.create_order(SOL, "market", "sell", 0.5, None, {"clientOid": "reused-oid"})
            answers[account] = "accepted"
        except Exception as exc:  # noqa: BLE001 - the answer is what is compared
            answers[account] = str(exc)
        venue.close()
    assert answers["classic"] == "accepted"  # the done order's clientOid is free again
    assert "126044" in answers["hf"], answers


def test_an_open_bare_window_is_read_from_the_chain_not_from_the_editable_state(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """Clearing the state table's bare_since (one UPDATE) no longer hides an hour bare."""
    import json
    import sqlite3

    venue = _venue(tmp_path, public)
    venue.ccxt_client().create_order(SOL, "market", "buy", 0.5)  # no stop-loss: bare from now
    opened = venue.clock()
    venue.close()
    db = sqlite3.connect(tmp_path / "p.sqlite3")
    with db:
        rows = db.execute("SELECT key, value FROM meta WHERE key LIKE 'position:%'").fetchall()
        edited = 0
        for key, text in rows:
            state = json.loads(text)
            if state.get("bare_since") is not None:
                state["bare_since"] = None
                db.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(state), key))
                edited += 1
    db.close()
    assert edited == 1  # the state said bare; now it says not
    later = read_summary(tmp_path / "p.sqlite3", now_ms=opened + 3_600_000)
    assert later is not None
    assert later.journal_problem is None  # the chain itself was not touched
    assert later.longest_bare_seconds >= 3599
    assert PaperRequirement(max_bare_seconds=Decimal(10)).problems(later)


def test_a_stop_loss_that_fires_into_locked_coins_is_journaled_as_a_rejection(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """KuCoin cancels a triggered stop-loss the coins held cannot fill: paper says so."""
    venue = _venue(tmp_path, public)
    venue.refresh_interval_ms = 0
    client = venue.ccxt_client()
    client.create_order(SOL, "market", "buy", 0.5)
    client.create_order(SOL, "market", "sell", 0.5, None, {"stop": "loss", "stopPrice": 85.61})
    client.create_order(SOL, "limit", "sell", 0.5, 90.14)  # holds the coins
    for _ in range(3):  # 87.40, 86.90, 85.00: through the stop-loss
        public.step(SOL)
    client.fetch_balance()  # the venue refreshes and the stop-loss fires
    venue.close()
    venue = _venue(tmp_path, public)  # a restart journals it only once
    venue.close()
    journal = PaperStore(tmp_path / "p.sqlite3", read_only=True).journal()
    fired = [e for e in journal if e.kind == "rejection"]
    assert [(e.code, e.detail["msg"], e.detail["endpoint"]) for e in fired] == [
        ("200004", "Balance insufficient!", "stop triggered")
    ]
    summary = read_summary(tmp_path / "p.sqlite3")
    assert summary is not None
    assert summary.rejections == {"200004": 1}


def test_a_gtt_order_still_expires_after_the_paper_venue_restarts(
    tmp_path: Path, public: FakeKucoin
) -> None:
    # cancelAfter lives on the saved order record: a restarted paper account used to keep a
    # GTT order resting (and fill it) forever, which KuCoin cancels after cancelAfter seconds
    started = wall_clock_ms()
    store = tmp_path / "p.sqlite3"

    def venue(offset_ms: int) -> PaperVenue:
        return PaperVenue(
            store=PaperStore(store), source=_source(public), symbols=[SOL],
            starting_balance=Decimal(123), safetrade_digest="s" * 64, bot_digest="b" * 64,
            clock=lambda: wall_clock_ms() + offset_ms,
        )  # fmt: skip

    first = venue(0)
    client = first.ccxt_client()
    order = client.create_order(
        SOL, "limit", "buy", 0.1, 80, {"timeInForce": "GTT", "cancelAfter": 60}
    )
    assert client.fetch_order(order["id"], SOL)["status"] == "open"
    first.close()

    later = venue(61_000 + max(0, wall_clock_ms() - started))
    client = later.ccxt_client()
    client.options["timeDifference"] = -61_000  # the venue's clock is ahead: sign as it reads
    seen = client.fetch_order(order["id"], SOL)
    assert (seen["status"], seen["filled"]) == ("canceled", 0)
    assert seen["info"]["cancelAfter"] == 60
    assert client.fetch_balance()["USDT"]["free"] == 123  # the hold released
    later.close()


def test_the_step_by_step_path_journals_its_protection_outcome_like_the_trader(
    tmp_path: Path, public: FakeKucoin
) -> None:
    """Only the Trader journaled outcomes: a bot calling Protector.protect itself (the README's
    step-by-step path) showed "outcomes: none" in `paper status`."""
    settings = _settings(tmp_path)
    gateway = st.Gateway.for_settings(
        settings, symbol=SOL, bot_package=BOT, paper_source=_source(public), certified=None
    )
    market = gateway.load_market(SOL)
    free, prices = gateway.free_balance("USDT"), gateway.prices(SOL)
    assert prices.ask is not None
    plan = st.plan_trade(
        market, side=st.PositionSide.LONG, free_balance=free, entry_price=prices.ask,
        limit_entry=True, stop_price=Decimal("85.61"), take_profit_price=Decimal("90.00"),
        risk_percent=Decimal(1), client_oid=st.new_client_oid(st.OrderPurpose.ENTRY),
    )  # fmt: skip
    account = st.AccountState(
        free_quote=free, configured_balance=None, last_price=prices.last,
        kill_switch_reason=None, open_positions=0, open_position_value=Decimal(0),
    )  # fmt: skip
    decision = st.check(plan, account, st.GuardLimits.from_settings(settings))
    entry = st.execute_entry(gateway, plan, decision, sleep=lambda _s: None)
    assert entry.fill is not None
    protector = st.Protector(gateway, kill_switch=st.KillSwitch(), sleep=lambda _s: None)
    outcome = protector.protect(entry.fill, stop_price=plan.stop_loss_price,
                                take_profit_price=plan.take_profit_price)  # fmt: skip
    assert isinstance(outcome, st.Protected)
    assert gateway.paper is not None
    gateway.paper.close()
    summary = read_summary(settings.paper_db)
    assert summary is not None
    assert summary.outcomes == {"Protected": 1}
