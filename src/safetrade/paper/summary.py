"""What a paper journal shows about one version of the code, and whether it is enough to go live.

Paper *time* is the time a paper venue of that code was running: each venue (one process) writes
a ``start`` entry, and its entries carry that entry's number (its *session*). Within a session
the gaps between consecutive entries count, each up to :data:`MAX_GAP_MS`: a running venue
journals a heartbeat at least hourly while the bot calls it (``Trader.tick`` does), so a longer
silence is a bot that was suspended, hung or not calling, and counts only that much. The time
between sessions never counts, nor does a session of other code, nor an entry stamped after
"now".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import ROUND_FLOOR, Decimal

import attrs

from safetrade.paper.store import JournalEntry

__all__ = ["HEARTBEAT_MS", "MAX_GAP_MS", "PaperRequirement", "PaperSummary", "summarize"]

HEARTBEAT_MS = 3_600_000  # a running venue journals at least hourly
MAX_GAP_MS = 2 * HEARTBEAT_MS  # the most one silence between two entries can add
_DAY_MS = Decimal(86_400_000)
_CENT_DAY = Decimal("0.01")


@attrs.frozen(kw_only=True)
class PaperSummary:
    """The paper record of one version of the code (one pair of digests).

    Attributes:
        safetrade_digest: The safetrade code it is about.
        bot_digest: The bot code it is about.
        entries: Journal entries of that code.
        first_ms: Time of its first entry (None: no entries).
        last_ms: Time of its last entry.
        days: Paper time in days (see the module docstring).
        orders: Orders the venue accepted.
        fills: Executions.
        round_trips: Positions opened and closed.
        pnl: Realised profit or loss of the round trips, in the quote currency, fees included.
        rejections: KuCoin code -> how many requests the venue rejected with it.
        bare_windows: How many times coins were held without a stop-loss covering them.
        longest_bare_seconds: The longest such time (an entry is bare until its stop-loss
            is placed, so this is never 0 after a trade).
        protection_events: Alerts the bot raised about protection (e.g. a failed stop-loss).
        outcomes: What became of entries: ``Protected``, ``Flattened``, ``Halted`` -> count.
        journal_problem: What is wrong with the journal's hash chain, if anything.
        other_entries: Journal entries written by other code (not counted here).
    """

    safetrade_digest: str
    bot_digest: str
    entries: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    days: Decimal = Decimal(0)
    orders: int = 0
    fills: int = 0
    round_trips: int = 0
    pnl: Decimal = Decimal(0)
    rejections: Mapping[str, int] = attrs.field(factory=dict)
    bare_windows: int = 0
    longest_bare_seconds: Decimal = Decimal(0)
    protection_events: int = 0
    outcomes: Mapping[str, int] = attrs.field(factory=dict)
    journal_problem: str | None = None
    other_entries: int = 0

    @property
    def rejection_count(self) -> int:
        """All rejections, whatever the code."""
        return sum(self.rejections.values())

    def to_json(self) -> dict[str, object]:
        """The summary as recorded in a signed statement (amounts as strings)."""
        return {
            "safetradeDigest": self.safetrade_digest,
            "botDigest": self.bot_digest,
            "entries": self.entries,
            "firstMs": self.first_ms,
            "lastMs": self.last_ms,
            "days": str(self.days),
            "orders": self.orders,
            "fills": self.fills,
            "roundTrips": self.round_trips,
            "pnl": str(self.pnl),
            "rejections": dict(sorted(self.rejections.items())),
            "bareWindows": self.bare_windows,
            "longestBareSeconds": str(self.longest_bare_seconds),
            "protectionEvents": self.protection_events,
            "outcomes": dict(sorted(self.outcomes.items())),
            "journalProblem": self.journal_problem,
            "otherEntries": self.other_entries,
        }

    def lines(self) -> list[str]:
        """A human summary, one fact per line."""
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(self.rejections.items())) or "none"
        return [
            f"code: safetrade {self.safetrade_digest[:16]}…, bot {self.bot_digest[:16]}…",
            f"days run: {self.days} ({self.entries} journal entries)",
            f"orders: {self.orders}, fills: {self.fills}, round trips: {self.round_trips}",
            f"rejections by KuCoin code: {codes}",
            f"positions left bare: {self.bare_windows} time(s), longest "
            f"{self.longest_bare_seconds} s",
            f"protection events (alerts): {self.protection_events}; outcomes: "
            + (", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items())) or "none"),
            f"P&L (realised, fees included): {self.pnl}",
            f"journal: {self.journal_problem or 'hash chain intact'}",
            f"entries of other code (not counted): {self.other_entries}",
        ]


def summarize(
    entries: Iterable[JournalEntry],
    *,
    safetrade_digest: str,
    bot_digest: str,
    journal_problem: str | None = None,
    bare_now_seconds: Decimal | None = None,
    now_ms: int | None = None,
) -> PaperSummary:
    """Summarise the journal entries of exactly this code.

    Args:
        entries: The journal, oldest first.
        safetrade_digest: The safetrade code to count.
        bot_digest: The bot code to count.
        journal_problem: :meth:`PaperStore.verify_journal`'s answer.
        bare_now_seconds: How long coins have been bare right now, if they are.
        now_ms: Now: entries stamped later add no paper time.
    """
    entries = list(entries)
    mine = [
        e for e in entries if e.safetrade_digest == safetrade_digest and e.bot_digest == bot_digest
    ]
    kinds = Counter(e.kind for e in mine)
    rejections = Counter(e.code or "?" for e in mine if e.kind == "rejection")
    last_seen: dict[int, int] = {}
    running_ms = 0
    for e in mine:
        if now_ms is not None and e.at_ms > now_ms:
            continue  # stamped in the future: a clock that ran ahead proves nothing
        previous = last_seen.get(e.session)
        if previous is not None:
            running_ms += min(max(e.at_ms - previous, 0), MAX_GAP_MS)
        last_seen[e.session] = max(e.at_ms, previous or e.at_ms)
    bare = [Decimal(str(e.detail.get("seconds", 0))) for e in mine if e.kind == "bare"]
    if bare_now_seconds is not None:
        bare.append(bare_now_seconds)
    # a round trip counts for the code that opened *and* closed the position
    trips = [e for e in mine if e.kind == "round_trip"
             and e.detail.get("opened_by", [safetrade_digest, bot_digest])
             == [safetrade_digest, bot_digest]]  # fmt: skip
    pnl = sum((Decimal(str(e.detail.get("pnl", 0))) for e in trips), Decimal(0))
    return PaperSummary(
        safetrade_digest=safetrade_digest,
        bot_digest=bot_digest,
        entries=len(mine),
        first_ms=mine[0].at_ms if mine else None,
        last_ms=mine[-1].at_ms if mine else None,
        # rounded down: 6.995 days are not 7
        days=(Decimal(running_ms) / _DAY_MS).quantize(_CENT_DAY, rounding=ROUND_FLOOR),
        orders=kinds["order"],
        fills=kinds["fill"],
        round_trips=len(trips),
        pnl=pnl,
        rejections=dict(rejections),
        bare_windows=len(bare),
        longest_bare_seconds=max(bare, default=Decimal(0)),
        protection_events=kinds["protection"],
        outcomes=dict(Counter(e.code or "?" for e in mine if e.kind == "outcome")),
        journal_problem=journal_problem,
        other_entries=len(entries) - len(mine),
    )


@attrs.frozen(kw_only=True)
class PaperRequirement:
    """What a certification policy requires of the paper record (policy ``[paper]``).

    Attributes:
        min_days: Paper time of this exact code, in days.
        min_round_trips: Positions opened and closed.
        max_rejections: Requests the venue rejected (any KuCoin code); None: no limit.
        max_bare_seconds: Longest time coins may have been held without a stop-loss;
            None: no limit.
    """

    min_days: Decimal = Decimal(0)
    min_round_trips: int = 0
    max_rejections: int | None = None
    max_bare_seconds: Decimal | None = None

    @property
    def required(self) -> bool:
        """Whether any paper evidence is asked for at all."""
        return bool(self.min_days or self.min_round_trips)

    def problems(self, summary: PaperSummary | None) -> list[str]:
        """What is missing or too much, one named problem each (empty: met)."""
        if not self.required and self.max_rejections is None and self.max_bare_seconds is None:
            return []
        if summary is None:
            if not self.required:
                return []  # nothing paper-traded, nothing to judge, nothing asked for
            return [
                f"paper: no paper journal found; the policy requires {self.min_days} days and "
                f"{self.min_round_trips} round trips of paper trading by this code"
            ]
        found: list[str] = []
        if summary.journal_problem:
            found.append(f"paper: the journal cannot be trusted: {summary.journal_problem}")
        if summary.days < self.min_days:
            found.append(
                f"paper: {summary.days} of {self.min_days} days of paper trading by this code"
            )
        if summary.round_trips < self.min_round_trips:
            found.append(
                f"paper: {summary.round_trips} of {self.min_round_trips} round trips by this code"
            )
        if self.max_rejections is not None and summary.rejection_count > self.max_rejections:
            codes = ", ".join(f"{c}: {n}" for c, n in sorted(summary.rejections.items()))
            found.append(
                f"paper: {summary.rejection_count} requests rejected by KuCoin's rules ({codes}); "
                f"at most {self.max_rejections} allowed"
            )
        if (
            self.max_bare_seconds is not None
            and summary.longest_bare_seconds > self.max_bare_seconds
        ):
            found.append(
                f"paper: a position was held without a stop-loss for "
                f"{summary.longest_bare_seconds} s; at most {self.max_bare_seconds} s allowed"
            )
        return found

    def to_json(self) -> dict[str, object]:
        """The requirement as recorded in the signed statement."""
        return {
            "minDays": str(self.min_days),
            "minRoundTrips": self.min_round_trips,
            "maxRejections": self.max_rejections,
            "maxBareSeconds": None if self.max_bare_seconds is None else str(self.max_bare_seconds),
        }
