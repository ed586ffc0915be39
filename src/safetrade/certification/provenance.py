"""Edge functions that read the environment: versions, git state, the running code's digests."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from safetrade.certification import installed
from safetrade.certification.bytecode import foreign_bytecode, shadowed_standard_modules
from safetrade.certification.closure import ccxt_files, runtime_distributions
from safetrade.certification.digest import (
    TreeError,
    package_files,
    package_location,
    schema_digest,
    tree_files,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["GitState", "RunningCode", "git_state", "measure_running_code", "versions"]


@attrs.frozen
class GitState:
    """The project's git commit and whether the work tree had uncommitted changes."""

    commit: str | None
    dirty: bool | None


@attrs.frozen
class RunningCode:
    """Digest inputs of the code that is about to run (or was just tested).

    ``*_error`` holds why a part could not be measured, so the caller can report it as a
    named problem instead of crashing.
    """

    safetrade_files: Mapping[str, str]
    bot_package: str
    bot_files: Mapping[str, str]
    config_schema_digest: str | None
    bot_error: str | None = None
    config_error: str | None = None
    #: the ccxt files every KuCoin request goes through (closure.CCXT_PARTS)
    ccxt_files: Mapping[str, str] = attrs.field(factory=dict)
    #: name -> version of the distributions safetrade and the bot need at run time
    distributions: Mapping[str, str] = attrs.field(factory=dict)
    #: code Python would run instead of the digested sources: cached or sourceless bytecode,
    #: a standard module shadowed by a file earlier on sys.path (bytecode.py)
    bytecode_problems: tuple[str, ...] = ()


def versions() -> dict[str, str | None]:
    """Return python, safetrade and ccxt versions (None when a distribution is absent)."""
    dist = installed.version_of

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "safetrade": dist("safetrade"),
        "ccxt": dist("ccxt"),
    }


def git_state(project_root: Path) -> GitState:
    """Return HEAD and the dirty flag of ``project_root``; ``None`` fields when git is absent."""
    git = shutil.which("git")
    if git is None:
        return GitState(None, None)

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(  # noqa: S603 -- fixed argv, no shell
                [git, *args],
                cwd=project_root,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return GitState(None, None)
    status = run("status", "--porcelain")
    return GitState(commit, None if status is None else bool(status))


def _default_schema() -> Mapping[str, object]:
    # Lazy: safetrade.config is written separately and imports settings machinery we do not
    # want to load unless the schema is actually needed.
    from safetrade.config import settings_schema  # type: ignore[attr-defined,unused-ignore] # noqa: PLC0415

    schema: Mapping[str, object] = settings_schema()
    return schema


def measure_running_code(
    bot_package: str,
    *,
    safetrade_root: Path | None = None,
    schema: Callable[[], Mapping[str, object]] = _default_schema,
) -> RunningCode:
    """Digest the installed safetrade package, the bot package and the config schema.

    Args:
        bot_package: Importable name of the bot package (located without importing it).
        safetrade_root: Directory to hash instead of the installed safetrade (tests only).
        schema: Returns the settings schema; defaults to ``safetrade.config.settings_schema``.

    Raises:
        TreeError: The safetrade tree itself cannot be hashed (e.g. contains a symlink).
    """
    import safetrade  # noqa: PLC0415 -- the *running* package, wherever it is installed

    root = safetrade_root if safetrade_root is not None else Path(safetrade.__file__).parent
    own = tree_files(root)
    bot_error = config_error = None
    try:
        bot = package_files(bot_package)
    except Exception as exc:  # noqa: BLE001 -- any failure becomes a named problem
        bot, bot_error = {}, str(exc)
    try:
        digest: str | None = schema_digest(schema())
    except Exception as exc:  # noqa: BLE001 -- any failure becomes a named problem
        digest, config_error = None, f"{type(exc).__name__}: {exc}"
    roots = ["safetrade"]
    top = bot_package.split(".", maxsplit=1)[0]
    roots += installed.owners_of(top)
    return RunningCode(
        own,
        bot_package,
        bot,
        digest,
        bot_error,
        config_error,
        ccxt_files=ccxt_files(),
        distributions=runtime_distributions(*roots),
        bytecode_problems=_bytecode(root, bot_package, bot_error),
    )


def _bytecode(safetrade_root: Path, bot_package: str, bot_error: str | None) -> tuple[str, ...]:
    problems = [f"safetrade/{p}" for p in foreign_bytecode(safetrade_root)]
    problems += shadowed_standard_modules()
    if bot_error is None:
        try:
            bot_root = package_location(bot_package)
        except TreeError:
            bot_root = None
        # the reference bot lives inside safetrade: checked above already
        # (a one-module bot is checked too: its file's own cache)
        if bot_root is not None and not bot_root.is_relative_to(safetrade_root):
            problems += [f"{bot_package}/{p}" for p in foreign_bytecode(bot_root)]
    return tuple(problems)
