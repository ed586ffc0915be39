"""Unit tests for safetrade.killswitch: halts survive restarts until a named human clears them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tests.strategies import sol_usdt

from safetrade import (
    AccountState,
    ConfigError,
    GuardLimits,
    KillSwitch,
    PositionSide,
    check,
    plan_trade,
)
from safetrade.killswitch import KillSwitchState

NOON = datetime(2026, 2, 6, 12, 42, tzinfo=UTC)


def clock():
    return NOON


class TestInMemory:
    def test_starts_clear(self):
        """A new in-memory switch is not engaged and has no reason."""
        switch = KillSwitch()
        assert switch.state == KillSwitchState(engaged=False)
        assert switch.reason is None

    def test_engage_records_reason_and_time(self):
        """Engaging keeps the reason and the injected clock's time."""
        switch = KillSwitch(clock=clock)
        switch.engage("stop-loss could not be placed")
        assert switch.state.engaged
        assert switch.reason == "stop-loss could not be placed"
        assert switch.state.since == NOON.isoformat()

    def test_engage_is_idempotent_and_keeps_first_reason(self):
        """A second engage does not overwrite the original cause."""
        switch = KillSwitch(clock=clock)
        switch.engage("first")
        switch.engage("second")
        assert switch.reason == "first"

    def test_engaged_without_reason_still_reports_a_reason(self):
        """An empty reason must not read as 'clear' (the guard treats None as not engaged)."""
        switch = KillSwitch()
        switch.engage("")
        assert switch.reason

    def test_engage_logs_critical(self, caplog):
        """Engaging is logged at CRITICAL on the safetrade.killswitch logger."""
        with caplog.at_level(logging.CRITICAL, logger="safetrade.killswitch"):
            KillSwitch().engage("flatten failed")
        assert any(
            r.levelno == logging.CRITICAL and "flatten failed" in r.getMessage()
            for r in caplog.records
        )

    def test_clear_needs_a_name(self):
        """Clearing without naming who takes responsibility is refused."""
        switch = KillSwitch()
        switch.engage("x")
        for name in ("", "   "):
            with pytest.raises(ConfigError, match="name"):
                switch.clear(cleared_by=name)
        assert switch.state.engaged

    def test_clear_re_enables(self):
        """A named clear disengages the switch."""
        switch = KillSwitch()
        switch.engage("x")
        switch.clear(cleared_by="owner")
        assert not switch.state.engaged
        assert switch.reason is None


class TestPersistence:
    def test_engaged_state_survives_restart(self, tmp_path):
        """Restarting the bot (a new KillSwitch on the same file) does not re-arm trading."""
        path = tmp_path / "state" / "kill.json"
        KillSwitch(path, clock=clock).engage("unprotected position")
        again = KillSwitch(path)
        assert again.state.engaged
        assert again.reason == "unprotected position"
        assert again.state.since == NOON.isoformat()

    def test_clear_survives_restart(self, tmp_path):
        """A cleared switch stays clear after a restart."""
        path = tmp_path / "kill.json"
        switch = KillSwitch(path)
        switch.engage("x")
        switch.clear(cleared_by="owner")
        assert not KillSwitch(path).state.engaged

    def test_missing_file_means_clear(self, tmp_path):
        """No state file yet means trading was never halted."""
        assert not KillSwitch(tmp_path / "absent.json").state.engaged

    @pytest.mark.parametrize(
        "content", ["not json", "[]", '"engaged"', "{}", '{"reason": "x"}', ""], ids=repr
    )
    def test_unreadable_file_fails_closed(self, tmp_path, content):
        """A corrupt state file engages the switch and names the file."""
        path = tmp_path / "kill.json"
        path.write_text(content, encoding="utf-8")
        switch = KillSwitch(path)
        assert switch.state.engaged
        assert str(path) in switch.reason

    def test_engaged_file_without_reason_still_refuses(self, tmp_path):
        """A hand-written {"engaged": true} halts trading even though it gives no reason."""
        path = tmp_path / "kill.json"
        path.write_text(json.dumps({"engaged": True}), encoding="utf-8")
        assert KillSwitch(path).reason


class TestGuardIntegration:
    def test_engaged_switch_refuses_trades(self, tmp_path):
        """The switch's reason fed into AccountState makes the guard refuse."""
        path = tmp_path / "kill.json"
        path.write_text(json.dumps({"engaged": True, "reason": None}), encoding="utf-8")
        plan = plan_trade(
            sol_usdt(),
            side=PositionSide.LONG,
            free_balance=Decimal(123),
            entry_price=Decimal("87.36"),
            stop_price=Decimal("85.61"),
            risk_percent=Decimal(1),
            client_oid="st-entry-1",
        )
        account = AccountState(
            free_quote=Decimal(123),
            configured_balance=None,
            last_price=Decimal("87.36"),
            kill_switch_reason=KillSwitch(path).reason,
            open_positions=0,
            open_position_value=Decimal(0),
        )
        decision = check(plan, account, GuardLimits(risk_percent=Decimal(1), max_open_positions=1))
        assert decision.failed_controls == ("kill-switch",)
