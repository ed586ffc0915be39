"""Test-time evidence: a pytest plugin recording every outcome, and the ``.feature`` inventory.

pytest-bdd's cucumber JSON silently drops skipped scenarios and scenarios whose first step has
no definition, so outcomes come from pytest's own reports instead, and are reconciled against
an inventory parsed from the ``.feature`` files (see :mod:`safetrade.certification.suite`).

Use the plugin with ``pytest -p safetrade.certification.evidence --safetrade-evidence=PATH``.
It writes one JSON document (format ``safetrade-evidence/1``) at session end.

Conventions the feature files follow:

* ``@control-<name>`` tags name the control a scenario evidences (see ``controls.py``);
  ``@incident-<id>`` tags name the incident it replays. :func:`apply_tag` turns them into
  ``pytest.mark.control(name)`` / ``pytest.mark.incident(id)``; call it from the
  ``pytest_bdd_apply_tag`` hook in ``features/conftest.py``.
* The **incident line** shown in the report is the first description line starting with
  ``Incident:`` under the ``Scenario:`` line, else the first such line of the ``Feature:``
  description.

pytest and gherkin-official are test-time dependencies, so both are imported lazily.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

__all__ = [
    "EVIDENCE_FORMAT",
    "Evidence",
    "EvidenceError",
    "InventoryScenario",
    "ItemOutcome",
    "apply_tag",
    "incident_line",
    "load_evidence",
    "parse_evidence",
    "parse_feature",
    "parse_inventory",
    "scenario_key",
]

EVIDENCE_FORMAT = "safetrade-evidence/1"
_MESSAGE_LIMIT = 4000


class EvidenceError(SafetradeError):
    """Evidence or feature files are missing or malformed."""


def scenario_key(feature_path: str, name: str) -> str:
    """Return the scenario id ``<feature path relative to project root>::<scenario name>``."""
    return f"{feature_path}::{name}"


def apply_tag(tag: str, function: object) -> bool | None:
    """Map ``control-X`` / ``incident-X`` Gherkin tags to ``control``/``incident`` marks.

    Intended for ``features/conftest.py``::

        def pytest_bdd_apply_tag(tag, function):
            return apply_tag(tag, function)

    Returns:
        True when the tag was handled, None to let pytest-bdd apply its default mark.
    """
    import pytest  # noqa: PLC0415 -- test-time dependency, never imported by live code

    for prefix, mark in (("control-", pytest.mark.control), ("incident-", pytest.mark.incident)):
        if tag.startswith(prefix) and len(tag) > len(prefix):
            mark(tag[len(prefix) :])(function)
            return True
    return None


# --------------------------------------------------------------------------- inventory


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


# --------------------------------------------------------------------------- evidence model


@attrs.frozen
class ItemOutcome:
    """The outcome of one collected pytest item.

    ``outcome`` is one of ``passed``, ``failed``, ``error`` (setup/teardown failure),
    ``skipped`` (including xfail).
    """

    nodeid: str
    outcome: str
    duration: float
    controls: tuple[str, ...]
    incidents: tuple[str, ...]
    scenario: str | None
    message: str


@attrs.frozen
class Evidence:
    """Everything the plugin recorded for one pytest session."""

    items: tuple[ItemOutcome, ...]
    exitstatus: int
    hypothesis_profile: str | None
    deselected: int
    collection_errors: tuple[str, ...]
    args: tuple[str, ...]
    #: sha256 of each safetrade file, measured in the test process when the session started
    #: (None: an evidence file that does not say what it tested)
    tested_files: Mapping[str, str] | None = None
    #: the same measured when the session finished: a change during the run shows here
    tested_files_at_end: Mapping[str, str] | None = None


def _files(value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("testedFiles is not an object")
    return {str(k): str(v) for k, v in value.items()}


def _measure_safetrade() -> dict[str, str] | None:
    """The safetrade tree this process imports, as certify measures it (None if unreadable)."""
    import safetrade  # noqa: PLC0415 -- the package under test, wherever it is installed
    from safetrade.certification.digest import tree_files  # noqa: PLC0415

    try:
        return dict(tree_files(Path(safetrade.__file__).parent))
    except SafetradeError:
        return None


def parse_evidence(data: bytes) -> Evidence:
    """Parse the JSON written by the plugin.

    Raises:
        EvidenceError: The document is not evidence in the expected format.
    """
    try:
        doc = json.loads(data)
        if doc.get("format") != EVIDENCE_FORMAT:
            raise EvidenceError(
                f"evidence format is {doc.get('format')!r}, expected {EVIDENCE_FORMAT!r}"
            )
        items = tuple(
            ItemOutcome(
                nodeid=str(i["nodeid"]),
                outcome=str(i["outcome"]),
                duration=float(i["duration"]),
                controls=tuple(i["controls"]),
                incidents=tuple(i["incidents"]),
                scenario=i["scenario"],
                message=str(i.get("message", "")),
            )
            for i in doc["items"]
        )
        return Evidence(
            items=items,
            exitstatus=int(doc["exitstatus"]),
            hypothesis_profile=doc.get("hypothesisProfile"),
            deselected=int(doc.get("deselected", 0)),
            collection_errors=tuple(str(e) for e in doc.get("collectionErrors", [])),
            args=tuple(str(a) for a in doc.get("args", [])),
            tested_files=_files(doc.get("testedFiles")),
            tested_files_at_end=_files(doc.get("testedFilesAtEnd")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvidenceError(
            "evidence JSON is malformed", why=str(exc), fix="re-run `tox -e certify`"
        ) from exc


def load_evidence(path: Path) -> Evidence:
    """Read the evidence file at ``path``.

    Raises:
        EvidenceError: It is missing or malformed.
    """
    if not path.is_file():
        raise EvidenceError(
            f"evidence file {path} does not exist",
            why="the pytest run did not finish or did not load the evidence plugin",
            fix="run pytest with -p safetrade.certification.evidence --safetrade-evidence=PATH",
        )
    return parse_evidence(path.read_bytes())


# --------------------------------------------------------------------------- pytest plugin


def _scenario_of(item: pytest.Item, rootpath: Path) -> str | None:
    """Return the scenario key of a pytest-bdd item, or None for ordinary tests."""
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry  # noqa: PLC0415
    except ImportError:  # pragma: no cover - pytest-bdd absent: no scenarios at all
        return None
    obj = getattr(item, "obj", None)
    try:
        template = scenario_wrapper_template_registry.get(obj) if obj is not None else None
    except TypeError:  # objects that cannot be weak-referenced are not scenarios
        return None
    if template is None:
        return None
    path = Path(template.feature.filename).resolve()
    try:
        rel = path.relative_to(rootpath.resolve()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return scenario_key(rel, str(template.name))


class _Recorder:
    """Collects outcomes during a session and writes them at the end."""

    def __init__(self, path: Path, config: pytest.Config) -> None:
        self.path = path
        self.config = config
        self.items: dict[str, dict[str, Any]] = {}
        self.deselected = 0
        self.collection_errors: list[str] = []
        self.tested_files = _measure_safetrade()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self.items[item.nodeid] = {
                "nodeid": item.nodeid,
                "outcome": None,
                "duration": 0.0,
                "controls": sorted(
                    {str(m.args[0]) for m in item.iter_markers("control") if m.args}
                ),
                "incidents": sorted(
                    {str(m.args[0]) for m in item.iter_markers("incident") if m.args}
                ),
                "scenario": _scenario_of(item, self.config.rootpath),
                "message": "",
            }

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        # -k/-m deselection runs in a modifyitems hook that may come after ours: forget the
        # deselected items, or they would be reported as collected-but-never-ran errors
        self.deselected += len(items)
        for item in items:
            self.items.pop(item.nodeid, None)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(
                f"{report.nodeid}: {str(report.longrepr)[:_MESSAGE_LIMIT]}"
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.items.get(report.nodeid)
        if entry is None:
            return
        entry["duration"] += report.duration
        if report.when == "call":
            # an xfail is reported as skipped; a strict XPASS as failed
            outcome: str = report.outcome
        elif report.failed:  # setup or teardown raised: the test did not run cleanly
            outcome = "error"
        elif report.skipped:
            outcome = "skipped"
        else:
            return
        # an error in teardown must not be hidden by an earlier "passed"
        if entry["outcome"] in (None, "passed") or outcome in ("failed", "error"):
            entry["outcome"] = outcome
        if report.failed:
            entry["message"] = (entry["message"] + str(report.longrepr))[:_MESSAGE_LIMIT]

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        try:
            from hypothesis import settings  # noqa: PLC0415

            profile: str | None = settings.get_current_profile_name()
        except ImportError:  # pragma: no cover - hypothesis not installed
            profile = None
        items = []
        for entry in self.items.values():
            # collected but never reported (interrupted run): never count it as passed
            items.append({**entry, "outcome": entry["outcome"] or "error"})
            if entry["outcome"] is None:
                items[-1]["message"] = "collected but never ran (session interrupted?)"
        doc = {
            "format": EVIDENCE_FORMAT,
            "rootdir": str(self.config.rootpath),
            "args": [str(a) for a in self.config.invocation_params.args],
            "exitstatus": int(exitstatus),
            "hypothesisProfile": profile,
            "deselected": self.deselected,
            "collectionErrors": self.collection_errors,
            "finishedAt": time.time(),
            # what the tests ran on, measured here and not by certify: code edited after the
            # run (or during it) is not the code this evidence is about
            "testedFiles": self.tested_files,
            "testedFilesAtEnd": _measure_safetrade(),
            "items": items,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--safetrade-evidence=PATH``."""
    parser.addoption(
        "--safetrade-evidence",
        metavar="PATH",
        default=None,
        help="write every test outcome with its control/incident marks as JSON to PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the recorder when ``--safetrade-evidence`` is given."""
    target = config.getoption("--safetrade-evidence")
    if target:
        config.pluginmanager.register(
            _Recorder(Path(target), config), "safetrade-evidence-recorder"
        )
