"""Properties of paper time and the paper requirement (safetrade.paper.summary)."""

from __future__ import annotations

from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from safetrade.paper import JournalEntry, PaperRequirement, summarize
from safetrade.paper.summary import MAX_GAP_MS

CODE, OTHER = ("s" * 64, "b" * 64), ("s" * 64, "c" * 64)
DAY_MS = 86_400_000
HOUR = 3_600_000
# sessions: (gap before it, its entries' gaps); a gap between sessions is time the bot was down
SESSIONS = st.lists(
    st.tuples(st.integers(0, 30 * DAY_MS), st.lists(st.integers(0, 5 * HOUR), max_size=8)),
    max_size=6,
)


def _journal(sessions: list[tuple[int, list[int]]], code: tuple[str, str] = CODE,
             start: int = 1_700_000_000_000, seq: int = 0) -> list[JournalEntry]:  # fmt: skip
    at, entries = start, []
    for down, gaps in sessions:
        at += down
        seq += 1
        session = seq
        entries.append(JournalEntry(seq, session, at, "start", None, None, {}, *code))
        for gap in gaps:
            at += gap
            seq += 1
            entries.append(JournalEntry(seq, session, at, "heartbeat", None, None, {}, *code))
    return entries


def _days(ms: int) -> Decimal:
    return (Decimal(ms) / DAY_MS).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")


@given(SESSIONS)
def test_paper_time_is_the_time_sessions_ran_and_never_the_time_between(
    sessions: list[tuple[int, list[int]]],
) -> None:
    summary = summarize(_journal(sessions), safetrade_digest=CODE[0], bot_digest=CODE[1])
    # a silence longer than MAX_GAP_MS is a bot that was not calling: it adds only that much
    running = sum(min(g, MAX_GAP_MS) for _, gaps in sessions for g in gaps)
    assert summary.days == _days(running)
    assert summary.entries == sum(1 + len(g) for _, g in sessions)
    assert summary.days >= 0


@given(SESSIONS, SESSIONS)
def test_sessions_of_other_code_add_nothing(
    mine: list[tuple[int, list[int]]], theirs: list[tuple[int, list[int]]]
) -> None:
    alone = summarize(_journal(mine), safetrade_digest=CODE[0], bot_digest=CODE[1])
    # the other code's sessions run in between, with their own session numbers
    other = _journal(theirs, OTHER, seq=10_000)
    mixed = sorted(_journal(mine) + other, key=lambda e: (e.at_ms, e.seq))
    together = summarize(mixed, safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert together == attrs.evolve(alone, other_entries=len(other))


@given(SESSIONS, st.integers(0, 5 * HOUR))
def test_more_running_time_never_lowers_paper_time(
    sessions: list[tuple[int, list[int]]], extra: int
) -> None:
    before = summarize(_journal(sessions), safetrade_digest=CODE[0], bot_digest=CODE[1])
    longer = [*sessions[:-1], (sessions[-1][0], [*sessions[-1][1], extra])] if sessions else []
    after = summarize(_journal(longer), safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert after.days >= before.days


def _running(ms: int) -> list[int]:
    """``ms`` of running time as a venue journals it: a heartbeat every hour."""
    return [HOUR] * (ms // HOUR) + [ms % HOUR]


@given(st.integers(0, 10 * DAY_MS))
def test_paper_days_are_rounded_down(ms: int) -> None:
    summary = summarize(_journal([(0, _running(ms))]), safetrade_digest=CODE[0],
                        bot_digest=CODE[1])  # fmt: skip
    assert summary.days * DAY_MS <= ms < (summary.days + Decimal("0.01")) * DAY_MS


@given(st.integers(MAX_GAP_MS, 30 * DAY_MS), st.integers(0, 10 * DAY_MS))
def test_a_silence_or_a_future_stamp_adds_no_more_than_a_running_venue_could(
    silence: int, ahead: int
) -> None:
    """Two entries a week apart are not a week of paper trading; nor is a clock run ahead."""
    entries = _journal([(0, [silence])])
    now = entries[0].at_ms + ahead
    summary = summarize(entries, safetrade_digest=CODE[0], bot_digest=CODE[1], now_ms=now)
    counted = MAX_GAP_MS if entries[-1].at_ms <= now else 0
    assert summary.days == _days(counted)


@given(
    days=st.decimals(min_value=0, max_value=60, places=2),
    required=st.decimals(min_value=0, max_value=60, places=2),
    trips=st.integers(min_value=0, max_value=20),
    required_trips=st.integers(min_value=0, max_value=20),
)
def test_the_requirement_is_met_exactly_when_nothing_is_short(
    days: Decimal, required: Decimal, trips: int, required_trips: int
) -> None:
    entries = _journal([(0, _running(int(days * DAY_MS)))])
    end = entries[-1].at_ms
    entries += [JournalEntry(len(entries) + i + 1, 1, end, "round_trip", None, None,
                             {"pnl": "1", "opened_by": list(CODE)}, *CODE)
                for i in range(trips)]  # fmt: skip
    summary = summarize(entries, safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert summary.days == days
    assert summary.round_trips == trips
    problems = PaperRequirement(min_days=required, min_round_trips=required_trips).problems(summary)
    assert (problems == []) == (days >= required and trips >= required_trips)
    if days < required:
        assert f"paper: {days} of {required} days of paper trading by this code" in problems


@given(st.integers(0, 5))
def test_a_round_trip_opened_by_other_code_is_not_this_codes(trips: int) -> None:
    entries = _journal([(0, [HOUR])])
    entries += [JournalEntry(100 + i, 1, entries[-1].at_ms, "round_trip", None, None,
                             {"pnl": "5", "opened_by": list(OTHER)}, *CODE)
                for i in range(trips)]  # fmt: skip
    summary = summarize(entries, safetrade_digest=CODE[0], bot_digest=CODE[1])
    assert summary.round_trips == 0
    assert summary.pnl == 0
