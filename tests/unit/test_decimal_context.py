"""Decisions never depend on the caller's ``decimal`` context.

A bot may set ``decimal.getcontext()`` to few digits or to rounding toward zero for its own
reports. The guard and the builder must still compare the exact cost, risk and order value: a
cost a hair above the free balance stays refused, a value a hair below the minimum stays refused.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from safetrade import (
    AccountState,
    GuardLimits,
    OrderBuildError,
    PositionSide,
    check,
    entry_order,
    plan_trade,
)
from tests.strategies import sol_usdt

D = Decimal


# Four digits, rounding toward zero (every product shrinks) or away from it (every one grows).
COARSE = pytest.mark.parametrize(
    "coarse",
    [
        pytest.param(decimal.Context(prec=4, rounding=decimal.ROUND_DOWN), id="down"),
        pytest.param(decimal.Context(prec=4, rounding=decimal.ROUND_UP), id="up"),
    ],
)


def incident_plan():
    return plan_trade(
        sol_usdt(),
        side=PositionSide.LONG,
        free_balance=D(123),
        entry_price=D("87.36"),
        stop_price=D("85.61"),
        risk_percent=D(1),
        client_oid="st-entry-1",
    )


@COARSE
def test_balance_check_uses_the_exact_cost_under_a_coarse_context(coarse: decimal.Context) -> None:
    plan = incident_plan()
    cost = plan.size.notional * (1 + plan.market.taker_fee)  # exact under the default context
    account = AccountState(
        free_quote=cost - D("0.00001"),
        configured_balance=None,
        last_price=D("87.36"),
        open_positions=0,
        kill_switch_reason=None,
        open_position_value=D(0),
    )
    limits = GuardLimits(risk_percent=D(100), max_open_positions=1)
    exact = check(plan, account, limits)
    with decimal.localcontext(coarse):
        coarse_decision = check(plan, account, limits)
    assert "balance-check" in exact.failed_controls
    assert coarse_decision.failed_controls == exact.failed_controls
    assert coarse_decision.reasons == exact.reasons


@COARSE
def test_risk_limit_uses_the_exact_budget_under_a_coarse_context(coarse: decimal.Context) -> None:
    plan = incident_plan()
    account = AccountState(
        free_quote=D(123),
        configured_balance=None,
        last_price=D("87.36"),
        open_positions=0,
        kill_switch_reason=None,
        open_position_value=D(0),
    )
    # a limit just below the plan's risk: refused exactly, and must stay refused
    limits = GuardLimits(risk_percent=D("0.999"), max_open_positions=1)
    exact = check(plan, account, limits)
    with decimal.localcontext(coarse):
        coarse_decision = check(plan, account, limits)
    assert "risk-limit" in exact.failed_controls
    assert coarse_decision.failed_controls == exact.failed_controls


@COARSE
def test_minimum_order_value_is_exact_under_a_coarse_context(coarse: decimal.Context) -> None:
    market = sol_usdt()
    assert market.min_notional is not None
    # 0.1 SOL at a price whose value is a hair below the minimum
    price = (market.min_notional - D("0.0000001")) / D("0.1")
    with pytest.raises(OrderBuildError, match="below"):
        entry_order(
            market, side=PositionSide.LONG, amount=D("0.1"), reference_price=price, client_oid="x"
        )
    with decimal.localcontext(coarse), pytest.raises(OrderBuildError, match="below"):
        entry_order(
            market, side=PositionSide.LONG, amount=D("0.1"), reference_price=price, client_oid="x"
        )


@COARSE
def test_market_notional_is_exact_under_a_coarse_context(coarse: decimal.Context) -> None:
    market = sol_usdt()
    exact = market.notional(D("0.6396"), D("87.36"))
    with decimal.localcontext(coarse):
        assert market.notional(D("0.6396"), D("87.36")) == exact == D("55.875456")
