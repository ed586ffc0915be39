"""The reference bot: safetrade's :class:`~safetrade.trader.Trader`, certified by default.

It adds nothing to the Trader: the point is a bot whose whole trading logic is the library's
own, so the certification suite and ``tox -e certify`` without ``--bot`` have a bot to run,
and bot authors have one to copy. Its certification binds to this package
(``bot_package=BOT_PACKAGE``) plus safetrade itself.
"""

from __future__ import annotations

from safetrade.trader import Sync, Trader, TradeResult

__all__ = ["BOT_PACKAGE", "ReferenceBot", "Sync", "TradeResult"]

BOT_PACKAGE = "safetrade.reference_bot"


class ReferenceBot(Trader):
    """The bot the certification gate runs when none is named: a :class:`Trader` as shipped."""
