"""``safetrade suite``: safetrade's own certification suite in two processes at once.

Branch coverage is what makes the suite slow, and the property tests add no coverage the rest
does not (their modules' floors hold without them), so they run in a second process *without*
coverage while the features and every other test run under it. Each process writes its own
evidence; they are merged into the one ``evidence.json`` certify checks. A process that dies or
never writes its evidence leaves no merged evidence, so certification fails; the scenario
inventory is still reconciled exactly, since every scenario runs in the covered process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "merge_evidence", "run"]

PROPERTY_TESTS = "tests/property"


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Arguments of ``safetrade suite``."""
    del name
    parser.add_argument("--out", type=Path, default=Path("certification/out"))
    parser.add_argument("--project-root", type=Path, default=Path())


def merge_evidence(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One evidence document from the documents of the processes that ran the suite.

    Raises:
        ValueError: A part is not evidence of the same format.
    """
    formats = {p.get("format") for p in parts}
    if len(formats) != 1:
        raise ValueError(f"evidence parts disagree on their format: {sorted(map(str, formats))}")
    merged: dict[str, Any] = {
        "format": parts[0]["format"],
        "rootdir": parts[0].get("rootdir"),
        "args": [a for p in parts for a in p.get("args", [])],
        "exitstatus": max(int(p["exitstatus"]) for p in parts),
        "hypothesisProfile": next(
            (p["hypothesisProfile"] for p in parts if p.get("hypothesisProfile")), None
        ),
        "deselected": sum(int(p.get("deselected", 0)) for p in parts),
        "collectionErrors": [e for p in parts for e in p.get("collectionErrors", [])],
        "finishedAt": max(float(p.get("finishedAt", 0)) for p in parts),
        "testedFiles": parts[0].get("testedFiles"),
        "testedFilesAtEnd": parts[0].get("testedFilesAtEnd"),
        "items": [i for p in parts for i in p["items"]],
    }
    for part in parts[1:]:
        # both processes must have tested the same code, from start to end
        for key in ("testedFiles", "testedFilesAtEnd"):
            if part.get(key) != merged[key]:
                merged["collectionErrors"].append(
                    f"the test processes saw different safetrade code ({key})"
                )
    return merged


def run(args: argparse.Namespace, name: str) -> int:
    """Run both processes, then write ``coverage.json`` and the merged ``evidence.json``."""
    del name
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    root: Path = args.project_root.resolve()
    plugin = ["-p", "safetrade.certification.evidence_plugin"]
    covered_evidence, property_evidence = (
        out / "evidence-covered.json",
        out / "evidence-property.json",
    )
    for stale in (covered_evidence, property_evidence, out / "evidence.json"):
        stale.unlink(missing_ok=True)
    covered = subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "features", "tests",
         f"--ignore={PROPERTY_TESTS}", *plugin, f"--safetrade-evidence={covered_evidence}",
         f"--cucumberjson={out / 'cucumber.json'}"],
        cwd=root,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_START"}
    properties = subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
        [sys.executable, "-m", "pytest", PROPERTY_TESTS, *plugin,
         f"--safetrade-evidence={property_evidence}", "-q"],
        cwd=root,
        env=env,
    )  # fmt: skip
    statuses = (covered.wait(), properties.wait())
    subprocess.run(  # noqa: S603 -- our interpreter, fixed arguments
        [sys.executable, "-m", "coverage", "json", "--fail-under=0",
         "-o", str(out / "coverage.json")],
        cwd=root,
        check=False,
    )  # fmt: skip
    try:
        parts = [
            json.loads(p.read_text(encoding="utf-8")) for p in (covered_evidence, property_evidence)
        ]
        merged = merge_evidence(parts)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # no merged evidence: certify then refuses, naming the missing file
        print(f"safetrade suite: evidence not merged ({exc})", file=sys.stderr)
        return 1
    (out / "evidence.json").write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    print(
        f"suite: {len(merged['items'])} tests in 2 processes (covered: pytest exit {statuses[0]}, "
        f"property tests without coverage: exit {statuses[1]})"
    )
    return max(statuses)
