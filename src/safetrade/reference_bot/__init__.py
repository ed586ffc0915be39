"""safetrade's reference bot: the smallest honest bot, used by the certification suite.

It is what the Feb 6 bot should have been: settings from :func:`safetrade.load_settings`, live
start-up gated on a valid certification of the code it runs, size from the exchange's free
balance, every order through the guard, every fill through the protector, and after a restart
its positions (and their one-cancels-the-other) taken back from the exchange. Bot authors can
copy it; certification binds to its files (``bot_package="safetrade.reference_bot"``).
"""

from __future__ import annotations

from safetrade.reference_bot.bot import ReferenceBot, Sync, TradeResult

__all__ = ["ReferenceBot", "Sync", "TradeResult"]
