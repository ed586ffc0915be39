"""Unit tests for safetrade.killswitch: halts survive restarts until a named human clears them."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

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
from tests.strategies import sol_usdt

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


class TestEngagedWhileRunning:
    """A kill engaged by writing the file takes effect at the next look, without a restart."""

    def test_another_process_engaging_the_file_stops_the_next_entry(self, tmp_path):
        path = tmp_path / "kill-switch.json"
        running = KillSwitch(path, clock=clock)
        assert running.reason is None
        KillSwitch(path, clock=clock).engage("owner pressed the kill switch")  # another process
        assert running.reason == "owner pressed the kill switch"
        plan = plan_trade(
            sol_usdt(), side=PositionSide.LONG, free_balance=Decimal(123),
            entry_price=Decimal("87.36"), stop_price=Decimal("85.61"), take_profit_price=None,
            risk_percent=Decimal(1), client_oid="st-entry-1",
        )  # fmt: skip
        account = AccountState(
            free_quote=Decimal(123), configured_balance=None, last_price=Decimal("87.36"),
            kill_switch_reason=running.reason, open_positions=0, open_position_value=Decimal(0),
        )  # fmt: skip
        decision = check(plan, account, GuardLimits(risk_percent=Decimal(1), max_open_positions=1))
        assert not decision.allowed
        assert "kill-switch" in " ".join(decision.reasons)

    def test_an_engaged_switch_is_not_re_armed_by_the_file_changing_behind_it(self, tmp_path):
        path = tmp_path / "kill-switch.json"
        switch = KillSwitch(path, clock=clock)
        switch.engage("flatten failed")
        path.write_text(json.dumps({"engaged": False}), encoding="utf-8")
        assert switch.reason == "flatten failed"  # only clear(cleared_by=...) re-arms

    def test_an_unwritable_file_keeps_the_switch_engaged_and_names_the_write_error(self, tmp_path):
        blocker = tmp_path / "file"
        blocker.write_text("x")
        switch = KillSwitch(blocker / "kill-switch.json", clock=clock)
        switch.engage("flatten failed")  # never raises: the caller must still alert
        assert switch.reason == "flatten failed"
        assert "could not be written" in (switch.write_error or "")
        with pytest.raises(ConfigError, match="point SAFETRADE_KILL_SWITCH_FILE"):
            switch.ensure_writable()


def test_a_second_bot_process_on_the_same_kill_switch_is_refused(tmp_path):
    """Two bots on one account broke MAX_OPEN_POSITIONS=1 (11 of 20 runs): refused here."""
    import subprocess
    import sys

    path = tmp_path / "kill-switch.json"
    holder = subprocess.Popen(  # noqa: S603 - our interpreter, a fixed script
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from safetrade.killswitch import KillSwitch; "
            f"KillSwitch(pathlib.Path({str(path)!r})).hold_instance_lock(); "
            "print('locked', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            ConfigError, match=r"another bot process holds .*kill-switch\.json\.lock"
        ):
            KillSwitch(path).hold_instance_lock()
    finally:
        holder.communicate(timeout=30)  # closing stdin ends it, releasing the lock
    KillSwitch(path).hold_instance_lock()  # free again: this process takes it


def test_a_finished_scenario_releases_the_locks_in_its_folder_and_no_others(tmp_path):
    """The conformance harness runs many bots in one process, each in its own folder."""
    import fcntl

    from safetrade.killswitch import release_instance_locks

    done, running = tmp_path / "scenario-1", tmp_path / "scenario-2"
    for folder in (done, running):
        KillSwitch(folder / "kill-switch.json").hold_instance_lock()

    def free(folder):
        with (folder / "kill-switch.json.lock").open("a") as probe:
            try:
                fcntl.flock(probe.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(probe.fileno(), fcntl.LOCK_UN)
            return True

    assert not free(done)
    assert not free(running)
    release_instance_locks(done)
    assert free(done)
    assert not free(running)  # another scenario's bot still holds its own
    release_instance_locks(running)
    assert free(running)
