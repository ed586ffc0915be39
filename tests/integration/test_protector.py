"""Issue 4: a filled position is never silently unprotected (real ccxt against the fake KuCoin).

The incident's numbers throughout: 123 USDT, SOL/USDT at 87.36, stop 85.61, take-profit 90.1353.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from safetrade import GuardLimits, PositionSide, check, plan_trade
from safetrade.alerts import Alert
from safetrade.builder import OrderIntent, OrderPurpose
from safetrade.entry import execute_entry
from safetrade.fills import Fill
from safetrade.gateway import Gateway, OrderStatus
from safetrade.guard import AccountState
from safetrade.killswitch import KillSwitch
from safetrade.plan import TradePlan
from safetrade.protector import Flattened, Halted, Protected, Protector
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin, Fault, FillPolicy
from tests.decisions import guard_allows

SYMBOL = "SOL/USDT"
STOP = Decimal("85.61")
TARGET = Decimal("90.1353")
NO_WAIT = RetryPolicy(attempts=3, backoff=(0.5, 1.0))


class ScriptedGateway(Gateway):
    """The real gateway, plus a hook that arms a fake-exchange fault right before a step."""

    def __init__(self, exchange: Any, fake: FakeKucoin) -> None:
        super().__init__(exchange)
        self.fake = fake
        self.armed: dict[str, tuple[str, Any, int]] = {}

    def arm(self, step: str, endpoint: str, fault: Any, times: int = 1) -> None:
        self.armed[step] = (endpoint, fault, times)

    def _before(self, step: str) -> None:
        if step in self.armed:
            endpoint, fault, times = self.armed.pop(step)
            self.fake.inject(endpoint, fault, times=times)

    def _step(self, intent: OrderIntent) -> str:
        return {
            OrderPurpose.ENTRY: "entry",
            OrderPurpose.STOP_LOSS: "stop-loss",
            OrderPurpose.TAKE_PROFIT: "take-profit",
            OrderPurpose.FLATTEN: "flatten",
        }[intent.purpose]

    def submit_unguarded(self, intent: OrderIntent) -> OrderStatus:
        self._before(self._step(intent))
        return super().submit_unguarded(intent)

    def open_stop_orders(self, symbol: str) -> list[OrderStatus]:
        self._before("read-back")
        return super().open_stop_orders(symbol)


@pytest.fixture
def fake() -> Iterator[FakeKucoin]:
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: "87.36"}) as ex:
        yield ex


@pytest.fixture
def gateway(fake: FakeKucoin) -> ScriptedGateway:
    return ScriptedGateway(fake.ccxt_client(), fake)


@pytest.fixture
def alerts() -> list[Alert]:
    return []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def kill_switch() -> KillSwitch:
    return KillSwitch()


@pytest.fixture
def protector(
    gateway: ScriptedGateway, alerts: list[Alert], sleeps: list[float], kill_switch: KillSwitch
) -> Protector:
    counter = itertools.count(1)
    return Protector(
        gateway,
        kill_switch=kill_switch,
        alert=alerts.append,
        sleep=sleeps.append,
        retry=NO_WAIT,
        new_oid=lambda purpose: f"t-{purpose.value}-{next(counter)}",
    )


def _plan(gateway: Gateway, client_oid: str = "t-entry-1") -> TradePlan:
    market = gateway.load_market(SYMBOL)
    return plan_trade(
        market,
        side=PositionSide.LONG,
        free_balance=gateway.free_balance("USDT"),
        entry_price=gateway.last_price(SYMBOL),
        stop_price=STOP,
        take_profit_price=TARGET,
        risk_percent=Decimal(1),
        client_oid=client_oid,
    )


def _enter(gateway: Gateway) -> tuple[TradePlan, Fill]:
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=NO_WAIT, sleep=lambda _s: None)
    assert result.fill is not None, result.error
    return plan, result.fill


def _live_stops(fake: FakeKucoin) -> list[Any]:
    return [o for o in fake.stop_orders.values() if o.status == "NEW"]


def _accepted(fake: FakeKucoin, prefix: str) -> list[str]:
    """clientOids of every order the exchange ever accepted whose clientOid starts ``prefix``."""
    oids = [o.client_oid for o in fake.stop_orders.values()]
    oids += [o.client_oid for o in fake.orders.values() if o.client_oid not in oids]
    return [oid for oid in oids if oid.startswith(prefix)]


class TestHappyPath:
    def test_protected_and_read_back(self, fake, gateway, protector, alerts, sleeps):
        """A fill gets a stop-loss and a take-profit, both confirmed on the exchange."""
        plan, fill = _enter(gateway)
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        live = {o.stop: o for o in _live_stops(fake)}
        assert set(live) == {"loss", "entry"}
        assert live["loss"].stop_price == Decimal("85.61")
        # the long's take-profit rounds toward the entry: 90.1353 -> 90.13, never 90.1353
        assert live["entry"].stop_price == Decimal("90.13")
        assert live["loss"].size == live["entry"].size == fill.amount
        assert (outcome.stop_loss.trigger, outcome.take_profit.trigger) == ("loss", "entry")
        assert alerts == []
        assert sleeps == []

    def test_wire_body_is_what_kucoin_accepts(self, fake, gateway, protector):
        """The stop-loss reaches KuCoin as a stop-market sell with stop=loss and stopPrice."""
        plan, fill = _enter(gateway)
        protector.protect(fill, stop_price=plan.stop_loss_price)
        posts = [r for r in fake.requests if r.endpoint == "create_stop_order"]
        assert len(posts) == 1
        body = posts[0].body
        assert body["side"] == "sell"
        assert body["type"] == "market"
        assert body["stop"] == "loss"
        assert body["stopPrice"] == "85.61"
        assert Decimal(body["size"]) == fill.amount


class TestRecovery:
    def test_stop_loss_rejected_once_then_corrected(self, fake, gateway, protector, alerts):
        """A rejected stop-loss is rebuilt and placed; the alert keeps KuCoin's words."""
        plan, fill = _enter(gateway)
        gateway.arm("stop-loss", "create_stop_order", Fault.reject("400100", "Parameter Error"))
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        assert len(_accepted(fake, "t-stop-loss")) == 1
        assert any(a.exchange_message == "Parameter Error" for a in alerts)

    def test_unrounded_take_profit_would_be_rejected(self, fake, gateway):
        """Sent raw, 90.1353 is refused by the fake with KuCoin's own message."""
        gateway.load_market(SYMBOL)
        with pytest.raises(ccxt.BadRequest, match="Price increment invalid"):
            gateway.exchange.privatePostStopOrder(
                {
                    "clientOid": "raw-tp",
                    "side": "sell",
                    "symbol": "SOL-USDT",
                    "type": "market",
                    "size": "0.6396",
                    "stop": "entry",
                    "stopPrice": "90.1353",
                }
            )

    @pytest.mark.parametrize(
        "fault", [Fault.TIMEOUT, Fault.SERVER_ERROR, Fault.RATE_LIMIT, Fault.RESPONSE_LOST]
    )
    def test_stop_loss_transient_fault_no_duplicate(self, fake, gateway, protector, sleeps, fault):
        """A transient fault on the stop-loss is retried with the same clientOid: one order."""
        plan, fill = _enter(gateway)
        gateway.arm("stop-loss", "create_stop_order", fault)
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        assert _accepted(fake, "t-stop-loss") == ["t-stop-loss-1"]
        assert len(_live_stops(fake)) == 2
        assert sleeps == [0.5]

    def test_unprotectable_position_is_flattened(self, fake, gateway, protector, alerts):
        """A stop-loss rejected on every attempt ends Flattened: sold, confirmed, no stops left."""
        plan, fill = _enter(gateway)
        gateway.arm(
            "stop-loss", "create_stop_order", Fault.reject("400100", "Parameter Error"), times=3
        )
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Flattened)
        assert outcome.exit_order is not None
        assert outcome.exit_order.filled == fill.amount
        assert fake.balance("SOL").available == 0
        assert _live_stops(fake) == []
        assert any(a.event == "protection-failed" for a in alerts)

    def test_take_profit_failure_cancels_stop_loss_and_flattens(self, fake, gateway, protector):
        """Without both legs the position is flattened and the lone stop-loss cancelled."""
        plan, fill = _enter(gateway)
        gateway.arm(
            "take-profit", "create_stop_order", Fault.reject("400100", "Parameter Error"), times=3
        )
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Flattened)
        assert _live_stops(fake) == []
        assert fake.balance("SOL").available == 0

    def test_flatten_failure_halts_and_guard_refuses(
        self, fake, gateway, protector, kill_switch, alerts
    ):
        """If flattening fails too: Halted, kill switch engaged, next entry refused by the guard."""
        plan, fill = _enter(gateway)
        gateway.arm("stop-loss", "create_stop_order", Fault.SERVER_ERROR, times=3)
        gateway.arm("flatten", "create_order", Fault.SERVER_ERROR, times=3)
        outcome = protector.protect(fill, stop_price=plan.stop_loss_price)
        assert isinstance(outcome, Halted)
        assert kill_switch.reason is not None
        assert alerts[-1].level == "critical"
        next_plan = _plan(gateway, "t-entry-2")
        decision = check(
            next_plan,
            AccountState(
                free_quote=gateway.free_balance("USDT"),
                configured_balance=None,
                last_price=Decimal("87.36"),
                kill_switch_reason=kill_switch.reason,
                open_positions=0,
                open_position_value=Decimal(0),
            ),
            GuardLimits(risk_percent=Decimal(1), max_open_positions=5),
        )
        assert not decision.allowed
        assert "kill-switch" in decision.failed_controls

    def test_partial_fill_sizes_protection_to_filled_amount(self):
        """Protection covers what filled (KuCoin filled 1.417 of 4.5 SOL on Feb 6)."""
        with FakeKucoin(
            balances={"USDT": "123"},
            prices={SYMBOL: "87.36"},
            fill_policy=FillPolicy.partial("0.5"),
        ) as fake:
            gateway = Gateway(fake.ccxt_client())
            plan, fill = _enter(gateway)
            assert fill.amount < plan.size.amount
            protector = Protector(gateway, kill_switch=KillSwitch(), sleep=lambda _s: None)
            outcome = protector.protect(
                fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
            )
            assert isinstance(outcome, Protected)
            assert {o.size for o in _live_stops(fake)} == {fill.amount}
            assert fake.balance("SOL").available == fill.amount

    def test_stop_already_crossed_is_flattened_by_the_exchange(self, fake, gateway, protector):
        """Price fell through the stop before protection: the position ends closed."""
        _plan_unused, fill = _enter(gateway)
        fake.set_price(SYMBOL, Decimal("85.00"))
        outcome = protector.protect(fill, stop_price=Decimal("85.61"))
        # the stop still sits below the *entry*, so it is placed and fires at once on KuCoin;
        # read-back then finds it gone, and flattening finds nothing left to sell
        assert isinstance(outcome, Flattened)
        assert fake.balance("SOL").available == 0
        assert _live_stops(fake) == []


class TestWatchAndReconcile:
    def test_one_cancels_the_other(self, fake, gateway, protector):
        """When the stop-loss fires, watch() cancels the take-profit that would stay live."""
        plan, fill = _enter(gateway)
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        assert protector.watch(outcome).still_protected
        fake.set_price(SYMBOL, Decimal("85.50"))
        result = protector.watch(outcome)
        assert result.fired == "stop-loss"
        assert result.cancelled == ("take-profit",)
        assert _live_stops(fake) == []

    def _protected(self, gateway, protector):
        plan, fill = _enter(gateway)
        outcome = protector.protect(
            fill, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        assert outcome.take_profit is not None
        return outcome

    def _cancel_by_hand(self, fake, order_id):
        """The owner cancels a stop order in the KuCoin app (another client, same account)."""
        fake.ccxt_client().cancel_order(order_id, SYMBOL, {"stop": True})

    def test_a_take_profit_cancelled_by_hand_leaves_the_stop_loss_in_place(
        self, fake, gateway, protector, alerts
    ):
        """It used to be taken as fired, and the stop-loss was cancelled: the position bare."""
        outcome = self._protected(gateway, protector)
        self._cancel_by_hand(fake, outcome.take_profit.order_id)
        result = protector.watch(outcome)
        assert (result.fired, result.vanished, result.cancelled) == (None, "take-profit", ())
        assert result.still_protected
        assert result.position is not None
        assert result.position.stop_loss == outcome.stop_loss
        assert [o.stop for o in _live_stops(fake)] == ["loss"]
        assert "protective-order-vanished" in [a.event for a in alerts]

    def test_a_stop_loss_cancelled_by_hand_is_placed_again(self, fake, gateway, protector):
        outcome = self._protected(gateway, protector)
        self._cancel_by_hand(fake, outcome.stop_loss.order_id)
        result = protector.watch(outcome)
        assert (result.fired, result.vanished) == (None, "stop-loss")
        assert isinstance(result.position, Protected)
        live = sorted((o.stop, o.size, o.stop_price) for o in _live_stops(fake))
        amount = outcome.fill.amount
        assert live == [
            ("entry", amount, outcome.take_profit.trigger_price),
            ("loss", amount, outcome.stop_loss.trigger_price),
        ]  # one of each: the old take-profit was replaced, not doubled
        assert protector.watch(result.position).still_protected

    def test_a_stop_loss_gone_while_the_price_is_already_through_it_sells(
        self, fake, gateway, protector
    ):
        """KuCoin cancelled the triggered stop (or the owner did) and the price fell on."""
        outcome = self._protected(gateway, protector)
        self._cancel_by_hand(fake, outcome.stop_loss.order_id)
        fake.set_price(SYMBOL, Decimal("80.00"))
        result = protector.watch(outcome)
        assert result.vanished == "stop-loss"
        assert result.position is None
        assert fake.balance("SOL").total == 0  # flattened, not left bare
        assert _live_stops(fake) == []

    def test_reconcile_protects_a_position_left_bare_by_a_crash(self, fake, gateway, protector):
        """After a crash between fill and protection, reconcile() protects the position."""
        plan, fill = _enter(gateway)
        assert _live_stops(fake) == []
        outcome = protector.reconcile(
            SYMBOL, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
        )
        assert isinstance(outcome, Protected)
        assert {o.size for o in _live_stops(fake)} == {fill.amount}
        assert protector.reconcile(SYMBOL, stop_price=plan.stop_loss_price) is None

    def test_reconcile_without_position_does_nothing(self, fake, protector):
        """No base balance, nothing to protect."""
        assert protector.reconcile(SYMBOL, stop_price=STOP) is None
        assert _live_stops(fake) == []


# -- the fault matrix -----------------------------------------------------------------------

STEPS: dict[str, tuple[str, Callable[[ScriptedGateway], None] | None]] = {
    "entry": ("create_order", None),
    "stop-loss": ("create_stop_order", None),
    "take-profit": ("create_stop_order", None),
    "read-back": ("list_stop_orders", None),
    # a flatten only happens after protection failed, so the stop-loss is made to fail too
    "flatten": (
        "create_order",
        lambda gw: gw.arm(
            "stop-loss", "create_stop_order", Fault.reject("400100", "Parameter Error"), times=3
        ),
    ),
}
FAULTS = {
    "timeout": Fault.TIMEOUT,
    "server-error": Fault.SERVER_ERROR,
    "rate-limit": Fault.RATE_LIMIT,
    "response-lost": Fault.RESPONSE_LOST,
    "rejected": Fault.reject("400100", "Parameter Error"),
}


@pytest.mark.parametrize("times", [1, 3], ids=["once", "persistent"])
@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize("step", list(STEPS))
def test_fault_matrix(step: str, fault_name: str, times: int) -> None:
    """Every fault at every step: never a bare position, never an order sent twice."""
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: "87.36"}) as fake:
        gateway = ScriptedGateway(fake.ccxt_client(), fake)
        kill_switch = KillSwitch()
        counter = itertools.count(1)
        protector = Protector(
            gateway,
            kill_switch=kill_switch,
            sleep=lambda _s: None,
            retry=NO_WAIT,
            new_oid=lambda purpose: f"t-{purpose.value}-{next(counter)}",
        )
        endpoint, setup = STEPS[step]
        if setup is not None:
            setup(gateway)
        gateway.arm(step, endpoint, FAULTS[fault_name], times=times)
        plan = _plan(gateway)
        entry = execute_entry(
            gateway, plan, guard_allows(plan), retry=NO_WAIT, sleep=lambda _s: None
        )
        outcome = None
        if entry.fill is not None:
            outcome = protector.protect(
                entry.fill,
                stop_price=plan.stop_loss_price,
                take_profit_price=plan.take_profit_price,
            )
        elif entry.outcome_unknown:
            outcome = protector.reconcile(
                SYMBOL, stop_price=plan.stop_loss_price, take_profit_price=plan.take_profit_price
            )

        held = fake.balance("SOL").available
        live = _live_stops(fake)
        if isinstance(outcome, Protected):
            assert {o.stop for o in live} == {"loss", "entry"}
            assert all(o.size == held for o in live)
        elif isinstance(outcome, Flattened):
            assert held < Decimal("0.01")
            assert live == []
        elif isinstance(outcome, Halted):
            assert kill_switch.reason is not None
        else:
            assert held == 0, "no outcome but coins are held: an unprotected position"
            assert live == []
        # nothing was ever sent twice: each clientOid produced at most one exchange order
        oids = [o.client_oid for o in fake.stop_orders.values()]
        oids += [o.client_oid for o in fake.orders.values() if o.client_oid not in oids]
        assert len(oids) == len(set(oids))
        # and no retry turned into a second order under a new clientOid
        for purpose in ("t-entry", "t-stop-loss", "t-take-profit", "t-flatten"):
            assert len(_accepted(fake, purpose)) <= 1, purpose
