"""The typed predicate reads back exactly what build_statement signs, and refuses anything else."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from safetrade.certification.evidence import Evidence, ItemOutcome
from safetrade.certification.inventory import parse_feature
from safetrade.certification.keys import PublicKey
from safetrade.certification.policy import parse_policy
from safetrade.certification.predicate import (
    PREDICATE_KEYS,
    Predicate,
    PredicateError,
    PredicateParts,
)
from safetrade.certification.provenance import GitState, RunningCode
from safetrade.certification.statement import Coverage, build_statement, statement_bytes
from safetrade.certification.suite import reconcile
from safetrade.errors import SafetradeError
from tests.conformance_runs import conformance_of, floor_policy

PATH = "features/collar.feature"
FEATURE = """\
@control-price-collar
Feature: Price collar
  Incident: 2026-02-06 the bot bought 10x above market

  @incident-2026-02-06
  Scenario: Far order is rejected
    Given a reference price of 100

  Scenario: Skipped one
    Given nothing

  Scenario Outline: Rounds <n>
    Given <n>
    Examples:
      | n |
      | 1 |
      | 2 |

  Scenario: Never bound
    Given a step nobody implemented
"""


def _item(nodeid: str, outcome: str, scenario: str | None) -> ItemOutcome:
    return ItemOutcome(
        nodeid,
        outcome,
        0.123456789,
        ("price-collar",),
        (),
        scenario,
        "" if outcome == "passed" else "boom",
    )


def _statement(
    *,
    coverage: Coverage | None,
    conformance: bool | None,
    reports: dict[str, str] | None,
    problems: tuple[str, ...],
    git: GitState,
    schema_digest: str | None,
) -> dict[str, Any]:
    """A statement built the way certify builds one."""
    key = f"{PATH}::"
    evidence = Evidence(
        items=(
            _item("t::far", "passed", key + "Far order is rejected"),
            _item("t::skip", "skipped", key + "Skipped one"),
            _item("t::r[1]", "passed", key + "Rounds <n>"),
            _item("t::r[2]", "failed", key + "Rounds <n>"),
            _item("tests/property/test_p.py::test_bad", "error", None),
        ),
        exitstatus=1,
        hypothesis_profile="certify",
        deselected=0,
        collection_errors=(),
        args=("-p", "no:randomly"),
    )
    running = RunningCode(
        {"a.py": "0" * 64},
        "toybot",
        {"b.py": "1" * 64},
        schema_digest,
        ccxt_files={"kucoin.py": "3" * 64},
        distributions={"ccxt": "4.5.90", "requests": "2.31.0"},
    )
    return build_statement(
        suite=reconcile(parse_feature(FEATURE, PATH), evidence),
        policy=parse_policy(("[certificate]\nvalidity_days = 30\n" + floor_policy()).encode()),
        evidence=evidence,
        coverage=coverage,
        running=running,
        git=git,
        versions={
            "python": "3.11.7",
            "implementation": "CPython",
            "safetrade": "0.1.0",
            "ccxt": None,
        },
        signer=PublicKey(bytes(range(32))),
        developer_key=True,
        problems=problems,
        now=datetime(2026, 3, 1, 12, 0, 0, 654321, tzinfo=UTC),
        conformance=None if conformance is None else conformance_of(running, passed=conformance),
        reports=reports,
    )


VARIANTS: dict[str, dict[str, Any]] = {
    "failed, coverage, failed conformance, dirty": {
        "coverage": Coverage(85.123456, {"safetrade/guard.py": 80.0, "safetrade/x.py": 100}),
        "conformance": False,
        "reports": {"report.md": "a" * 64, "evidence.json": "b" * 64},
        "problems": ("pytest exited with status 1", "scenario failed: x"),
        "git": GitState("c" * 40, True),
        "schema_digest": "2" * 64,
    },
    "passed, no coverage, passing conformance": {
        "coverage": None,
        "conformance": True,
        "reports": None,
        "problems": (),
        "git": GitState("d" * 40, False),
        "schema_digest": "2" * 64,
    },
    "no git, no conformance, no config schema": {
        "coverage": None,
        "conformance": None,
        "reports": {},
        "problems": ("bot conformance: none",),
        "git": GitState(None, None),
        "schema_digest": None,
    },
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_from_json_to_json_reproduces_the_signed_bytes(variant: str) -> None:
    statement = _statement(**VARIANTS[variant])
    predicate = statement["predicate"]
    model = Predicate.from_json(predicate)
    assert model.to_json() == predicate
    # == ignores key order and 1 == 1.0: the serialised bytes are what is signed
    rebuilt = {**statement, "predicate": model.to_json()}
    assert statement_bytes(rebuilt) == statement_bytes(statement)
    # and after the JSON round trip the artifact goes through (what the gate reads)
    signed = json.loads(statement_bytes(statement))["predicate"]
    assert statement_bytes(Predicate.from_json(signed).to_json()) == statement_bytes(predicate)
    assert list(predicate) == list(PREDICATE_KEYS)


def test_the_model_exposes_what_the_readers_use() -> None:
    statement = _statement(**VARIANTS["failed, coverage, failed conformance, dirty"])
    model = Predicate.from_json(statement["predicate"])
    assert not model.passed
    assert model.issued_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert (model.expires_at - model.issued_at).days == 30
    assert model.signer.developer_key
    assert model.source.dirty is True
    assert model.policy.validity_days == 30
    assert "incident-2026-02-06" in model.policy.required_tags
    outcomes = {s.name: s.outcome for s in model.suite.scenarios}
    assert outcomes["Rounds <n>"] == "failed"
    assert outcomes["Never bound"] == "not-executed"
    assert model.suite.counts.not_executed == 1
    assert [(t.nodeid, t.outcome) for t in model.suite.failing_tests] == [
        ("tests/property/test_p.py::test_bad", "error")
    ]
    assert {r.control for r in model.controls} >= {"price-collar", "rounding"}
    assert model.coverage is not None
    assert model.coverage.floor_of("src/safetrade/guard.py") == 90.0
    assert model.files.ccxt == {"kucoin.py": "3" * 64}
    assert model.environment.distributions["requests"] == "2.31.0"
    assert model.conformance is not None
    assert model.conformance.result == "FAILED"
    assert model.conformance.bot.package == "toybot"
    assert [r.name for r in model.reports] == ["evidence.json", "report.md"]


def _edit(path: str, value: Any) -> Any:
    """Set (or delete) the field at ``path``; ``>`` separates parts in file names' stead."""

    def change(predicate: dict[str, Any]) -> None:
        *parents, last = path.split(">") if ">" in path else path.split(".")
        node: Any = predicate
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value

    return change


_DELETE = object()

MALFORMED = {
    "result not a string": (_edit("result", 1), "predicate.result must be a string, got 1"),
    "no timezone": (_edit("issuedAt", "2026-03-01T12:00:00"), "has no timezone"),
    "not the written time form": (
        _edit("expiresAt", "2026-03-31T12:00:00+00:00"),
        "predicate.expiresAt must be a UTC timestamp",
    ),
    "developerKey a string": (
        _edit("signer.developerKey", "no"),
        "predicate.signer.developerKey must be true or false, got 'no'",
    ),
    "a scenario's outcome": (
        _edit("suite.scenarios.0.outcome", None),
        "predicate.suite.scenarios[0].outcome must be a string, got None",
    ),
    "a count is a bool": (
        _edit("suite.counts.inventory", True),
        "predicate.suite.counts.inventory must be an integer, got True",
    ),
    "scenarios not a list": (
        _edit("suite.scenarios", 5),
        "predicate.suite.scenarios must be a list",
    ),
    "controls row lacks status": (
        _edit("controls.0.status", _DELETE),
        "predicate.controls[0] lacks status",
    ),
    "files missing": (_edit("files", _DELETE), "predicate lacks files"),
    "a file digest is a number": (
        _edit("files>bot>b.py", 1),
        "predicate.files.bot['b.py'] must be a string, got 1",
    ),
    "policy floor a string": (
        _edit("policy>coverageFloors>safetrade/guard.py", "90"),
        "must be a number, got '90'",
    ),
    "conformance format": (
        _edit("conformance.format", "v0"),
        "predicate.conformance.format must be 'safetrade.conformance/v1', got 'v0'",
    ),
    "a finding's passed": (
        _edit("conformance.scenarios.0.findings.0.passed", 1),
        "predicate.conformance.scenarios[0].findings[0].passed must be true or false, got 1",
    ),
    "environment a list": (_edit("environment", []), "predicate.environment must be an object"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_predicate_is_refused_with_the_field_named(case: str) -> None:
    change, message = MALFORMED[case]
    predicate = copy.deepcopy(_statement(**VARIANTS["passed, no coverage, passing conformance"]))[
        "predicate"
    ]
    change(predicate)
    with pytest.raises(PredicateError) as caught:
        Predicate.from_json(predicate)
    assert message in str(caught.value)
    assert isinstance(caught.value, SafetradeError)
    assert isinstance(caught.value, ValueError)


def test_fields_the_model_does_not_know_are_ignored() -> None:
    """A harness labels its records (conformance/mint.py adds ``harness``); nothing reads it."""
    statement = _statement(**VARIANTS["passed, no coverage, passing conformance"])
    labelled = copy.deepcopy(statement["predicate"])
    labelled["harness"] = "minted"
    labelled["conformance"]["harness"] = "minted"
    assert Predicate.from_json(labelled).to_json() == statement["predicate"]


def test_a_predicate_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PredicateError, match="predicate must be an object, got"):
        Predicate.from_json(["PASSED"])


def test_parts_fail_one_by_one() -> None:
    predicate = copy.deepcopy(_statement(**VARIANTS["passed, no coverage, passing conformance"]))[
        "predicate"
    ]
    predicate["signer"] = 3
    del predicate["files"]
    del predicate["conformance"]
    parts = PredicateParts(predicate)
    with pytest.raises(PredicateError, match=r"predicate\.signer must be an object"):
        parts.signer()
    assert parts.files() is None  # a trimmed artifact: the gate compares digests only
    assert parts.conformance() is None
    assert parts.validity().issued_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parts.suite() is not None
    empty = PredicateParts(["not", "an", "object"])
    assert empty.suite() is None
    with pytest.raises(PredicateError, match="predicate lacks issuedAt"):
        empty.validity()
