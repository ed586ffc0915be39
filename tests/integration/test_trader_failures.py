"""Trader failure paths, one fault at a time: an account that cannot be read at start-up, on a
tick or right after a lost entry; orphaned stop orders after a restart (cancelled, or not and
then every entry refused); coins found bare at a trade; a refused plan; a rejected entry.

The incident's numbers (123 USDT, SOL/USDT at 87.36, stop 85.61, take-profit 90.00) through the
real ccxt client against the fake KuCoin; faults go in through ``fake.inject``; no wait sleeps.
What matters is judged on the exchange: which orders were sent or cancelled, what is held and
which stops are live, and which alert the bot raised.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import safetrade as st
from safetrade.alerts import Alert
from safetrade.gateway import Gateway
from safetrade.protector import Halted, Protected, Protector
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin, Fault, MarketRules, StopOrder

SYMBOL = "SOL/USDT"
LAST, STOP, TARGET = Decimal("87.36"), Decimal("85.61"), Decimal("90.00")
RETRY = RetryPolicy(attempts=3, backoff=(0.0,))
OUTAGE = 20  # calls: more than every retry of one step
# requests that change orders on the exchange (everything else only reads)
WRITES = frozenset(
    {
        "create_order",
        "create_stop_order",
        "cancel_order",
        "cancel_order_by_client_oid",
        "cancel_all_orders",
        "cancel_all_hf_orders",
        "cancel_stop_order",
        "cancel_stop_order_by_client_oid",
        "cancel_all_stop_orders",
    }
)


class Bot:
    """One bot process on the fake: a started Trader, its alerts and its waits."""

    def __init__(self, fake: FakeKucoin, settings: st.Settings) -> None:
        self.fake = fake
        self.alerts: list[Alert] = []
        self.sleeps: list[float] = []
        counter = itertools.count(1)
        self.trader = st.Trader.start(
            settings,
            lambda: Gateway(fake.ccxt_client()),
            symbol=SYMBOL,
            bot_package="mybot",
            alert=self.alerts.append,
            sleep=self.sleeps.append,
            retry=RETRY,
            new_oid=lambda purpose: f"t-{purpose.value}-{next(counter)}",
        )

    def trade(self) -> st.TradeResult:
        return self.trader.trade(stop_price=STOP, take_profit_price=TARGET)

    def events(self) -> list[tuple[str, str]]:
        return [(a.level, a.event) for a in self.alerts]


def _settings(tmp_path: Path, *, balance: str = "123", positions: str = "1") -> st.Settings:
    return st.load_settings(
        env={
            "TRADING_MODE": "paper",
            "ACCOUNT_BALANCE_USD": balance,
            "RISK_PERCENT": "1",
            "MAX_OPEN_POSITIONS": positions,
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "kill-switch.json"),
        }
    )


@pytest.fixture
def settings(tmp_path: Path) -> st.Settings:
    return _settings(tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeKucoin]:
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: str(LAST)}) as ex:
        yield ex


def _writes(fake: FakeKucoin) -> list[str]:
    """Order-changing requests since the last ``forget_requests``."""
    return [e for e in fake.endpoints_called() if e in WRITES]


def _live(fake: FakeKucoin) -> list[StopOrder]:
    return [s for s in fake.stop_orders.values() if s.status == "NEW" and s.side == "sell"]


def _buys(fake: FakeKucoin) -> int:
    return len([o for o in fake.orders.values() if o.side == "buy"])


def _protected_trade(fake: FakeKucoin, settings: st.Settings) -> Bot:
    """The incident trade, entered and protected: 0.6396 SOL, stop-loss 85.61, take-profit 90."""
    bot = Bot(fake, settings)
    result = bot.trade()
    assert isinstance(result.outcome, Protected)
    assert sorted(s.stop for s in _live(fake)) == ["entry", "loss"]
    return bot


# -- start-up and tick: the account cannot be read ---------------------------------------


def test_start_that_cannot_read_the_account_alerts_and_sends_nothing(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    fake.inject("accounts", Fault.SERVER_ERROR)
    bot = Bot(fake, settings)
    [alert] = bot.alerts
    assert (alert.level, alert.event) == ("error", "sync-failed")
    assert alert.message == "could not read the account at start-up"
    assert alert.exchange_message  # KuCoin's own words reach the human
    assert _writes(fake) == []
    assert bot.trader.positions == []


def test_tick_after_a_failed_start_syncs_first_and_alerts_while_the_account_stays_unreadable(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    # coins left bare by the last process; the exchange is down at start-up and the next tick
    fake.set_balance("SOL", Decimal("0.6396"))
    fake.inject("accounts", Fault.SERVER_ERROR, times=3)
    bot = Bot(fake, settings)
    bot.trader.tick()
    assert [(a.event, a.message) for a in bot.alerts] == [
        ("sync-failed", "could not read the account at start-up"),
        ("sync-failed", "could not read the account"),  # the tick's catch-up sync
        ("sync-failed", "could not check for bare coins"),  # the tick's recover
    ]
    assert {a.level for a in bot.alerts} == {"error"}
    assert _writes(fake) == []  # nothing decided on an account it could not read
    assert _live(fake) == []
    # the exchange is back: the very next tick protects the bare coins
    bot.trader.tick()
    [loss] = _live(fake)
    assert (loss.stop, loss.size) == ("loss", Decimal("0.6396"))
    assert loss.stop_price < LAST
    assert ("error", "unprotected-position") in bot.events()


def test_tick_that_cannot_check_for_bare_coins_alerts_and_keeps_watching(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    bot = _protected_trade(fake, settings)
    fake.set_price(SYMBOL, LAST)  # the market trades at the entry price again: nothing fires
    fake.forget_requests()
    # the account is unreadable for the whole tick: watch() (which also reads what is held)
    # and then the check for bare coins
    fake.inject("accounts", Fault.SERVER_ERROR, times=2)
    bot.trader.tick()
    [alert] = bot.alerts
    assert (alert.level, alert.event) == ("error", "sync-failed")
    assert alert.message == "could not check for bare coins"
    assert _writes(fake) == []
    assert len(bot.trader.positions) == 1  # still watched, both legs still live
    assert sorted(s.stop for s in _live(fake)) == ["entry", "loss"]


# -- restart: orphaned stop orders --------------------------------------------------------


def test_orphan_take_profit_that_cannot_be_cancelled_blocks_every_entry(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    _protected_trade(fake, settings)
    fake.set_price(SYMBOL, Decimal("85.00"))  # the stop-loss fires while the bot is down
    fake.set_price(SYMBOL, LAST)
    [orphan] = _live(fake)
    assert orphan.stop == "entry"  # a take-profit alone: it would sell the next position
    fake.forget_requests()
    fake.inject("cancel_stop_order", Fault.SERVER_ERROR, times=2)
    restarted = Bot(fake, settings)  # a restart in this process takes over the instance lock
    result = restarted.trade()
    assert result.sent is False
    assert result.refusal is not None
    assert "could not be cancelled" in result.refusal
    assert orphan.id in result.refusal
    assert result.sync is not None
    assert result.sync.not_cancelled == (orphan.id,)
    assert restarted.events() == [("error", "orphan-cancel-failed")] * 2  # start-up, trade
    assert orphan.id in restarted.alerts[0].message
    assert "no entry until it is gone" in restarted.alerts[0].message
    assert _writes(fake) == ["cancel_stop_order"] * 2  # no entry was sent
    assert _buys(fake) == 1
    assert [s.id for s in _live(fake)] == [orphan.id]
    # once the cancel goes through, the orphan is gone and the entry goes ahead
    result = restarted.trade()
    assert restarted.events()[-1] == ("error", "orphan-cancelled")
    assert fake.stop_orders[orphan.id].status == "CANCELLED"
    assert result.sent is True
    assert isinstance(result.outcome, Protected)


def test_stop_loss_left_after_its_take_profit_fired_is_cancelled_at_restart(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    _protected_trade(fake, settings)
    fake.set_price(SYMBOL, TARGET)  # the take-profit fires while the bot is down
    assert fake.balance("SOL").total == 0
    [orphan] = _live(fake)
    assert orphan.stop == "loss"  # 0.6396 SOL of stop-loss on no coins
    fake.forget_requests()
    restarted = Bot(fake, settings)
    [alert] = restarted.alerts
    assert (alert.level, alert.event) == ("error", "orphan-cancelled")
    assert orphan.id in alert.message
    assert "stop orders cover more than the 0" in alert.message
    assert _writes(fake) == ["cancel_stop_order"]
    assert fake.stop_orders[orphan.id].status == "CANCELLED"
    assert restarted.trader.positions == []


@pytest.mark.parametrize("cancel_fails", [False, True], ids=["cancelled", "cancel-fails"])
def test_reconcile_on_a_flat_account_cancels_the_stop_left_from_a_closed_position(
    fake: FakeKucoin, settings: st.Settings, *, cancel_fails: bool
) -> None:
    _protected_trade(fake, settings)
    fake.set_price(SYMBOL, Decimal("85.00"))  # stop-loss fires: 0 SOL, the take-profit is left
    [orphan] = _live(fake)
    fake.forget_requests()
    if cancel_fails:
        fake.inject("cancel_stop_order", Fault.SERVER_ERROR)
    # the README's restart step: a new process reconciles with the plan's levels
    alerts: list[Alert] = []
    protector = Protector(
        Gateway(fake.ccxt_client()),
        kill_switch=st.KillSwitch(),
        alert=alerts.append,
        retry=RETRY,
        sleep=lambda _s: None,
    )
    assert protector.reconcile(SYMBOL, stop_price=STOP, take_profit_price=TARGET) is None
    assert alerts[0].level == "error"
    assert alerts[0].event == "orphan-cancelled"
    assert orphan.id in alerts[0].message
    assert _writes(fake) == ["cancel_stop_order"]  # nothing bought or placed on 0 SOL
    if cancel_fails:
        assert [(a.level, a.event) for a in alerts[1:]] == [("error", "cancel-failed")]
        assert [s.id for s in _live(fake)] == [orphan.id]
    else:
        assert alerts[1:] == []
        assert _live(fake) == []


# -- trade: refused before sending, rejected, or lost --------------------------------------


def test_trade_when_prices_cannot_be_read_is_refused_and_sends_nothing(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    bot = Bot(fake, settings)
    fake.forget_requests()
    fake.inject("ticker", Fault.SERVER_ERROR)
    result = bot.trade()
    assert result.sent is False
    assert result.refusal is not None
    assert result.refusal.startswith("exchange unavailable: ")
    assert "outcome unknown" in result.refusal  # ccxt's ExchangeNotAvailable, translated
    assert (result.plan, result.entry) == (None, None)
    assert _writes(fake) == []


def test_trade_with_a_stop_above_the_entry_is_refused_before_anything_is_sent(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    bot = Bot(fake, settings)
    fake.forget_requests()
    result = bot.trader.trade(stop_price=Decimal("88.00"), take_profit_price=TARGET)
    assert result.sent is False
    assert result.refusal is not None
    assert "stop-loss 88" in result.refusal
    assert "not below entry 87.36" in result.refusal
    assert (result.plan, result.decision, result.entry) == (None, None, None)
    assert _writes(fake) == []
    assert bot.alerts == []


def test_bare_coins_found_at_a_trade_get_its_levels_and_count_as_the_open_position(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    fake.set_balance("SOL", Decimal("0.6396"))  # left bare by the last process
    fake.inject("accounts", Fault.SERVER_ERROR)  # so start-up could not protect them
    bot = Bot(fake, settings)
    fake.forget_requests()
    result = bot.trade()
    assert isinstance(result.bare, Protected)
    assert sorted((s.stop, s.stop_price, s.size) for s in _live(fake)) == [
        ("entry", TARGET, Decimal("0.6396")),
        ("loss", STOP, Decimal("0.6396")),
    ]
    # MAX_OPEN_POSITIONS=1: the coins found are that position, so no second entry
    assert result.sent is False
    assert "open position" in (result.refusal or "")
    assert "create_order" not in _writes(fake)
    assert len(bot.trader.positions) == 1


def test_bare_coins_and_a_stop_above_the_price_alert_and_send_nothing(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    fake.set_balance("SOL", Decimal("0.6396"))
    fake.inject("accounts", Fault.SERVER_ERROR)
    bot = Bot(fake, settings)
    fake.forget_requests()
    result = bot.trader.trade(stop_price=Decimal("88.00"), take_profit_price=TARGET)
    assert result.sent is False
    assert result.bare is None
    assert "not below entry 87.36" in (result.refusal or "")
    unprotected = [a for a in bot.alerts if a.event == "unprotected-position"]
    assert {a.level for a in unprotected} == {"error"}
    assert "do not bracket the last price 87.36" in unprotected[-1].message
    assert _writes(fake) == []  # no odd stop-loss, no sale, no entry
    # the next tick protects them RISK_PERCENT below the last price instead
    bot.trader.tick()
    [loss] = _live(fake)
    assert (loss.stop, loss.size) == ("loss", Decimal("0.6396"))
    assert loss.stop_price < LAST


@pytest.mark.parametrize(
    ("stop", "target", "named"),
    [
        (85.61, TARGET, "stop price must be a Decimal"),  # a float: not an exact price
        (STOP, 90.13, "take-profit price must be a Decimal"),
        (Decimal("NaN"), TARGET, "stop price"),
        ("eighty-five", TARGET, "stop price"),
        (STOP, "-1", "take-profit price must be positive"),
    ],
    ids=["float-stop", "float-take-profit", "nan-stop", "junk-stop", "negative-take-profit"],
)
def test_bare_coins_and_an_unusable_price_are_refused_not_sold_or_crashed(
    fake: FakeKucoin, settings: st.Settings, stop: object, target: object, named: str
) -> None:
    # the trade's levels also protect coins found bare: an unusable one must refuse the trade
    # (it used to reach the protector, which sold the coins; a string raised a TypeError)
    fake.set_balance("SOL", Decimal("0.6396"))
    fake.inject("accounts", Fault.SERVER_ERROR)
    bot = Bot(fake, settings)
    fake.forget_requests()
    result = bot.trader.trade(stop_price=stop, take_profit_price=target)  # type: ignore[arg-type]
    assert result.sent is False
    assert result.bare is None
    assert named in (result.refusal or "")
    assert _writes(fake) == []
    assert fake.balance("SOL").total == Decimal("0.6396")


def test_bare_coins_and_prices_as_numeric_strings_are_protected_at_those_prices(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    fake.set_balance("SOL", Decimal("0.6396"))
    fake.inject("accounts", Fault.SERVER_ERROR)
    bot = Bot(fake, settings)
    result = bot.trader.trade(stop_price="85.61", take_profit_price="90.00")  # type: ignore[arg-type]
    assert isinstance(result.bare, Protected)
    assert sorted((s.stop, s.stop_price) for s in _live(fake)) == [
        ("entry", TARGET),
        ("loss", STOP),
    ]


@pytest.mark.parametrize(
    ("risk", "tick", "price", "stop", "wider"),
    [
        ("1", "0.001", "0.05", "0.049", True),  # 1 % of 0.05 is half a tick
        ("0.5", "0.0001", "0.015", "0.0149", True),
        ("100", "0.01", "87.36", "0.01", False),  # all of it: one tick, not zero
        ("1", "0.01", "87.36", "86.49", False),  # the usual case: 1 % below, rounded up
    ],
)
def test_bare_coins_at_start_up_are_protected_on_the_tick_below_the_price_never_sold(
    tmp_path: Path, *, risk: str, tick: str, price: str, stop: str, wider: bool
) -> None:
    settings = st.load_settings(
        env={
            "TRADING_MODE": "paper",
            "RISK_PERCENT": risk,
            "MAX_OPEN_POSITIONS": "1",
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "kill-switch.json"),
        }
    )
    rules = MarketRules(
        "ABC-USDT", price_increment=tick, base_increment="1", base_min_size="1", min_funds="0.1"
    )
    with FakeKucoin(
        balances={"USDT": "10", "ABC": "100"}, prices={"ABC/USDT": price}, markets=[rules]
    ) as fake:
        alerts: list[Alert] = []
        st.Trader.start(
            settings, lambda: Gateway(fake.ccxt_client()), symbol="ABC/USDT",
            bot_package="mybot", sleep=lambda _s: None, alert=alerts.append,
        )  # fmt: skip
        # the derived stop used to round up onto the price (or to zero) and the coins were sold
        assert not [o for o in fake.orders.values() if o.side == "sell"]
        [loss] = [s for s in fake.stop_orders.values() if s.status == "NEW"]
        assert (loss.stop, loss.stop_price, loss.size) == ("loss", Decimal(stop), Decimal(100))
        assert fake.balance("ABC").total == 100
        assert ("stop-wider-than-risk" in {a.event for a in alerts}) is wider


def test_rejected_entry_is_reported_and_nothing_is_protected_or_reconciled(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    bot = Bot(fake, settings)
    fake.forget_requests()
    fake.inject("create_order", Fault.reject("200004", "Balance insufficient!"))
    result = bot.trade()
    assert result.sent is True
    assert result.entry is not None
    assert result.entry.fill is None
    assert not result.entry.outcome_unknown
    assert "Balance insufficient!" in (result.entry.error or "")
    assert result.outcome is None
    assert _writes(fake) == ["create_order"]  # sent once, refused: no retry, no stop orders
    assert fake.balance("SOL").total == 0
    assert _live(fake) == []
    assert bot.trader.positions == []
    assert bot.trader.kill_switch.reason is None


def test_entry_lost_in_an_outage_halts_alerts_and_is_protected_once_the_exchange_is_back(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    bot = Bot(fake, settings)
    # the entry fills but its answer is lost; then the order lookups and the stop-order list
    # stay down through every retry, reconcile and the sync after it
    fake.inject("create_order", Fault.RESPONSE_LOST)
    fake.inject("fetch_order_by_client_oid", Fault.SERVER_ERROR, times=OUTAGE)
    fake.inject("list_stop_orders", Fault.SERVER_ERROR, times=OUTAGE)
    result = bot.trade()
    assert result.sent is True
    assert result.entry is not None
    assert result.entry.outcome_unknown
    assert isinstance(result.outcome, Halted)
    assert bot.trader.kill_switch.reason is not None
    held = fake.balance("SOL").total
    assert held == Decimal("0.6396")  # it did fill, once: nothing was sent twice
    assert _buys(fake) == 1
    assert _live(fake) == []
    assert ("critical", "halted") in bot.events()  # bare coins are never silent
    [halted] = [a for a in bot.alerts if a.event == "halted"]
    # the account could not be read: the alert says the amount is unknown, never "0 SOL"
    assert halted.message.startswith("an unknown amount of SOL/USDT may be UNPROTECTED: ")
    assert bot.events()[-1] == ("error", "sync-failed")
    assert bot.alerts[-1].message == "could not read the account"
    assert set(bot.sleeps) == {0.0}
    # the exchange is back: the next tick syncs first, then protects the coins (halted or not)
    fake.clear_faults()
    bot.trader.tick()
    [loss] = _live(fake)
    assert (loss.stop, loss.size) == ("loss", held)
    assert loss.stop_price < LAST
    assert _buys(fake) == 1  # the kill switch still blocks entries
    assert len(bot.trader.positions) == 1


def test_sync_that_cannot_read_the_price_after_cancelling_an_orphan_does_not_raise(
    fake: FakeKucoin, settings: st.Settings
) -> None:
    # the dust-by-value check reads the price after the orphan cancels: a failure there made
    # sync raise having changed things, though it promises to raise only with nothing changed
    bot = Bot(fake, settings)
    client = fake.ccxt_client()
    fake.set_balance("SOL", Decimal(1))
    orphan = {"stop": "entry", "stopPrice": "95", "clientOid": "orphan-tp-1"}
    client.create_order(SYMBOL, "market", "sell", 1, None, orphan)
    fake.inject("ticker", Fault.SERVER_ERROR, times=OUTAGE)
    sync = bot.trader.sync()
    assert sync.cancelled  # the orphan take-profit, cancelled
    assert sync.bare == Decimal(1)  # judged by its size: 1 SOL is no dust


def _two_positions(
    tmp_path: Path, fake: FakeKucoin, alerts: list[Alert], *, second: tuple[str, str, str]
) -> tuple[st.Trader, Protected, Protected]:
    """MAX_OPEN_POSITIONS=2 on SOL/USDT: the incident's trade at 87.36 (stop 85.61, target
    90.13), then one at ``second`` = (price, stop, target)."""
    trader = st.Trader.start(
        _settings(tmp_path, balance="1000", positions="2"),
        lambda: Gateway(fake.ccxt_client()),
        symbol=SYMBOL,
        bot_package="safetrade.reference_bot",
        alert=alerts.append,
        sleep=lambda _s: None,
    )
    outcomes = []
    for price, stop, target in (("87.36", "85.61", "90.13"), second):
        fake.set_price(SYMBOL, Decimal(price))
        result = trader.trade(
            stop_price=Decimal(stop),
            take_profit_price=Decimal(target),
            signal_strength=Decimal("0.5"),
        )
        assert isinstance(result.outcome, Protected), result
        outcomes.append(result.outcome)
    return trader, outcomes[0], outcomes[1]


def test_one_positions_stop_firing_leaves_the_other_position_on_the_symbol_alone(
    tmp_path: Path,
) -> None:
    """MAX_OPEN_POSITIONS=2 on one symbol: when the first stop fired, the second position's
    coins were taken for the first's, "protected again" and then sold at market."""
    alerts: list[Alert] = []
    with FakeKucoin(balances={"USDT": "1000"}, prices={SYMBOL: "87.36"}) as fake:
        trader, _first, second = _two_positions(
            tmp_path, fake, alerts, second=("88.00", "83.00", "95.00")
        )
        held = second.fill.amount
        kept = {(s.stop, s.size, s.stop_price) for s in _live(fake) if s.size == held}
        assert {stop for stop, _size, _price in kept} == {"loss", "entry"}
        fake.set_price(SYMBOL, Decimal("85.00"))  # the first stop fires, the second (83) not
        assert fake.balance("SOL").total == held
        for _ in range(2):
            trader.tick()
        assert fake.balance("SOL").total == held  # nothing sold
        assert {(s.stop, s.size, s.stop_price) for s in _live(fake)} == kept  # its own orders
        assert [p.fill.amount for p in trader.positions] == [held]
        events = [a.event for a in alerts]
        assert "protection-failed" not in events
        assert "protective-order-vanished" not in events


def test_the_later_positions_target_firing_leaves_the_earlier_position_whole(
    tmp_path: Path,
) -> None:
    """The second position's take-profit fired first: watching the first while the second's
    stop-loss was still listed took the first's coins for the second's ("position-shrank"),
    cancelled the first's orders and left part of it under the other trade's wider stop."""
    alerts: list[Alert] = []
    with FakeKucoin(balances={"USDT": "1000"}, prices={SYMBOL: "87.36"}) as fake:
        trader, first, _second = _two_positions(
            tmp_path, fake, alerts, second=("86.00", "84.50", "87.50")
        )
        held = first.fill.amount
        fake.set_price(SYMBOL, Decimal("87.60"))  # the second's target fires, not the first's
        assert fake.balance("SOL").total == held
        for _ in range(2):
            trader.tick()
        assert sorted((s.stop, s.size, s.stop_price) for s in _live(fake)) == [
            ("entry", held, Decimal("90.13")),
            ("loss", held, Decimal("85.61")),
        ]
        assert [p.fill.amount for p in trader.positions] == [held]
        assert [a.event for a in alerts] == []
        fake.set_price(SYMBOL, Decimal("85.00"))  # through the first's own stop
        assert fake.balance("SOL").total == 0
