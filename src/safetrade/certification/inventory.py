"""The scenario inventory: every scenario the ``.feature`` files say must run.

The inventory is parsed from the ``.feature`` files themselves, not from a test reporter
(pytest-bdd's cucumber JSON silently drops skipped scenarios and scenarios whose first step has
no definition); :mod:`safetrade.certification.suite` reconciles it with the recorded outcomes
(:mod:`safetrade.certification.evidence`).

Conventions the feature files follow:

* ``@control-<name>`` tags name the control a scenario evidences (see ``controls.py``);
  ``@incident-<id>`` tags name the incident it replays. At test time
  :func:`safetrade.certification.evidence_plugin.apply_tag` turns them into pytest marks.
* The **incident line** shown in the report is the first description line starting with
  ``Incident:`` under the ``Scenario:`` line, else the first such line of the ``Feature:``
  description.
* A scenario is identified by :func:`scenario_key`: its feature file's path relative to the
  project root and its name.

gherkin-official is a test-time dependency, so it is imported lazily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.evidence import EvidenceError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = [
    "InventoryScenario",
    "incident_line",
    "parse_feature",
    "parse_inventory",
    "scenario_key",
]


def scenario_key(feature_path: str, name: str) -> str:
    """Return the scenario id ``<feature path relative to project root>::<scenario name>``."""
    return f"{feature_path}::{name}"


@attrs.frozen
class InventoryScenario:
    """A scenario as written in a ``.feature`` file."""

    key: str
    feature_path: str
    feature_name: str
    name: str
    line: int
    tags: tuple[str, ...]
    incident_line: str | None
    steps: tuple[str, ...]
    examples: int

    @property
    def controls(self) -> tuple[str, ...]:
        """Control names from ``@control-<name>`` tags (feature, rule and scenario level)."""
        return _tag_values(self.tags, "control-")

    @property
    def incidents(self) -> tuple[str, ...]:
        """Incident ids from ``@incident-<id>`` tags."""
        return _tag_values(self.tags, "incident-")


def _tag_values(tags: Sequence[str], prefix: str) -> tuple[str, ...]:
    return tuple(sorted({t[len(prefix) :] for t in tags if t.startswith(prefix)}))


def incident_line(*descriptions: str) -> str | None:
    """Return the first ``Incident:`` line of the first description that has one."""
    for description in descriptions:
        for raw in description.splitlines():
            line = raw.strip()
            if line.lower().startswith("incident:"):
                return line[len("incident:") :].strip()
    return None


def _tags(node: Mapping[str, Any]) -> list[str]:
    return [str(t["name"]).lstrip("@") for t in node.get("tags", [])]


def parse_feature(text: str, feature_path: str) -> tuple[InventoryScenario, ...]:
    """Parse one ``.feature`` file's text into its scenarios.

    Raises:
        EvidenceError: The file is not valid Gherkin.
    """
    from gherkin.errors import ParserError  # noqa: PLC0415 -- test-time dependency
    from gherkin.parser import Parser  # noqa: PLC0415

    try:
        document: Any = Parser().parse(text)
    except ParserError as exc:  # also CompositeParserException, which is not a ParserException
        raise EvidenceError(f"{feature_path} is not valid Gherkin", why=str(exc)) from exc
    feature = document.get("feature")
    if not feature:
        return ()
    feature_tags = _tags(feature)
    feature_description = str(feature.get("description", ""))
    background: list[str] = []
    found: list[InventoryScenario] = []

    def add(node: Mapping[str, Any], inherited: list[str], rule_background: list[str]) -> None:
        scenario = node["scenario"]
        steps = [f"{s['keyword'].strip()} {s['text']}" for s in scenario.get("steps", [])]
        examples = sum(len(e.get("tableBody", [])) for e in scenario.get("examples", []))
        found.append(
            InventoryScenario(
                key=scenario_key(feature_path, str(scenario["name"])),
                feature_path=feature_path,
                feature_name=str(feature["name"]),
                name=str(scenario["name"]),
                line=int(scenario["location"]["line"]),
                tags=tuple(sorted({*inherited, *_tags(scenario)})),
                incident_line=incident_line(
                    str(scenario.get("description", "")), feature_description
                ),
                steps=tuple(background + rule_background + steps),
                examples=examples,
            )
        )

    for child in feature.get("children", []):
        if "background" in child:
            background = [
                f"{s['keyword'].strip()} {s['text']}" for s in child["background"]["steps"]
            ]
        elif "scenario" in child:
            add(child, feature_tags, [])
        elif "rule" in child:
            rule = child["rule"]
            rule_tags = feature_tags + _tags(rule)
            rule_background: list[str] = []
            for rule_child in rule.get("children", []):
                if "background" in rule_child:
                    rule_background = [
                        f"{s['keyword'].strip()} {s['text']}"
                        for s in rule_child["background"]["steps"]
                    ]
                elif "scenario" in rule_child:
                    add(rule_child, rule_tags, rule_background)
    return tuple(found)


def parse_inventory(project_root: Path, features_dir: str) -> tuple[InventoryScenario, ...]:
    """Parse every ``*.feature`` file under ``project_root / features_dir`` (sorted, recursive).

    Raises:
        EvidenceError: The folder does not exist or a file is not valid Gherkin.
    """
    base = project_root / features_dir
    if not base.is_dir():
        raise EvidenceError(
            f"features folder {base} does not exist", fix="check policy scenarios.features_dir"
        )
    scenarios: list[InventoryScenario] = []
    for path in sorted(base.rglob("*.feature")):
        rel = path.relative_to(project_root).as_posix()
        scenarios.extend(parse_feature(path.read_text(encoding="utf-8"), rel))
    return tuple(scenarios)
