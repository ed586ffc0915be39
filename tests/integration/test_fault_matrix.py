"""The never-bare fault matrix: every step x every fault x both flows, plus crashes and restarts.

Each case runs one trade of the incident (123 USDT, SOL at 87.36, stop 85.61, take-profit 90.00)
through the real ccxt client against the fake KuCoin, with one fault armed right before one
step, through either the README's entry-and-protection flow or the reference bot. Then the
exchange is judged:

* coins held and no stop-loss covering them are acceptable only with a CRITICAL alert;
* after a restart (a new process: the reference bot starting, or the README's reconcile) and
  one tick, no coins are bare at all;
* never two entries, and never more stop-loss or take-profit than coins held (a leftover stop
  would sell the next position's coins), none at all once flat.

Crash cases stop the process between two steps (an exception out of the gateway, as a kill -9
would leave it) and restart at three prices: unchanged, up, and already below the plan's stop.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

import safetrade as st
from safetrade.alerts import Alert
from safetrade.builder import OrderIntent
from safetrade.config import load_settings
from safetrade.gateway import Gateway, OrderStatus
from safetrade.reference_bot import ReferenceBot
from safetrade.reference_bot.bot import BOT_PACKAGE
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin, Fault, FillPolicy

SYMBOL = "SOL/USDT"
STOP, TARGET = Decimal("85.61"), Decimal("90.00")
RETRY = RetryPolicy(attempts=3, backoff=(0.0,))
PERSISTENT = 20
DUST = Decimal("0.01")  # SOL-USDT's smallest order
CASES: list[str] = []


class Crash(BaseException):
    """The process dies here (BaseException: no ``except Exception`` in the bot catches it)."""


@attrs.define
class Arm:
    """One fault, armed right before ``step`` (an order purpose, ``read-back`` or ``read``)."""

    step: str
    fault: str
    times: int


class Scripted(Gateway):
    """The real gateway with a hook before each step: inject a fault, or crash."""

    def __init__(self, fake: FakeKucoin, arm: Arm | None, crash_after: str | None) -> None:
        super().__init__(fake.ccxt_client())
        self.fake, self.arm, self.crash_after = fake, arm, crash_after

    def _before(self, step: str) -> None:
        arm = self.arm
        if arm is None or arm.step != step:
            return
        self.arm = None
        fake, times = self.fake, arm.times
        endpoint = "list_stop_orders" if step == "read-back" else "create_order"
        if step in ("stop-loss", "take-profit"):
            endpoint = "create_stop_order"
        if arm.fault == "partial":
            fake._engine.fill_policy = FillPolicy.partial("0.5")
        elif arm.fault == "lost-lookup-rejected":
            # the order is accepted, its answer lost, then the clientOid look-up is refused:
            # that says nothing about the order sent (read as a refusal, it was sent again
            # under a new clientOid, or its coins were left bare)
            fake.inject(endpoint, Fault.RESPONSE_LOST)
            stop = step in ("stop-loss", "take-profit")
            reads = ("list_stop_orders",) if stop else ("fetch_order_by_client_oid", "list_orders")
            for read in reads:
                fake.inject(read, Fault.reject("400100", "Parameter Error"), times=times)
        elif arm.fault == "vanished":
            # the order is accepted, then the exchange cannot find it (KuCoin's read race)
            read = "fetch_order" if step in {"entry", "flatten"} else "list_stop_orders"
            fake.inject(read, Fault.reject("400100", "order not exist."), times=times)
        else:
            fault = {
                "timeout": Fault.TIMEOUT,
                "5xx": Fault.SERVER_ERROR,
                "429": Fault.RATE_LIMIT,
                "lost": Fault.RESPONSE_LOST,
                "rejected": Fault.reject("400100", "Parameter Error"),
            }[arm.fault]
            fake.inject(endpoint, fault, times=times)

    def submit_unguarded(self, intent: OrderIntent) -> OrderStatus:
        step = intent.purpose.value
        self._before(step)
        status = super().submit_unguarded(intent)
        if self.crash_after == step:
            raise Crash(step)
        return status

    def open_stop_orders(self, symbol: str) -> list[OrderStatus]:
        self._before("read-back")
        orders = super().open_stop_orders(symbol)
        if self.crash_after == "read-back":
            raise Crash("read-back")
        return orders


def _settings(tmp_path: Path) -> st.Settings:
    return load_settings(
        env={
            "TRADING_MODE": "paper",
            "RISK_PERCENT": "1",
            "MAX_OPEN_POSITIONS": "1",
            "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "kill-switch.json"),
        }
    )


Alerting = Callable[[Alert], None]


def _readme_flow(
    gateway: Gateway, kill_switch: st.KillSwitch, alert: Callable[[Alert], None]
) -> None:
    """The README's 'Entering and protecting a position' block, with injected waits."""
    market = gateway.load_market(SYMBOL)
    free, last = gateway.free_balance("USDT"), gateway.last_price(SYMBOL)
    plan = st.plan_trade(
        market, side=st.PositionSide.LONG, free_balance=free, entry_price=last,
        stop_price=STOP, take_profit_price=TARGET, risk_percent=Decimal(1),
        client_oid=st.new_client_oid(st.OrderPurpose.ENTRY),
    )  # fmt: skip
    account = st.AccountState(
        free_quote=free, configured_balance=None, last_price=last,
        kill_switch_reason=kill_switch.reason, open_positions=0, open_position_value=Decimal(0),
    )  # fmt: skip
    decision = st.check(
        plan, account, st.GuardLimits(risk_percent=Decimal(1), max_open_positions=1)
    )
    entry = st.execute_entry(gateway, plan, decision, retry=RETRY, sleep=lambda _s: None)
    protector = st.Protector(
        gateway, kill_switch=kill_switch, alert=alert, retry=RETRY, sleep=lambda _s: None
    )
    if entry.fill is not None:
        protector.protect(entry.fill, stop_price=plan.stop_loss_price, take_profit_price=TARGET)
    elif entry.outcome_unknown:
        protector.reconcile(SYMBOL, stop_price=plan.stop_loss_price, take_profit_price=TARGET)


def _readme_restart(
    gateway: Gateway, kill_switch: st.KillSwitch, alert: Callable[[Alert], None]
) -> None:
    """The README's restart step: reconcile with the plan's levels (a new process)."""
    protector = st.Protector(
        gateway, kill_switch=kill_switch, alert=alert, retry=RETRY, sleep=lambda _s: None
    )
    protector.reconcile(SYMBOL, stop_price=STOP, take_profit_price=TARGET)


def _bot(settings: st.Settings, gateway: Gateway, alert: Alerting) -> ReferenceBot:
    counter = itertools.count(1)
    return ReferenceBot.start(
        settings,
        lambda: gateway,
        symbol=SYMBOL,
        bot_package=BOT_PACKAGE,
        alert=alert,
        sleep=lambda _s: None,
        retry=RETRY,
        new_oid=lambda purpose: f"m-{purpose.value}-{next(counter)}",
    )


def _judge(fake: FakeKucoin) -> tuple[Decimal, Decimal, Decimal]:
    held = fake.balance("SOL").total
    live = [s for s in fake.stop_orders.values() if s.status == "NEW" and s.side == "sell"]
    zero = Decimal(0)
    loss = sum((s.size or zero for s in live if s.stop == "loss"), zero)
    target = sum((s.size or zero for s in live if s.stop == "entry"), zero)
    return held, loss, target


def _entries(fake: FakeKucoin) -> int:
    return len({o.client_oid for o in fake.orders.values() if o.side == "buy"})


def _assert_clean(fake: FakeKucoin, when: str) -> None:
    held, loss, target = _judge(fake)
    assert _entries(fake) <= 1, f"{when}: two entries"
    assert loss <= held + DUST, f"{when}: {loss} SOL of stop-loss on {held} SOL (duplicate)"
    assert target <= held + DUST, f"{when}: {target} SOL of take-profit on {held} SOL (orphan)"


FLOWS = ("readme", "reference-bot")
LOST_THEN = "lost-lookup-rejected"
FAULT_STEPS = {
    "entry": ("timeout", "5xx", "429", "lost", "rejected", "partial", "vanished", LOST_THEN),
    "stop-loss": ("timeout", "5xx", "429", "lost", "rejected", "vanished", LOST_THEN),
    "take-profit": ("timeout", "5xx", "429", "lost", "rejected", "vanished", LOST_THEN),
    "read-back": ("timeout", "5xx", "429", "rejected", "vanished"),
    "flatten": ("timeout", "5xx", "429", "lost", "rejected", "partial", "vanished", LOST_THEN),
}
FAULT_CASES = [
    (flow, step, fault, times, "classic")
    for flow in FLOWS
    for step, faults in FAULT_STEPS.items()
    for fault in faults
    for times in (1, PERSISTENT)
] + [
    # KuCoin's clientOid lookup differs by account type (classic sees active orders only), so
    # the outcome-unknown faults on regular orders run on an HF account too
    (flow, step, fault, times, "hf")
    for flow in FLOWS
    for step in ("entry", "flatten")
    for fault in ("timeout", "lost", "vanished", LOST_THEN)
    for times in (1, PERSISTENT)
]
CRASH_CASES = [
    (flow, after, price)
    for flow in FLOWS
    for after in ("entry", "stop-loss", "take-profit", "read-back")
    for price in (Decimal("87.36"), Decimal("90.00"), Decimal("85.61"), Decimal("80.00"))
]


def _run(flow: str, gateway: Gateway, settings: st.Settings, alerts: list[Alert]) -> None:
    if flow == "readme":
        _readme_flow(gateway, st.KillSwitch(settings.kill_switch_file), alerts.append)
    else:
        bot = _bot(settings, gateway, alerts.append)
        bot.trade(stop_price=STOP, take_profit_price=TARGET, signal_strength=Decimal("0.5"))
        bot.tick()


def _restart(flow: str, fake: FakeKucoin, settings: st.Settings, alerts: list[Alert]) -> None:
    fake.clear_faults()
    fake._engine.fill_policy = FillPolicy()
    gateway = Gateway(fake.ccxt_client())
    if flow == "readme":
        _readme_restart(gateway, st.KillSwitch(settings.kill_switch_file), alerts.append)
    else:
        _bot(settings, gateway, alerts.append).tick()


@pytest.mark.parametrize(("flow", "step", "fault", "times", "account"), FAULT_CASES)
def test_a_fault_at_any_step_never_leaves_a_position_bare_and_silent(
    tmp_path: Path, *, flow: str, step: str, fault: str, times: int, account: str
) -> None:
    CASES.append(f"{flow}/{step}/{fault}/{times}/{account}")
    settings = _settings(tmp_path)
    alerts: list[Alert] = []
    hf = account == "hf"
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: "87.36"}, hf=hf) as fake:
        arm = Arm(step, fault, times)
        if step == "flatten":
            # a flatten only happens when protection failed: every stop-loss is refused
            fake.inject("create_stop_order", Fault.reject("400100", "Parameter Error"), 50)
        _run(flow, Scripted(fake, arm, None), settings, alerts)
        held, loss, _target = _judge(fake)
        if held >= DUST and loss < held - DUST:
            critical = [a for a in alerts if a.level == "critical"]
            assert critical, f"{held} SOL bare with no critical alert: {[a.event for a in alerts]}"
        _assert_clean(fake, "after the fault")
        _restart(flow, fake, settings, alerts)
        held, loss, _target = _judge(fake)
        assert held < DUST or loss >= held - DUST, f"{held} SOL still bare after restart + tick"
        _assert_clean(fake, "after the restart")


@pytest.mark.parametrize(("flow", "after", "price"), CRASH_CASES)
def test_a_crash_between_steps_is_protected_at_the_restart(
    tmp_path: Path, flow: str, after: str, price: Decimal
) -> None:
    CASES.append(f"{flow}/crash-after-{after}/{price}")
    settings = _settings(tmp_path)
    alerts: list[Alert] = []
    with FakeKucoin(balances={"USDT": "123"}, prices={SYMBOL: "87.36"}) as fake:
        with pytest.raises(Crash):
            _run(flow, Scripted(fake, None, after), settings, alerts)
        fake.set_price(SYMBOL, price)
        _restart(flow, fake, settings, alerts)
        held, loss, _target = _judge(fake)
        assert held < DUST or loss >= held - DUST, f"{held} SOL bare after restart + tick"
        _assert_clean(fake, "after the restart")


def test_print_how_many_cases_the_matrix_ran() -> None:
    print(f"never-bare fault matrix: {len(CASES)} cases")  # noqa: T201
    assert len(FAULT_CASES) + len(CRASH_CASES) >= 200
