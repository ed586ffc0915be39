"""The digests that stamp paper evidence: the same two the certificate binds."""

from __future__ import annotations

from pathlib import Path

__all__ = ["code_digests"]


def code_digests(bot_package: str) -> tuple[str, str]:
    """``(safetrade tree digest, bot package tree digest)`` of the code running now.

    They are computed as ``safetrade certify`` computes its subjects' ``dirHash``, so certify
    can count paper time of exactly the code it signs.

    Raises:
        ConfigError: The bot package cannot be located.
    """
    import safetrade  # noqa: PLC0415 - the running package, wherever it is installed
    from safetrade.certification.digest import (  # noqa: PLC0415
        TreeError,
        package_files,
        tree_digest,
        tree_files,
    )
    from safetrade.errors import ConfigError  # noqa: PLC0415

    own = tree_digest(tree_files(Path(safetrade.__file__).parent))
    try:
        bot = tree_digest(package_files(bot_package))
    except TreeError as exc:
        raise ConfigError(
            f"cannot digest the bot package {bot_package!r}: {exc.what}",
            why="paper time is stamped with the digest of the bot's package, found the way "
            "certify finds it",
            fix=f"make {bot_package!r} importable where the bot runs: install its folder into "
            "this environment (`pip install -e PATH`; `tox -e certify -- --bot PATH` does it "
            f"for .tox/certify) or start the bot as `python -m {bot_package}` from the folder "
            "holding the package; if that is not your bot's package, pass bot_package= the one "
            "you run",
        ) from exc
    return own, bot
