"""Protector failure paths the main suite does not reach: a market that cannot be loaded, an
unbuildable stop, a flatten that fills nothing, failed cancels, OCO trouble, reconcile on a
partly protected or unreadable account, and read-back finding orders unlike the ones sent.

Real ccxt against the fake KuCoin; faults go in through ``fake.inject``; waits are recorded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from safetrade import PositionSide, plan_trade
from safetrade.alerts import Alert
from safetrade.entry import execute_entry
from safetrade.errors import ConfigError, ExchangeUnavailable, InvalidValue
from safetrade.fills import Fill
from safetrade.gateway import Gateway, OrderStatus
from safetrade.killswitch import KillSwitch
from safetrade.market import MarketSpec
from safetrade.protector import Flattened, Halted, Protected, Protector
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin, Fault, FillPolicy, MarketRules
from tests.decisions import guard_allows

SYMBOL = "SOL/USDT"
RETRY = RetryPolicy(attempts=3, backoff=(0.5, 1.0))


@pytest.fixture
def fake() -> Iterator[FakeKucoin]:
    with FakeKucoin(balances={"USDT": "1000"}, prices={SYMBOL: "100"}) as ex:
        yield ex


class World:
    """One bot process: a gateway, a protector, and what it alerted and waited."""

    def __init__(
        self,
        fake: FakeKucoin,
        gateway: Gateway | None = None,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        self.fake = fake
        self.gateway = gateway or Gateway(fake.ccxt_client())
        self.alerts: list[Alert] = []
        self.sleeps: list[float] = []
        self.kill_switch = kill_switch or KillSwitch()
        counter = itertools.count(1)
        self.protector = Protector(
            self.gateway,
            kill_switch=self.kill_switch,
            alert=self.alerts.append,
            sleep=self.sleeps.append,
            retry=RETRY,
            new_oid=lambda purpose: f"t-{purpose.value}-{next(counter)}",
        )

    def enter(self) -> Fill:
        plan = plan_trade(
            self.gateway.load_market(SYMBOL),
            side=PositionSide.LONG,
            free_balance=self.gateway.free_balance("USDT"),
            entry_price=Decimal(100),
            stop_price=Decimal(95),
            take_profit_price=Decimal(110),
            risk_percent=Decimal(1),
            client_oid="t-entry",
        )
        result = execute_entry(
            self.gateway, plan, guard_allows(plan), retry=RETRY, sleep=self.sleeps.append
        )
        assert result.fill is not None
        return result.fill

    def events(self) -> list[str]:
        return [a.event for a in self.alerts]

    def live_stops(self) -> list[Any]:
        return [o for o in self.fake.stop_orders.values() if o.status == "NEW"]


@pytest.fixture
def world(fake: FakeKucoin) -> World:
    return World(fake)


def test_fill_needs_a_filled_order_and_backoff_can_be_empty() -> None:
    unfilled = OrderStatus(
        order_id="o1",
        client_oid="c1",
        symbol=SYMBOL,
        side="buy",
        order_type="limit",
        status="open",
        amount=Decimal(1),
        filled=Decimal(0),
        average=None,
        trigger_price=None,
        trigger=None,
    )
    with pytest.raises(InvalidValue, match="has not filled"):
        Fill.from_order(unfilled, PositionSide.LONG)
    assert RetryPolicy(backoff=()).delay(1) == 0.0
    assert RetryPolicy(backoff=(0.5, 2.0)).delay(7) == 2.0  # the last value repeats


def test_market_that_cannot_be_loaded_is_flattened_once_it_loads(fake: FakeKucoin) -> None:
    fill = World(fake).enter()
    restarted = World(fake)  # a fresh process: markets not loaded yet
    fake.inject("symbols", Fault.SERVER_ERROR, times=3)
    outcome = restarted.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Flattened)
    assert outcome.reason == "could not load the market"
    assert outcome.exit_order is not None
    assert outcome.exit_order.filled == fill.amount
    assert fake.balance("SOL").available == 0
    assert restarted.events().count("load-market-failed") == 3
    assert "protection-failed" in restarted.events()


def test_market_that_never_loads_halts_trading(fake: FakeKucoin) -> None:
    fill = World(fake).enter()
    restarted = World(fake)
    fake.inject("symbols", Fault.SERVER_ERROR, times=6)
    outcome = restarted.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Halted)
    assert outcome.reason == "could not load the market; and the market could not be loaded"
    assert restarted.kill_switch.reason is not None
    assert restarted.alerts[-1].level == "critical"
    assert "may be UNPROTECTED" in restarted.alerts[-1].message
    assert fake.balance("SOL").available == fill.amount  # nothing was sold blindly


def test_stop_on_the_wrong_side_cannot_be_built_and_is_flattened(world: World) -> None:
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(105))  # above a long's entry
    assert isinstance(outcome, Flattened)
    assert outcome.reason.startswith("stop-loss cannot be built: ")
    assert world.events()[0] == "stop-loss-invalid"
    assert world.fake.endpoints_called().count("create_stop_order") == 0
    assert world.fake.balance("SOL").available == 0


def test_failed_rebuild_after_a_rejection_is_retried_with_the_old_order(world: World) -> None:
    fill = world.enter()
    world.gateway.load_market(SYMBOL)
    world.fake.inject("create_stop_order", Fault.reject("400100", "Parameter Error"))
    world.fake.inject("symbols", Fault.SERVER_ERROR)  # the corrective reload fails too
    outcome = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Protected)
    assert any(e.startswith("stop-loss rebuild failed: ") for e in outcome.events)
    assert world.events() == ["stop-loss-rejected"]
    assert len(world.live_stops()) == 1


def test_flatten_that_fills_nothing_halts(fake: FakeKucoin) -> None:
    with FakeKucoin(
        balances={"USDT": "1000", "SOL": "5"},
        prices={SYMBOL: "100"},
        fill_policy=FillPolicy.partial(0),  # a market with no bids: nothing fills
    ) as dry:
        world = World(dry)
        fill = Fill(symbol=SYMBOL, side=PositionSide.LONG, amount=Decimal(5), average_price=100)
        outcome = world.protector.protect(fill, stop_price=Decimal(105))
        assert isinstance(outcome, Halted)
        assert outcome.reason.endswith("; flattening failed too")
        assert world.events().count("flatten-failed") == 3
        assert any("did not fill" in e for e in outcome.events)
        # retries looked the flatten order up by clientOid instead of selling again
        assert dry.endpoints_called().count("create_order") == 1
        assert world.kill_switch.reason is not None


def test_a_cancel_that_times_out_once_is_retried_so_no_stop_is_left_behind(
    world: World,
) -> None:
    fill = world.enter()
    world.fake.inject("cancel_stop_order", Fault.TIMEOUT)
    # the take-profit below a long's entry cannot be built, so the placed stop-loss must go
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(90))
    assert isinstance(outcome, Flattened)
    assert world.fake.balance("SOL").available == 0
    assert world.live_stops() == []
    assert world.events()[:3] == ["take-profit-invalid", "protection-failed", "cancel-failed"]


def test_a_stop_that_cannot_be_cancelled_halts_after_the_sale(world: World) -> None:
    """Sold, but a stop left live would sell the next position's coins: a human must look."""
    fill = world.enter()
    world.fake.inject("cancel_stop_order", Fault.TIMEOUT, times=10)
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(90))
    assert isinstance(outcome, Halted)
    assert "could not be cancelled and may still be live" in outcome.reason
    assert world.fake.balance("SOL").available == 0  # the coins were sold all the same
    (left,) = world.live_stops()
    assert world.kill_switch.reason is not None
    assert world.alerts[-1].level == "critical"
    assert left.client_oid in outcome.reason


def test_a_stop_accepted_but_never_acknowledged_is_cancelled_by_clientoid_on_flatten(
    world: World,
) -> None:
    """Its answer was lost and every look-up failed: it was live, 2 SOL of stop on 0 SOL."""
    fill = world.enter()
    world.fake.inject("create_stop_order", Fault.RESPONSE_LOST)
    world.fake.inject("list_stop_orders", Fault.SERVER_ERROR, times=10)
    outcome = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Flattened), outcome
    assert world.fake.balance("SOL").available == 0
    assert world.live_stops() == []  # found and cancelled by its clientOid
    assert "cancel_stop_order_by_client_oid" in world.fake.endpoints_called()


@pytest.mark.parametrize(
    "lookup_error",
    [Fault.reject("400100", "order not exist."), Fault.reject("400100", "Parameter Error")],
    ids=["order-not-exist", "parameter-error"],
)
def test_a_stop_whose_answer_was_lost_is_looked_up_again_never_sent_under_a_new_clientoid(
    world: World, lookup_error: Fault
) -> None:
    """Answer lost, then one error on the look-up: a second stop-loss went out, the first live
    and untracked, so after the take-profit fired it sold the next position's coins."""
    fill = world.enter()
    world.fake.inject("create_stop_order", Fault.RESPONSE_LOST, times=1)
    world.fake.inject("list_stop_orders", lookup_error, times=1)
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(outcome, Protected), outcome
    losses = [o for o in world.live_stops() if o.stop == "loss"]
    assert [o.id for o in losses] == [outcome.stop_loss.order_id]  # one, and the tracked one
    assert sum(o.size for o in losses) == world.fake.balance("SOL").total == fill.amount
    assert world.fake.endpoints_called().count("create_stop_order") == 2  # stop-loss + target


def test_a_stop_refused_after_a_timeout_is_corrected_and_placed_not_sold(
    fake: FakeKucoin,
) -> None:
    """The first stop-loss never reached KuCoin (timeout); its tick changed meanwhile, so the
    re-send was refused: that refusal must take the corrected retry (reload the market,
    rebuild), not be taken for the look-up of an order that may be live."""
    world = World(fake)
    fill = world.enter()
    fake.inject("create_stop_order", Fault.TIMEOUT, times=1)
    changed: list[bool] = []

    def sleep(seconds: float) -> None:  # KuCoin changes SOL-USDT's tick while the bot waits
        world.sleeps.append(seconds)
        if not changed:
            fake.add_market(MarketRules("SOL-USDT", price_increment="0.1"))
            changed.append(True)

    world.protector._sleep = sleep
    outcome = world.protector.protect(fill, stop_price=Decimal("95.05"))
    assert isinstance(outcome, Protected), outcome
    assert outcome.stop_loss.trigger_price == Decimal("95.1")  # rebuilt on the new tick
    assert fake.balance("SOL").total == fill.amount  # nothing sold


def test_a_partly_filled_flatten_sells_the_rest(fake: FakeKucoin) -> None:
    """A 50 % fill used to be reported Flattened with 1.0 SOL left bare."""
    world = World(fake)
    fill = world.enter()
    fake.inject("create_stop_order", Fault.reject("400100", "Parameter Error"), times=10)
    fake._engine.fill_policy = FillPolicy.partial("0.5")
    outcome = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Flattened), outcome
    assert outcome.residual < Decimal("0.01")
    assert fake.balance("SOL").available < Decimal("0.01")
    assert "flatten-partial" in world.events()


def test_watch_reports_a_failed_listing_as_unprotected(world: World) -> None:
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Protected)
    assert outcome.take_profit is None
    world.fake.inject("list_stop_orders", Fault.SERVER_ERROR)
    result = world.protector.watch(outcome)
    assert (result.fired, result.cancelled, result.still_protected) == (None, (), False)
    assert world.events() == ["watch-failed"]
    # a stop-loss without a take-profit: when it fires, there is nothing to cancel
    world.fake.set_price(SYMBOL, Decimal(94))
    result = world.protector.watch(outcome)
    assert (result.fired, result.cancelled, result.still_protected) == ("stop-loss", (), False)


def test_oco_cancel_failure_is_alerted(world: World) -> None:
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(outcome, Protected)
    world.fake.set_price(SYMBOL, Decimal(111))  # the take-profit fires
    world.fake.inject("cancel_stop_order", Fault.TIMEOUT)
    result = world.protector.watch(outcome)
    assert result.fired == "take-profit"
    assert result.cancelled == ()
    (alert,) = world.alerts
    assert alert.event == "oco-cancel-failed"
    assert alert.message == "take-profit fired but the stop-loss could not be cancelled"
    # still watched, so the next look cancels the stop-loss left live (it would sell the next
    # position's coins); then there is nothing left to watch
    assert result.position is outcome
    again = world.protector.watch(result.position)
    assert (again.fired, again.cancelled, again.position) == ("take-profit", ("stop-loss",), None)
    assert world.live_stops() == []


def test_a_take_profit_that_fills_in_part_leaves_the_rest_protected(fake: FakeKucoin) -> None:
    """Half the take-profit's sell filled: watch() said protected while the stop-loss, for the
    whole position, was more than the coins held, so KuCoin cancelled it at trigger."""
    world = World(fake)
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(outcome, Protected)
    fake.set_fill_policy(FillPolicy.partial("0.5"))
    fake.set_price(SYMBOL, Decimal(110))  # the take-profit fires into a thin book
    fake.set_fill_policy(FillPolicy())
    held = fake.balance("SOL").total
    assert 0 < held < fill.amount
    result = world.protector.watch(outcome)
    assert result.still_protected
    assert result.position is not None
    assert result.position.stop_loss.amount == held  # for what is left, not the whole fill
    assert result.position.take_profit is None  # its price was reached; a new one would fire
    losses = [o for o in world.live_stops() if o.stop == "loss"]
    assert [(o.id, o.size) for o in losses] == [(result.position.stop_loss.order_id, held)]
    (alert,) = [a for a in world.alerts if a.event.startswith("protective-order")]
    assert alert.event == "protective-order-partly-filled"
    assert "filled in part" in alert.message
    assert "stop-loss only" in alert.message
    # the price falls through the stop: what was left is sold, nothing is left bare
    fake.set_price(SYMBOL, Decimal(94))
    assert fake.balance("SOL").total == 0


def test_reconcile_that_cannot_read_the_account_halts(world: World) -> None:
    world.enter()
    world.fake.inject("accounts", Fault.SERVER_ERROR, times=3)
    outcome = world.protector.reconcile(SYMBOL, stop_price=Decimal(95))
    assert isinstance(outcome, Halted)
    assert outcome.reason == "could not read the account to reconcile"
    assert world.events() == ["reconcile-read-failed"] * 3 + ["halted"]
    assert world.kill_switch.reason is not None


def test_coins_sold_by_hand_under_a_live_stop_loss_are_protected_afresh(world: World) -> None:
    """Half sold by hand, both legs still live: watch() said protected, the stop-loss (for the
    whole position) was cancelled at trigger, and the rest was sold a loop later, below it."""
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(outcome, Protected)
    world.fake.ccxt_client().create_order(SYMBOL, "market", "sell", float(fill.amount / 2))
    held = world.fake.balance("SOL").total
    result = world.protector.watch(outcome)
    assert result.still_protected
    assert result.position is not None
    assert result.position.stop_loss.amount == held
    assert sorted((o.stop, o.size) for o in world.live_stops()) == [
        ("entry", held),
        ("loss", held),
    ]
    assert "position-shrank" in world.events()
    world.fake.set_price(SYMBOL, Decimal(94))  # through the stop: what is left is sold at it
    assert world.fake.balance("SOL").total == 0
    after = world.protector.watch(result.position)
    assert (after.fired, after.position) == ("stop-loss", None)
    assert world.live_stops() == []


def test_everything_sold_by_hand_cancels_both_legs(world: World) -> None:
    fill = world.enter()
    outcome = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(outcome, Protected)
    world.fake.ccxt_client().create_order(SYMBOL, "market", "sell", float(fill.amount))
    result = world.protector.watch(outcome)
    assert (result.still_protected, result.position) == (False, None)
    assert sorted(result.cancelled) == ["stop-loss", "take-profit"]
    assert world.live_stops() == []  # left live, they would sell the next position's coins


class _Journal:
    """Stands in for the paper venue's journal: what the protector records on it."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str | None, str | None]] = []

    def journal(self, kind: str, symbol: str | None, code: str | None, detail: Any) -> None:
        self.entries.append((kind, symbol, code))


def test_every_protection_outcome_is_journaled_on_the_paper_venue(world: World) -> None:
    """protect() journaled its outcomes; reconcile's own halt (the account unreadable) was not."""
    journal = _Journal()
    world.gateway.paper = journal  # type: ignore[assignment]
    fill = world.enter()
    world.protector.protect(fill, stop_price=Decimal(95))
    world.fake.inject("accounts", Fault.SERVER_ERROR, times=3)
    world.protector.reconcile(SYMBOL, stop_price=Decimal(95))
    assert journal.entries == [("outcome", SYMBOL, "Protected"), ("outcome", SYMBOL, "Halted")]


def test_reconcile_replaces_a_stop_that_covers_only_part_of_the_position(world: World) -> None:
    fill = world.enter()
    half = Fill(
        symbol=SYMBOL,
        side=PositionSide.LONG,
        amount=fill.amount / 2,
        average_price=fill.average_price,
    )
    assert isinstance(world.protector.protect(half, stop_price=Decimal(95)), Protected)
    (old,) = world.live_stops()
    outcome = world.protector.reconcile(SYMBOL, stop_price=Decimal(95))
    assert isinstance(outcome, Protected)
    assert world.events() == ["unprotected-position"]
    assert world.fake.stop_orders[old.id].status == "CANCELLED"
    (new,) = world.live_stops()
    assert new.size == fill.amount == world.fake.balance("SOL").available
    # and with a take-profit asked for but missing, reconcile protects again
    again = world.protector.reconcile(SYMBOL, stop_price=Decimal(95), take_profit_price=110)
    assert isinstance(again, Protected)
    assert {o.stop for o in world.live_stops()} == {"loss", "entry"}


class EditedOnExchange(Gateway):
    """Reads back stop orders after changing the exchange's copy (as if edited by hand).

    The fake has no public way to alter a stored order, so this reaches into its state; the
    protector and gateway under test are untouched.
    """

    def __init__(self, exchange: Any, fake: FakeKucoin, changes: dict[str, Any]) -> None:
        super().__init__(exchange)
        self.fake = fake
        self.changes = changes

    def open_stop_orders(self, symbol: str) -> list[OrderStatus]:
        for stop in self.fake._engine.stop_orders.values():
            if stop.status == "NEW":
                for name, value in self.changes.items():
                    setattr(stop, name, value)
        return super().open_stop_orders(symbol)


@pytest.mark.parametrize(
    ("changes", "found"),
    [
        (
            {"side": "buy", "size": Decimal(1), "stop_price": Decimal(96), "stop": "entry"},
            "side buy != sell, amount 1.0 != {amount}, trigger 96.0 != 95.00, "
            "stop kind entry != loss",
        ),
        (
            {"size": None, "funds": Decimal(50)},
            "exchange did not report amount and trigger price",
        ),
    ],
    ids=["every-field-differs", "amount-missing"],
)
def test_read_back_that_differs_from_what_was_sent_is_not_trusted(
    fake: FakeKucoin, changes: dict[str, Any], found: str
) -> None:
    fill = World(fake).enter()
    world = World(fake, EditedOnExchange(fake.ccxt_client(), fake, changes))
    outcome = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Flattened)
    assert outcome.reason.startswith("read-back found: stop-loss ")
    assert outcome.reason.endswith(found.format(amount=fill.amount))
    assert world.events()[:2] == ["read-back-mismatch", "protection-failed"]
    assert fake.balance("SOL").available == 0


def test_a_halt_whose_kill_switch_cannot_be_written_still_alerts_and_stays_engaged(
    fake: FakeKucoin, tmp_path: Path
) -> None:
    """An unwritable kill-switch file used to raise FileNotFoundError out of protect()."""
    fill = World(fake).enter()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the kill switch's folder should be")
    restarted = World(fake, kill_switch=KillSwitch(blocker / "kill-switch.json"))
    fake.inject("symbols", Fault.SERVER_ERROR, times=6)
    outcome = restarted.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(outcome, Halted)
    assert restarted.alerts[-1].level == "critical"
    assert "a restart would NOT be halted" in restarted.alerts[-1].message
    assert restarted.kill_switch.reason is not None  # engaged in this process all the same
    assert restarted.kill_switch.write_error is not None
    with pytest.raises(ConfigError, match="cannot be written"):
        restarted.kill_switch.ensure_writable()  # what start-up and preflight check


class _MarketsDown(Gateway):
    """The real gateway whose market look-ups fail while ``down`` (a KuCoin outage)."""

    down = False

    def load_market(self, symbol: str, *, reload: bool = False) -> MarketSpec:
        if self.down:
            raise ExchangeUnavailable(f"loading market {symbol}", exchange_message="503")
        return super().load_market(symbol, reload=reload)


def test_a_failed_protection_never_cancels_another_positions_stops(fake: FakeKucoin) -> None:
    """The clientOids a failed protection cleans up are its own position's, not the last one's.

    They were kept on the Protector between calls: a second position whose market could not be
    loaded cancelled the first position's stop-loss and take-profit by clientOid, leaving it bare.
    """
    gateway = _MarketsDown(fake.ccxt_client())
    world = World(fake, gateway=gateway)
    fill = world.enter()
    first = world.protector.protect(fill, stop_price=Decimal(95), take_profit_price=Decimal(110))
    assert isinstance(first, Protected)
    assert first.take_profit is not None
    gateway.down = True
    second = world.protector.protect(fill, stop_price=Decimal(95))
    assert isinstance(second, Halted)  # could not load the market, so could not sell either
    live = {o.client_oid for o in world.live_stops()}
    assert live == {first.stop_loss.client_oid, first.take_profit.client_oid}
    assert "cancel_stop_order_by_client_oid" not in world.fake.endpoints_called()
