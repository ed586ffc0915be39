"""Shared steps and fixtures of the certification suite.

Every scenario drives the real, unmodified ``ccxt.kucoin`` client against the fake KuCoin
(``safetrade.testing.FakeKucoin``) in-process. Nothing in safetrade is mocked: the steps call
the reference bot, the gateway, the guard and the protector, and the Thens read the exchange's
own state and the requests it recorded.

Conventions: money is parsed as ``Decimal`` (the ``Dec`` type below, never ``{x:f}``), waits
go through a no-op sleeper, retries use ``RetryPolicy(attempts=3, backoff=(0.0,))``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_bdd import given, parsers, then, when

from safetrade.alerts import Alert
from safetrade.builder import OrderPurpose, TradePlan, entry_order, plan_trade
from safetrade.certification.conformance.mint import mint_certificate
from safetrade.certification.digest import sha256_hex
from safetrade.certification.evidence import (
    apply_tag,
)
from safetrade.certification.provenance import measure_running_code
from safetrade.config import Settings, load_settings
from safetrade.errors import SafetradeError
from safetrade.gateway import Gateway
from safetrade.guard import AccountState, Decision, GuardLimits, check
from safetrade.killswitch import KillSwitch
from safetrade.protector import Flattened, Halted, Protected, RetryPolicy
from safetrade.reference_bot import bot as reference_bot
from safetrade.reference_bot.bot import BOT_PACKAGE as REFERENCE_BOT_PACKAGE
from safetrade.reference_bot.bot import ReferenceBot, TradeResult
from safetrade.rounder import PositionSide, round_amount
from safetrade.testing import (
    BTC_USDT,
    SOL_USDT,
    TEST_API_KEY,
    TEST_API_SECRET,
    TEST_PASSPHRASE,
    FakeKucoin,
    Fault,
    FillPolicy,
    MarketRules,
)


def pytest_bdd_apply_tag(tag, function):
    return apply_tag(tag, function)


# --------------------------------------------------------------------------- parsing


def _decimal(text: str) -> Decimal:
    return Decimal(text)


_decimal.pattern = r"-?\d+(?:\.\d+)?"  # type: ignore[attr-defined]


def _word(text: str) -> str:
    return text


_word.pattern = r"[A-Za-z0-9_/.:-]+"  # type: ignore[attr-defined]

TYPES = {"Dec": _decimal, "Word": _word}


def parse(text: str) -> parsers.parse:
    """``parsers.parse`` with the ``Dec`` (Decimal) and ``Word`` types."""
    return parsers.parse(text, extra_types=TYPES)


# --------------------------------------------------------------------------- constants

#: The moment of the first live trade; certification and start-up use it, never the wall clock.
INCIDENT_TIME = datetime(2026, 2, 6, 12, 39, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=3, backoff=(0.0,))
ORDER_ENDPOINTS = ("create_order", "create_stop_order")


def no_sleep(_seconds: float) -> None:
    """Retries never wait in the suite."""


# --------------------------------------------------------------------------- helpers


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


def order_requests(exchange: FakeKucoin) -> list[str]:
    """Endpoints of every order-creating request the exchange received."""
    return [r.endpoint for r in exchange.requests if r.endpoint in ORDER_ENDPOINTS]


def parse_env(text: str) -> dict[str, str]:
    """``KEY=VALUE`` lines (a docstring) into a mapping; blank and ``#`` lines skipped."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


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
class Certificate:
    """A signed artifact and the file of keys trusted to verify it."""

    artifact: Path
    trusted_keys: Path
    altered_file: str | None = None


@dataclass
class Trading:
    """Mutable odds and ends of one scenario that are not worth a fixture each."""

    alerts: list[Alert] = field(default_factory=list)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    dotenv: Path | None = None
    oids: OidCounter = field(default_factory=OidCounter)
    symbol: str = "SOL/USDT"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def trading() -> Trading:
    return Trading()


@pytest.fixture
def env() -> dict[str, str]:
    """The process environment the bot sees (never ``os.environ``)."""
    return {}


def _open_exchange(
    request: pytest.FixtureRequest, usdt: Decimal, policy: FillPolicy | None = None
) -> FakeKucoin:
    exchange = FakeKucoin(balances={"USDT": usdt}, fill_policy=policy)
    request.addfinalizer(exchange.close)
    return exchange


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


# --------------------------------------------------------------------------- certification


def certify_running_code(
    directory: Path, *, now: datetime, altered_file: tuple[str, str] | None = None
) -> Certificate:
    """Sign an artifact for the code that is running now, with a throwaway key.

    Uses the conformance harness's own scenario-certificate builder (measure, statement,
    DSSE). With ``altered_file=(part, path)`` the artifact instead records ``path`` of ``part``
    (``safetrade`` or ``bot``) as it was *before a one-character edit*: the certified file
    differs from the running one by exactly one character, which is what a hotfix after
    certification leaves.
    """
    running = measure_running_code(reference_bot.__name__.rpartition(".")[0])
    if altered_file is not None:
        part, rel = altered_file
        root = Path(reference_bot.__file__).parent
        if part == "safetrade":
            root = root.parent
        text = (root / rel).read_bytes()
        edited = text.replace(b"=", b"!", 1)  # one character, a real code change
        assert edited != text
        files = dict(running.safetrade_files if part == "safetrade" else running.bot_files)
        assert rel in files, f"{rel} is not part of the {part} tree"
        files[rel] = sha256_hex(edited)
        changes = {"safetrade_files": files} if part == "safetrade" else {"bot_files": files}
        running = attrs.evolve(running, **changes)
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    minted = mint_certificate(directory, running=running, now=now, private_key=private)
    return Certificate(
        minted.artifact, minted.trusted_keys, None if altered_file is None else altered_file[1]
    )


# --------------------------------------------------------------------------- Given


@given(parse("a KuCoin account with {usdt:Dec} USDT free"), target_fixture="exchange")
def account(request: pytest.FixtureRequest, usdt: Decimal) -> FakeKucoin:
    return _open_exchange(request, usdt)


@given(
    parse(
        "a KuCoin account with {usdt:Dec} USDT free that fills market orders only up to "
        "what the balance pays for"
    ),
    target_fixture="exchange",
)
def account_filling_up_to_balance(request: pytest.FixtureRequest, usdt: Decimal) -> FakeKucoin:
    return _open_exchange(request, usdt, FillPolicy.available_balance())


@given(
    parse(
        "a KuCoin account with {usdt:Dec} USDT free that fills only {fraction:Dec} of each "
        "market order"
    ),
    target_fixture="exchange",
)
def account_filling_partly(
    request: pytest.FixtureRequest, usdt: Decimal, fraction: Decimal
) -> FakeKucoin:
    return _open_exchange(request, usdt, FillPolicy.partial(fraction))


@given(parse("{symbol:Word} last traded at {price:Dec}"))
def last_traded(exchange: FakeKucoin, symbol: str, price: Decimal) -> None:
    exchange.set_price(symbol, price)


@given(
    parse(
        "KuCoin lists {symbol:Word} with price tick {tick:Dec}, size step {step:Dec} and "
        "minimum order value {min_funds:Dec} USDT"
    )
)
def market_listed(
    exchange: FakeKucoin, symbol: str, tick: Decimal, step: Decimal, min_funds: Decimal
) -> None:
    exchange.add_market(
        MarketRules(
            symbol.replace("/", "-"),
            price_increment=tick,
            base_increment=step,
            base_min_size=step,
            min_funds=min_funds,
        )
    )


@given("the environment:")
def environment(env: dict[str, str], docstring: str) -> None:
    env.update(parse_env(docstring))


@given("a .env file:")
def dotenv_file(trading: Trading, tmp_path: Path, docstring: str) -> None:
    path = tmp_path / ".env"
    path.write_text(docstring + "\n", encoding="utf-8")
    trading.dotenv = path


@given("a valid certification of the running code, signed by a trusted key")
def valid_certification(env: dict[str, str], tmp_path: Path) -> Certificate:
    cert = certify_running_code(tmp_path / "cert", now=INCIDENT_TIME)
    env["SAFETRADE_CERTIFICATE"] = str(cert.artifact)
    env["SAFETRADE_TRUSTED_KEYS"] = str(cert.trusted_keys)
    return cert


# --------------------------------------------------------------------------- When


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
        bot = ReferenceBot.start(
            settings,
            factory,
            symbol=trading.symbol,
            bot_package=REFERENCE_BOT_PACKAGE,
            now=now,
            sleep=no_sleep,
            alert=trading.alerts.append,
            kill_switch=trading.kill_switch,
            retry=FAST_RETRY,
            new_oid=trading.oids,
        )
    except SafetradeError as exc:
        return Startup(None, exc, calls, settings)
    return Startup(bot, None, calls, settings)


@when("the bot starts", target_fixture="startup")
@given("the bot has started", target_fixture="startup")
def bot_starts(exchange: FakeKucoin, env: dict[str, str], trading: Trading) -> Startup:
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(minutes=1))


def _trade(startup: Startup, stop: Decimal, target: Decimal | None, signal: Decimal | None):
    assert startup.bot is not None, f"the bot did not start: {startup.error}"
    return startup.bot.trade(stop_price=stop, take_profit_price=target, signal_strength=signal)


@when(
    parse(
        "the bot buys SOL/USDT with a stop-loss at {stop:Dec} and a take-profit at "
        "{target:Dec} on a signal of {signal:Dec}"
    ),
    target_fixture="trade",
)
@given(
    parse(
        "the bot has bought SOL/USDT with a stop-loss at {stop:Dec} and a take-profit at "
        "{target:Dec} on a signal of {signal:Dec}"
    ),
    target_fixture="trade",
)
def bot_buys(startup: Startup, stop: Decimal, target: Decimal, signal: Decimal) -> TradeResult:
    return _trade(startup, stop, target, signal)


@when(
    parse("the bot buys SOL/USDT with a stop-loss at {stop:Dec} and a take-profit at {target:Dec}"),
    target_fixture="trade",
)
def bot_buys_without_signal(startup: Startup, stop: Decimal, target: Decimal) -> TradeResult:
    return _trade(startup, stop, target, None)


@when("the price collar has a reference price")
def _unused() -> None:  # pragma: no cover - placeholder never matched
    raise AssertionError


# --------------------------------------------------------------------------- Then


@then("start-up is refused")
def startup_refused(startup: Startup) -> None:
    assert startup.bot is None
    assert startup.error is not None


@then(parse('the refusal says "{text}"'))
def refusal_says(startup: Startup, text: str) -> None:
    assert startup.error is not None
    assert text in str(startup.error), str(startup.error)


@then("the bot never connected to the exchange")
def never_connected(startup: Startup, exchange: FakeKucoin) -> None:
    assert startup.gateway_factory_calls == 0
    assert exchange.requests == (), exchange.endpoints_called()


@then("the bot started and connected to the exchange once")
def started(startup: Startup) -> None:
    assert startup.error is None, str(startup.error)
    assert startup.bot is not None
    assert startup.gateway_factory_calls == 1


@then("the trade is refused before anything is sent")
def trade_refused(trade: TradeResult, exchange: FakeKucoin) -> None:
    assert not trade.sent
    assert trade.refusal
    assert order_requests(exchange) == []
    assert exchange.orders == {}
    assert exchange.stop_orders == {}


@then("nothing was sent to KuCoin for that trade")
def nothing_sent_for_trade(trade: TradeResult, exchange: FakeKucoin) -> None:
    """For a refusal while other positions exist: no request carried this trade's entry id."""
    assert not trade.sent
    assert trade.plan is not None, trade.refusal
    oid = trade.plan.entry.client_oid
    sent = [b for b in bodies(exchange, "create_order") if b.get("clientOid") == oid]
    assert sent == [], sent
    assert all(o.client_oid != oid for o in exchange.orders.values())


@then(parse('the trade refusal names "{text}"'))
def trade_refusal_names(trade: TradeResult, text: str) -> None:
    assert trade.refusal is not None
    assert text in trade.refusal, trade.refusal


@then(parse('the guard refused it by "{controls}"'))
def guard_refused_by(trade: TradeResult, controls: str) -> None:
    assert trade.decision is not None
    expected = tuple(c.strip() for c in controls.split(","))
    assert trade.decision.failed_controls == expected, trade.decision.reasons


@then("the position is protected on the exchange")
def position_protected(trade: TradeResult, exchange: FakeKucoin) -> None:
    assert isinstance(trade.outcome, Protected), trade.outcome
    assert_protected(trade.outcome, exchange)


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


@then(parse("the entry sent to KuCoin is worth at most {usdt:Dec} USDT"))
def entry_worth_at_most(exchange: FakeKucoin, usdt: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    price = exchange.price(entries[0]["symbol"])
    assert price is not None
    assert Decimal(entries[0]["size"]) * price <= usdt


# --------------------------------------------------------------------------- incident steps
#
# Steps of the February 6 replays (wrong_env_key, stop_loss_params, price_increment,
# oversize_position, code_binding). Added after the shared steps above; none renames them.

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def numbers_in(text: str) -> set[Decimal]:
    """Every decimal number written in ``text`` (``123`` and ``123.0`` compare equal)."""
    return {Decimal(n) for n in _NUMBER.findall(text)}


def base_of(symbol: str) -> str:
    return symbol.replace("-", "/").partition("/")[0]


@dataclass
class RawCall:
    """A request sent straight through the real ccxt client, bypassing safetrade."""

    result: Any = None
    error: Exception | None = None


@dataclass
class Guarded:
    """A plan, the guard's decision on it, and whether it was sent."""

    plan: TradePlan
    decision: Decision
    sent: bool


@given("the bot's KuCoin API keys are in the environment")
def api_keys(env: dict[str, str]) -> None:
    env.update(
        {
            "KUCOIN_API_KEY": TEST_API_KEY,
            "KUCOIN_API_SECRET": TEST_API_SECRET,
            "KUCOIN_API_PASSPHRASE": TEST_PASSPHRASE,
        }
    )


@given(
    parse(
        "KuCoin lists {symbol:Word} with price tick {tick:Dec}, size step {step:Dec}, "
        "minimum size {min_size:Dec} and minimum order value {min_funds:Dec} USDT"
    )
)
def market_listed_with_min_size(  # noqa: PLR0917 - one argument per step value
    exchange: FakeKucoin,
    symbol: str,
    tick: Decimal,
    step: Decimal,
    min_size: Decimal,
    min_funds: Decimal,
) -> None:
    exchange.add_market(
        MarketRules(
            symbol.replace("/", "-"),
            price_increment=tick,
            base_increment=step,
            base_min_size=min_size,
            min_funds=min_funds,
        )
    )


@given(parse("the bot trading {symbol:Word} has started"), target_fixture="startup")
def bot_trading_symbol_started(
    exchange: FakeKucoin, env: dict[str, str], trading: Trading, symbol: str
) -> Startup:
    trading.symbol = symbol
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(minutes=1))


@given(
    parse(
        "a certification signed by a trusted key, taken before a one-character change to "
        '{part:Word} file "{path}"'
    )
)
def certification_before_change(
    env: dict[str, str], tmp_path: Path, part: str, path: str
) -> Certificate:
    cert = certify_running_code(tmp_path / "cert", now=INCIDENT_TIME, altered_file=(part, path))
    env["SAFETRADE_CERTIFICATE"] = str(cert.artifact)
    env["SAFETRADE_TRUSTED_KEYS"] = str(cert.trusted_keys)
    return cert


@given("the bot has loaded KuCoin's markets")
def markets_loaded(startup: Startup, trading: Trading) -> None:
    assert startup.bot is not None, f"the bot did not start: {startup.error}"
    startup.bot.gateway.load_market(trading.symbol)


@given(parse("KuCoin then changes {symbol:Word}'s price tick to {tick:Dec}"))
def tick_changed(exchange: FakeKucoin, symbol: str, tick: Decimal) -> None:
    kucoin = symbol.replace("/", "-")
    rules = next(m for m in (SOL_USDT, BTC_USDT) if m.symbol == kucoin)
    exchange.add_market(attrs.evolve(rules, price_increment=tick))


@given(parse('KuCoin rejects the next {times:d} stop orders with {code:Word} "{message}"'))
def stop_orders_rejected(exchange: FakeKucoin, times: int, code: str, message: str) -> None:
    exchange.inject("create_stop_order", Fault.reject(code, message), times=times)


@given(parse("KuCoin answers the next {times:d} stop-order listings with a server error"))
def stop_listing_fails(exchange: FakeKucoin, times: int) -> None:
    exchange.inject("list_stop_orders", Fault.SERVER_ERROR, times=times)


@given(
    parse(
        "a plan to buy {amount:Dec} SOL at {price:Dec} with a stop-loss at {stop:Dec}, "
        "sized as if the account held {balance:Dec} USDT"
    ),
    target_fixture="oversized_plan",
)
def oversized_plan(
    exchange: FakeKucoin, amount: Decimal, price: Decimal, stop: Decimal, balance: Decimal
) -> TradePlan:
    """The incident's executor: sized from a balance the account does not have."""
    market = gateway_for(exchange).load_market("SOL/USDT")
    plan = plan_trade(
        market,
        side=PositionSide.LONG,
        free_balance=balance,
        entry_price=price,
        stop_price=stop,
        risk_percent=Decimal(1),
        max_order_value=amount * price,
        client_oid="st-entry-incident",
    )
    assert plan.entry.amount == amount, plan.size.explain()
    return plan


# --------------------------------------------------------------------------- incident When


@when(
    parse("the bot buys with a stop-loss at {stop:Dec} and a take-profit at {target:Dec}"),
    target_fixture="trade",
)
def bot_buys_its_market(startup: Startup, stop: Decimal, target: Decimal) -> TradeResult:
    return _trade(startup, stop, target, None)


@when(
    parse("the bot starts {days:d} days after it was certified"),
    target_fixture="startup",
)
def bot_starts_later(
    exchange: FakeKucoin, env: dict[str, str], trading: Trading, days: int
) -> Startup:
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(days=days))


@when(
    "the pre-trade checks run on it against the account, and it is sent only if they pass",
    target_fixture="guarded",
)
def guard_then_send(exchange: FakeKucoin, oversized_plan: TradePlan) -> Guarded:
    gateway = gateway_for(exchange)
    account = AccountState(
        free_quote=gateway.free_balance("USDT"),
        configured_balance=None,
        last_price=gateway.last_price("SOL/USDT"),
        open_positions=0,
        kill_switch_reason=None,
        open_position_value=Decimal(0),
    )
    limits = GuardLimits(risk_percent=Decimal(1), max_open_positions=1)
    decision = check(oversized_plan, account, limits)
    if decision.allowed:
        gateway.submit_unguarded(oversized_plan.entry)
    return Guarded(oversized_plan, decision, decision.allowed)


def _raw(call: Callable[[Any], Any], exchange: FakeKucoin) -> RawCall:
    client = exchange.ccxt_client()
    client.load_markets()
    try:
        return RawCall(result=call(client))
    except Exception as exc:  # noqa: BLE001 - the Then step inspects whatever ccxt raised
        return RawCall(error=exc)


@when(
    parse(
        "a take-profit stop order selling {size:Dec} {symbol:Word} at {price:Dec} is sent "
        "to KuCoin as is, through ccxt's raw API"
    ),
    target_fixture="raw",
)
def raw_take_profit(exchange: FakeKucoin, size: Decimal, symbol: str, price: Decimal) -> RawCall:
    body = {
        "clientOid": "raw-take-profit-1",
        "side": "sell",
        "symbol": symbol.replace("/", "-"),
        "type": "market",
        "size": str(size),
        "stopPrice": str(price),
        "stop": "entry",
    }
    return _raw(lambda client: client.private_post_stop_order(body), exchange)


@when(
    parse(
        "a market order buying {size:Dec} {symbol:Word} is sent to KuCoin as is, "
        "through ccxt's raw API"
    ),
    target_fixture="raw",
)
def raw_size(exchange: FakeKucoin, size: Decimal, symbol: str) -> RawCall:
    body = {
        "clientOid": "raw-entry-1",
        "side": "buy",
        "symbol": symbol.replace("/", "-"),
        "type": "market",
        "size": str(size),
    }
    return _raw(lambda client: client.private_post_orders(body), exchange)


@when(
    parse(
        'the incident\'s hot-fixed stop-loss call is made through ccxt: a "limit" sell of '
        '{size:Dec} SOL with stop "loss" and stop_price {price:Dec}'
    ),
    target_fixture="raw",
)
def incident_stop_call(exchange: FakeKucoin, size: Decimal, price: Decimal) -> RawCall:
    params = {"stop": "loss", "stop_price": str(price)}
    return _raw(
        lambda client: client.create_order("SOL/USDT", "limit", "sell", str(size), None, params),
        exchange,
    )


@when(
    parse(
        "a stop-loss selling {size:Dec} SOL is sent to KuCoin through ccxt's raw API "
        'with stop "loss" but no stopPrice'
    ),
    target_fixture="raw",
)
def raw_stop_without_price(exchange: FakeKucoin, size: Decimal) -> RawCall:
    body = {
        "clientOid": "raw-stop-loss-1",
        "side": "sell",
        "symbol": "SOL-USDT",
        "type": "market",
        "size": str(size),
        "stop": "loss",
    }
    return _raw(lambda client: client.private_post_stop_order(body), exchange)


# --------------------------------------------------------------------------- incident Then


@then(parse('KuCoin rejects it with {code:Word} "{message}"'))
def kucoin_rejects(raw: RawCall, code: str, message: str) -> None:
    assert raw.error is not None, f"KuCoin accepted it: {raw.result}"
    text = str(raw.error)
    body = json.loads(text[text.index("{") :])
    assert (body["code"], body["msg"]) == (code, message), text


@then("nothing from it is on the exchange")
def nothing_on_exchange(exchange: FakeKucoin) -> None:
    assert exchange.orders == {}
    assert exchange.stop_orders == {}
    assert exchange.fills == ()


@then(parse("the trade refusal shows both {first:Dec} USDT and {second:Dec} USDT"))
def refusal_shows_both(trade: TradeResult, first: Decimal, second: Decimal) -> None:
    assert trade.refusal is not None
    shown = numbers_in(trade.refusal)
    assert {first, second} <= shown, trade.refusal


@then(parse("the bot sized the trade from the exchange's free balance of {usdt:Dec} USDT"))
def sized_from_exchange(trade: TradeResult, usdt: Decimal) -> None:
    assert trade.plan is not None, trade.refusal
    size = trade.plan.size
    assert size.balance_cap is None
    assert size.free_balance == usdt
    assert size.spendable == usdt


@then(parse("the trade risks at most {budget:Dec} USDT at the stop-loss"))
def risks_at_most(trade: TradeResult, exchange: FakeKucoin, budget: Decimal) -> None:
    assert trade.plan is not None, trade.refusal
    assert trade.plan.size.risk_budget == budget, trade.plan.size.explain()
    assert trade.plan.size.risk_amount <= budget, trade.plan.size.explain()
    # and from KuCoin's own records, not the plan: what the buy cost (fee included) minus what
    # the live stop-loss returns when it sells the position at its trigger, after the fee
    (buy,) = [o for o in exchange.orders.values() if o.side == "buy"]
    (loss,) = stop_orders(exchange, "loss", "NEW")
    assert loss.size == buy.deal_size, (loss, buy)
    paid = buy.deal_funds + (buy.fee if buy.fee_currency == "USDT" else Decimal(0))
    returned = loss.size * loss.stop_price * (1 - trade.plan.market.taker_fee)
    assert paid - returned <= budget, (paid, returned, budget)


@then(
    parse(
        'the {purpose} KuCoin received is a market sell stop order with stop "{kind}", '
        "stopPrice {price:Dec}, the filled size and a clientOid"
    )
)
def protective_request(
    trade: TradeResult, exchange: FakeKucoin, purpose: str, kind: str, price: Decimal
) -> None:
    assert isinstance(trade.outcome, Protected), trade.outcome
    sent = [b for b in bodies(exchange, "create_stop_order") if b.get("stop") == kind]
    live = {s.client_oid: s for s in stop_orders(exchange, kind, "NEW")}
    accepted = [b for b in sent if b.get("clientOid") in live]
    assert len(accepted) == 1, sent
    body = accepted[0]
    assert str(body["clientOid"]).startswith(f"st-{purpose}-"), body
    assert body["type"] == "market"
    assert body["side"] == "sell"
    assert body["symbol"] == trade.outcome.fill.symbol.replace("/", "-")
    assert Decimal(body["stopPrice"]) == price, body
    assert Decimal(body["size"]) == trade.outcome.fill.amount, body
    order = live[body["clientOid"]]
    assert (order.stop_price, order.size) == (price, trade.outcome.fill.amount)


def _numbers_sent(value: object) -> list[Decimal]:
    """Every number in a request body or query, at any depth, as text or as a JSON number."""
    if isinstance(value, Mapping):
        return [n for v in value.values() for n in _numbers_sent(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _numbers_sent(v)]
    if isinstance(value, str):
        return [Decimal(value)] if _NUMBER.fullmatch(value.strip()) else []
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        return []
    return [Decimal(str(value))]


@then(parse("no request KuCoin received carried the price {price:Dec}"))
def no_raw_price(exchange: FakeKucoin, price: Decimal) -> None:
    # the fake parses JSON numbers as Decimal: a price sent unquoted must be caught as well
    assert exchange.requests, "KuCoin received nothing to check"
    for request in exchange.requests:
        sent = _numbers_sent(request.body) + _numbers_sent(dict(request.query or {}))
        assert price not in sent, request


@then(parse("the entry size KuCoin received is a whole multiple of {step:Dec}"))
def entry_on_size_grid(exchange: FakeKucoin, step: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    assert Decimal(entries[0]["size"]) % step == 0, entries[0]


@then(parse("the stop-loss on KuCoin triggers at {price:Dec}"))
def stop_loss_at(trade: TradeResult, exchange: FakeKucoin, price: Decimal) -> None:
    assert_protected(trade.outcome, exchange)  # type: ignore[arg-type]
    [stop] = stop_orders(exchange, "loss", "NEW")
    assert stop.stop_price == price, stop


@then(parse("the take-profit on KuCoin triggers at {price:Dec}"))
def take_profit_at(trade: TradeResult, exchange: FakeKucoin, price: Decimal) -> None:
    [target] = stop_orders(exchange, "entry", "NEW")
    assert target.stop_price == price, target


@then(parse('the owner was alerted with KuCoin\'s own message "{message}"'))
def alerted_with(trading: Trading, message: str) -> None:
    found = [a for a in trading.alerts if a.exchange_message and message in a.exchange_message]
    assert found, trading.alerts
    assert all(a.level in ("error", "critical") for a in found)


@then("the position was sold at market and no stop order is left on KuCoin")
def flattened(trade: TradeResult, exchange: FakeKucoin) -> None:
    outcome = trade.outcome
    assert isinstance(outcome, Flattened), outcome
    assert outcome.exit_order is not None
    assert outcome.exit_order.filled == outcome.fill.amount
    assert outcome.exit_order.side == "sell"
    assert exchange.balance(base_of(outcome.fill.symbol)).total == 0
    assert stop_orders(exchange, "loss", "NEW") == []
    assert stop_orders(exchange, "entry", "NEW") == []


@then("the position is never left bare")
def never_bare(trade: TradeResult, exchange: FakeKucoin, trading: Trading) -> None:
    outcome = trade.outcome
    assert outcome is not None, trade
    assert not isinstance(outcome, Halted), outcome
    if isinstance(outcome, Protected):
        assert_protected(outcome, exchange)
    else:
        held = exchange.balance(base_of(outcome.fill.symbol)).total
        assert held == 0, f"{held} left without a stop-loss"
    assert trading.kill_switch.reason is None


@then(parse("the bot ordered {amount:Dec} SOL, not {wrong:Dec} SOL"))
def ordered_amount(
    trade: TradeResult, exchange: FakeKucoin, amount: Decimal, wrong: Decimal
) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert [Decimal(b["size"]) for b in entries] == [amount], entries
    assert amount != wrong


@then("the entry filled completely: KuCoin did not have to cut it down")
def entry_filled_completely(trade: TradeResult) -> None:
    assert trade.entry is not None
    assert trade.entry.fill is not None
    assert trade.plan is not None
    assert trade.entry.fill.amount == trade.plan.entry.amount


@then(parse("KuCoin filled only {amount:Dec} SOL of the {ordered:Dec} SOL ordered"))
def filled_partly(trade: TradeResult, amount: Decimal, ordered: Decimal) -> None:
    assert trade.plan is not None
    assert trade.plan.entry.amount == ordered
    assert trade.entry is not None
    assert trade.entry.fill is not None
    assert trade.entry.fill.amount == amount


@then(parse("the stop-loss and the take-profit each cover exactly {amount:Dec} SOL"))
def protection_covers(trade: TradeResult, exchange: FakeKucoin, amount: Decimal) -> None:
    assert_protected(trade.outcome, exchange)  # type: ignore[arg-type]
    sizes = [s.size for s in exchange.stop_orders.values() if s.status == "NEW"]
    assert sizes == [amount, amount], sizes


@then(parse('the guard refused the plan by "{controls}"'))
def plan_refused_by(guarded: Guarded, controls: str) -> None:
    expected = tuple(c.strip() for c in controls.split(","))
    assert guarded.decision.failed_controls == expected, guarded.decision.reasons


@then(parse("the refusal shows the order's cost {cost:Dec} USDT and the {free:Dec} USDT free"))
def plan_refusal_numbers(guarded: Guarded, cost: Decimal, free: Decimal) -> None:
    reasons = " ".join(guarded.decision.reasons)
    assert {cost, free} <= numbers_in(reasons), reasons


@then("nothing was sent to KuCoin")
def nothing_sent(guarded: Guarded, exchange: FakeKucoin) -> None:
    assert not guarded.sent
    assert order_requests(exchange) == []
    assert exchange.orders == {}


@then(
    parse(
        "safetrade rounds {raw:Dec} down to {rounded:Dec} for {symbol:Word}, "
        "and KuCoin fills that order"
    )
)
def rounds_down_and_fills(
    exchange: FakeKucoin, raw: Decimal, rounded: Decimal, symbol: str
) -> None:
    gateway = gateway_for(exchange)
    market = gateway.load_market(symbol)
    assert round_amount(raw, market) == rounded
    last = exchange.price(symbol)
    assert last is not None
    intent = entry_order(
        market,
        side=PositionSide.LONG,
        amount=round_amount(raw, market),
        reference_price=last,
        client_oid="st-entry-rounded",
    )
    gateway.submit_unguarded(intent)
    [order] = exchange.orders.values()
    assert (order.size, order.deal_size) == (rounded, rounded), order
    assert exchange.balance(base_of(symbol)).available == rounded


@then(parse("the trade refusal names the minimum order value {minimum:Dec} USDT"))
def refusal_names_min_value(trade: TradeResult, minimum: Decimal) -> None:
    assert trade.refusal is not None
    assert "minimum order value" in trade.refusal, trade.refusal
    assert minimum in numbers_in(trade.refusal), trade.refusal


@then(parse("the entry sent to KuCoin costs at most {usdt:Dec} USDT including KuCoin's fee"))
def entry_cost_with_fee(exchange: FakeKucoin, usdt: Decimal) -> None:
    entries = [b for b in bodies(exchange, "create_order") if b["side"] == "buy"]
    assert len(entries) == 1, entries
    price = exchange.price(entries[0]["symbol"])
    assert price is not None
    buys = [f for f in exchange.fills if f.side == "buy"]
    assert buys, "the entry never filled"
    cost = sum((f.funds + f.fee for f in buys), Decimal(0))
    assert cost <= usdt, f"{entries[0]['size']} at {price} cost {cost} with fees"
