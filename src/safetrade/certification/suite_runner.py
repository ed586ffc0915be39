"""``safetrade suite``: safetrade's own certification suite in three processes at once.

Branch coverage is what makes the suite slow, so its covered part is split in two processes
(features + most tests; unit tests + the tests that spend their time in subprocesses), whose
coverage data are combined, and the property tests, which add no coverage the rest does not
(their modules' floors hold without them), run in a third process *without* coverage. On two
cores the covered work no longer waits for one core. Each process writes its own evidence;
they are merged into the one ``evidence.json`` certify checks. A process that dies or never
writes its evidence leaves no merged evidence, so certification fails; the scenario inventory
is still reconciled exactly, since every scenario runs in the first process.
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
# the second covered process: unit tests and the files whose time goes to subprocesses
SECOND_SHARD = (
    "tests/unit",
    "tests/integration/test_conformance.py",
    "tests/integration/test_certify_cli.py",
    "tests/integration/test_fault_matrix.py",
)


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
    evidence = [out / f"evidence-{part}.json" for part in ("covered", "covered-2", "property")]
    for stale in (*evidence, out / "evidence.json"):
        stale.unlink(missing_ok=True)
    data = Path(os.environ.get("COVERAGE_FILE") or ".coverage")
    data = data if data.is_absolute() else root / data
    for stale in (data, *data.parent.glob(f"{data.name}.*")):
        stale.unlink(missing_ok=True)  # combine must see this run's data only
    coverage = [sys.executable, "-m", "coverage", "run", "--parallel-mode", "-m", "pytest"]
    ignores = [f"--ignore={path}" for path in (PROPERTY_TESTS, *SECOND_SHARD)]
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_START"}
    processes = [
        subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
            [*coverage, "features", "tests", *ignores, *plugin,
             f"--safetrade-evidence={evidence[0]}", f"--cucumberjson={out / 'cucumber.json'}"],
            cwd=root,
        ),
        subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
            [*coverage, *SECOND_SHARD, *plugin, f"--safetrade-evidence={evidence[1]}", "-q"],
            cwd=root,
        ),
        subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
            [sys.executable, "-m", "pytest", PROPERTY_TESTS, *plugin,
             f"--safetrade-evidence={evidence[2]}", "-q"],
            cwd=root,
            env=env,
        ),
    ]  # fmt: skip
    statuses = tuple(process.wait() for process in processes)
    for command in (["combine"], ["json", "--fail-under=0", "-o", str(out / "coverage.json")]):
        subprocess.run(  # noqa: S603 -- our interpreter, fixed arguments
            [sys.executable, "-m", "coverage", *command], cwd=root, check=False
        )
    try:
        parts = [json.loads(p.read_text(encoding="utf-8")) for p in evidence]
        merged = merge_evidence(parts)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # no merged evidence: certify then refuses, naming the missing file
        print(f"safetrade suite: evidence not merged ({exc})", file=sys.stderr)
        return 1
    (out / "evidence.json").write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    print(
        f"suite: {len(merged['items'])} tests in 3 processes (covered: pytest exit "
        f"{statuses[0]} and {statuses[1]}, property tests without coverage: exit {statuses[2]})"
    )
    return max(statuses)
