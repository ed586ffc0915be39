"""One process at a time: an exclusive, non-blocking lock on a ``.lock`` file (POSIX)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from safetrade.errors import ConfigError

__all__ = ["exclusive_lock"]


def exclusive_lock(lock_path: Path, *, what: str, why: str, fix: str) -> IO[str] | None:
    """Hold ``lock_path`` exclusively until the returned handle is closed, or refuse.

    Returns None where ``fcntl`` does not exist (Windows: documented, not enforced).

    Raises:
        ConfigError: Another open file holds it (``what``, ``why`` and ``fix`` name it).
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - Windows
        return None
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise ConfigError(what, why=why, fix=fix) from None
    return handle
