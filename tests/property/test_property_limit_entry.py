"""Properties of plan_trade(limit_entry=True): the entry fills at the sized price or better.

The limit is on the market's tick, never on the worse side of the entry price the position was
sized from (a long's at or below it, a short's at or above it), so whatever fills loses at most
the risk budget at the stop; the size is the one plan_trade(limit_entry=False) would send.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from safetrade import PositionSide, SafetradeError, plan_trade
from safetrade.market import MarketSpec
from safetrade.rounder import is_on_grid
from tests.strategies import decimals, markets

LONG = PositionSide.LONG


@given(
    markets(),
    decimals("0.01", "1e5", places=4),
    decimals("0.0001", "0.5", places=4),
    decimals("10", "1e6", places=2),
    st.sampled_from(list(PositionSide)),
)
def test_the_limit_is_on_the_tick_and_never_worse_than_the_sized_entry(
    market: MarketSpec, entry: Decimal, distance: Decimal, free: Decimal, side: PositionSide
) -> None:
    stop = entry * (1 - distance) if side is LONG else entry * (1 + distance)
    kwargs = {
        "side": side, "free_balance": free, "entry_price": entry, "stop_price": stop,
        "risk_percent": Decimal(1), "client_oid": "st-entry-1",
    }  # fmt: skip
    try:
        plan = plan_trade(market, limit_entry=True, **kwargs)
    except SafetradeError:
        # refused with a limit: then refused without one too, or only the limit's own
        # minimum value (at a price rounded toward the better side) failed
        try:
            plan_trade(market, **kwargs)
        except SafetradeError:
            return
        assume(False)
        return
    limit = plan.entry.limit_price
    assert limit is not None
    assert plan.entry.order_type == "limit"
    assert plan.entry.time_in_force == "IOC"
    assert is_on_grid(limit, market.price_increment)
    assert (limit <= entry) if side is LONG else (limit >= entry)
    assert (
        entry - limit < market.price_increment
        if side is LONG
        else limit - entry < (market.price_increment)
    )
    market_plan = plan_trade(market, **kwargs)
    assert plan.entry.amount == market_plan.entry.amount == plan.size.amount
    # the loss at the stop, filled at the limit, is within the budget the size was made for
    fee = market.taker_fee
    per_unit = abs(limit - plan.stop_loss_price) + fee * (limit + plan.stop_loss_price)
    assert plan.entry.amount * per_unit <= plan.size.risk_budget
