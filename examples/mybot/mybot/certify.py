"""The bot contract for mybot: map the harness's four calls onto the bot (the 15-line adapter).

``start`` loads strict settings from the scenario's env and .env, and in live mode refuses to
run without a valid certification of *this* package ("mybot"). Everything after a strategy's
decision (sizing from the exchange's free balance, rounding to the market's increments, the
guard, the entry, stop-loss + take-profit read back, restart recovery) is safetrade's engine.
"""

from __future__ import annotations

import safetrade as st
from safetrade.certification.contract import BotContext, Signal
from safetrade.reference_bot import ReferenceBot


class MyBot:
    def __init__(self, context: BotContext) -> None:
        self.context = context
        self.engine: ReferenceBot | None = None

    def start(self) -> None:
        settings = st.load_settings(env=self.context.env, dotenv_path=self.context.dotenv_path)
        self.engine = ReferenceBot.start(
            settings,
            lambda: st.Gateway(self.context.exchange),
            symbol=self.context.symbol,
            bot_package="mybot",  # the package live mode must find certified
            now=self.context.clock(),
            sleep=self.context.sleep,
        )

    def on_signal(self, signal: Signal) -> None:
        if self.engine is not None and signal.side is st.PositionSide.LONG:
            self.engine.trade(
                stop_price=signal.stop_loss,
                take_profit_price=signal.take_profit,
                signal_strength=signal.strength,
            )

    def tick(self) -> None:
        if self.engine is not None:
            self.engine.tick()

    def stop(self) -> None:
        self.engine = None


def make_bot(context: BotContext) -> MyBot:
    return MyBot(context)
