"""Merging the evidence of the two processes that run the certification suite."""

from __future__ import annotations

import pytest

from safetrade.certification.suite_runner import merge_evidence


def _part(nodeids: list[str], *, exitstatus: int = 0, files: dict[str, str] | None = None) -> dict:
    return {
        "format": "safetrade-evidence/1",
        "exitstatus": exitstatus,
        "hypothesisProfile": "certify",
        "args": ["x"],
        "testedFiles": files if files is not None else {"a.py": "0" * 64},
        "testedFilesAtEnd": files if files is not None else {"a.py": "0" * 64},
        "items": [{"nodeid": n, "outcome": "passed"} for n in nodeids],
    }


def test_items_are_joined_and_the_worst_exit_status_kept() -> None:
    merged = merge_evidence([_part(["f::s", "t::u"]), _part(["p::q"], exitstatus=1)])
    assert [i["nodeid"] for i in merged["items"]] == ["f::s", "t::u", "p::q"]
    assert merged["exitstatus"] == 1
    assert merged["collectionErrors"] == []
    assert merged["testedFiles"] == {"a.py": "0" * 64}


def test_processes_that_tested_different_code_are_a_collection_error() -> None:
    merged = merge_evidence([_part(["f::s"]), _part(["p::q"], files={"a.py": "1" * 64})])
    assert merged["collectionErrors"] == [
        "the test processes saw different safetrade code (testedFiles)",
        "the test processes saw different safetrade code (testedFilesAtEnd)",
    ]


def test_parts_of_different_formats_are_refused() -> None:
    other = {**_part([]), "format": "something-else"}
    with pytest.raises(ValueError, match="disagree on their format"):
        merge_evidence([_part([]), other])


def _runs(shard, path: str) -> bool:
    def under(p: str) -> bool:
        return path == p or path.startswith(p.rstrip("/") + "/")

    return any(under(p) for p in shard.paths) and not any(under(i) for i in shard.ignores)


def test_every_test_file_runs_in_exactly_one_process_and_every_named_path_exists() -> None:
    from pathlib import Path

    from safetrade.certification.suite_runner import SHARDS

    root = Path(__file__).resolve().parents[2]
    files = sorted(
        p.relative_to(root).as_posix()
        for folder in ("tests", "features")
        for p in (root / folder).rglob("test_*.py")
        if "fixtures" not in p.parts and "__pycache__" not in p.parts
    )
    assert len(files) > 50
    placed = {f: [s.name for s in SHARDS if _runs(s, f)] for f in files}
    assert {f: names for f, names in placed.items() if len(names) != 1} == {}
    for shard in SHARDS:
        for path in (*shard.paths, *shard.ignores):
            assert (root / path).exists(), f"{shard.name} names {path}, which does not exist"
    # the BDD scenarios, and only they, give cucumber.json: one process writes it
    assert [s.name for s in SHARDS if s.writes_cucumber] == [
        s.name for s in SHARDS if _runs(s, "features/test_incident.py")
    ]
    # the modules with coverage floors are tested under coverage by their own tests
    covered = {s.name for s in SHARDS if s.covered}
    for test in ("unit/test_sizer", "unit/test_rounder", "unit/test_guard", "unit/test_builder",
                 "integration/test_protector", "unit/test_config"):  # fmt: skip
        assert set(placed[f"tests/{test}.py"]) <= covered, test


def test_lanes_run_their_processes_in_turn_and_keep_each_status() -> None:
    import subprocess
    import sys

    from safetrade.certification.suite_runner import NEVER_RAN, _run_lanes

    started: list[int] = []

    def start(index: int) -> subprocess.Popen[bytes]:
        started.append(index)
        if index == 3:
            raise OSError("no such interpreter")
        return subprocess.Popen([sys.executable, "-c", f"raise SystemExit({index})"])  # noqa: S603

    statuses, ended = _run_lanes(start, 4, lanes=2)
    assert statuses == (0, 1, 2, NEVER_RAN)  # process 3 never started: not a pass
    assert sorted(started) == [0, 1, 2, 3]
    # a lane runs its processes one after the other: 2 starts after 0 ended, 3 after 1
    assert started.index(2) > started.index(0)
    assert started.index(3) > started.index(1)
    assert ended[2] >= ended[0]
    assert ended[3] >= ended[1]
    # more lanes than processes, or none: every process still runs once
    started.clear()
    assert _run_lanes(start, 3, lanes=8)[0] == (0, 1, 2)
    started.clear()
    assert _run_lanes(start, 2, lanes=0)[0] == (0, 1)


def test_a_process_killed_by_a_signal_fails_the_suite() -> None:
    from safetrade.certification.suite_runner import exit_status

    assert exit_status((0, 0, 0, 0)) == 0
    assert exit_status((0, -9, 0, 0)) == 1  # SIGKILL: evidence may exist, coverage not
    assert exit_status((0, 2, 1, -15)) == 2


def test_the_suites_processes_never_see_the_owners_safetrade_variables(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tox hands certify every SAFETRADE_ variable; with SAFETRADE_CERT_KEY_FILE set (how an
    owner signs with their own key) ten library tests failed, reading it as a setting."""
    import subprocess
    import sys

    from safetrade.certification import suite_runner

    real = subprocess.Popen
    envs: list[dict[str, str]] = []

    def recording(command, **kwargs):  # a shard's pytest: a no-op that exits 0
        if "pytest" not in command:
            return real(command, **kwargs)  # coverage combine / json
        envs.append(kwargs["env"])
        return real([sys.executable, "-c", "pass"])

    monkeypatch.setattr(suite_runner.subprocess, "Popen", recording)
    for name in ("SAFETRADE_CERT_KEY_FILE", "SAFETRADE_TRUSTED_KEYS", "SAFETRADE_CERTIFICATE"):
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("COVERAGE_FILE", str(tmp_path / ".coverage"))
    (tmp_path / "out").mkdir()
    assert suite_runner._run_suite(tmp_path / "out", tmp_path) is None  # no evidence written
    assert len(envs) == len(suite_runner.SHARDS)
    for env in envs:
        assert env is not None
        assert not [k for k in env if k.startswith("SAFETRADE_")]
        assert env["COVERAGE_FILE"] == str(tmp_path / ".coverage")
