"""A kill switch that stays engaged across restarts until a human clears it.

The protector engages it when a position can be neither protected nor flattened; the guard
then refuses every entry. It is kept in a small JSON file so that restarting the bot (the usual
reflex after an incident) does not silently re-arm trading. Without a path it lives in memory,
which is what tests and paper mode use.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import attrs

from safetrade.errors import ConfigError

__all__ = ["KillSwitch", "KillSwitchState"]

log = logging.getLogger("safetrade.killswitch")


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
        self._state = self._load()

    @property
    def state(self) -> KillSwitchState:
        """The current state."""
        return self._state

    @property
    def reason(self) -> str | None:
        """Why trading is halted, or ``None`` when it is not (feeds ``AccountState``)."""
        if not self._state.engaged:
            return None
        # an engaged switch must never read as "no reason": the guard treats None as clear
        return self._state.reason or "no reason recorded"

    def engage(self, reason: str) -> None:
        """Halt trading. Idempotent: the first reason is kept."""
        if self._state.engaged:
            return
        self._state = KillSwitchState(engaged=True, reason=reason, since=self._clock().isoformat())
        log.critical("kill switch engaged: %s", reason)
        self._save()

    def clear(self, *, cleared_by: str) -> None:
        """Re-enable trading; ``cleared_by`` names the human taking responsibility."""
        if not cleared_by.strip():
            raise ConfigError(
                "clearing the kill switch needs the name of the person clearing it",
                fix="call clear(cleared_by='<your name>') after checking the exchange",
            )
        log.warning("kill switch cleared by %s (was: %s)", cleared_by, self._state.reason)
        self._state = KillSwitchState(engaged=False)
        self._save()

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
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._path.write_text(json.dumps(attrs.asdict(self._state)), encoding="utf-8")
