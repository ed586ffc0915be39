"""A real guard decision for tests that exercise what happens *after* the guard allowed a trade.

``execute_entry`` sends nothing without the guard's ``Decision`` for the plan. Tests about
retries, fills and protection are not about the guard, so they get an allowing decision from the
real :func:`safetrade.check` (never a hand-made ``Decision``) with an account that passes.
"""

from __future__ import annotations

from decimal import Decimal

from safetrade import AccountState, Decision, GuardLimits, TradePlan, check


def guard_allows(plan: TradePlan) -> Decision:
    """``check(plan, ...)`` with an ample, flat, un-halted account at the plan's own price."""
    decision = check(
        plan,
        AccountState(
            free_quote=Decimal(10**9),
            configured_balance=None,
            open_positions=0,
            last_price=plan.entry.limit_price or plan.size.entry_price,
            kill_switch_reason=None,
            open_position_value=Decimal(0),
        ),
        GuardLimits(risk_percent=Decimal(1), max_open_positions=1),
    )
    assert decision.allowed, decision.reasons
    return decision
