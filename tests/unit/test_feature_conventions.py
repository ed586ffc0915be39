"""Conventions of the certification suite's feature files (certification/README.md)."""

from __future__ import annotations

from pathlib import Path

from safetrade.certification.inventory import parse_inventory

ROOT = Path(__file__).parents[2]


def test_every_scenario_quoting_an_incident_line_is_tagged_with_the_incident():
    """A scenario shown next to an incident line in the report is part of that incident's replay.

    Untagged, it would not count toward the policy's ``required_tags`` and the report's incident
    evidence, while still claiming to replay the incident.
    """
    untagged = [
        scenario.key
        for scenario in parse_inventory(ROOT, "features")
        if scenario.incident_line and not any(t.startswith("incident-") for t in scenario.tags)
    ]
    assert untagged == []


def test_every_scenario_names_a_control():
    """The controls matrix is built from ``@control-*`` tags: a scenario without one is lost."""
    missing = [
        scenario.key
        for scenario in parse_inventory(ROOT, "features")
        if not any(t.startswith("control-") for t in scenario.tags)
    ]
    assert missing == []
