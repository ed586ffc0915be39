"""certify() and the policy's [paper] section: paper time of exactly the signed code, or no."""

from __future__ import annotations

import json
import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from safetrade.certification.certify import CertifyInputs, certify
from safetrade.certification.digest import tree_digest
from safetrade.certification.policy import SHIPPED_POLICY, parse_policy
from safetrade.certification.predicate import Predicate
from safetrade.errors import ConfigError
from safetrade.paper import PaperRequirement, PaperStore
from safetrade.paper.summary import HEARTBEAT_MS
from tests.conformance_runs import floor_policy
from tests.unit.test_certify_inputs import KEY, NOW, RUNNING
from tests.unit.test_certify_inputs import project as certify_project

DAY_MS = 86_400_000
# the same project folder certify() runs on in test_certify_inputs (a shared fixture)
project = certify_project
THIS_CODE = (tree_digest(RUNNING.safetrade_files), tree_digest(RUNNING.bot_files))
END_MS = int(NOW.timestamp() * 1000)


def _journal(path: Path, *, days: float, round_trips: int = 0, rejections: int = 0,
             code: tuple[str, str] = THIS_CODE) -> Path:  # fmt: skip
    """One paper session of ``days``, heartbeats hourly, as a running venue writes it."""
    store = PaperStore(path)
    start = END_MS - int(days * DAY_MS)
    session: list[int] = []

    def add(at: int, kind: str, detail: dict[str, object], error: str | None = None) -> None:
        entry = store.append(at_ms=at, kind=kind, symbol="SOL-USDT", code=error, detail=detail,
                             safetrade_digest=code[0], bot_digest=code[1],
                             session=session[0] if session else None)  # fmt: skip
        session.append(entry.session)

    add(start, "start", {})
    for at in range(start + HEARTBEAT_MS, END_MS, HEARTBEAT_MS):
        add(at, "heartbeat", {})
    add(END_MS, "heartbeat", {})
    for i in range(round_trips):
        add(END_MS - i, "round_trip", {"pnl": "-1.5", "opened_by": list(code)})
    for _ in range(rejections):
        add(END_MS, "rejection", {"msg": "Price increment invalid."}, "400100")
    store.close()
    return path


def _certify(project: Path, paper: str, journal: Path | None):
    (project / "policy.toml").write_text(floor_policy(total_floor=90) + paper, encoding="utf-8")
    inputs = CertifyInputs.in_folder(project, project / "out", project / "policy.toml",
                                     cucumber=False)  # fmt: skip
    return certify(attrs.evolve(inputs, paper_journal=journal), signing_key=KEY, now=NOW,
                   running=RUNNING)  # fmt: skip


SEVEN_DAYS = "\n[paper]\nmin_days = 7\nmin_round_trips = 2\nmax_rejections = 0\n"


def test_paper_time_short_of_the_policy_is_refused_naming_what_is_missing(
    project: Path, tmp_path: Path
) -> None:
    outcome = _certify(project, SEVEN_DAYS, _journal(tmp_path / "p.db", days=3, round_trips=1))
    assert not outcome.certified
    assert outcome.artifact is None
    assert "paper: 3.00 of 7 days of paper trading by this code" in outcome.problems
    assert "paper: 1 of 2 round trips by this code" in outcome.problems
    record = Predicate.from_json(outcome.statement["predicate"]).paper
    assert record is not None
    assert record.summary is not None
    assert record.summary["days"] == "3.00"
    assert record.requirement["minDays"] == "7"


def test_enough_paper_time_of_this_code_is_certified_and_recorded_in_the_statement(
    project: Path, tmp_path: Path
) -> None:
    outcome = _certify(project, SEVEN_DAYS, _journal(tmp_path / "p.db", days=8, round_trips=2))
    assert outcome.problems == ()
    assert outcome.certified
    record = Predicate.from_json(outcome.statement["predicate"]).paper
    assert record is not None
    assert record.summary is not None
    assert record.summary["days"] == "8.00"
    assert record.summary["roundTrips"] == 2
    assert record.summary["botDigest"] == THIS_CODE[1]


def test_paper_time_of_other_code_does_not_count(project: Path, tmp_path: Path) -> None:
    other = (THIS_CODE[0], "f" * 64)  # the bot was edited after its paper run
    journal = _journal(tmp_path / "p.db", days=30, round_trips=5, code=other)
    outcome = _certify(project, SEVEN_DAYS, journal)
    assert "paper: 0.00 of 7 days of paper trading by this code" in outcome.problems
    assert not outcome.certified


def test_rejections_in_paper_are_refused_by_code(project: Path, tmp_path: Path) -> None:
    journal = _journal(tmp_path / "p.db", days=8, round_trips=2, rejections=2)
    outcome = _certify(project, SEVEN_DAYS, journal)
    assert outcome.problems == (
        "paper: 2 requests rejected by KuCoin's rules (400100: 2); at most 0 allowed",
    )


def test_an_edited_journal_is_refused(project: Path, tmp_path: Path) -> None:
    journal = _journal(tmp_path / "p.db", days=3, round_trips=2)
    db = sqlite3.connect(journal)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE journal SET at_ms = at_ms - 864000000 WHERE seq = 1")
    # someone who drops the trigger can edit: the hash chain still shows it
    db.execute("DROP TRIGGER journal_no_update")
    db.execute("UPDATE journal SET at_ms = at_ms - 864000000 WHERE seq = 1")
    db.commit()
    db.close()
    outcome = _certify(project, SEVEN_DAYS, journal)
    assert "paper: the journal cannot be trusted: journal entry 1 was changed after it was " \
        "written" in outcome.problems  # fmt: skip
    assert not outcome.certified


def test_no_journal_is_refused_when_paper_time_is_required(project: Path, tmp_path: Path) -> None:
    outcome = _certify(project, SEVEN_DAYS, tmp_path / "missing.db")
    assert any(p.startswith("paper: no paper journal found") for p in outcome.problems)
    assert not outcome.certified


def test_without_a_paper_requirement_no_journal_is_needed(project: Path, tmp_path: Path) -> None:
    outcome = _certify(project, "", tmp_path / "missing.db")
    assert outcome.certified
    record = Predicate.from_json(outcome.statement["predicate"]).paper
    assert record is not None
    assert record.summary is None


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("min_days = -1", "paper.min_days must be a number >= 0"),
        ("min_round_trips = 1.5", "paper.min_round_trips must be a whole number"),
        ("max_rejections = true", "paper.max_rejections must be a whole number"),
        ("min_dayz = 7", "unknown key(s) ['min_dayz']"),
    ],
)
def test_a_malformed_paper_section_is_refused(toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_policy(f"[paper]\n{toml}\n".encode())


def test_the_shipped_policy_states_its_paper_requirement() -> None:
    shipped = SHIPPED_POLICY
    policy = parse_policy(shipped.read_bytes())
    assert policy.paper == PaperRequirement(
        min_days=Decimal(0), min_round_trips=0, max_rejections=0, max_bare_seconds=Decimal(10)
    )
    assert "[paper]" in shipped.read_text(encoding="utf-8")
    assert json.dumps(policy.paper.to_json())  # recorded as JSON in the statement


def test_limits_checked_against_no_journal_say_so_and_where_to_point(
    project: Path, tmp_path: Path
) -> None:
    """The shipped policy's max_rejections / max_bare_seconds find nothing without a journal."""
    outcome = _certify(
        project, "[paper]\nmax_rejections = 0\nmax_bare_seconds = 10\n", tmp_path / "none.db"
    )
    assert outcome.certified  # no paper time is required: a fresh clone still certifies
    record = Predicate.from_json(outcome.statement["predicate"]).paper
    assert record is not None
    line = record.line()
    assert line.startswith(f"no paper journal at {tmp_path / 'none.db'}")
    assert "max_rejections 0 and max_bare_seconds 10 checked nothing" in line
    assert "(--paper-journal or SAFETRADE_PAPER_DB)" in line
    bare = Predicate.from_json(_certify(project, "", tmp_path / "none.db").statement["predicate"])
    assert bare.paper is not None
    assert "checked nothing" not in bare.paper.line()
