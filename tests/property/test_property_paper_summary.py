"""Properties of paper time and the paper requirement (safetrade.paper.summary)."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from safetrade.paper import JournalEntry, PaperRequirement, summarize
from safetrade.paper.summary import MAX_GAP_MS

CODE, OTHER = ("s" * 64, "b" * 64), ("s" * 64, "c" * 64)
GAPS = st.lists(st.integers(min_value=0, max_value=3 * MAX_GAP_MS), max_size=40)


def _entries(gaps: list[int], code: tuple[str, str] = CODE, kind: str = "heartbeat",
             start: int = 1_700_000_000_000) -> list[JournalEntry]:  # fmt: skip
    at, entries = start, []
    for i, gap in enumerate([0, *gaps]):
        at += gap
        entries.append(JournalEntry(i + 1, at, kind, None, None, {}, *code))
    return entries


@given(GAPS)
def test_paper_time_is_the_sum_of_the_gaps_the_venue_was_running(gaps: list[int]) -> None:
    summary = summarize(_entries(gaps), safetrade_digest=CODE[0], bot_digest=CODE[1])
    running = sum(g for g in gaps if g <= MAX_GAP_MS)
    assert summary.days == (Decimal(running) / 86_400_000).quantize(Decimal("0.01"))
    assert summary.entries == len(gaps) + 1
    assert summary.days >= 0


@given(GAPS, GAPS)
def test_entries_of_other_code_add_nothing(mine: list[int], theirs: list[int]) -> None:
    alone = summarize(_entries(mine), safetrade_digest=CODE[0], bot_digest=CODE[1])
    mixed = sorted(_entries(mine) + _entries(theirs, OTHER), key=lambda e: e.at_ms)
    together = summarize(mixed, safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert together == attrs.evolve(alone, other_entries=len(theirs) + 1)


@given(GAPS, st.integers(min_value=0, max_value=MAX_GAP_MS))
def test_more_running_time_never_lowers_paper_time(gaps: list[int], extra: int) -> None:
    before = summarize(_entries(gaps), safetrade_digest=CODE[0], bot_digest=CODE[1])
    after = summarize(_entries([*gaps, extra]), safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert after.days >= before.days


@given(
    days=st.decimals(min_value=0, max_value=60, places=2),
    required=st.decimals(min_value=0, max_value=60, places=2),
    trips=st.integers(min_value=0, max_value=20),
    required_trips=st.integers(min_value=0, max_value=20),
)
def test_the_requirement_is_met_exactly_when_nothing_is_short(
    days: Decimal, required: Decimal, trips: int, required_trips: int
) -> None:
    day_ms = int(days * 86_400_000)
    # one long run cut into heartbeat-sized pieces, plus the round trips at its end
    pieces = [MAX_GAP_MS] * (day_ms // MAX_GAP_MS) + [day_ms % MAX_GAP_MS]
    entries = _entries(pieces)
    end = entries[-1].at_ms
    entries += [JournalEntry(len(entries) + i + 1, end, "round_trip", None, None, {"pnl": "1"},
                             *CODE) for i in range(trips)]  # fmt: skip
    summary = summarize(entries, safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert summary.days == days
    assert summary.round_trips == trips
    problems = PaperRequirement(min_days=required, min_round_trips=required_trips).problems(summary)
    assert (problems == []) == (days >= required and trips >= required_trips)
    if days < required:
        assert f"paper: {days} of {required} days of paper trading by this code" in problems
