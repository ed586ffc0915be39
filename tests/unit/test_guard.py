"""Unit tests for safetrade.guard: each control refuses on its own, and all reasons are kept."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from safetrade import (
    AccountState,
    GuardLimits,
    GuardRefused,
    InvalidValue,
    PositionSide,
    SafetradeError,
    check,
    plan_trade,
)
from safetrade.guard import Decision
from tests.strategies import sol_usdt, stable_id

D = Decimal
ALL_CONTROLS = (
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


def make_plan(**overrides):
    """The incident's plan sized from the exchange's 123 USDT, signal 0.2, TP 90.1353."""
    kwargs = {
        "side": PositionSide.LONG,
        "free_balance": D(123),
        "entry_price": D("87.36"),
        "stop_price": D("85.61"),
        "risk_percent": D(1),
        "take_profit_price": D("90.1353"),
        "client_oid": "st-entry-1",
        "signal_strength": D("0.2"),
    }
    kwargs.update(overrides)
    return plan_trade(sol_usdt(), **kwargs)


def make_account(**overrides):
    kwargs = {
        "free_quote": D(123),
        "configured_balance": D(123),
        "open_positions": 0,
        "last_price": D("87.36"),
        "kill_switch_reason": None,
        "open_position_value": D(0),
    }
    kwargs.update(overrides)
    return AccountState(**kwargs)


def make_limits(**overrides):
    kwargs = {
        "risk_percent": D(1),
        "max_open_positions": 1,
        "min_signal_strength": D("0.10"),
    }
    kwargs.update(overrides)
    return GuardLimits(**kwargs)


def decide(plan=None, account=None, limits=None):
    return check(plan or make_plan(), account or make_account(), limits or make_limits())


class TestBaseline:
    def test_sound_trade_is_allowed(self):
        """The incident's trade sized from the real balance passes every control."""
        decision = decide()
        assert decision.allowed
        assert decision.reasons == ()
        assert decision.failed_controls == ()

    def test_every_control_runs_in_order(self):
        """All nine controls run and are reported, passed or not."""
        assert tuple(c.control for c in decide().checks) == ALL_CONTROLS
        assert all(c.passed and c.detail == "ok" for c in decide().checks)

    def test_allowed_decision_does_not_raise(self):
        """raise_if_refused is silent for an allowed trade."""
        assert decide().raise_if_refused() is None


class TestIncidentBalance:
    def test_plan_from_phantom_10000_is_refused_with_both_balance_reasons(self):
        """A plan sized for $10,000 against the exchange's $123 is refused for both reasons.

        Sized from 10,000 the plan is 52.0028 SOL (see test_sizer), worth ~4,543 USDT: the
        configured 10,000 disagrees with the 123 free (balance-mismatch) and the order costs
        more than the 123 free (balance-check). Every reason is reported, not only the first.
        """
        plan = make_plan(free_balance=D(10000))
        account = make_account(free_quote=D(123), configured_balance=D(10000))
        decision = check(plan, account, make_limits())
        assert not decision.allowed
        assert {"balance-mismatch", "balance-check"} <= set(decision.failed_controls)
        assert len(decision.checks) == len(ALL_CONTROLS)
        mismatch = next(r for r in decision.reasons if r.startswith("balance-mismatch"))
        assert "10000" in mismatch
        assert "123" in mismatch
        balance = next(r for r in decision.reasons if r.startswith("balance-check"))
        assert "123" in balance

    def test_refusal_raises_with_every_reason(self):
        """raise_if_refused raises GuardRefused carrying every failed control's reason."""
        plan = make_plan(free_balance=D(10000))
        account = make_account(free_quote=D(123), configured_balance=D(10000))
        decision = check(plan, account, make_limits())
        with pytest.raises(GuardRefused) as info:
            decision.raise_if_refused()
        assert info.value.reasons == decision.reasons
        assert len(info.value.reasons) >= 2
        for reason in decision.reasons:
            assert reason in str(info.value)


class TestEachControlAlone:
    def assert_only(self, decision: Decision, control: str) -> str:
        assert not decision.allowed
        assert decision.failed_controls == (control,)
        (reason,) = decision.reasons
        assert reason.startswith(f"{control}: ")
        return reason

    def test_kill_switch(self):
        """An engaged kill switch refuses everything and shows why."""
        reason = self.assert_only(
            decide(account=make_account(kill_switch_reason="SL could not be placed")),
            "kill-switch",
        )
        assert "SL could not be placed" in reason

    def test_balance_mismatch(self):
        """Configured 126 vs free 123 is 3/126 = 2.38 % apart, over the 2 % tolerance."""
        reason = self.assert_only(
            decide(account=make_account(configured_balance=D(126))), "balance-mismatch"
        )
        assert "126" in reason
        assert "123" in reason

    def test_balance_mismatch_within_tolerance_passes(self):
        """Configured 125 vs free 123 is 2/125 = 1.6 % apart, inside the 2 % tolerance."""
        assert decide(account=make_account(configured_balance=D(125))).allowed

    def test_balance_mismatch_counts_open_positions(self):
        """Free 100 plus 23 in a position matches a configured 123."""
        account = make_account(
            free_quote=D(100), configured_balance=D(123), open_position_value=D(23)
        )
        assert "balance-mismatch" not in decide(account=account).failed_controls

    def test_balance_check(self):
        """A plan sized from 200 (1.04 SOL, ~90.95 USDT with fees) cannot be paid from 80 free.

        Risk percent is lifted to 100 so only the balance control can object.
        """
        plan = make_plan(free_balance=D(200))
        account = make_account(free_quote=D(80), configured_balance=None)
        reason = self.assert_only(
            decide(plan, account, make_limits(risk_percent=D(100))), "balance-check"
        )
        assert "80" in reason

    def test_a_short_on_a_spot_market_is_refused(self):
        """A short sells coins a spot account must already hold; it is refused, nothing else.

        Stop 89.11 above the 87.36 entry, target below: a sound short in every other respect
        (its sell costs no USDT, so the free-quote arithmetic alone would let it through).
        """
        plan = make_plan(
            side=PositionSide.SHORT, stop_price=D("89.11"), take_profit_price=D("85.00")
        )
        reason = self.assert_only(decide(plan), "balance-check")
        assert "spot market" in reason
        assert f"sells {plan.size.amount} SOL" in reason
        assert "PositionSide.LONG" in reason

    def test_balance_check_against_configured_cap(self):
        """An order costing more than the configured balance is refused even if free covers it."""
        plan = make_plan(free_balance=D(200))
        account = make_account(free_quote=D(200), configured_balance=D(80))
        decision = decide(
            plan, account, make_limits(risk_percent=D(100), balance_tolerance_percent=D(100))
        )
        assert decision.failed_controls == ("balance-check",)

    def test_risk_limit(self):
        """A plan sized at 2 % (risk ~2.46) breaks a 1 % limit of 123 (1.23)."""
        reason = self.assert_only(decide(plan=make_plan(risk_percent=D(2))), "risk-limit")
        assert "1.23" in reason

    def test_max_open_positions_refuses_second_entry(self):
        """Feb 6 validation: with one position open and MAX_OPEN_POSITIONS=1, no second entry."""
        reason = self.assert_only(
            decide(account=make_account(open_positions=1)), "max-open-positions"
        )
        assert "MAX_OPEN_POSITIONS is 1" in reason

    def test_signal_below_threshold(self):
        """Feb 6 validation: a signal of 0.099 is below the 0.10 threshold and refused."""
        reason = self.assert_only(
            decide(plan=make_plan(signal_strength=D("0.099"))), "signal-threshold"
        )
        assert "0.099" in reason

    def test_signal_at_threshold_passes(self):
        """A signal exactly at the threshold may trade."""
        assert decide(plan=make_plan(signal_strength=D("0.10"))).allowed

    def test_missing_signal_with_threshold_fails_closed(self):
        """With a threshold configured, a plan without a signal is refused."""
        self.assert_only(decide(plan=make_plan(signal_strength=None)), "signal-threshold")

    def test_nan_signal_fails_closed(self):
        """A NaN signal smuggled into a plan is refused, not compared (NaN < x raises)."""
        plan = attrs.evolve(make_plan(), signal_strength=D("NaN"))
        self.assert_only(decide(plan=plan), "signal-threshold")

    def test_no_threshold_ignores_signal(self):
        """Without MIN_SIGNAL_STRENGTH the signal is not checked."""
        plan = make_plan(signal_strength=None)
        assert decide(plan=plan, limits=make_limits(min_signal_strength=None)).allowed

    def test_price_collar(self):
        """Entry 87.36 against a last price of 80 is 9.2 % away, outside the 5 % collar."""
        reason = self.assert_only(decide(account=make_account(last_price=D(80))), "price-collar")
        assert "80" in reason

    @pytest.mark.parametrize("last", [None, D(0), D(-1), D("NaN")], ids=repr)
    def test_price_collar_fails_closed_without_usable_price(self, last):
        """Without a usable last price nothing can be checked, so the trade is refused."""
        self.assert_only(decide(account=make_account(last_price=last)), "price-collar")

    def test_max_order_value(self):
        """The 55.88 USDT order exceeds a MAX_ORDER_VALUE of 50."""
        reason = self.assert_only(
            decide(limits=make_limits(max_order_value=D(50))), "max-order-value"
        )
        assert "50" in reason

    def test_order_validity_off_grid_amount(self):
        """An entry amount off the 0.0001 grid is refused."""
        plan = make_plan()
        plan = attrs.evolve(  # size and entry agree (a plan cannot exist otherwise), off grid
            plan,
            size=attrs.evolve(plan.size, amount=D("0.63961")),
            entry=attrs.evolve(plan.entry, amount=D("0.63961")),
        )
        self.assert_only(decide(plan=plan), "order-validity")

    def test_order_validity_off_tick_protective_price(self):
        """A stop or target off the 0.01 tick is refused."""
        plan = attrs.evolve(make_plan(), take_profit_price=D("90.1353"))
        reason = self.assert_only(decide(plan=plan), "order-validity")
        assert "90.1353" in reason

    def test_order_validity_below_minimums(self):
        """An amount below the market minimum is refused even if it reached the guard."""
        plan = make_plan()
        plan = attrs.evolve(plan, market=attrs.evolve(plan.market, min_amount=D(1)))
        self.assert_only(decide(plan=plan), "order-validity")


class TestAllReasons:
    def test_every_failure_is_reported_at_once(self):
        """Kill switch, second position, weak signal and missing price all show together."""
        account = make_account(kill_switch_reason="halted", open_positions=1, last_price=None)
        decision = decide(plan=make_plan(signal_strength=D("0.099")), account=account)
        assert set(decision.failed_controls) == {
            "kill-switch",
            "max-open-positions",
            "signal-threshold",
            "price-collar",
        }
        with pytest.raises(GuardRefused) as info:
            decision.raise_if_refused()
        assert len(info.value.reasons) == 4


class TestInputs:
    @pytest.mark.parametrize(
        "field",
        ["free_quote", "configured_balance", "open_position_value"],
    )
    @pytest.mark.parametrize("value", [D("NaN"), D(-1), 123.0, "123", True, D("1e30")], ids=repr)
    def test_account_money_must_be_sound(self, field, value):
        """Balances must be finite non-negative Decimals; anything else is a SafetradeError."""
        with pytest.raises(SafetradeError):
            make_account(**{field: value})

    @pytest.mark.parametrize("value", [-1, True, 1.0, "1"], ids=repr)
    def test_open_positions_must_be_a_count(self, value):
        """open_positions must be a whole number >= 0."""
        with pytest.raises(InvalidValue):
            make_account(open_positions=value)

    @pytest.mark.parametrize("field", ["free_quote", "configured_balance"])
    def test_a_float_balance_is_refused_with_advice_that_works(self, field):
        """The fix offered for a float is one AccountState accepts (not a numeric string)."""
        with pytest.raises(InvalidValue) as refused:
            make_account(**{field: 123.0})
        assert "got float 123.0" in str(refused.value)
        assert "string" not in refused.value.fix
        assert 'Decimal("123.0")' in refused.value.fix
        make_account(**{field: Decimal("123.0")})

    @pytest.mark.parametrize("value", [87.36, "87.36", True], ids=repr)
    def test_last_price_must_be_a_decimal(self, value):
        """A float or text last price is refused at construction."""
        with pytest.raises(InvalidValue):
            make_account(last_price=value)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("risk_percent", D(0)),
            ("risk_percent", D("100.5")),
            ("risk_percent", 1.0),
            ("max_open_positions", 0),
            ("max_open_positions", True),
            ("min_signal_strength", D("NaN")),
            ("min_signal_strength", 0.1),
            ("price_collar_percent", D(0)),
            ("max_order_value", D(0)),
            ("balance_tolerance_percent", D(-1)),
        ],
        ids=repr,
    )
    def test_limits_must_be_sound(self, field, value):
        """Every limit refuses unusable values with a SafetradeError."""
        with pytest.raises(SafetradeError):
            make_limits(**{field: value})


class TestNoSilentDefaults:
    """Leaving out a field that would switch a control off is an error, not "all clear"."""

    @pytest.mark.parametrize(
        "field",
        ["configured_balance", "open_positions", "kill_switch_reason", "open_position_value"],
    )
    def test_a_control_input_left_out_is_refused_by_name(self, field):
        """Without it, max-open-positions, kill-switch or balance-mismatch would pass blindly."""
        kwargs = {
            "free_quote": D(123),
            "configured_balance": D(123),
            "open_positions": 0,
            "last_price": D("87.36"),
            "kill_switch_reason": None,
            "open_position_value": D(0),
        }
        del kwargs[field]
        with pytest.raises(TypeError, match=f"missing 1 required keyword-only argument: '{field}'"):
            AccountState(**kwargs)

    def test_the_kill_switch_must_be_stated_even_when_clear(self):
        """None is a valid answer (not engaged), but it has to be given."""
        assert make_account(kill_switch_reason=None).kill_switch_reason is None
        assert decide(account=make_account(kill_switch_reason=None)).allowed

    @pytest.mark.parametrize("value", [False, True, 0, object()], ids=stable_id)
    def test_a_kill_switch_reason_must_be_text_or_none(self, value):
        """A flag or the KillSwitch itself is refused; pass KillSwitch.reason."""
        with pytest.raises(InvalidValue, match=r"KillSwitch\.reason"):
            make_account(kill_switch_reason=value)

    def test_held_positions_are_why_open_position_value_has_no_default(self):
        """Configured 100, 99 free, 500 held: the account holds 599, far from the configured 100.

        A default of 0 would compare 100 with 99 and pass; the real value refuses.
        """
        plan = make_plan(free_balance=D(99))
        limits = make_limits(max_open_positions=2)
        stated = make_account(
            free_quote=D(99),
            configured_balance=D(100),
            open_positions=1,
            open_position_value=D(500),
        )
        assert "balance-mismatch" in decide(plan, stated, limits).failed_controls
        as_if_flat = attrs.evolve(stated, open_position_value=D(0))
        assert "balance-mismatch" not in decide(plan, as_if_flat, limits).failed_controls


class TestDecisionNamesItsPlan:
    def test_a_decision_records_the_plan_it_was_made_for(self):
        """execute_entry uses this to refuse a decision handed over with another plan."""
        plan = make_plan()
        decision = decide(plan=plan)
        assert decision.plan is plan
        assert decision.covers(plan)
        assert decision.covers(make_plan())  # an equal plan is the same trade
        assert not decision.covers(make_plan(client_oid="st-entry-2"))
        moved = attrs.evolve(
            plan, stop_loss_price=D("80.00"), size=attrs.evolve(plan.size, stop_price=D("80.00"))
        )
        assert not decision.covers(moved)


class TestLimitsMatchConfig:
    """GuardLimits refuses what the settings (config.py) refuse, when built by hand too."""

    def test_negative_signal_threshold_is_refused(self):
        """MIN_SIGNAL_STRENGTH=-1 is a ConfigError; GuardLimits(min_signal_strength=-1) was not."""
        with pytest.raises(InvalidValue, match="min signal strength must not be negative"):
            make_limits(min_signal_strength=D(-1))

    def test_zero_signal_threshold_is_allowed(self):
        """Zero or more, like the setting."""
        assert make_limits(min_signal_strength=D(0)).min_signal_strength == 0

    @pytest.mark.parametrize("field", ["price_collar_percent", "balance_tolerance_percent"])
    def test_percents_above_100_are_refused(self, field):
        """A 500 % collar or tolerance is a unit mistake, as in config."""
        with pytest.raises(InvalidValue, match="percent is 500"):
            make_limits(**{field: D(500)})
