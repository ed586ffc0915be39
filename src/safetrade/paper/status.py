"""``safetrade paper status``: the paper record of the code in a paper database."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from safetrade.errors import ConfigError
from safetrade.paper.position import PaperPosition
from safetrade.paper.store import PaperStore
from safetrade.paper.summary import PaperSummary, summarize

if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetrade.paper.store import JournalEntry

__all__ = ["read_summary"]


def read_summary(
    path: Path | str, *, digests: tuple[str, str] | None = None, now_ms: int | None = None
) -> PaperSummary | None:
    """The summary of one code version in the paper database at ``path``.

    Args:
        path: The paper database (``SAFETRADE_PAPER_DB``).
        digests: ``(safetrade, bot)`` digests to count; default: the code of the newest entry.
        now_ms: Now, for a position that is bare at this moment (default: not counted).

    Returns:
        None when the database does not exist or has no journal entries.

    Raises:
        ConfigError: The file exists but is not a paper database of this schema, or cannot
            be read.
    """
    path = Path(path)
    if not path.is_file():
        return None
    store = PaperStore(path, read_only=True)
    try:
        # one read transaction: a venue appending meanwhile cannot make rows and head disagree
        with store.snapshot():
            entries = store.journal()
            if not entries:
                return None
            safetrade_digest, bot_digest = digests or (
                entries[-1].safetrade_digest,
                entries[-1].bot_digest,
            )
            bare_now = None
            if now_ms is not None and any(e.kind == "bare_open" for e in entries):
                bare_now = _open_window(entries, (safetrade_digest, bot_digest), now_ms)
            elif now_ms is not None:  # a journal written before windows were journaled
                for symbol in {e.symbol for e in entries if e.symbol}:
                    text = store.meta(f"position:{symbol}")
                    position = None if text is None else PaperPosition.loads(text)
                    if (
                        position is not None
                        and position.bare_since is not None
                        and position.bare_by == (safetrade_digest, bot_digest)
                    ):
                        seconds = Decimal(now_ms - position.bare_since) / 1000
                        bare_now = max(bare_now or Decimal(0), seconds)
            problem = store.verify_journal()
    except sqlite3.Error as exc:
        raise ConfigError(
            f"cannot read the paper journal {path}: {exc}",
            fix="retry; if the bot is writing a lot right now, read it again in a moment",
        ) from exc
    finally:
        store.close()
    return summarize(
        entries,
        safetrade_digest=safetrade_digest,
        bot_digest=bot_digest,
        journal_problem=problem,
        bare_now_seconds=bare_now,
        now_ms=now_ms,
    )


def _open_window(
    entries: Sequence[JournalEntry], digests: tuple[str, str], now_ms: int
) -> Decimal | None:
    """How long coins have been bare now, from the hash-chained journal alone.

    A window is open when a symbol's last ``bare_open`` has no ``bare`` closing it after it.
    """
    opened: dict[str, JournalEntry] = {}
    for entry in entries:
        if entry.symbol is None:
            continue
        if entry.kind == "bare_open":
            opened[entry.symbol] = entry
        elif entry.kind == "bare":
            opened.pop(entry.symbol, None)
    seconds = [
        Decimal(now_ms - int(e.detail["since_ms"])) / 1000
        for e in opened.values()
        if (e.safetrade_digest, e.bot_digest) == digests
    ]
    return max(seconds, default=None)
