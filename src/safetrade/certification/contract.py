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

The four calls are synchronous. A bot written with ``ccxt.async_support`` takes its client from
``context.new_async_exchange()`` (a real ``ccxt.async_support.kucoin`` over a loopback HTTP
server of the same fake: the same records, judges and injected faults as the sync client) and
runs its coroutines inside each call, in one event loop it owns::

    def start(self):
        ...  # settings, then the live-mode require_valid, before any request
        self.loop = asyncio.new_event_loop()
        self.exchange = context.new_async_exchange()
        self.loop.run_until_complete(self.bot.connect(self.exchange))

    def tick(self):
        self.loop.run_until_complete(self.bot.loop_once())

    def stop(self):
        self.loop.run_until_complete(self.exchange.close())
        self.loop.close()

A ccxt async client binds to the loop of its first request, so ``asyncio.run`` in each call
needs a new client per call (closed in it). Retries wait with ``context.sleep`` (it returns at
once), not ``asyncio.sleep``. A bot that builds its own async client points every API group at
``context.access.loopback_url()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from safetrade.errors import BotContractError
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


def _no_loopback() -> str:
    raise BotContractError(
        "this context serves no loopback fake KuCoin",
        fix="use context.exchange (sync ccxt) or context.access.session",
    )


def _no_async_exchange(**config: object) -> Any:  # noqa: ANN401 - ccxt is untyped
    raise BotContractError(
        "this context offers no ccxt.async_support client",
        fix="use context.exchange or context.new_exchange (sync ccxt)",
    )


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
            real host names are kept, so nothing else needs overriding. Sync clients only:
            ``ccxt.async_support`` speaks aiohttp, not requests (use ``loopback_url``).
        loopback_url: Returns the fake's base URL over real HTTP on 127.0.0.1
            (``http://127.0.0.1:PORT``), for a client that cannot take a requests session
            (``ccxt.async_support``, aiohttp, httpx): point every API group at it
            (``client.urls["api"] = dict.fromkeys(client.urls["api"], url)``). It answers
            KuCoin's routes only, records into the same fake the judges read and takes the
            scenario's faults (a lost answer or timeout is a hang-up: ccxt ``NetworkError``).
            The server starts on the first call and stops at the scenario's end.
    """

    api_key: str
    api_secret: str = attrs.field(repr=False)
    api_passphrase: str = attrs.field(repr=False)
    session: Any = attrs.field(repr=False)
    loopback_url: Callable[[], str] = attrs.field(default=_no_loopback, repr=False)


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
        new_async_exchange: Makes a real, unmodified ``ccxt.async_support.kucoin`` wired to
            the same fake over ``access.loopback_url()`` (keyword arguments are ccxt
            constructor settings). Use it in one event loop the bot owns and ``await
            exchange.close()`` in ``stop``; one left open (after a crash) is closed at the
            scenario's end in its loop, and that loop then too. See the module docstring.
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
    new_async_exchange: Callable[..., Any] = attrs.field(default=_no_async_exchange)


@runtime_checkable
class CertifiableBot(Protocol):
    """The four calls the conformance scenarios make.

    They are synchronous: an async bot runs its coroutines inside each call (see the module
    docstring).

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
