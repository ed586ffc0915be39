"""execute_entry against the fake KuCoin with the real ccxt client: retries, lost responses,
rejections, partial fills and resting entries. Never two orders for one entry.

Waits go through an injected sleeper; some tests use it as the clock of the scenario (the
market moves, or a fault is armed, "while the bot waits").
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs
import pytest

from safetrade import (
    AccountState,
    DecisionMismatch,
    GuardLimits,
    GuardRefused,
    PositionSide,
    SafetradeError,
    check,
    plan_trade,
)
from safetrade.entry import execute_entry
from safetrade.errors import OrderBuildError
from safetrade.gateway import Gateway
from safetrade.plan import TradePlan
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin, Fault, FillPolicy
from tests.decisions import guard_allows

SYMBOL = "SOL/USDT"
OID = "entry-1"
RETRY = RetryPolicy(attempts=3, backoff=(0.5, 1.0))


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeKucoin]:
    # classic unless a test asks for both account types (BOTH_ACCOUNTS)
    hf = getattr(request, "param", "classic") == "hf"
    with FakeKucoin(balances={"USDT": "1000"}, prices={SYMBOL: "100"}, hf=hf) as ex:
        yield ex


# KuCoin's clientOid lookup differs by account type (classic: active orders only), so every
# lost-response recovery is proven on both
BOTH_ACCOUNTS = pytest.mark.parametrize("fake", ["classic", "hf"], indirect=True)


@pytest.fixture
def gateway(fake: FakeKucoin) -> Gateway:
    return Gateway(fake.ccxt_client())


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _plan(gateway: Gateway) -> TradePlan:
    return plan_trade(
        gateway.load_market(SYMBOL),
        side=PositionSide.LONG,
        free_balance=gateway.free_balance("USDT"),
        entry_price=Decimal(100),
        stop_price=Decimal(95),
        take_profit_price=Decimal(110),
        risk_percent=Decimal(1),
        client_oid=OID,
    )


def _limit(plan: TradePlan, price: str) -> TradePlan:
    """The same plan with a resting limit entry below the market."""
    entry = attrs.evolve(plan.entry, order_type="limit", limit_price=Decimal(price))
    return attrs.evolve(plan, entry=entry)


def _entries(fake: FakeKucoin) -> list[str]:
    return [o.id for o in fake.orders.values() if o.client_oid == OID]


def _account(gateway: Gateway, **overrides: object) -> AccountState:
    state: dict[str, object] = {
        "free_quote": gateway.free_balance("USDT"),
        "configured_balance": None,
        "open_positions": 0,
        "last_price": gateway.last_price(SYMBOL),
        "kill_switch_reason": None,
        "open_position_value": Decimal(0),
    }
    return AccountState(**{**state, **overrides})  # type: ignore[arg-type]


LIMITS = GuardLimits(risk_percent=Decimal(1), max_open_positions=1)


class TestOnlyWhatTheGuardAllowed:
    """execute_entry sends nothing unless the guard's decision allows this very plan."""

    def test_an_allowed_decision_sends_the_entry(self, fake, gateway, sleeps):
        plan = _plan(gateway)
        decision = check(plan, _account(gateway), LIMITS)
        assert decision.allowed
        result = execute_entry(gateway, plan, decision, retry=RETRY, sleep=sleeps.append)
        assert result.fill is not None
        assert [r.endpoint for r in fake.requests].count("create_order") == 1
        assert len(_entries(fake)) == 1

    def test_a_refused_decision_raises_every_reason_and_sends_nothing(self, fake, gateway, sleeps):
        plan = _plan(gateway)
        account = _account(gateway, kill_switch_reason="halted by a human", open_positions=1)
        decision = check(plan, account, LIMITS)
        fake.forget_requests()
        with pytest.raises(GuardRefused) as refused:
            execute_entry(gateway, plan, decision, retry=RETRY, sleep=sleeps.append)
        assert refused.value.reasons == decision.reasons
        assert {r.split(":")[0] for r in refused.value.reasons} == {
            "kill-switch",
            "max-open-positions",
        }
        assert "halted by a human" in str(refused.value)
        assert fake.requests == ()  # not even a read: the exchange never heard of it
        assert fake.orders == {}
        assert sleeps == []

    def test_a_decision_for_another_plan_sends_nothing(self, fake, gateway, sleeps):
        allowed_plan = _plan(gateway)
        decision = check(allowed_plan, _account(gateway), LIMITS)
        assert decision.allowed
        other = attrs.evolve(allowed_plan, entry=attrs.evolve(allowed_plan.entry, client_oid="e-2"))
        fake.forget_requests()
        with pytest.raises(DecisionMismatch) as mismatch:
            execute_entry(gateway, other, decision, retry=RETRY, sleep=sleeps.append)
        error = mismatch.value
        assert isinstance(error, SafetradeError)
        assert "made for entry entry-1, not for entry e-2" in error.what
        assert "nothing was sent" in error.why
        assert "safetrade.check" in error.fix
        assert fake.requests == ()
        assert fake.orders == {}

    def test_a_plan_changed_after_the_decision_sends_nothing(self, fake, gateway, sleeps):
        """Same clientOid, bigger amount: the guard never saw this order."""
        plan = _plan(gateway)
        decision = check(plan, _account(gateway), LIMITS)
        amount = plan.entry.amount * 7  # a whole plan, consistent in itself, that nobody checked
        bigger = attrs.evolve(
            plan,
            size=attrs.evolve(plan.size, amount=amount),
            entry=attrs.evolve(plan.entry, amount=amount),
        )
        fake.forget_requests()
        with pytest.raises(DecisionMismatch, match="changed after the guard's decision"):
            execute_entry(gateway, bigger, decision, retry=RETRY, sleep=sleeps.append)
        assert fake.requests == ()

    def test_a_plan_whose_entry_or_stop_no_longer_matches_its_size_cannot_exist(self, gateway):
        """The guard judges plan.size; an entry or stop changed after sizing is refused."""
        plan = _plan(gateway)
        with pytest.raises(OrderBuildError, match=r"sends 3\.198.* was sized and checked"):
            attrs.evolve(plan, entry=attrs.evolve(plan.entry, amount=Decimal("3.198")))
        with pytest.raises(OrderBuildError, match=r"size was computed for a stop at 95\.00"):
            attrs.evolve(plan, stop_loss_price=Decimal("80.00"))

    @pytest.mark.parametrize("not_a_decision", [None, True], ids=repr)
    def test_something_else_in_place_of_a_decision_sends_nothing(
        self, fake, gateway, sleeps, not_a_decision
    ):
        plan = _plan(gateway)
        fake.forget_requests()
        with pytest.raises(DecisionMismatch, match="needs the guard's Decision"):
            execute_entry(gateway, plan, not_a_decision, retry=RETRY, sleep=sleeps.append)
        assert fake.requests == ()


def test_market_entry_fills_first_time(fake, gateway, sleeps):
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None
    assert result.fill.amount == plan.entry.amount
    assert result.fill.average_price == Decimal(100)
    assert result.error is None
    assert not result.outcome_unknown
    assert sleeps == []
    assert len(_entries(fake)) == 1


def test_partial_fill_is_the_position_to_protect(sleeps):
    """The incident: KuCoin filled 1.417 of 4.5 SOL; the rest was cancelled, not left resting."""
    with FakeKucoin(
        balances={"USDT": "1000"}, prices={SYMBOL: "100"}, fill_policy=FillPolicy.partial("0.25")
    ) as partial:
        gateway = Gateway(partial.ccxt_client())
        plan = _plan(gateway)
        result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None
    assert Decimal(0) < result.fill.amount < plan.entry.amount
    assert result.fill.amount == partial.balance("SOL").available
    assert result.order is not None
    assert result.order.status == "canceled"


@BOTH_ACCOUNTS
def test_timeout_before_the_exchange_saw_it_is_resent_once(fake, gateway, sleeps):
    fake.inject("create_order", Fault.TIMEOUT)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None
    assert not result.outcome_unknown
    assert sleeps == [0.5]
    # the retry looked the clientOid up first, found nothing, then sent it
    sends = [c for c in fake.endpoints_called() if c.startswith(("create", "fetch_order_by"))]
    assert sends == ["create_order", "fetch_order_by_client_oid", "create_order"]
    assert len(_entries(fake)) == 1


@BOTH_ACCOUNTS
def test_lost_response_is_found_by_client_oid_not_sent_twice(fake, gateway, sleeps):
    fake.inject("create_order", Fault.RESPONSE_LOST)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None
    assert result.fill.amount == plan.entry.amount
    assert fake.endpoints_called().count("create_order") == 1
    assert len(_entries(fake)) == 1
    assert fake.balance("SOL").available == plan.entry.amount


def test_exchange_that_never_answers_leaves_the_outcome_unknown(fake, gateway, sleeps):
    fake.inject("create_order", Fault.SERVER_ERROR, times=3)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.order is None
    assert result.outcome_unknown  # the bot must reconcile before trading on
    assert "outcome unknown" in (result.error or "")
    assert sleeps == [0.5, 1.0]
    assert _entries(fake) == []


@BOTH_ACCOUNTS
def test_lost_responses_on_every_attempt_still_never_duplicate(fake, gateway, sleeps):
    fake.inject("create_order", Fault.RESPONSE_LOST)
    fake.inject("fetch_order_by_client_oid", Fault.TIMEOUT, times=2)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    # the order exists and filled; no attempt confirmed it, so once the look-ups answer again
    # the entry is found by its clientOid and its real fill is returned to be protected
    assert result.fill is not None
    assert result.fill.amount == fake.balance("SOL").available > 0
    assert not result.outcome_unknown
    assert len(_entries(fake)) == 1
    assert fake.endpoints_called().count("create_order") == 1


# (endpoint, fault): one error from the clientOid lookup after a lost answer; each was
# read as a refusal of the entry, leaving the filled coins bare with no reconcile
LOOKUP_ERRORS = [
    ("list_orders", Fault.reject("400100", "order not exist.")),
    ("list_orders", Fault.reject("400100", "Parameter Error")),
    ("fetch_order_by_client_oid", Fault.reject("400100", "Parameter Error")),
]


@BOTH_ACCOUNTS
@pytest.mark.parametrize(("endpoint", "fault"), LOOKUP_ERRORS)
def test_a_failed_lookup_after_a_lost_answer_is_never_read_as_a_refusal(
    fake, gateway, sleeps, endpoint, fault
):
    fake.inject("create_order", Fault.RESPONSE_LOST, times=1)
    fake.inject(endpoint, fault, times=1)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    held = fake.balance("SOL").available
    assert held == plan.entry.amount  # KuCoin filled the entry whose answer was lost
    # the coins are the position to protect, or the bot is told to reconcile: never "refused"
    assert result.fill is not None or result.outcome_unknown, result
    if result.fill is not None:
        assert result.fill.amount == held
    assert len(_entries(fake)) == 1  # and it was never sent twice


@BOTH_ACCOUNTS
def test_an_entry_refused_after_a_timeout_is_a_refusal_not_an_unknown_outcome(
    fake, gateway, sleeps
):
    """The first send never reached KuCoin, the look-up found nothing, the re-send was refused:
    the exchange answered, so the outcome is known (it was reported unknown, and sent thrice)."""
    fake.inject("create_order", Fault.TIMEOUT, times=1)
    fake.inject("create_order", Fault.reject("200004", "Balance insufficient!"), times=10)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert not result.outcome_unknown
    assert "Balance insufficient!" in (result.error or "")
    assert fake.endpoints_called().count("create_order") == 2
    assert _entries(fake) == []


@BOTH_ACCOUNTS
def test_a_resend_refused_as_a_known_clientoid_is_still_an_unknown_outcome(fake, gateway, sleeps):
    """KuCoin refusing the clientOid as one it knows means the first attempt is there."""
    fake.inject("create_order", Fault.TIMEOUT, times=1)
    duplicate = (
        Fault.reject("126044", "clientOid duplicate")
        if fake.hf
        else Fault.reject("400100", "validation.createOrder.clientOidDuplicated")
    )
    fake.inject("create_order", duplicate, times=10)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.outcome_unknown  # the bot must reconcile: it may hold the coins


def test_rejection_is_returned_at_once_with_the_exchange_message(fake, gateway, sleeps):
    fake.inject("create_order", Fault.reject("200004", "Balance insufficient!"))
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert not result.outcome_unknown
    assert "Balance insufficient!" in (result.error or "")
    assert sleeps == []  # a refusal is not retried
    assert _entries(fake) == []


def test_fill_read_that_times_out_reuses_the_order(fake, gateway, sleeps):
    fake.inject("fetch_order", Fault.TIMEOUT)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None
    assert result.fill.amount == plan.entry.amount
    calls = fake.endpoints_called()
    assert calls.count("create_order") == 1
    assert "fetch_order_by_client_oid" not in calls  # the order id was already known
    assert calls.count("fetch_order") == 2


def test_market_entry_that_fills_nothing_is_reported_unfilled(sleeps):
    with FakeKucoin(
        balances={"USDT": "1000"}, prices={SYMBOL: "100"}, fill_policy=FillPolicy.partial(0)
    ) as nothing:
        gateway = Gateway(nothing.ccxt_client())
        plan = _plan(gateway)
        result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.error == "entry canceled unfilled"
    assert not result.outcome_unknown
    assert sleeps == []


def test_resting_entry_is_cancelled_when_it_never_fills(fake, gateway, sleeps):
    plan = _limit(_plan(gateway), "99")
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.error is not None
    assert "not filled yet (open); cancelled unfilled" in result.error
    assert result.order is not None
    assert result.order.status == "canceled"
    assert not result.outcome_unknown
    (order,) = fake.orders.values()
    assert not order.is_active  # nothing left resting to fill later, unprotected
    assert fake.balance("USDT").holds == 0
    assert sleeps == [0.5, 1.0]


def test_resting_entry_that_fills_while_waiting_is_the_fill(fake, gateway):
    plan = _limit(_plan(gateway), "99")

    def market_drops(_seconds: float) -> None:
        fake.set_price(SYMBOL, Decimal("98.5"))

    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=market_drops)
    assert result.fill is not None
    assert result.fill.amount == plan.entry.amount
    assert result.fill.average_price == Decimal(99)
    assert "cancel_order" not in fake.endpoints_called()


def test_entry_that_fills_just_before_the_cancel_is_still_returned(fake, gateway):
    plan = _limit(_plan(gateway), "99")
    waits = 0

    def fill_during_last_wait(_seconds: float) -> None:
        nonlocal waits
        waits += 1
        if waits == 2:  # the last look fails, and meanwhile the order fills
            fake.set_price(SYMBOL, Decimal("98.5"))
            fake.inject("fetch_order", Fault.TIMEOUT)

    result = execute_entry(
        gateway, plan, guard_allows(plan), retry=RETRY, sleep=fill_during_last_wait
    )
    # the cancel finds nothing to cancel; the re-read shows the fill, which must be protected
    assert result.fill is not None
    assert result.fill.amount == plan.entry.amount
    assert "cancel_order" in fake.endpoints_called()


def test_entry_whose_cancel_fails_is_outcome_unknown(fake, gateway, sleeps):
    plan = _limit(_plan(gateway), "99")
    fake.inject("cancel_order", Fault.TIMEOUT)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.outcome_unknown  # it may still be resting and fill later
    assert result.order is not None
    assert "not filled yet (open)" in (result.error or "")
    assert "cancelling order" in (result.error or "")


@pytest.mark.parametrize(
    "read_error",
    [
        Fault.reject("400100", "order not exist."),  # KuCoin's race right after create
        Fault.reject("400007", "Access denied, require more permission."),
        Fault.reject("900001", "system busy"),
        Fault.reject("411100", "User is frozen"),
    ],
    ids=lambda f: f.code,
)
def test_an_accepted_entry_that_cannot_be_read_is_resolved_from_its_fills(
    fake, gateway, sleeps, read_error
):
    """A non-transient error reading an accepted entry used to mean 'nothing filled': bare."""
    fake.inject("fetch_order", read_error, times=10)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is not None, result
    assert result.fill.amount == fake.balance("SOL").available == plan.entry.amount
    assert result.fill.average_price == Decimal(100)
    assert len(_entries(fake)) == 1


def test_an_entry_whose_order_and_fills_cannot_be_read_is_an_unknown_outcome(fake, gateway, sleeps):
    fake.inject("fetch_order", Fault.reject("900001", "system busy"), times=10)
    fake.inject("fills", Fault.reject("900001", "system busy"), times=10)
    plan = _plan(gateway)
    result = execute_entry(gateway, plan, guard_allows(plan), retry=RETRY, sleep=sleeps.append)
    assert result.fill is None
    assert result.outcome_unknown  # never "nothing filled": the bot must reconcile and protect
    assert fake.balance("SOL").available > 0
