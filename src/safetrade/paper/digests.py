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
            fix="pass bot_package= the importable name of the bot you run (e.g. 'mybot')",
        ) from exc
    return own, bot
