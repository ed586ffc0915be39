"""The reference bot behind the bot contract (``safetrade.certification.contract``).

This is the adapter a bot author writes for their own bot: map the harness's context to the
bot's own start-up, and the four calls to the bot's own methods. It is found through the
``safetrade.bots`` entry point ``reference`` of safetrade's own ``pyproject.toml``.
"""

from __future__ import annotations

import logging

from safetrade.certification.contract import BotContext, Signal
from safetrade.config import load_settings
from safetrade.gateway import Gateway
from safetrade.reference_bot.bot import BOT_PACKAGE, ReferenceBot
from safetrade.rounder import PositionSide

__all__ = ["CertifiableReferenceBot", "make_bot"]

log = logging.getLogger("safetrade.reference_bot")


class CertifiableReferenceBot:
    """:class:`ReferenceBot` offering ``start`` / ``on_signal`` / ``tick`` / ``stop``."""

    def __init__(self, context: BotContext) -> None:
        self._context = context
        self._bot: ReferenceBot | None = None

    def start(self) -> None:
        """Strict settings, the live-mode gate before any connection, then sync."""
        context = self._context
        settings = load_settings(env=context.env, dotenv_path=context.dotenv_path)
        self._bot = ReferenceBot.start(
            settings,
            lambda: Gateway(context.exchange),
            symbol=context.symbol,
            bot_package=BOT_PACKAGE,
            now=context.clock(),
            sleep=context.sleep,
        )

    def on_signal(self, signal: Signal) -> None:
        """Trade a long signal on the bot's own market; refuse anything else."""
        bot = self._running()
        if signal.symbol != bot.symbol or signal.side is not PositionSide.LONG:
            log.error("signal for %s %s refused: this bot trades %s long only",
                      signal.side, signal.symbol, bot.symbol)  # fmt: skip
            return
        bot.trade(
            stop_price=signal.stop_loss,
            take_profit_price=signal.take_profit,
            signal_strength=signal.strength,
        )

    def tick(self) -> None:
        """One-cancels-the-other and bare-position recovery."""
        self._running().tick()

    def stop(self) -> None:
        """Release the instance lock; the reference bot keeps its state on the exchange."""
        if self._bot is not None:
            self._bot.kill_switch.release_instance_lock()
        self._bot = None

    def _running(self) -> ReferenceBot:
        if self._bot is None:
            raise RuntimeError("the reference bot was not started (call start() first)")
        return self._bot


def make_bot(context: BotContext) -> CertifiableReferenceBot:
    """The reference bot's factory for the certification harness."""
    return CertifiableReferenceBot(context)
