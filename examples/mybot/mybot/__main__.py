"""Run mybot: ``python -m mybot`` (or the ``mybot`` console script) from the folder of its .env.

Every ``--interval`` seconds: read the last price, feed the strategy, trade its signal through
safetrade's engine (sized from the exchange's balance, rounded, guarded, protected), and tick
(one-cancels-the-other, bare coins protected). ``TRADING_MODE=paper`` trades on the paper
venue; live mode starts only with a valid certificate of exactly this code (start it with the
certify environment's Python, as certified).
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence

import safetrade as st
from mybot.strategy import MovingAverageCross
from safetrade.reference_bot import ReferenceBot


def main(argv: Sequence[str] | None = None) -> int:
    """Start the bot and loop until interrupted (or ``--ticks`` iterations); 0 on a clean exit."""
    parser = argparse.ArgumentParser(prog="mybot", description=__doc__.splitlines()[0])
    parser.add_argument("--symbol", default="SOL/USDT")
    parser.add_argument("--dotenv", default=".env", help="the settings file (default ./.env)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between loops")
    parser.add_argument("--ticks", type=int, default=0, help="stop after N loops (0: never)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = st.load_settings(dotenv_path=args.dotenv)  # strict: near misses named
    engine = ReferenceBot.start(settings, symbol=args.symbol, bot_package="mybot")
    strategy = MovingAverageCross()
    done = 0
    try:
        while not args.ticks or done < args.ticks:
            try:
                price = engine.gateway.last_price(args.symbol)
            except st.ExchangeError as exc:
                # one failed read must not end the loop: the tick below still watches the
                # open position (one-cancels-the-other, bare coins protected)
                logging.getLogger("mybot").error("no price this loop: %s", exc)
                price = None
            strength = None if price is None else strategy.update(price)
            if price is not None and strength is not None:
                stop, target = strategy.levels(price)
                result = engine.trade(
                    stop_price=stop, take_profit_price=target, signal_strength=strength
                )
                logging.getLogger("mybot").info("%s", result.refusal or result.outcome)
            engine.tick()
            done += 1
            if not args.ticks or done < args.ticks:
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        engine.kill_switch.release_instance_lock()
        if engine.paper is not None:
            engine.paper.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
