"""Helpers shared by the step modules and the feature test modules: records, bot start-up."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from safetrade.alerts import Alert
from safetrade.builder import OrderPurpose
from safetrade.config import Settings, load_settings
from safetrade.errors import SafetradeError
from safetrade.gateway import Gateway
from safetrade.killswitch import KillSwitch
from safetrade.protector import Flattened, Halted, Protected
from safetrade.reference_bot.bot import BOT_PACKAGE as REFERENCE_BOT_PACKAGE
from safetrade.reference_bot.bot import ReferenceBot
from safetrade.retry import RetryPolicy
from safetrade.testing import FakeKucoin

#: The moment of the first live trade; certification and start-up use it, never the wall clock.
INCIDENT_TIME = datetime(2026, 2, 6, 12, 39, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=3, backoff=(0.0,))
ORDER_ENDPOINTS = ("create_order", "create_stop_order")
#: The market the bot trades unless a step chose another one.
SYMBOL = "SOL/USDT"

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def no_sleep(_seconds: float) -> None:
    """Retries never wait in the suite."""


# --------------------------------------------------------------------------- exchange records


def bodies(exchange: FakeKucoin, endpoint: str) -> list[dict[str, Any]]:
    """JSON bodies of every recorded request to ``endpoint``, oldest first."""
    return [dict(r.body or {}) for r in exchange.requests if r.endpoint == endpoint]  # type: ignore[call-overload]


def stop_orders(exchange: FakeKucoin, kind: str, status: str | None = None) -> list[Any]:
    """Stop orders of ``kind`` (``loss``/``entry``) on the exchange, optionally by status."""
    return [
        s
        for s in exchange.stop_orders.values()
        if s.stop == kind and (status is None or s.status == status)
    ]


def live_stops(exchange: FakeKucoin) -> list[Any]:
    """Stop orders of any kind still live (untriggered, uncancelled) on the exchange."""
    return [s for s in exchange.stop_orders.values() if s.status == "NEW"]


def live_stop_ids(exchange: FakeKucoin) -> set[str]:
    return {s.id for s in live_stops(exchange)}


def order_requests(exchange: FakeKucoin) -> list[str]:
    """Endpoints of every order-creating request the exchange received."""
    return [r.endpoint for r in exchange.requests if r.endpoint in ORDER_ENDPOINTS]


def numbers_in(text: str) -> set[Decimal]:
    """Every decimal number written in ``text`` (``123`` and ``123.0`` compare equal)."""
    return {Decimal(n) for n in _NUMBER.findall(text)}


def numbers_sent(value: object) -> list[Decimal]:
    """Every number in a request body or query, at any depth, as text or as a JSON number."""
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in numbers_sent(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in numbers_sent(v)]
    if isinstance(value, str):
        return [Decimal(value)] if _NUMBER.fullmatch(value.strip()) else []
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return []
    return [Decimal(str(value))]


def base_of(symbol: str) -> str:
    return symbol.replace("-", "/").partition("/")[0]


def parse_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (a docstring) into a mapping; blank and ``#`` lines skipped."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def assert_protected(outcome: Protected | Flattened | Halted, exchange: FakeKucoin) -> None:
    """The exchange itself holds one live stop-loss (and take-profit) for the filled amount."""
    assert isinstance(outcome, Protected), outcome
    filled = outcome.fill.amount
    base = outcome.fill.symbol.partition("/")[0]
    losses = stop_orders(exchange, "loss", "NEW")
    assert [(s.side, s.size, s.type) for s in losses] == [("sell", filled, "market")]
    assert losses[0].id == outcome.stop_loss.order_id
    if outcome.take_profit is not None:
        targets = stop_orders(exchange, "entry", "NEW")
        assert [(s.side, s.size) for s in targets] == [("sell", filled)]
    assert exchange.balance(base).available >= filled


# --------------------------------------------------------------------------- scenario state


class OidCounter:
    """Deterministic client order ids, with a hook run before each one is handed out.

    The bot makes every client order id with it (``ReferenceBot(new_oid=...)``): entries are
    ``st-entry-<n>``, protective orders ``st-stop-loss-<n>`` and so on. ``hooks[purpose]`` runs
    right before the id of the next order of that purpose is made, i.e. right before that order
    is built and sent: a fault armed there hits exactly that order.
    """

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self.hooks: dict[OrderPurpose, Callable[[], None]] = {}

    def __call__(self, purpose: OrderPurpose) -> str:
        hook = self.hooks.pop(purpose, None)
        if hook is not None:
            hook()
        return f"st-{purpose.value}-{next(self._count)}"


@dataclass
class Startup:
    """What starting the reference bot did."""

    bot: ReferenceBot | None
    error: SafetradeError | None
    gateway_factory_calls: int
    settings: Settings | None


@dataclass
class Trading:
    """Mutable odds and ends of one scenario that are not worth a fixture each."""

    alerts: list[Alert] = field(default_factory=list)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    dotenv: Path | None = None
    oids: OidCounter = field(default_factory=OidCounter)
    symbol: str = SYMBOL


# --------------------------------------------------------------------------- the bot


def gateway_for(exchange: FakeKucoin, settings: Settings | None = None) -> Gateway:
    """A gateway over the real ccxt.kucoin bridged to ``exchange``.

    Live settings bring their own credentials (they must match the exchange's); paper settings
    without credentials use the fake's test credentials.
    """
    config: dict[str, object] = {}
    if settings is not None and settings.api_key:
        config = {
            "apiKey": settings.api_key,
            "secret": settings.api_secret,
            "password": settings.api_passphrase,
        }
    return Gateway(exchange.ccxt_client(**config))


def launch_bot(
    settings: Settings | None,
    gateway_factory: Callable[[], Gateway],
    trading: Trading,
    *,
    now: datetime,
    symbol: str | None = None,
) -> ReferenceBot:
    """``ReferenceBot.start`` wired to the scenario: its alerts, kill switch and order ids.

    Sharing ``trading.oids`` across a restart keeps client order ids unique across the two
    processes, as random ids would be.
    """
    return ReferenceBot.start(
        settings,
        gateway_factory,
        symbol=trading.symbol if symbol is None else symbol,
        bot_package=REFERENCE_BOT_PACKAGE,
        now=now,
        sleep=no_sleep,
        alert=trading.alerts.append,
        kill_switch=trading.kill_switch,
        retry=FAST_RETRY,
        new_oid=trading.oids,
    )


def start_bot(
    exchange: FakeKucoin, env: Mapping[str, str], trading: Trading, *, now: datetime
) -> Startup:
    """Load settings from ``env`` (and the scenario's .env), then start the reference bot.

    The bot trades ``trading.symbol`` (SOL/USDT unless a step chose another market).
    """
    calls = 0

    def factory() -> Gateway:
        nonlocal calls
        calls += 1
        return gateway_for(exchange, settings)

    settings: Settings | None = None
    try:
        settings = load_settings(env=env, dotenv_path=trading.dotenv)
        bot = launch_bot(settings, factory, trading, now=now)
    except SafetradeError as exc:
        return Startup(None, exc, calls, settings)
    return Startup(bot, None, calls, settings)


def restart_bot(startup: Startup, exchange: FakeKucoin, trading: Trading, *, now: datetime) -> None:
    """Start a new bot process with the scenario's settings in place of ``startup.bot``.

    Only what the caller put in ``trading`` survives (its kill switch, alerts and order ids).
    """
    startup.bot = launch_bot(
        startup.settings, lambda: Gateway(exchange.ccxt_client()), trading, now=now, symbol=SYMBOL
    )


def running_bot(startup: Startup) -> ReferenceBot:
    """The started bot; a scenario whose bot did not start fails here with the reason."""
    assert startup.bot is not None, f"the bot did not start: {startup.error}"
    return startup.bot
