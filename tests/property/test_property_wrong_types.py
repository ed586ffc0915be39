"""Fuzz: a wrong-type market, plan, account, limits or fill is an InvalidValue, never a crash.

The public functions used to fail deep inside with AttributeError when an untyped caller
passed a dict or None where a MarketSpec or TradePlan belongs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

import safetrade as sf
from safetrade.errors import SafetradeError
from safetrade.protector import Protector
from safetrade.rounder import PricePurpose
from tests.strategies import sol_usdt

NOT_THE_TYPE = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(object),
    st.just(Decimal(1)),
)
CASES = 0


def _plan() -> sf.TradePlan:
    return sf.plan_trade(
        sol_usdt(), side=sf.PositionSide.LONG, free_balance=Decimal(123),
        entry_price=Decimal("87.36"), stop_price=Decimal("85.61"), take_profit_price=None,
        risk_percent=Decimal(1), client_oid="st-entry-1",
    )  # fmt: skip


def _account() -> sf.AccountState:
    return sf.AccountState(
        free_quote=Decimal(123), configured_balance=None, last_price=Decimal("87.36"),
        kill_switch_reason=None, open_positions=0, open_position_value=Decimal(0),
    )  # fmt: skip


LIMITS = sf.GuardLimits(risk_percent=Decimal(1), max_open_positions=1)
CALLS = {
    "round_amount(market)": lambda bad: sf.round_amount(Decimal("1.5"), bad),
    "round_price(market)": lambda bad: sf.round_price(
        Decimal(87), bad, purpose=PricePurpose.ENTRY, side=sf.PositionSide.LONG
    ),
    "size_position(market)": lambda bad: sf.size_position(
        market=bad,
        side=sf.PositionSide.LONG,
        free_balance=Decimal(123),
        entry_price=Decimal("87.36"),
        stop_price=Decimal("85.61"),
        risk_percent=Decimal(1),
    ),
    "plan_trade(market)": lambda bad: sf.plan_trade(
        bad,
        side=sf.PositionSide.LONG,
        free_balance=Decimal(123),
        entry_price=Decimal("87.36"),
        stop_price=Decimal("85.61"),
        take_profit_price=None,
        risk_percent=Decimal(1),
        client_oid="st-entry-1",
    ),
    "check(plan)": lambda bad: sf.check(bad, _account(), LIMITS),
    "check(account)": lambda bad: sf.check(_plan(), bad, LIMITS),
    "check(limits)": lambda bad: sf.check(_plan(), _account(), bad),
    "execute_entry(plan)": lambda bad: sf.execute_entry(None, bad, None),  # type: ignore[arg-type]
    "protect(fill)": lambda bad: Protector(None, kill_switch=sf.KillSwitch()).protect(  # type: ignore[arg-type]
        bad, stop_price=Decimal(1)
    ),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@given(bad=NOT_THE_TYPE)
def test_a_wrong_type_is_refused_by_name(call, bad):
    global CASES  # noqa: PLW0603 - the count printed below
    CASES += 1
    with pytest.raises(SafetradeError):
        CALLS[call](bad)


def test_print_how_many_cases_ran():
    print(f"wrong-type fuzz: {CASES} cases over {len(CALLS)} entry points")  # noqa: T201
    assert len(CALLS) <= CASES
