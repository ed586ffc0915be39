"""Reconcile pytest outcomes with the ``.feature`` inventory, scenario by scenario.

A scenario in the inventory without any pytest outcome is ``not-executed`` (a failure): this is
how a scenario silently dropped by a reporter, deselected, or never bound to a test module is
caught. A scenario outline is one scenario; it passes only if every example passed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from safetrade.certification.evidence import Evidence, ItemOutcome
    from safetrade.certification.inventory import InventoryScenario

__all__ = ["Counts", "ScenarioResult", "SuiteResult", "TestCounts", "reconcile"]

NOT_EXECUTED = "not-executed"


@attrs.frozen
class ScenarioResult:
    """One inventory scenario with its aggregated outcome."""

    id: str
    name: str
    feature: str
    feature_path: str
    line: int
    outcome: str
    controls: tuple[str, ...]
    incidents: tuple[str, ...]
    incident_line: str | None
    duration: float
    instances: int
    steps: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, object]:
        """Return the scenario as recorded in the predicate."""
        return {
            "id": self.id,
            "name": self.name,
            "feature": self.feature,
            "featurePath": self.feature_path,
            "line": self.line,
            "outcome": self.outcome,
            "controls": list(self.controls),
            "incidents": list(self.incidents),
            "incidentLine": self.incident_line,
            "durationSeconds": round(self.duration, 6),
            "instances": self.instances,
            "steps": list(self.steps),
            "message": self.message,
        }


@attrs.frozen
class Counts:
    """Scenario counts; ``inventory`` equals the sum of the outcome counts."""

    inventory: int
    collected: int
    passed: int
    failed: int
    skipped: int
    errors: int
    not_executed: int

    @property
    def reconciles(self) -> bool:
        """True when every inventory scenario has exactly one aggregated outcome."""
        total = self.passed + self.failed + self.skipped + self.errors + self.not_executed
        return total == self.inventory and self.collected == self.inventory - self.not_executed

    def to_json(self) -> dict[str, int]:
        """Return the counts as recorded in the predicate."""
        return {
            "inventory": self.inventory,
            "collected": self.collected,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": self.errors,
            "notExecuted": self.not_executed,
        }


@attrs.frozen
class TestCounts:
    """Counts of ordinary (non-scenario) tests, e.g. property tests."""

    __test__ = False  # not a pytest test class, despite the name

    collected: int
    passed: int
    failed: int
    skipped: int
    errors: int

    def to_json(self) -> dict[str, int]:
        """Return the counts as recorded in the predicate."""
        return attrs.asdict(self)


@attrs.frozen
class SuiteResult:
    """Reconciled results of one certification run."""

    scenarios: tuple[ScenarioResult, ...]
    counts: Counts
    test_counts: TestCounts
    failing_tests: tuple[tuple[str, str], ...]
    unknown_scenarios: tuple[str, ...]
    duplicate_scenarios: tuple[str, ...]


def _aggregate(outcomes: Sequence[str]) -> str:
    if not outcomes:
        return NOT_EXECUTED
    for worst in ("failed", "error"):
        if worst in outcomes:
            return worst
    return "passed" if all(o == "passed" for o in outcomes) else "skipped"


def reconcile(inventory: Sequence[InventoryScenario], evidence: Evidence) -> SuiteResult:
    """Join inventory scenarios with the pytest items that ran them."""
    by_scenario: dict[str, list[ItemOutcome]] = defaultdict(list)
    tests: list[ItemOutcome] = []
    for item in evidence.items:
        if item.scenario is None:
            tests.append(item)
        else:
            by_scenario[item.scenario].append(item)
    names = Counter(s.key for s in inventory)
    results: list[ScenarioResult] = []
    seen: set[str] = set()
    for scenario in inventory:
        if scenario.key in seen:
            continue  # a duplicate name: pytest-bdd binds only one of them; reported below
        seen.add(scenario.key)
        items = by_scenario.get(scenario.key, [])
        outcome = _aggregate([i.outcome for i in items])
        message = "\n".join(i.message for i in items if i.message)
        if outcome == NOT_EXECUTED:
            message = "in the .feature inventory but no pytest outcome: never collected or ran"
        results.append(
            ScenarioResult(
                id=scenario.key,
                name=scenario.name,
                feature=scenario.feature_name,
                feature_path=scenario.feature_path,
                line=scenario.line,
                outcome=outcome,
                controls=tuple(
                    sorted({*scenario.controls, *(c for i in items for c in i.controls)})
                ),
                incidents=tuple(
                    sorted({*scenario.incidents, *(c for i in items for c in i.incidents)})
                ),
                incident_line=scenario.incident_line,
                duration=sum(i.duration for i in items),
                instances=len(items),
                steps=scenario.steps,
                message=message,
            )
        )
    tally = Counter(r.outcome for r in results)
    test_tally = Counter(t.outcome for t in tests)
    return SuiteResult(
        scenarios=tuple(results),
        counts=Counts(
            inventory=len(results),
            collected=len(results) - tally[NOT_EXECUTED],
            passed=tally["passed"],
            failed=tally["failed"],
            skipped=tally["skipped"],
            errors=tally["error"],
            not_executed=tally[NOT_EXECUTED],
        ),
        test_counts=TestCounts(
            collected=len(tests),
            passed=test_tally["passed"],
            failed=test_tally["failed"],
            skipped=test_tally["skipped"],
            errors=test_tally["error"],
        ),
        failing_tests=tuple(
            (t.nodeid, t.outcome) for t in tests if t.outcome in ("failed", "error")
        ),
        unknown_scenarios=tuple(sorted(set(by_scenario) - seen)),
        duplicate_scenarios=tuple(sorted(k for k, n in names.items() if n > 1)),
    )
