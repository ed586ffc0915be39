"""A kill switch that stays engaged across restarts until a human clears it.

The protector engages it when a position can be neither protected nor flattened; the guard
then refuses every entry. It is kept in a small JSON file so that restarting the bot (the usual
reflex after an incident) does not silently re-arm trading. Without a path it lives in memory,
which is what tests and paper mode use.

The file is read again at every look (:attr:`KillSwitch.reason`), so an owner or another process
that engages the switch by writing the file stops the next entry without a restart (RTS 6 art.
12: a kill takes effect immediately). An engaged switch stays engaged in memory even if its file
cannot be written or is cleared behind the process's back: only :meth:`KillSwitch.clear`, a
named human action, re-arms trading.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import attrs

from safetrade._filelock import exclusive_lock
from safetrade.errors import ConfigError

__all__ = ["KillSwitch", "KillSwitchState", "release_instance_locks"]

log = logging.getLogger("safetrade.killswitch")

#: Instance locks this process holds (closed, and so released, when it exits).
_HELD: dict[Path, IO[str]] = {}


@attrs.frozen(kw_only=True)
class KillSwitchState:
    """Whether trading is halted, why, and since when."""

    engaged: bool
    reason: str | None = None
    since: str | None = None


class KillSwitch:
    """Engage to halt all entries; clear only by an explicit, named human action.

    Args:
        path: JSON file that keeps the state across restarts; ``None`` keeps it in memory.
        clock: Returns the current time (injected so tests need no wall clock).
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._path = path
        self._clock = clock
        self._write_error: str | None = None
        self._state = self._load()

    @property
    def state(self) -> KillSwitchState:
        """The current state: the file is read again, and an engagement there is adopted."""
        if not self._state.engaged and self._path is not None:
            self._state = self._load()
        return self._state

    @property
    def reason(self) -> str | None:
        """Why trading is halted, or ``None`` when it is not (feeds ``AccountState``)."""
        state = self.state
        if not state.engaged:
            return None
        # an engaged switch must never read as "no reason": the guard treats None as clear
        return state.reason or "no reason recorded"

    @property
    def write_error(self) -> str | None:
        """Why the last engagement could not be written to the file, if it could not."""
        return self._write_error

    def engage(self, reason: str) -> None:
        """Halt trading. Idempotent: the first reason is kept.

        Never raises: if the file cannot be written the switch is still engaged in this process
        (and says so in :attr:`write_error` and a CRITICAL log line), so whoever engaged it can
        still alert a human.
        """
        if self.state.engaged:
            return
        self._state = KillSwitchState(engaged=True, reason=reason, since=self._clock().isoformat())
        log.critical("kill switch engaged: %s", reason)
        try:
            self._save()
        except OSError as exc:
            self._write_error = f"kill switch file {self._path} could not be written: {exc}"
            log.critical(
                "%s; the switch is engaged in this process only: a restart would not see it",
                self._write_error,
            )

    def hold_instance_lock(self) -> None:
        """Refuse a second bot process sharing this kill switch (and so, this account) here.

        Two bots on one account each count the positions the exchange shows, and both can
        enter between one's look and its order: MAX_OPEN_POSITIONS=1 is then broken. Processes
        on one machine that share the kill-switch file are refused by an exclusive lock on
        ``<file>.lock``, held until this process exits (a bot restarted inside the same process
        takes it over). Bots on *other* machines, and two bots in one process, cannot be seen
        from here: give every bot its own KuCoin (sub-)account.

        Raises:
            ConfigError: Another process holds the lock.
        """
        lock_path = self._lock_path()
        if lock_path is None or lock_path in _HELD:
            return  # in memory, or this process holds it already
        handle = exclusive_lock(
            lock_path,
            what=f"another bot process holds {lock_path}",
            why="two bots on one account can both enter: MAX_OPEN_POSITIONS would not hold",
            fix="stop the other bot, or give each bot its own account and "
            "SAFETRADE_KILL_SWITCH_FILE",
        )
        if handle is not None:
            _HELD[lock_path] = handle

    def release_instance_lock(self) -> None:
        """Let another bot process start on this kill switch (this bot has stopped)."""
        lock_path = self._lock_path()
        handle = None if lock_path is None else _HELD.pop(lock_path, None)
        if handle is not None:
            handle.close()

    def _lock_path(self) -> Path | None:
        return (
            None
            if self._path is None
            else self._path.with_name(self._path.name + ".lock").resolve()
        )

    def ensure_writable(self) -> None:
        """Refuse to start a bot whose kill switch could not be persisted when it is needed.

        Raises:
            ConfigError: The file's folder cannot be created or written.
        """
        if self._path is None:
            return
        probe = self._path.with_name(f".{self._path.name}.write-test")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
        except OSError as exc:
            raise ConfigError(
                f"kill switch file {self._path} cannot be written ({exc})",
                why="a halt could not survive a restart: the next start would read it as clear",
                fix="point SAFETRADE_KILL_SWITCH_FILE at a writable path",
            ) from exc

    def clear(self, *, cleared_by: str) -> None:
        """Re-enable trading; ``cleared_by`` names the human taking responsibility."""
        if not cleared_by.strip():
            raise ConfigError(
                "clearing the kill switch needs the name of the person clearing it",
                fix="call clear(cleared_by='<your name>') after checking the exchange",
            )
        log.warning("kill switch cleared by %s (was: %s)", cleared_by, self._state.reason)
        self._save_state(KillSwitchState(engaged=False))
        self._state = KillSwitchState(engaged=False)
        self._write_error = None

    def _load(self) -> KillSwitchState:
        if self._path is None or not self._path.exists():
            return KillSwitchState(engaged=False)
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
            return KillSwitchState(
                engaged=bool(data["engaged"]), reason=data.get("reason"), since=data.get("since")
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # an unreadable state file must not silently re-arm trading
            return KillSwitchState(
                engaged=True, reason=f"kill switch file {self._path} unreadable: {exc}"
            )

    def _save(self) -> None:
        self._save_state(self._state)

    def _save_state(self, state: KillSwitchState) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(attrs.asdict(state)), encoding="utf-8")


def release_instance_locks(under: Path) -> None:
    """Release this process's instance locks anywhere in folder ``under`` (a finished scenario)."""
    base = under.resolve()
    for path in [p for p in _HELD if p.is_relative_to(base)]:
        _HELD.pop(path).close()
