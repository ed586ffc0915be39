"""``safetrade suite``: safetrade's own certification suite in four processes, two at a time.

Branch coverage doubles the cost of every line Python runs (on 3.11 any trace function turns
off the specialising interpreter, measured or not), so only tests whose coverage matters run
under it, split in two processes whose data are combined. Two more processes run, *without*
coverage, the tests whose lines the others already reach: the property tests (their modules'
floors hold without them), and the BDD features, the fault matrix and the bots' conformance
runs, which are evidence (what only they reached is covered by unit and integration tests
too, e.g. ``tests/integration/test_trader_failures.py``; certify's floors catch a loss). The
processes run in as many lanes as there are cores. Each process writes its own evidence; they are
merged into the one ``evidence.json`` certify checks. A process that dies or never writes its
evidence leaves no merged evidence, so certification fails; the scenario inventory is still
reconciled exactly, since every BDD scenario runs in the one process writing ``cucumber.json``.

Before running anything, the suite's inputs are measured (:mod:`safetrade.certification.
suite_cache`): when exactly this suite already passed on this machine, its signed outputs are
verified and reused, and the evidence says so; otherwise the suite runs, and a passing run is
signed into the cache for next time.

Either way the outputs are then **sealed** (:mod:`safetrade.certification.seal`):
``suite.seal.json`` names the sha256 of each of them, signed with the key certify signs with,
so certify refuses evidence edited or replaced after this process wrote it. Without a usable
signing key the suite does not run at all (certify could not accept its outputs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification import suite_cache
from safetrade.certification.seal import SUITE_SEAL, seal_suite
from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from safetrade.certification.keys import SigningKey

__all__ = ["configure", "merge_evidence", "run"]

PROPERTY_TESTS = "tests/property"
# evidence whose lines the covered tests reach too (see the module docstring)
UNCOVERED_EVIDENCE = (
    "tests/integration/test_fault_matrix.py",
    "tests/integration/test_conformance_bots.py",
)
# The property files of the second uncovered process (the rest, and any new one, run in the
# first, with the features).
PROPERTY_SECOND = tuple(
    f"{PROPERTY_TESTS}/test_property_{name}.py"
    for name in ("builder", "guard", "paper_summary", "market_data")
)
# The second covered process; every test file named nowhere runs in the first.
COVERED_SECOND = ("tests/unit", "tests/integration/test_conformance.py")


BOT_FAILED = "the bot failed its conformance run; the suite runs once the bot passes"
NEVER_RAN = 255  # the exit status recorded for a process that could not be started


@attrs.frozen
class Shard:
    """One pytest process of the suite."""

    name: str
    covered: bool
    paths: tuple[str, ...]
    ignores: tuple[str, ...] = ()
    writes_cucumber: bool = False  # the process that runs the BDD features


# Balanced by measurement (fresh clone, certify profile, 2 cores): the covered processes end
# at ~32 s, then features + part of the property tests and the fault matrix + the bots'
# conformance runs + the other property files take ~37 s each. They run as two lanes (covered,
# then uncovered): four processes at once cost ~15 % more CPU in cache and scheduling than two.
# Against the three processes before (everything but the property tests under coverage), on
# the same commit: 110 -> 95 s wall, 193 -> 165 CPU seconds, same coverage. With 22 scenarios
# per bot the second lane ran 11 s longer; two property files moved: lanes end at 94 and 101 s.
SHARDS = (
    Shard("covered", True, ("tests",), (PROPERTY_TESTS, *UNCOVERED_EVIDENCE, *COVERED_SECOND)),
    Shard("covered-2", True, COVERED_SECOND),
    Shard("uncovered", False, ("features", PROPERTY_TESTS), PROPERTY_SECOND, writes_cucumber=True),
    Shard("uncovered-2", False, (*UNCOVERED_EVIDENCE, *PROPERTY_SECOND)),
)


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    """Arguments of ``safetrade suite``."""
    del name
    parser.add_argument("--out", type=Path, default=Path("certification/out"))
    parser.add_argument("--project-root", type=Path, default=Path())
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="always run the suite (no reuse of a signed earlier passing run; "
        f"{suite_cache.ENV_CACHE}=off does the same)",
    )


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


def _measure_safetrade() -> dict[str, str]:
    """The installed safetrade tree, as the test processes record it (``testedFiles``)."""
    import safetrade  # noqa: PLC0415 -- the package under test, wherever it is installed
    from safetrade.certification.digest import tree_files  # noqa: PLC0415

    return dict(tree_files(Path(safetrade.__file__).parent))


def _signing_key() -> SigningKey:
    """The key certify signs with: it seals the outputs and signs cache entries.

    Raises:
        ConfigError: A configured key is missing or unreadable (as certify would raise).
    """
    from safetrade.certification.keys import load_signing_key  # noqa: PLC0415

    return load_signing_key(os.environ, Path.home())


def _run_info(root: Path) -> dict[str, Any]:
    from safetrade.certification.provenance import git_state  # noqa: PLC0415

    git = git_state(root)
    return {"projectRoot": str(root), "gitCommit": git.commit, "dirty": git.dirty}


def _reuse(out: Path, found: suite_cache.Lookup) -> None:
    """Write the reused outputs; the evidence names the run it comes from."""
    assert found.outputs is not None  # noqa: S101 -- a hit carries its outputs
    for name in suite_cache.OUTPUTS:
        data = found.outputs[name]
        if name == "evidence.json":
            doc = json.loads(data)
            doc["reused"] = dict(found.reused or {})
            data = (json.dumps(doc, indent=1) + "\n").encode("utf-8")
        (out / name).write_bytes(data)


def _command(shard: Shard, evidence: Path, out: Path) -> list[str]:
    pytest = ["-m", "pytest"]
    if shard.covered:
        pytest = ["-m", "coverage", "run", "--parallel-mode", *pytest]
    command = [sys.executable, *pytest, *shard.paths, *(f"--ignore={p}" for p in shard.ignores)]
    command += ["-p", "safetrade.certification.evidence_plugin", f"--safetrade-evidence={evidence}"]
    if shard.writes_cucumber:
        return [*command, f"--cucumberjson={out / 'cucumber.json'}"]
    return [*command, "-q"]


def _test_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the suite's processes: the owner's, without its SAFETRADE_ variables.

    tox hands certify every SAFETRADE_ variable (its signing key, the owner's certificate,
    trusted keys, paper database); the library's tests must not read them: they set their own,
    and an owner's configuration must neither fail nor pass them.
    """
    return {k: v for k, v in environ.items() if not k.startswith("SAFETRADE_")}


def _run_suite(out: Path, root: Path) -> tuple[int, ...] | None:
    """Run the processes of :data:`SHARDS`; None when no merged evidence could be written."""
    evidence = [out / f"evidence-{shard.name}.json" for shard in SHARDS]
    for stale in evidence:
        stale.unlink(missing_ok=True)
    data = Path(os.environ.get("COVERAGE_FILE") or ".coverage")
    data = data if data.is_absolute() else root / data
    for stale in (data, *data.parent.glob(f"{data.name}.*")):
        stale.unlink(missing_ok=True)  # combine must see this run's data only
    covered = _test_environment(os.environ)
    uncovered = {k: v for k, v in covered.items() if k != "COVERAGE_PROCESS_START"}

    def start(index: int) -> subprocess.Popen[bytes]:
        shard = SHARDS[index]
        return subprocess.Popen(  # noqa: S603 -- our interpreter, fixed arguments
            _command(shard, evidence[index], out),
            cwd=root,
            env=covered if shard.covered else uncovered,
        )

    statuses, seconds = _run_lanes(start, len(SHARDS), lanes=os.cpu_count() or 1)
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
        return None
    (out / "evidence.json").write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    runs = ", ".join(
        f"{shard.name} exit {status}, done at {took:.0f} s"
        for shard, status, took in zip(SHARDS, statuses, seconds, strict=True)
    )
    print(f"suite: {len(merged['items'])} tests in {len(SHARDS)} processes ({runs})")
    return statuses


def _run_lanes(
    start: Callable[[int], subprocess.Popen[bytes]], count: int, *, lanes: int
) -> tuple[tuple[int, ...], list[float]]:
    """Run processes ``0 .. count-1`` in ``lanes`` parallel lanes (process i in lane i % lanes).

    Returns each process's exit status and when it ended (seconds from the start), to see how
    evenly the work is split.
    """
    lanes = max(1, min(lanes, count))
    began = time.monotonic()
    statuses = [NEVER_RAN] * count  # a process that could not start must not look passed
    ended = [0.0] * count

    def lane(first: int) -> None:
        for index in range(first, count, lanes):
            try:
                statuses[index] = start(index).wait()
            except OSError as exc:
                print(f"safetrade suite: process {index} did not start ({exc})", file=sys.stderr)
            ended[index] = time.monotonic() - began

    threads = [threading.Thread(target=lane, args=(i,)) for i in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tuple(statuses), ended


def _reuse_limit(root: Path) -> timedelta:
    """How old a cached run may be: half the policy's validity.

    An artifact signed from it is then valid for at least half its days (the validity counts
    from the run; see certify). The policy is the one tox's certify reads
    (``certification/policy.toml``); unreadable: the cache's own limit (certify then refuses
    the policy by name).
    """
    from safetrade.certification.policy import load_policy  # noqa: PLC0415

    try:
        days = load_policy(root / "certification" / "policy.toml").validity_days
    except (OSError, ValueError, SafetradeError):
        return suite_cache.MAX_AGE
    return min(suite_cache.MAX_AGE, timedelta(days=days) / 2)


def _conformance_record(out: Path) -> dict[str, Any]:
    """The record ``safetrade conformance`` just wrote into ``out`` (empty when unreadable)."""
    try:
        record = json.loads((out / "conformance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _bot_failed(out: Path) -> bool:
    """Whether the conformance run in ``out`` recorded the bot as failed.

    No record is not a failure: certify refuses it by name, and the suite is still evidence.
    """
    return _conformance_record(out).get("result") == "FAILED"


def _bot_distribution(out: Path) -> str | None:
    """The distribution of the bot ``safetrade conformance`` just judged (its record in out)."""
    bot = _conformance_record(out).get("bot")
    name = bot.get("distribution") or bot.get("spec") if isinstance(bot, dict) else None
    return name if isinstance(name, str) else None


def _key(root: Path, env: Mapping[str, str], out: Path) -> dict[str, Any]:
    return suite_cache.measure_key(
        project_root=root,
        safetrade_files=_measure_safetrade(),
        env=env,
        bot_distribution=_bot_distribution(out),
    )


def run(args: argparse.Namespace, name: str) -> int:
    """Reuse a signed passing run of exactly these inputs, or run the suite (and sign it).

    Writes ``evidence.json``, ``coverage.json`` and ``cucumber.json`` into ``--out``, and
    ``suite.seal.json`` sealing them.
    """
    del name
    started = datetime.now(UTC)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    root: Path = args.project_root.resolve()
    for stale in (*suite_cache.OUTPUTS, SUITE_SEAL):
        (out / stale).unlink(missing_ok=True)
    # first: outputs that cannot be sealed are refused by certify, so never run for nothing
    signing_key = _signing_key()
    folder = None if args.no_cache else suite_cache.cache_dir(os.environ, Path.home())
    key: dict[str, Any] | None = None
    if folder is not None:
        key = _key(root, os.environ, out)
        found = suite_cache.lookup(
            folder, key=key, signing_key=signing_key, now=datetime.now(UTC),
            max_age=_reuse_limit(root),
        )  # fmt: skip
        if found.hit:
            _reuse(out, found)
            seal_suite(
                out, signing_key=signing_key, started_at=started, now=datetime.now(UTC),
                reused=found.reused or {}, statuses=None,
            )  # fmt: skip
            reused = found.reused or {}
            where = reused.get("run", {}).get("projectRoot")
            print(
                f"suite: not run again: {found.reason} in {where} (signed entry "
                f"{reused.get('entry')}, key {str(reused.get('cacheKey'))[:16]}); "
                f"{suite_cache.ENV_CACHE}=off runs it"
            )
            return 0
        print(f"suite: running it ({found.reason})", flush=True)
    if _bot_failed(out):
        # ~2 minutes on 2 cores that cannot change the verdict: the bot is NOT CERTIFIED
        # whatever the suite says, and certify names each of its failures without it
        print(f"suite: not run: {BOT_FAILED}", flush=True)
        seal_suite(
            out, signing_key=signing_key, started_at=started, now=datetime.now(UTC),
            reused=None, statuses=None, not_run=BOT_FAILED,
        )  # fmt: skip
        return 1
    statuses = _run_suite(out, root)
    if statuses is not None and key is not None and not any(statuses):
        _remember(out, root, key, signing_key, folder)
    # a failed run is sealed too: certify then names its failures (or the missing evidence)
    seal = seal_suite(
        out, signing_key=signing_key, started_at=started, now=datetime.now(UTC),
        reused=None, statuses=statuses,
    )  # fmt: skip
    print(f"suite: outputs sealed in {seal}")
    return 1 if statuses is None else exit_status(statuses)


def exit_status(statuses: tuple[int, ...]) -> int:
    """The suite's exit status: 0 only if every process exited 0.

    A process killed by a signal has a negative status (``-9``), which ``max`` would rank
    below a pass.
    """
    return 0 if not any(statuses) else max(1, *statuses)


def _changed(before: Mapping[str, Any], after: Mapping[str, Any], path: str = "") -> list[str]:
    """What differs between two cache keys, by name (``project_files/x.log``), at most five."""
    found: list[str] = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name), after.get(name)
        if was == now:
            continue
        where = f"{path}{name}"
        if isinstance(was, Mapping) and isinstance(now, Mapping):
            found += _changed(was, now, where + "/")
        else:
            found.append(where + (" added" if was is None else " removed" if now is None else ""))
    return found[:5]


def _remember(
    out: Path, root: Path, key: dict[str, Any], signing_key: SigningKey, folder: Path | None
) -> None:
    """Sign the passing run's outputs into the cache, if its inputs did not change meanwhile."""
    assert folder is not None  # noqa: S101 -- only called with a cache folder
    now_key = _key(root, os.environ, out)
    if now_key != key:
        print(
            "suite cache: inputs changed while the suite ran; this run is not kept: "
            + "; ".join(_changed(key, now_key))
        )
        return
    try:
        outputs = {n: (out / n).read_bytes() for n in suite_cache.OUTPUTS}
    except OSError as exc:
        print(f"suite cache: not kept ({exc})", file=sys.stderr)
        return
    now = datetime.now(UTC)
    try:
        path = suite_cache.store(
            folder, key=key, outputs=outputs, run=_run_info(root),
            signing_key=signing_key, now=now,
        )  # fmt: skip
        suite_cache.prune(folder, now)
    except OSError as exc:
        print(f"suite cache: not kept ({exc})", file=sys.stderr)
        return
    print(f"suite cache: this passing run is signed into {path}")
