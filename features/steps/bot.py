"""Steps about the bot: its settings, start-up, trades, and plans put through the guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_bdd import given, when

from features.steps.helpers import (
    INCIDENT_TIME,
    SYMBOL,
    Startup,
    Trading,
    gateway_for,
    parse_env,
    running_bot,
    start_bot,
)
from features.steps.types import parse
from safetrade.guard import AccountState, Decision, GuardLimits, check
from safetrade.plan import TradePlan, plan_trade
from safetrade.reference_bot.bot import TradeResult
from safetrade.rounder import PositionSide
from safetrade.testing import TEST_API_KEY, TEST_API_SECRET, TEST_PASSPHRASE, FakeKucoin


@dataclass
class Guarded:
    """A plan, the guard's decision on it, and whether it was sent."""

    plan: TradePlan
    decision: Decision
    sent: bool


@pytest.fixture
def trading() -> Trading:
    return Trading()


@pytest.fixture
def env() -> dict[str, str]:
    """The process environment the bot sees (never ``os.environ``)."""
    return {}


def _trade(
    startup: Startup, stop: Decimal, target: Decimal | None, signal: Decimal | None
) -> TradeResult:
    return running_bot(startup).trade(
        stop_price=stop, take_profit_price=target, signal_strength=signal
    )


# --------------------------------------------------------------------------- settings


@given("the environment:")
def environment(env: dict[str, str], docstring: str) -> None:
    env.update(parse_env(docstring))


@given("a .env file:")
def dotenv_file(trading: Trading, tmp_path: Path, docstring: str) -> None:
    path = tmp_path / ".env"
    path.write_text(docstring + "\n", encoding="utf-8")
    trading.dotenv = path


@given("the bot's KuCoin API keys are in the environment")
def api_keys(env: dict[str, str]) -> None:
    env.update(
        {
            "KUCOIN_API_KEY": TEST_API_KEY,
            "KUCOIN_API_SECRET": TEST_API_SECRET,
            "KUCOIN_API_PASSPHRASE": TEST_PASSPHRASE,
        }
    )


# --------------------------------------------------------------------------- start-up


@when("the bot starts", target_fixture="startup")
@given("the bot has started", target_fixture="startup")
def bot_starts(exchange: FakeKucoin, env: dict[str, str], trading: Trading) -> Startup:
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(minutes=1))


@given(parse("the bot trading {symbol:Word} has started"), target_fixture="startup")
def bot_trading_symbol_started(
    exchange: FakeKucoin, env: dict[str, str], trading: Trading, symbol: str
) -> Startup:
    trading.symbol = symbol
    return start_bot(exchange, env, trading, now=INCIDENT_TIME + timedelta(minutes=1))


@given("the bot has loaded KuCoin's markets")
def markets_loaded(startup: Startup, trading: Trading) -> None:
    running_bot(startup).gateway.load_market(trading.symbol)


# --------------------------------------------------------------------------- trades


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


@when(
    parse("the bot buys with a stop-loss at {stop:Dec} and a take-profit at {target:Dec}"),
    target_fixture="trade",
)
def bot_buys_its_market(startup: Startup, stop: Decimal, target: Decimal) -> TradeResult:
    return _trade(startup, stop, target, None)


@when(parse("SOL/USDT trades at {price:Dec} and the bot checks its positions"))
def price_moves_and_bot_watches(startup: Startup, exchange: FakeKucoin, price: Decimal) -> None:
    exchange.set_price(SYMBOL, price)
    running_bot(startup).tick()


# --------------------------------------------------------------------------- plans and the guard


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
