"""Feature inventory, reconciliation, policy assessment, and the two reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from safetrade.certification.controls import CONTROLS
from safetrade.certification.evidence import Evidence, ItemOutcome
from safetrade.certification.inventory import incident_line, parse_feature
from safetrade.certification.keys import PublicKey
from safetrade.certification.policy import SHIPPED_POLICY, parse_policy
from safetrade.certification.provenance import GitState, RunningCode
from safetrade.certification.report import render_html, render_markdown
from safetrade.certification.statement import Coverage, assess, build_statement
from safetrade.certification.suite import reconcile
from tests.conformance_runs import conformance_of

FEATURE_TEXT = """\
@control-price-collar
Feature: Price collar
  Incident: 2026-02-06 the bot bought 10x above market

  Background:
    Given a market BTC-USDT

  @incident-2026-02-06
  Scenario: Far order is rejected
    Given a reference price of 100
    Then it is rejected

  Scenario: Skipped one
    Incident: scenario-level line wins
    Given nothing

  Rule: outlines
    @control-rounding
    Scenario Outline: Rounds <n>
      Given <n>
      Examples:
        | n |
        | 1 |
        | 2 |

  Scenario: Never bound
    Given a step nobody implemented
"""
PATH = "features/collar.feature"


def _key(name: str) -> str:
    return f"{PATH}::{name}"


def _item(nodeid: str, outcome: str, scenario: str | None) -> ItemOutcome:
    return ItemOutcome(
        nodeid, outcome, 0.5, (), (), scenario, "" if outcome == "passed" else "boom"
    )


def _evidence() -> Evidence:
    return Evidence(
        items=(
            _item("t::far", "passed", _key("Far order is rejected")),
            _item("t::skip", "skipped", _key("Skipped one")),
            _item("t::r[1]", "passed", _key("Rounds <n>")),
            _item("t::r[2]", "failed", _key("Rounds <n>")),
            _item("tests/property/test_p.py::test_prop", "passed", None),
            _item("tests/property/test_p.py::test_bad", "error", None),
        ),
        exitstatus=1,
        hypothesis_profile="certify",
        deselected=0,
        collection_errors=(),
        args=(),
    )


def test_inventory_parses_tags_rules_outlines_and_incident_lines() -> None:
    scenarios = {s.name: s for s in parse_feature(FEATURE_TEXT, PATH)}
    assert list(scenarios) == ["Far order is rejected", "Skipped one", "Rounds <n>", "Never bound"]
    far = scenarios["Far order is rejected"]
    assert far.controls == ("price-collar",)
    assert far.incidents == ("2026-02-06",)
    assert far.incident_line == "2026-02-06 the bot bought 10x above market"
    assert far.steps[0] == "Given a market BTC-USDT"
    assert scenarios["Skipped one"].incident_line == "scenario-level line wins"
    assert scenarios["Rounds <n>"].controls == ("price-collar", "rounding")
    assert scenarios["Rounds <n>"].examples == 2
    assert incident_line("no such line") is None


def test_reconcile_counts_not_executed_and_outline_failures() -> None:
    suite = reconcile(parse_feature(FEATURE_TEXT, PATH), _evidence())
    outcomes = {s.name: s.outcome for s in suite.scenarios}
    assert outcomes == {
        "Far order is rejected": "passed",
        "Skipped one": "skipped",
        "Rounds <n>": "failed",
        "Never bound": "not-executed",
    }
    assert suite.counts.to_json() == {
        "inventory": 4,
        "collected": 3,
        "passed": 1,
        "failed": 1,
        "skipped": 1,
        "errors": 0,
        "notExecuted": 1,
    }
    assert suite.counts.reconciles
    assert suite.test_counts.errors == 1
    assert suite.failing_tests == (("tests/property/test_p.py::test_bad", "error"),)


def _assess_and_build(
    coverage: Coverage | None, paper: dict[str, object] | None = None
) -> tuple[tuple[str, ...], dict[str, object]]:
    policy = parse_policy(
        b'[scenarios]\nrequired_tags = ["incident-2026-02-06"]\n'
        b'required_controls = ["price-collar", "kill-switch"]\n'
        b'[coverage.floors]\n"safetrade/guard.py" = 90\n"safetrade/protector.py" = 90\n'
    )
    evidence = _evidence()
    suite = reconcile(parse_feature(FEATURE_TEXT, PATH), evidence)
    running = RunningCode({"a.py": "0" * 64}, "toybot", {"b.py": "1" * 64}, "2" * 64)
    git = GitState("c" * 40, True)
    problems = assess(
        policy=policy, suite=suite, evidence=evidence, coverage=coverage, git=git, running=running
    )
    statement = build_statement(
        suite=suite,
        policy=policy,
        evidence=evidence,
        coverage=coverage,
        running=running,
        git=git,
        versions={
            "python": "3.11.7",
            "implementation": "CPython",
            "safetrade": "0.1.0",
            "ccxt": "4.5.90",
        },
        signer=PublicKey(bytes(range(32))),
        developer_key=True,
        problems=problems,
        now=datetime(2026, 3, 1, tzinfo=UTC),
        conformance=conformance_of(running, passed=False),
        paper=paper,
    )
    return problems, statement


def test_assess_names_every_problem() -> None:
    coverage = Coverage(85.0, {"safetrade/guard.py": 80.0})
    problems, statement = _assess_and_build(coverage)
    text = "\n".join(problems)
    assert "pytest exited with status 1" in text
    assert f"scenario skipped: {_key('Skipped one')}" in text
    assert f"scenario failed: {_key('Rounds <n>')}" in text
    assert f"scenario not-executed: {_key('Never bound')}" in text
    assert "test error: tests/property/test_p.py::test_bad" in text
    assert "required control 'kill-switch' has no scenario" in text
    assert "coverage of safetrade/guard.py is 80.0% < floor 90%" in text
    assert "safetrade/protector.py: module not in coverage.json" in text
    assert statement["predicate"]["result"] == "FAILED"  # type: ignore[index]


def test_reports_share_data_and_show_verdict_fingerprint_scenarios_controls() -> None:
    _, statement = _assess_and_build(Coverage(85.0, {"safetrade/guard.py": 95.0}))
    markdown = render_markdown(statement)
    page = render_html(statement)
    fingerprint = PublicKey(bytes(range(32))).fingerprint
    for text in (markdown, page):
        assert "NOT CERTIFIED" in text
        assert fingerprint in text
        assert "local developer key" in text
        for name in ("Far order is rejected", "Skipped one", "Never bound"):
            assert name in text
        assert "Rounds &lt;n&gt;" in text or "Rounds <n>" in text
        assert "2026-02-06 the bot bought 10x above market" in text
        assert "kill-switch" in text  # required but not evidenced still shows in the matrix
        assert "NOT EVIDENCED" in text
        assert CONTROLS["price-collar"].anchors[0] in text
        assert "safetrade verify" in text
        # the bot under certification comes first, each control with its incident line
        assert "The bot under certification" in text
        assert "feb6-trade" in text
        assert "an incident line" in text
        # each scenario shows what the exchange saw, what stayed live and what the bot raised
        assert "buy market 1.4065 SOL" in text
        assert "stop-loss 1.4065 SOL @ 85.61" in text
        assert "bot raised: InvalidOrder: Price increment invalid." in text
    # self-contained: no scripts, no external resources
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?https?:""", page)


def test_every_policy_control_has_a_description() -> None:
    policy = parse_policy(SHIPPED_POLICY.read_bytes())
    missing = [c for c in policy.required_controls if c not in CONTROLS]
    assert missing == []


def test_the_reports_name_a_paper_section_weaker_than_the_library_ships() -> None:
    # [paper] max_rejections and max_bare_seconds deleted: the reports said "the policy is the
    # library's default" while verify named the deviation
    loose = {"requirement": {"minDays": "0", "minRoundTrips": 0, "maxRejections": None,
                             "maxBareSeconds": None}, "journal": None, "summary": None}  # fmt: skip
    _, statement = _assess_and_build(Coverage(85.0, {"safetrade/guard.py": 95.0}), loose)
    for text in (render_markdown(statement), render_html(statement)):
        assert "paper.max_rejections removed (library default 0)" in text
        assert "paper.max_bare_seconds removed (library default 10)" in text
        assert "The policy is the library's default" not in text
