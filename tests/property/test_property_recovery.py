"""Properties of safetrade.recovery.recovery_stop: the stop-loss for coins found bare.

It must be a stop KuCoin accepts and does not fire at once (on the tick, below the price), and
lose at most RISK_PERCENT when it fires, except when the tick is coarser than that distance:
then exactly one tick below the price, flagged as wider.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from safetrade.recovery import recovery_stop
from safetrade.rounder import is_on_grid
from tests.strategies import decimals, increments

RISKS = decimals("0.01", "100", places=2)


@given(increments(), st.integers(min_value=2, max_value=10**9), RISKS)
def test_the_stop_is_on_the_tick_below_the_price_and_loses_at_most_the_risk(
    tick: Decimal, ticks: int, risk: Decimal
) -> None:
    last = tick * ticks  # a traded price is on the grid; at least two ticks, so a stop exists
    stop, wider = recovery_stop(last, tick, risk)
    assert is_on_grid(stop, tick)
    assert tick <= stop < last
    loss = (last - stop) / last * 100
    if wider:
        # only when RISK_PERCENT of the price is less than one tick, and then one tick only
        assert stop == last - tick
        assert last * risk / 100 < tick
    else:
        assert loss <= risk
        # and no more than one tick tighter than asked (rounded toward the price, not beyond)
        assert stop - tick < max(last * (1 - risk / 100), Decimal(0)) or stop == tick


@given(increments(), RISKS)
def test_a_one_tick_price_has_no_stop_below_it(tick: Decimal, risk: Decimal) -> None:
    stop, wider = recovery_stop(tick, tick, risk)
    assert wider
    assert stop == 0  # the builder then refuses it by name: nothing below one tick exists
