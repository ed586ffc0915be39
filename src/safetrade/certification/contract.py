"""The bot contract: how the certification harness runs *your* bot through the incident.

A bot is certified by what it does, not by what it imports. The harness builds the bot once per
conformance scenario with :class:`BotContext` (its configuration exactly as the scenario writes
it, an exchange wired to the fake KuCoin, a clock, a sleep and a working folder), then drives it
through the four calls of :class:`CertifiableBot` and judges it only by what the exchange saw and
by whether start-up was refused.

A bot offers the contract with a factory, ``make_bot(context) -> CertifiableBot``, named in its
own ``pyproject.toml``::

    [project.entry-points."safetrade.bots"]
    mybot = "mybot.certify:make_bot"

or on the command line as ``--bot mybot.certify:make_bot``. The factory must not touch the
exchange; ``start`` may (after its live-mode certification check).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from safetrade.rounder import PositionSide

__all__ = [
    "ENTRY_POINT_GROUP",
    "BotContext",
    "BotFactory",
    "CertifiableBot",
    "ExchangeAccess",
    "Signal",
]

#: The entry-point group a bot's ``pyproject.toml`` names its factory in.
ENTRY_POINT_GROUP = "safetrade.bots"


@attrs.frozen(kw_only=True)
class Signal:
    """The decision a strategy makes; the bot does everything after it.

    Sizing, rounding, the orders, their protection and every refusal are the bot's job: the
    prices here are the strategy's raw levels (the incident's take-profit was 90.1353 on a
    0.01 tick), never pre-rounded for the bot.

    Attributes:
        symbol: The market, e.g. ``"SOL/USDT"``.
        side: ``PositionSide.LONG`` (the conformance scenarios are long-only spot).
        strength: Signal strength in [0, 1]; compare it with MIN_SIGNAL_STRENGTH.
        entry_price: The price the strategy saw when it decided.
        stop_loss: The strategy's stop-loss level.
        take_profit: The strategy's take-profit level, or None.
    """

    symbol: str
    side: PositionSide
    strength: Decimal
    entry_price: Decimal
    stop_loss: Decimal
    take_profit: Decimal | None


@attrs.frozen(kw_only=True)
class ExchangeAccess:
    """What a bot that builds its own ccxt client needs to reach the fake KuCoin.

    Attributes:
        api_key: The API key the fake accepts (also in the scenario's environment when the
            scenario puts it there).
        api_secret: Its secret.
        api_passphrase: Its passphrase.
        session: A ``requests.Session`` bridged in-process to the fake: pass it as ccxt's
            ``session`` option (``ccxt.kucoin({"session": access.session, ...})``). KuCoin's
            real host names are kept, so nothing else needs overriding.
    """

    api_key: str
    api_secret: str = attrs.field(repr=False)
    api_passphrase: str = attrs.field(repr=False)
    session: Any = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class BotContext:
    """Everything the harness gives a bot for one scenario.

    Attributes:
        env: The process environment the bot must read instead of ``os.environ`` (API keys,
            ``SAFETRADE_CERTIFICATE``, ``SAFETRADE_TRUSTED_KEYS``, ``SAFETRADE_KILL_SWITCH_FILE``
            and whatever else the scenario sets), exactly as the scenario writes it.
        dotenv_path: The scenario's ``.env`` file (trading settings such as TRADING_MODE,
            ACCOUNT_BALANCE_USD, RISK_PERCENT, MAX_OPEN_POSITIONS), or None. Wrong and
            near-miss keys are deliberate: that is what the scenario tests.
        exchange: A real, unmodified ``ccxt.kucoin`` already wired to the fake KuCoin.
        access: Credentials and session for bots that build their own ccxt client.
        new_exchange: Makes another ``ccxt.kucoin`` wired to the fake (keyword arguments are
            ccxt constructor settings).
        symbol: The market the scenario trades, e.g. ``"SOL/USDT"``.
        workdir: An empty folder of this scenario for state and kill-switch files.
        clock: The scenario's current time (timezone-aware UTC); pass it as ``now`` to
            :func:`safetrade.certification.require_valid`.
        sleep: Wait this many seconds (the harness does not really wait); use it for retries.
    """

    env: Mapping[str, str]
    dotenv_path: Path | None
    exchange: Any
    access: ExchangeAccess
    new_exchange: Callable[..., Any]
    symbol: str
    workdir: Path
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]


@runtime_checkable
class CertifiableBot(Protocol):
    """The four calls the conformance scenarios make.

    ``start`` raising any exception means start-up was refused (the scenario then checks that
    nothing reached the exchange). ``on_signal`` and ``tick`` may raise too; the harness notes
    the exception and goes on judging what the exchange saw.
    """

    def start(self) -> None:
        """Load settings, check certification in live mode, connect, recover open positions."""

    def on_signal(self, signal: Signal) -> None:
        """Act on a strategy's decision: size, round, check, enter and protect (or refuse)."""

    def tick(self) -> None:
        """One iteration of the bot's loop (watch protective orders, protect bare coins)."""

    def stop(self) -> None:
        """Shut down (the harness calls it at the end of every scenario that started)."""


#: ``make_bot(context)``: what a bot's entry point names.
BotFactory = Callable[[BotContext], CertifiableBot]
