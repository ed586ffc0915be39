"""Properties of the fake's market data: candle visits, book walks, candle aggregation."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from safetrade.testing import BookShape, Candle
from safetrade.testing._market_data import CandleHistory, book, walk

PRICES = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10_000), places=2)
AMOUNTS = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4)
STEP = Decimal("0.0001")


@st.composite
def candles(draw: st.DrawFn) -> Candle:
    a, b, c, d = sorted(draw(st.lists(PRICES, min_size=4, max_size=4)))
    opened, close = draw(st.permutations([b, c]))
    return Candle(0, opened, d, a, close)


@given(candles())
def test_a_candle_replay_visits_both_extremes_from_open_to_close(candle: Candle) -> None:
    visits = candle.visits()
    assert visits[0] == candle.open
    assert visits[-1] == candle.close
    assert {candle.high, candle.low} <= set(visits)
    assert all(candle.low <= p <= candle.high for p in visits)
    assert all(a != b for a, b in itertools.pairwise(visits))
    # a falling candle reaches its high before its low, a rising one its low before its high
    last = {price: i for i, price in enumerate(visits)}
    if candle.close < candle.open:
        assert visits.index(candle.high) < last[candle.low]
    elif candle.low != candle.high:
        assert visits.index(candle.low) < last[candle.high]


@given(
    last=PRICES,
    spread=st.integers(0, 10),
    levels=st.integers(1, 30),
    step=st.integers(1, 5),
    depth=st.integers(1, 100),
)
def test_the_book_is_ordered_uncrossed_and_on_the_tick(
    last: Decimal, spread: int, levels: int, step: int, depth: int
) -> None:
    tick = Decimal("0.01")
    bids, asks = book(last, tick, BookShape(spread, levels, Decimal(1), step), depth)
    assert len(asks) == min(levels, depth)
    assert len(bids) <= len(asks)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert all(p > 0 and p % tick == 0 for p, _ in bids + asks)
    if bids:
        assert asks[0][0] - bids[0][0] == spread * tick
        assert bids[0][0] <= last <= asks[0][0] or spread == 0


@given(
    levels=st.lists(st.tuples(PRICES, AMOUNTS), min_size=1, max_size=10),
    size=st.none() | AMOUNTS,
    funds=st.none() | st.decimals(min_value=Decimal(1), max_value=Decimal(10**6), places=2),
    budget=st.none() | st.decimals(min_value=0, max_value=Decimal(10**6), places=2),
    rate=st.sampled_from([Decimal(0), Decimal("0.001")]),
)
def test_a_walk_never_takes_more_than_asked_held_or_paid_for(
    levels: list[tuple[Decimal, Decimal]],
    size: Decimal | None,
    funds: Decimal | None,
    budget: Decimal | None,
    rate: Decimal,
) -> None:
    ordered = sorted(levels)
    taken = walk(ordered, size=size, funds=funds, step=STEP, fee_rate=rate, budget=budget)
    if size is not None:
        assert taken.size <= size
    if funds is not None:
        assert taken.funds <= funds
    if budget is not None:
        assert taken.funds * (1 + rate) <= budget
    for (price, take), (level_price, available) in zip(taken.takes, ordered, strict=False):
        assert price == level_price  # best first, no level skipped
        assert 0 < take <= available
        assert take % STEP == 0
    # only the last level taken may be partial
    assert all(take == ordered[i][1] for i, (_, take) in enumerate(taken.takes[:-1]))


@given(st.lists(st.tuples(st.integers(0, 10_000), PRICES, AMOUNTS), min_size=1, max_size=40))
def test_aggregated_candles_keep_the_range_and_the_volume(
    trades: list[tuple[int, Decimal, Decimal]],
) -> None:
    history = CandleHistory()
    for when, price, size in sorted(trades, key=lambda t: t[0]):
        history.trade("SOL-USDT", when, price, size)
    minutes = history.query("SOL-USDT", "1min", 0, 0)
    days = history.query("SOL-USDT", "1day", 0, 0)
    assert len(days) == 1
    assert Decimal(days[0][3]) == max(p for _, p, _ in trades)
    assert Decimal(days[0][4]) == min(p for _, p, _ in trades)
    assert Decimal(days[0][5]) == sum(Decimal(r[5]) for r in minutes) == sum(s for *_, s in trades)
    assert [int(r[0]) for r in minutes] == sorted({t // 60 * 60 for t, *_ in trades}, reverse=True)
