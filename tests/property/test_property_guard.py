"""Properties of safetrade.guard: every failing control is reported, allowed iff no reasons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from safetrade import (
    AccountState,
    GuardLimits,
    GuardRefused,
    InvalidValue,
    OrderBuildError,
    PositionSide,
    SafetradeError,
    SizingError,
    check,
    plan_trade,
)
from safetrade.plan import TradePlan
from tests.property.support import NON_FINITE, SIDES, junk, not_nonnegative, not_positive
from tests.strategies import decimals, sol_usdt

CONTROLS = (
    "kill-switch",
    "balance-mismatch",
    "balance-check",
    "risk-limit",
    "max-open-positions",
    "signal-threshold",
    "price-collar",
    "max-order-value",
    "order-validity",
)
MARKET = sol_usdt()
D = Decimal


def _incident_plan() -> TradePlan:
    """The Feb 6 trade sized from the real $123: 0.6396 SOL, value 55.875456, risk 1.2299."""
    return plan_trade(
        MARKET,
        side=PositionSide.LONG,
        free_balance=D(123),
        entry_price=D("87.36"),
        stop_price=D("85.61"),
        take_profit_price=D("90.1353"),
        risk_percent=D(1),
        client_oid="incident",
    )


INCIDENT_PLAN = _incident_plan()


def incident_plan(signal: object) -> TradePlan:
    """The incident plan with a given signal strength (plans are immutable values)."""
    return attrs.evolve(INCIDENT_PLAN, signal_strength=signal)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[frozenset[str], TradePlan, AccountState, GuardLimits]:
    """A passing incident trade, broken in exactly the chosen controls (with random severity).

    Each break is chosen so it trips its own control and no other, whatever else is broken.
    """
    failing = frozenset(draw(st.sets(st.sampled_from(CONTROLS))))
    signal = draw(decimals("0.5", "1", places=3))
    plan = incident_plan(signal)
    account: dict[str, Any] = {
        "free_quote": D(123),
        "configured_balance": None,
        "last_price": draw(decimals("85", "89", places=2)),  # within 5 % of 87.36
        "open_positions": 0,
        "kill_switch_reason": None,
        "open_position_value": D(0),
    }
    limits: dict[str, Any] = {
        "risk_percent": draw(decimals("4", "100", places=2)),  # risk 1.2299 of >= $40 is ok
        "max_open_positions": draw(st.integers(1, 5)),
        "min_signal_strength": draw(st.none() | decimals("0", "0.5", places=3)),
        "max_order_value": draw(st.none() | decimals("60", "1e6", places=2)),
    }
    if "kill-switch" in failing:
        account["kill_switch_reason"] = draw(st.text(max_size=20))
    if "balance-mismatch" in failing:
        # configured far above the exchange: only the mismatch control reads it that way
        account["configured_balance"] = draw(decimals("200", "1e6", places=2))
    elif draw(st.booleans()):
        account["configured_balance"] = D(123)  # agrees with the exchange
    if "balance-check" in failing:
        account["free_quote"] = draw(decimals("40", "55.9", places=2))  # order costs 55.93
        if "balance-mismatch" not in failing:
            # a configured balance would be >2 % off the lowered free balance
            account["configured_balance"] = None
    if "risk-limit" in failing:
        limits["risk_percent"] = draw(decimals("0.01", "0.9", places=2))
    if "max-open-positions" in failing:
        account["open_positions"] = limits["max_open_positions"] + draw(st.integers(0, 3))
    else:
        account["open_positions"] = draw(st.integers(0, limits["max_open_positions"] - 1))
    if "signal-threshold" in failing:
        limits["min_signal_strength"] = signal + draw(decimals("0.001", "10", places=3))
    if "price-collar" in failing:
        account["last_price"] = draw(
            st.one_of(
                decimals("0.01", "82.9", places=2),
                decimals("92", "1e6", places=2),
                st.sampled_from([None, D(0), D(-1), D("NaN"), D("Infinity")]),
            )
        )
    if "max-order-value" in failing:
        limits["max_order_value"] = draw(decimals("0.01", "55.87", places=2))
    if "order-validity" in failing:
        plan = attrs.evolve(  # off the 0.01 tick, sized for that same stop
            plan,
            stop_loss_price=D("85.605"),
            size=attrs.evolve(plan.size, stop_price=D("85.605")),
        )
    return failing, plan, AccountState(**account), GuardLimits(**limits)


@given(scenarios())
def test_every_failing_control_is_reported_and_only_those(case):
    """And raise_if_refused carries every one of those reasons."""
    failing, plan, account, limits = case
    decision = check(plan, account, limits)
    assert set(decision.failed_controls) == failing
    assert [c.control for c in decision.checks] == list(CONTROLS)  # all ran, in order
    assert decision.allowed == (not failing)
    assert decision.allowed == (decision.reasons == ())
    assert len(decision.reasons) == len(failing)
    for reason, control in zip(decision.reasons, decision.failed_controls, strict=True):
        assert reason.startswith(f"{control}: ")
        assert reason != f"{control}: ok"
    if decision.allowed:
        decision.raise_if_refused()  # no exception
        return
    with pytest.raises(GuardRefused) as info:
        decision.raise_if_refused()
    assert info.value.reasons == decision.reasons
    for control in failing:
        assert control in str(info.value)


@st.composite
def random_trades(draw: st.DrawFn) -> tuple[TradePlan, AccountState, GuardLimits]:
    side = draw(SIDES)
    entry = draw(decimals("10", "500", places=2))
    gap = draw(decimals("0.005", "0.2", places=3)) * entry
    stop = entry - gap if side is PositionSide.LONG else entry + gap
    try:
        plan = plan_trade(
            MARKET,
            side=side,
            free_balance=draw(decimals("1", "1e5", places=2)),
            entry_price=entry,
            stop_price=stop,
            risk_percent=draw(decimals("0.1", "10", places=2)),
            client_oid="t",
            signal_strength=draw(st.none() | decimals("-1", "1", places=2)),
        )
    except (SizingError, OrderBuildError):
        plan = incident_plan(D("0.7"))
    account = AccountState(
        free_quote=draw(decimals("0", "1e5", places=2)),
        configured_balance=draw(st.none() | decimals("0", "1e5", places=2)),
        open_positions=draw(st.integers(0, 5)),
        last_price=draw(st.none() | decimals("-1", "1000", places=2) | NON_FINITE),
        kill_switch_reason=draw(st.none() | st.text(max_size=10)),
        open_position_value=draw(decimals("0", "1e4", places=2)),
    )
    limits = GuardLimits(
        risk_percent=draw(decimals("0.1", "100", places=2)),
        max_open_positions=draw(st.integers(1, 5)),
        min_signal_strength=draw(st.none() | decimals("0", "1", places=2)),
        price_collar_percent=draw(decimals("0.1", "50", places=1)),
        max_order_value=draw(st.none() | decimals("1", "1e5", places=2)),
        balance_tolerance_percent=draw(decimals("0", "10", places=1)),
    )
    return plan, account, limits


@given(random_trades())
def test_decision_agrees_with_the_balance_risk_and_collar_arithmetic(case):
    plan, account, limits = case
    decision = check(plan, account, limits)  # never raises, whatever the state
    failed = set(decision.failed_controls)
    assert decision.allowed == (not failed) == (not decision.reasons)
    cost = plan.size.notional * (1 + plan.market.taker_fee)
    over_balance = cost > account.free_quote or (
        account.configured_balance is not None and cost > account.configured_balance
    )
    # a short sells coins a spot account must hold: refused whatever the quote arithmetic says
    over_balance = over_balance or plan.side is PositionSide.SHORT
    assert ("balance-check" in failed) == over_balance
    spendable = account.free_quote
    if account.configured_balance is not None:
        spendable = min(spendable, account.configured_balance)
    assert ("risk-limit" in failed) == (
        plan.size.risk_amount > spendable * limits.risk_percent / 100
    )
    assert ("kill-switch" in failed) == (account.kill_switch_reason is not None)
    last = account.last_price
    if last is None or not last.is_finite() or last <= 0:
        assert "price-collar" in failed  # fail closed without a usable reference price
    if decision.allowed:
        assert cost <= account.free_quote
        assert plan.size.risk_amount <= spendable * limits.risk_percent / 100
        assert account.open_positions < limits.max_open_positions


ACCOUNT = {
    "free_quote": D(123),
    "configured_balance": None,
    "open_positions": 0,
    "kill_switch_reason": None,
    "open_position_value": D(0),
}
LIMITS = {"risk_percent": D(1), "max_open_positions": 1}


@given(
    st.sampled_from(["free_quote", "configured_balance", "open_position_value"]),
    not_nonnegative(allow_none=False),
)
def test_account_state_refuses_junk_balances(field, value):
    with pytest.raises(InvalidValue):
        AccountState(**{**ACCOUNT, field: value})


@given(st.sampled_from(["free_quote", "open_position_value"]))
def test_account_state_refuses_a_missing_balance(field):
    with pytest.raises(InvalidValue):
        AccountState(**{**ACCOUNT, field: None})


def _not_a_count(minimum: int) -> st.SearchStrategy[object]:
    """Anything but an int >= minimum (huge ints are valid counts; bools are not)."""

    def keep(value: object) -> bool:
        is_count = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
        return value is not None and not is_count

    return st.one_of(junk(), st.integers(max_value=minimum - 1)).filter(keep)


@given(_not_a_count(0))
def test_account_state_refuses_junk_position_counts(value):
    with pytest.raises(InvalidValue, match="whole number"):
        AccountState(**{**ACCOUNT, "open_positions": value})


@given(st.one_of(st.floats(), st.booleans(), st.text(), st.sampled_from([[], {}, 1j])))
def test_account_state_refuses_a_non_decimal_last_price(value):
    with pytest.raises(InvalidValue):
        AccountState(**ACCOUNT, last_price=value)


@given(
    st.sampled_from(["risk_percent", "price_collar_percent", "max_order_value"]),
    not_positive(allow_none=False),
)
def test_guard_limits_refuse_junk_zero_and_negatives(field, value):
    with pytest.raises(InvalidValue):
        GuardLimits(**{**LIMITS, field: value})


@given(not_nonnegative(allow_none=False))
def test_guard_limits_refuse_a_junk_tolerance(value):
    with pytest.raises(InvalidValue):
        GuardLimits(**LIMITS, balance_tolerance_percent=value)


@given(not_nonnegative(allow_none=False))
def test_guard_limits_refuse_a_junk_or_negative_signal_threshold(value):
    """MIN_SIGNAL_STRENGTH must be zero or more in config; GuardLimits accepted -1."""
    with pytest.raises(InvalidValue):
        GuardLimits(**LIMITS, min_signal_strength=value)


@given(
    st.sampled_from(["risk_percent", "price_collar_percent", "balance_tolerance_percent"]),
    decimals("100.01", "1e12", places=2),
)
def test_guard_limits_refuse_percents_above_100(field, value):
    """The same bound as config's *_PERCENT settings: GuardLimits accepted a 500 % collar."""
    with pytest.raises(InvalidValue, match="percent is"):
        GuardLimits(**{**LIMITS, field: value})


@given(_not_a_count(1))
def test_guard_limits_refuse_junk_position_limits(value):
    with pytest.raises(InvalidValue):
        GuardLimits(risk_percent=D(1), max_open_positions=value)


@given(decimals("100.01", "1e15", places=2))
def test_guard_limits_refuse_risk_above_100_percent(percent):
    with pytest.raises(InvalidValue, match="risk percent"):
        GuardLimits(risk_percent=percent, max_open_positions=1)


@given(st.one_of(NON_FINITE, st.floats(), st.text(max_size=5), st.booleans()))
def test_a_junk_signal_in_a_plan_fails_closed_instead_of_crashing(signal):
    plan = incident_plan(signal)
    decision = check(
        plan,
        AccountState(**ACCOUNT, last_price=D("87.36")),
        GuardLimits(risk_percent=D(1), max_open_positions=1, min_signal_strength=D("0.5")),
    )
    assert not decision.allowed
    assert decision.failed_controls == ("signal-threshold",)


def test_safetrade_errors_from_guard_inputs_are_value_errors_too():
    """InvalidValue is both: bots catching ValueError keep working."""
    with pytest.raises(ValueError, match="free quote"):
        AccountState(**{**ACCOUNT, "free_quote": D(-1)})
    assert issubclass(InvalidValue, SafetradeError)
