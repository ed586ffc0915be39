"""The pytest plugin that records every test outcome as evidence, and the tag-to-mark hook.

Outcomes come from pytest's own reports rather than pytest-bdd's cucumber JSON, which
silently drops skipped scenarios and scenarios whose first step has no definition.

Use the plugin with ``pytest -p safetrade.certification.evidence_plugin --safetrade-evidence=PATH``.
It writes one JSON document (:mod:`safetrade.certification.evidence`) at session end. Each item
carries its ``control``/``incident`` marks, which :func:`apply_tag` derives from the
``@control-<name>`` / ``@incident-<id>`` Gherkin tags (see
:mod:`safetrade.certification.inventory`), and the key of the scenario it ran.

pytest is a test-time dependency, so it is imported lazily.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safetrade.certification.evidence import EVIDENCE_FORMAT
from safetrade.certification.inventory import scenario_key
from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

__all__ = ["apply_tag"]

_MESSAGE_LIMIT = 4000


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


def _measure_safetrade() -> dict[str, str] | None:
    """The safetrade tree this process imports, as certify measures it (None if unreadable)."""
    import safetrade  # noqa: PLC0415 -- the package under test, wherever it is installed
    from safetrade.certification.digest import tree_files  # noqa: PLC0415

    try:
        return dict(tree_files(Path(safetrade.__file__).parent))
    except SafetradeError:
        return None


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
