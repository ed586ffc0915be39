"""The evidence pytest plugin, run for real in a throwaway project via ``pytester``.

Each test writes a tiny project (a ``.feature`` file bound with pytest-bdd, ordinary tests),
runs pytest in-process with ``-p safetrade.certification.evidence_plugin``, then reads the JSON the
plugin wrote back through :func:`load_evidence` — the same path ``certify`` uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safetrade.certification.evidence import (
    EVIDENCE_FORMAT,
    Evidence,
    EvidenceError,
    ItemOutcome,
    load_evidence,
    parse_evidence,
)
from safetrade.certification.inventory import parse_inventory
from safetrade.certification.suite import reconcile

pytest_plugins = ["pytester"]

FEATURE = """\
@control-kill-switch
Feature: Demo incidents
  Incident: feature-level line

  Scenario: Passing scenario
    Given all is well

  @incident-2024-01-01 @control-price-collar
  Scenario: Failing scenario
    Given it explodes

  Scenario: Skipped scenario
    Given it is not ready

  Scenario: Unbound scenario
    Given a step with no test module
"""

STEPS = """\
import pytest
from pytest_bdd import given, scenario


@scenario("features/demo.feature", "Passing scenario")
def test_passing():
    pass


@scenario("features/demo.feature", "Failing scenario")
def test_failing():
    pass


@scenario("features/demo.feature", "Skipped scenario")
def test_skipped():
    pass


@given("all is well")
def _well():
    pass


@given("it explodes")
def _explodes():
    raise AssertionError("kaboom from the step")


@given("it is not ready")
def _not_ready():
    pytest.skip("later")
"""

CONFTEST = """\
import pytest

from safetrade.certification.evidence_plugin import apply_tag


def pytest_bdd_apply_tag(tag, function):
    return apply_tag(tag, function)


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup exploded")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown exploded")
"""

ORDINARY = """\
import pytest


def test_plain():
    pass


@pytest.mark.control("rounding")
def test_marked():
    pass


def test_setup_error(broken_setup):
    pass


def test_teardown_error(broken_teardown):
    pass


@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    raise ValueError("expected")


@pytest.mark.xfail(reason="should fail", strict=True)
def test_strict_xpass():
    pass
"""

INI = """\
[pytest]
markers =
    control(name): control
    incident(id): incident
"""


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makeconftest(CONFTEST)
    (pytester.path / "features").mkdir()
    (pytester.path / "features" / "demo.feature").write_text(FEATURE, encoding="utf-8")
    pytester.makepyfile(test_steps=STEPS, test_ordinary=ORDINARY)


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, Evidence, dict]:
    target = pytester.path / "out" / "evidence.json"
    result = pytester.runpytest(
        "-p", "safetrade.certification.evidence_plugin", f"--safetrade-evidence={target}", *args
    )
    raw = json.loads(target.read_text(encoding="utf-8"))
    return result, load_evidence(target), raw


def _by_name(evidence: Evidence) -> dict[str, ItemOutcome]:
    return {item.nodeid.split("::")[-1]: item for item in evidence.items}


def test_plugin_records_every_outcome_with_marks_and_scenario_keys(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result, evidence, raw = _run(pytester)

    assert raw["format"] == EVIDENCE_FORMAT
    assert Path(raw["rootdir"]) == pytester.path
    assert evidence.exitstatus == result.ret == pytest.ExitCode.TESTS_FAILED
    assert evidence.deselected == 0
    assert evidence.collection_errors == ()
    items = _by_name(evidence)
    assert {name: item.outcome for name, item in items.items()} == {
        "test_passing": "passed",
        "test_failing": "failed",
        "test_skipped": "skipped",
        "test_plain": "passed",
        "test_marked": "passed",
        "test_setup_error": "error",
        # passed its call, then the teardown raised: the later error is not hidden
        "test_teardown_error": "error",
        "test_expected_failure": "skipped",
        "test_strict_xpass": "failed",
    }

    # Gherkin tags become marks (feature-level tags are inherited by each scenario)
    failing = items["test_failing"]
    assert failing.controls == ("kill-switch", "price-collar")
    assert failing.incidents == ("2024-01-01",)
    assert failing.scenario == "features/demo.feature::Failing scenario"
    assert "kaboom from the step" in failing.message
    assert items["test_passing"].controls == ("kill-switch",)
    assert items["test_passing"].message == ""
    # ordinary tests carry their marks but no scenario
    assert items["test_marked"].controls == ("rounding",)
    assert items["test_plain"].scenario is None
    assert "setup exploded" in items["test_setup_error"].message
    assert "teardown exploded" in items["test_teardown_error"].message
    assert all(item.duration >= 0 for item in evidence.items)


def test_evidence_reconciles_with_the_feature_inventory(pytester: pytest.Pytester) -> None:
    _project(pytester)
    _, evidence, _ = _run(pytester)

    inventory = parse_inventory(pytester.path, "features")
    suite = reconcile(inventory, evidence)
    outcomes = {s.name: s.outcome for s in suite.scenarios}
    assert outcomes == {
        "Passing scenario": "passed",
        "Failing scenario": "failed",
        "Skipped scenario": "skipped",
        "Unbound scenario": "not-executed",
    }
    failing = next(s for s in suite.scenarios if s.name == "Failing scenario")
    assert failing.incident_line == "feature-level line"


def test_items_that_never_ran_are_errors_not_passes(pytester: pytest.Pytester) -> None:
    _project(pytester)
    _, evidence, _ = _run(pytester, "-x", "test_ordinary.py")

    items = _by_name(evidence)
    assert items["test_plain"].outcome == "passed"
    assert items["test_setup_error"].outcome == "error"
    # -x stopped the session: the rest were collected but never reported
    for name in ("test_teardown_error", "test_expected_failure", "test_strict_xpass"):
        assert items[name].outcome == "error"
        assert "never ran" in items[name].message


def test_collection_errors_are_recorded(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(test_broken="import no_such_module_for_evidence\n")
    result, evidence, _ = _run(pytester, "--continue-on-collection-errors")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (error,) = evidence.collection_errors
    assert error.startswith("test_broken.py: ")
    assert "no_such_module_for_evidence" in error
    assert _by_name(evidence)["test_plain"].outcome == "passed"


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "safetrade.certification.evidence_plugin", "-k", "plain")
    result.assert_outcomes(passed=1, deselected=8)
    assert not (pytester.path / "out").exists()


def test_apply_tag_leaves_other_tags_to_pytest_bdd() -> None:
    from safetrade.certification.evidence_plugin import apply_tag

    def scenario_function() -> None:
        pass

    assert apply_tag("slow", scenario_function) is None
    assert apply_tag("control-", scenario_function) is None  # no name after the prefix
    assert apply_tag("control-rounding", scenario_function) is True
    assert apply_tag("incident-k1", scenario_function) is True
    marks = {(m.name, m.args) for m in scenario_function.pytestmark}  # type: ignore[attr-defined]
    assert marks == {("control", ("rounding",)), ("incident", ("k1",))}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (b"not json", "malformed"),
        (b'{"format": "other/1", "items": []}', "'other/1'"),
        (b'{"format": "safetrade-evidence/1", "items": [{"nodeid": "x"}]}', "malformed"),
        (b'{"format": "safetrade-evidence/1", "items": [], "exitstatus": "x"}', "malformed"),
        (b"[]", "malformed"),
    ],
)
def test_malformed_evidence_is_refused(document: bytes, problem: str) -> None:
    with pytest.raises(EvidenceError, match=problem):
        parse_evidence(document)


def test_missing_evidence_file_says_how_to_produce_it(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="does not exist") as info:
        load_evidence(tmp_path / "nope.json")
    assert "--safetrade-evidence" in str(info.value)


def test_inventory_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(EvidenceError, match="does not exist") as info:
        parse_inventory(tmp_path, "features")
    assert "features_dir" in str(info.value)


def test_empty_feature_file_has_no_scenarios(tmp_path: Path) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "empty.feature").write_text("# nothing yet\n")
    assert parse_inventory(tmp_path, "features") == ()


@pytest.mark.parametrize(
    "text",
    [
        "Given a step before any Feature\n",  # the parser reports a composite of errors
        "Feature: x\n  Scenario: s\n    Given t\n      | a |\n      | b | c |\n",
    ],
)
def test_invalid_gherkin_is_an_evidence_error_naming_the_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "bad.feature").write_text(text, encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"features/bad\.feature is not valid Gherkin") as info:
        parse_inventory(tmp_path, "features")
    assert "(" in info.value.why  # the parser's own (line:column) message is kept


def test_deselected_items_are_counted_not_recorded_as_errors(pytester: pytest.Pytester) -> None:
    _project(pytester)
    _, evidence, raw = _run(pytester, "-k", "plain or passing")

    assert evidence.deselected == 7
    # a deselected test did not "never run after an interruption": it is simply not in the run
    assert {n: i.outcome for n, i in _by_name(evidence).items()} == {
        "test_passing": "passed",
        "test_plain": "passed",
    }
    assert "plain or passing" in raw["args"]
    assert evidence.args == tuple(raw["args"])
    # so a deselected scenario reconciles as not-executed, like any scenario that did not run
    suite = reconcile(parse_inventory(pytester.path, "features"), evidence)
    outcomes = {s.name: s.outcome for s in suite.scenarios}
    assert outcomes["Failing scenario"] == "not-executed"
    assert outcomes["Passing scenario"] == "passed"
