"""Signed reuse of the library suite's outputs: reused only for identical inputs and a valid
signature by this machine's key; recorded as reused; certify judges it like fresh evidence."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import suite_cache, suite_runner
from safetrade.certification.certify import CertifyInputs, certify
from safetrade.certification.dsse import parse_envelope, sign_envelope
from safetrade.certification.keys import SigningKey
from safetrade.certification.predicate import Predicate
from safetrade.certification.statement import statement_bytes
from tests.conformance_runs import seal_outputs
from tests.unit.test_certify_inputs import (
    KEY,
    NOW,
    RUNNING,
    _coverage_doc,
    _evidence_doc,
    finished_run,
)

OTHER_KEY = SigningKey(Ed25519PrivateKey.generate(), "other key", developer=False)
FILES = {"a.py": "0" * 64}
ENV = {"HYPOTHESIS_PROFILE": "certify", "PATH": "/bin", "COVERAGE_FILE": "/x/.coverage"}


def _tree(root: Path) -> Path:
    for rel, text in {
        "tests/test_a.py": "def test_a(): pass\n",
        "features/a.feature": "Feature: A\n",
        "pyproject.toml": "[project]\n",
        "README.md": "readme\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _key(root: Path, env: dict[str, str] | None = None, files: dict[str, str] | None = None):
    return suite_cache.measure_key(
        project_root=root, safetrade_files=files or FILES, env=env if env is not None else ENV
    )


OUTPUTS = {
    "evidence.json": json.dumps(_evidence_doc()).encode(),
    "coverage.json": json.dumps(_coverage_doc(95.0)).encode(),
    "cucumber.json": b"[]",
}
RUN = {"projectRoot": "/somewhere/else", "gitCommit": "abc123", "dirty": False}


def _store(folder: Path, key: dict[str, Any], *, signing_key: SigningKey = KEY, now=NOW) -> Path:
    return suite_cache.store(
        folder, key=key, outputs=OUTPUTS, run=RUN, signing_key=signing_key, now=now
    )


# --- the key ----------------------------------------------------------------------------------


def test_the_key_is_stable_and_ignores_outputs_caches_and_environments(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = _key(root)
    for rel in (
        "certification/out/evidence.json", "tests/__pycache__/x.pyc", ".tox/certify/x.py",
        ".hypothesis/examples/x", ".coverage", ".coverage.host.1", ".venv", "dev.pem",
        ".git/HEAD", "src/safetrade.egg-info/PKG-INFO",
        # `tox -e certify | tee certify.log` grows it while the suite runs: no run was kept
        "certify.log",
    ):  # fmt: skip
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("generated", encoding="utf-8")
    assert _key(root) == before
    unrelated = {
        "COVERAGE_FILE": "/elsewhere",
        "SAFETRADE_SUITE_CACHE": "/c",
        "PYTHONHASHSEED": "7",
    }
    assert _key(root, {**ENV, **unrelated}) == before


@pytest.mark.parametrize(
    "rel",
    ["tests/build/test_b.py", "tests/fixtures/dist/data.json", "examples/venv/bot.py",
     "tests/fixtures/run.log",
     "tests/fixtures/trusted.pem", "tests/fixtures/signing.key",
     # pytest collects this conftest.py; Python imports this package without a source
     "tests/zz.egg-info/conftest.py", "tests/helpers/__init__.pyc"],
)  # fmt: skip
def test_folders_and_files_named_like_outputs_below_the_root_are_inputs(
    tmp_path: Path, rel: str
) -> None:
    root = _tree(tmp_path)
    before = _key(root)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text("an input", encoding="utf-8")
    assert _key(root) != before


def test_what_a_symlinked_folder_holds_is_an_input(tmp_path: Path) -> None:
    root = _tree(tmp_path / "project")
    elsewhere = tmp_path / "shared-features"
    elsewhere.mkdir()
    (elsewhere / "b.feature").write_text("Feature: B\n", encoding="utf-8")
    (root / "features" / "shared").symlink_to(elsewhere, target_is_directory=True)
    (root / "features" / "loop").symlink_to(root / "features", target_is_directory=True)
    before = _key(root)
    (elsewhere / "b.feature").write_text("Feature: B, edited\n", encoding="utf-8")
    assert _key(root) != before


def test_the_key_names_the_ccxt_code(tmp_path: Path) -> None:
    from safetrade.certification.closure import ccxt_files
    from safetrade.certification.digest import tree_digest

    assert _key(_tree(tmp_path))["ccxt"] == tree_digest(ccxt_files())


@pytest.mark.parametrize(
    "change",
    ["test file", "new feature", "policy", "safetrade code", "hypothesis profile",
     "pytest options", "time zone"],
)  # fmt: skip
def test_every_input_that_could_change_the_result_changes_the_key(
    tmp_path: Path, change: str
) -> None:
    root = _tree(tmp_path)
    before = _key(root)
    env, files = dict(ENV), dict(FILES)
    if change == "test file":
        (root / "tests/test_a.py").write_text("def test_a(): assert 0\n", encoding="utf-8")
    elif change == "new feature":
        (root / "features/b.feature").write_text("Feature: B\n", encoding="utf-8")
    elif change == "policy":
        (root / "certification").mkdir()
        (root / "certification/policy.toml").write_text("[coverage]\n", encoding="utf-8")
    elif change == "safetrade code":
        files["a.py"] = "1" * 64
    elif change == "hypothesis profile":
        env["HYPOTHESIS_PROFILE"] = "dev"
    elif change == "pytest options":
        env["PYTEST_ADDOPTS"] = "-k nothing"
    else:
        env["TZ"] = "Asia/Tokyo"
    assert _key(root, env, files) != before


def test_the_key_records_interpreter_and_distributions_but_no_secret(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path), {**ENV, "SAFETRADE_CERT_KEY": "-----BEGIN PRIVATE KEY-----"})
    assert key["python"]["version"]
    assert "pytest" in key["distributions"]
    assert "SAFETRADE_CERT_KEY" not in key["environment"]
    assert "COVERAGE_FILE" not in key["environment"]


# --- store and look up ------------------------------------------------------------------------


def test_a_stored_passing_run_is_reused_for_the_same_inputs(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    folder = tmp_path / "cache"
    _store(folder, key)
    found = suite_cache.lookup(folder, key=key, signing_key=KEY, now=NOW + timedelta(hours=1))
    assert found.hit
    assert found.outputs == OUTPUTS
    assert found.reused is not None
    assert found.reused["ranAt"] == "2026-03-01T12:00:00Z"
    assert found.reused["run"] == RUN
    assert found.reused["cacheKey"] == suite_cache.key_digest(key)
    assert found.reused["signer"] == KEY.public.keyid


def test_nothing_stored_is_a_miss(tmp_path: Path) -> None:
    found = suite_cache.lookup(tmp_path, key=_key(_tree(tmp_path)), signing_key=KEY, now=NOW)
    assert not found.hit
    assert "no earlier passing run" in found.reason


def test_changed_inputs_are_a_miss_naming_what_changed(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p")
    folder = tmp_path / "cache"
    _store(folder, _key(root))
    (root / "tests/test_a.py").write_text("changed\n", encoding="utf-8")
    found = suite_cache.lookup(
        folder, key=_key(root, {**ENV, "HYPOTHESIS_PROFILE": "dev"}), signing_key=KEY, now=NOW
    )
    assert not found.hit
    assert "project" in found.reason
    assert "environment (HYPOTHESIS_PROFILE)" in found.reason


def _rewrite_payload(path: Path, edit: Any) -> None:
    envelope = parse_envelope(path.read_bytes())
    payload = json.loads(envelope.payload)
    edit(payload)
    forged = attrs.evolve(envelope, payload=json.dumps(payload).encode())
    path.write_bytes(forged.to_json())


def test_an_edited_entry_is_not_reused(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    path = _store(tmp_path / "cache", key)

    def fail_a_test(payload: dict[str, Any]) -> None:
        payload["outputs"]["coverage.json"] = json.dumps(_coverage_doc(100.0))

    _rewrite_payload(path, fail_a_test)
    found = suite_cache.lookup(tmp_path / "cache", key=key, signing_key=KEY, now=NOW)
    assert not found.hit
    assert "not signed by this machine's key" in found.reason


def test_an_entry_signed_by_another_key_is_not_reused(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    _store(tmp_path / "cache", key, signing_key=OTHER_KEY)
    found = suite_cache.lookup(tmp_path / "cache", key=key, signing_key=KEY, now=NOW)
    assert not found.hit
    assert "not signed by this machine's key" in found.reason


def test_a_signed_envelope_of_another_type_is_not_reused(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    path = _store(tmp_path / "cache", key)
    payload = parse_envelope(path.read_bytes()).payload
    path.write_bytes(sign_envelope(payload, KEY.private).to_json())  # a certificate's type
    found = suite_cache.lookup(tmp_path / "cache", key=key, signing_key=KEY, now=NOW)
    assert not found.hit
    assert "payload type" in found.reason


def test_an_entry_filed_under_another_key_is_not_reused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p")
    old, new = _key(root), _key(root, {**ENV, "HYPOTHESIS_PROFILE": "dev"})
    path = _store(tmp_path / "cache", old)
    path.rename(suite_cache.entry_path(tmp_path / "cache", new))
    found = suite_cache.lookup(tmp_path / "cache", key=new, signing_key=KEY, now=NOW)
    assert not found.hit
    assert "made for other inputs" in found.reason


def test_an_old_entry_is_not_reused(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    _store(tmp_path / "cache", key)
    later = NOW + suite_cache.MAX_AGE + timedelta(minutes=1)
    found = suite_cache.lookup(tmp_path / "cache", key=key, signing_key=KEY, now=later)
    assert not found.hit
    assert "older than" in found.reason


def test_an_entry_older_than_the_callers_limit_is_not_reused(tmp_path: Path) -> None:
    key = _key(_tree(tmp_path / "p"))
    _store(tmp_path / "cache", key)
    later = NOW + timedelta(days=3)
    limit = timedelta(days=2.5)  # a 5-day policy's
    found = suite_cache.lookup(
        tmp_path / "cache", key=key, signing_key=KEY, now=later, max_age=limit
    )
    assert not found.hit
    assert "older than 2 days, 12:00:00" in found.reason
    assert suite_cache.lookup(tmp_path / "cache", key=key, signing_key=KEY, now=later).hit


def test_prune_keeps_the_newest_entries(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p")
    folder = tmp_path / "cache"
    for i in range(4):
        _store(folder, _key(root, {**ENV, "HYPOTHESIS_PROFILE": f"p{i}"}))
    suite_cache.prune(folder, datetime.now(UTC), keep=2)
    assert len(list(folder.glob("*.dsse.json"))) == 2


def test_the_cache_folder_can_be_moved_or_switched_off(tmp_path: Path) -> None:
    assert suite_cache.cache_dir({}, tmp_path) == tmp_path / ".safetrade" / "suite-cache"
    assert suite_cache.cache_dir({"SAFETRADE_SUITE_CACHE": str(tmp_path)}, Path()) == tmp_path
    assert suite_cache.cache_dir({"SAFETRADE_SUITE_CACHE": "off"}, tmp_path) is None


# --- safetrade suite --------------------------------------------------------------------------


@pytest.fixture
def suite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``safetrade suite`` with a fake three-process run that writes passing outputs."""
    root = _tree(tmp_path / "project")
    state: dict[str, Any] = {"runs": 0, "statuses": (0, 0, 0), "root": root}
    monkeypatch.setenv("SAFETRADE_SUITE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(suite_runner, "_measure_safetrade", lambda: dict(FILES))
    monkeypatch.setattr(suite_runner, "_signing_key", lambda: KEY)

    def fake_run(out: Path, _root: Path) -> tuple[int, ...]:
        state["runs"] += 1
        for name, data in OUTPUTS.items():
            (out / name).write_bytes(data)
        return state["statuses"]

    monkeypatch.setattr(suite_runner, "_run_suite", fake_run)
    return state


def _suite_args(state: dict[str, Any], out: Path, *, no_cache: bool = False) -> argparse.Namespace:
    return argparse.Namespace(out=out, project_root=state["root"], no_cache=no_cache)


def test_the_second_identical_suite_is_reused_and_says_from_where(
    suite: dict[str, Any], tmp_path: Path
) -> None:
    assert suite_runner.run(_suite_args(suite, tmp_path / "out1"), "suite") == 0
    assert suite_runner.run(_suite_args(suite, tmp_path / "out2"), "suite") == 0
    assert suite["runs"] == 1
    evidence = json.loads((tmp_path / "out2" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["reused"]["run"]["projectRoot"] == str(suite["root"])
    assert evidence["items"] == json.loads(OUTPUTS["evidence.json"])["items"]
    for name in ("coverage.json", "cucumber.json"):
        assert (tmp_path / "out2" / name).read_bytes() == OUTPUTS[name]
    assert "reused" not in json.loads((tmp_path / "out1" / "evidence.json").read_text("utf-8"))


def test_a_failing_suite_is_never_kept(suite: dict[str, Any], tmp_path: Path) -> None:
    suite["statuses"] = (0, 1, 0)
    assert suite_runner.run(_suite_args(suite, tmp_path / "out"), "suite") == 1
    suite["statuses"] = (0, 0, 0)
    assert suite_runner.run(_suite_args(suite, tmp_path / "out"), "suite") == 0
    assert suite["runs"] == 2


@pytest.mark.parametrize("no_cache", [False, True])
def test_the_suite_is_not_run_for_a_bot_that_failed_its_conformance_run(
    suite: dict[str, Any], tmp_path: Path, no_cache: bool
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "conformance.json").write_text('{"result": "FAILED"}', encoding="utf-8")
    assert suite_runner.run(_suite_args(suite, out, no_cache=no_cache), "suite") == 1
    assert suite["runs"] == 0
    assert not (out / "evidence.json").exists()
    assert (out / suite_runner.SUITE_SEAL).is_file()  # certify reads the seal, then refuses
    (out / "conformance.json").write_text('{"result": "PASSED"}', encoding="utf-8")
    assert suite_runner.run(_suite_args(suite, out, no_cache=no_cache), "suite") == 0
    assert suite["runs"] == 1


def test_no_cache_always_runs(suite: dict[str, Any], tmp_path: Path) -> None:
    for _ in range(2):
        suite_runner.run(_suite_args(suite, tmp_path / "out", no_cache=True), "suite")
    assert suite["runs"] == 2
    assert not (tmp_path / "cache").exists()


def test_a_changed_test_runs_the_suite_again(suite: dict[str, Any], tmp_path: Path) -> None:
    suite_runner.run(_suite_args(suite, tmp_path / "out"), "suite")
    (suite["root"] / "tests" / "test_a.py").write_text("edited\n", encoding="utf-8")
    suite_runner.run(_suite_args(suite, tmp_path / "out"), "suite")
    assert suite["runs"] == 2


# --- certify with reused evidence -------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A finished certification run's folder whose evidence each test writes."""
    return finished_run(tmp_path, evidence=False)


def _reuse_into(out: Path, evidence: dict[str, Any]) -> dict[str, Any]:
    reused = {"cacheKey": "c" * 64, "ranAt": "2026-03-01T11:00:00Z", "run": RUN,
              "signer": KEY.public.keyid, "entry": "/cache/x.dsse.json"}  # fmt: skip
    (out / "evidence.json").write_text(json.dumps({**evidence, "reused": reused}), "utf-8")
    return reused


def _inputs(root: Path) -> CertifyInputs:
    """The outputs as written, sealed as ``safetrade suite`` seals what it reuses."""
    inputs = CertifyInputs.in_folder(root, root / "out", root / "policy.toml", cucumber=False)
    seal_outputs(inputs, KEY)
    return inputs


def test_reused_evidence_is_recorded_in_the_statement_and_the_reports(project: Path) -> None:
    reused = _reuse_into(project / "out", _evidence_doc())
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert outcome.certified, outcome.problems
    assert outcome.statement["predicate"]["suite"]["reused"] == reused
    predicate = Predicate.from_json(outcome.statement["predicate"])
    assert predicate.suite.reused == reused
    statement = json.loads(statement_bytes(outcome.statement))
    assert predicate.to_json() == statement["predicate"]
    for report in outcome.reports:
        assert "REUSED: not run again" in report.read_text(encoding="utf-8")


def test_fresh_evidence_says_it_ran(project: Path) -> None:
    (project / "out" / "evidence.json").write_text(json.dumps(_evidence_doc()), "utf-8")
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert outcome.certified, outcome.problems
    assert "reused" not in outcome.statement["predicate"]["suite"]
    assert "ran in this certification" in outcome.reports[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("outcome", ["failed", "skipped", "missing"])
def test_reused_evidence_is_judged_like_fresh_evidence(project: Path, outcome: str) -> None:
    doc = _evidence_doc("passed" if outcome == "missing" else outcome)
    if outcome == "missing":
        doc["items"] = []  # type: ignore[index]
    _reuse_into(project / "out", doc)
    result = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not result.certified
    assert result.artifact is None


def test_reused_coverage_below_a_floor_is_not_certified(project: Path) -> None:
    _reuse_into(project / "out", _evidence_doc())
    (project / "out" / "coverage.json").write_text(json.dumps(_coverage_doc(50.0)), "utf-8")
    result = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not result.certified


def test_an_install_is_named_by_its_kind_and_commit_never_by_its_checkout_path() -> None:
    origin = suite_cache._origin
    assert origin('{"url": "file:///a", "dir_info": {"editable": true}}') == "editable"
    assert origin('{"url": "file:///b", "dir_info": {"editable": true}}') == "editable"
    assert origin('{"url": "file:///a/.tox/p.whl", "archive_info": {}}') == origin(
        '{"url": "file:///b/.tox/p.whl", "archive_info": {}}'
    )
    assert origin('{"url": "https://x/p.whl", "archive_info": {"hashes": {"sha256": "ab"}}}') != (
        origin('{"url": "https://x/p.whl", "archive_info": {"hashes": {"sha256": "cd"}}}')
    )
    one = origin('{"url": "https://g/r", "vcs_info": {"vcs": "git", "commit_id": "1"}}')
    two = origin('{"url": "https://g/r", "vcs_info": {"vcs": "git", "commit_id": "2"}}')
    assert one != two
    assert origin(None) is None


# --- the bot under certification -------------------------------------------------------------


INFO = "mybot_dist-1.dist-info"


def _bot_site(site: Path, version: str, **extra: str) -> None:
    """An installed bot distribution ``mybot-dist`` providing package ``mybot``."""
    info = site / "mybot_dist-1.dist-info"
    files = {
        "mybot/__init__.py": "",
        "mybot_dist-1.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: mybot-dist\nVersion: {version}\n"
        ),
        "mybot_dist-1.dist-info/entry_points.txt": (
            "[safetrade.bots]\nmybot = mybot:make_bot\n[console_scripts]\nmybot = mybot:main\n"
        ),
        **extra,
    }
    records = [rel for rel in files if not rel.startswith("mybot_dist-1.dist-info/RECORD")]
    files["mybot_dist-1.dist-info/RECORD"] = "".join(f"{r},,\n" for r in records)
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    assert info.is_dir()


def test_a_new_version_of_the_bot_reuses_the_suite_when_nothing_of_it_runs_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path / "project")
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    _bot_site(site, "1.0")

    def key(bot: str | None) -> dict[str, Any]:
        return suite_cache.measure_key(
            project_root=root, safetrade_files=FILES, env=ENV, bot_distribution=bot
        )

    assert suite_cache.outside_the_suite("mybot-dist")
    first, unnamed = key("mybot-dist"), key(None)
    (site / "mybot_dist-1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mybot-dist\nVersion: 1.1\n", encoding="utf-8"
    )
    assert key("mybot-dist") == first  # the bot is bound by its conformance run, not here
    assert key(None) != unnamed  # any other distribution's version is an input


def test_bots_certified_earlier_in_the_same_environment_do_not_change_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each certified bot stays installed in the certify environment; before, the second bot
    after the first ran the whole suite again (a review measured 150-310 s per bot)."""
    root = _tree(tmp_path / "project")
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))

    def key(bot: str | None) -> dict[str, Any]:
        return suite_cache.measure_key(
            project_root=root, safetrade_files=FILES, env=ENV, bot_distribution=bot
        )

    local = '{"url": "file:///home/me/mybot", "dir_info": {}}'
    _bot_site(site, "1.0", **{f"{INFO}/direct_url.json": local})
    first = key("mybot-dist")
    other = site / "otherbot-2.dist-info"
    other.mkdir()
    (other / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: otherbot\nVersion: 2\n", encoding="utf-8"
    )
    (other / "direct_url.json").write_text(local.replace("mybot", "otherbot"), encoding="utf-8")
    (site / "otherbot").mkdir()
    (site / "otherbot" / "__init__.py").write_text("", encoding="utf-8")
    (other / "RECORD").write_text("otherbot/__init__.py,,\n", encoding="utf-8")
    assert key("otherbot") == first == key(None)
    # one that could run in the suite stays an input, named or not
    (other / "entry_points.txt").write_text("[pytest11]\nx = otherbot\n", encoding="utf-8")
    assert "otherbot" in key(None)["distributions"]
    assert key("mybot-dist") != first
    # and from a package index, whatever it is: the suite may run it by name
    (other / "entry_points.txt").unlink()
    (other / "direct_url.json").unlink()
    assert "otherbot" in key(None)["distributions"]


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        (
            "a pytest plugin",
            {"mybot_dist-1.dist-info/entry_points.txt": "[pytest11]\nmy = mybot\n"},
        ),
        ("a .pth that runs code", {"mybot_hook.pth": "import mybot\n"}),
        ("a package named like the suite's", {"tests/__init__.py": ""}),
        ("a package named like another distribution's", {"attr/__init__.py": ""}),
        ("a module named like a standard one", {"json.py": ""}),
    ],
)
def test_a_bot_that_could_run_in_the_suite_stays_an_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, extra: dict[str, str]
) -> None:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    _bot_site(site, "1.0", **extra)
    assert not suite_cache.outside_the_suite("mybot-dist"), case


def test_a_bot_other_distributions_require_stays_an_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    _bot_site(site, "1.0")
    (site / "user_dist-1.dist-info").mkdir()
    (site / "user_dist-1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: user-dist\nVersion: 1\nRequires-Dist: mybot-dist>=1\n"
    )
    assert not suite_cache.outside_the_suite("mybot-dist")
    assert not suite_cache.outside_the_suite("ccxt")  # safetrade requires it
    assert not suite_cache.outside_the_suite("safetrade")
    assert not suite_cache.outside_the_suite("not-installed")


def test_an_editable_bot_whose_path_adds_only_its_own_package_is_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "mybot").mkdir(parents=True)
    (checkout / "mybot" / "__init__.py").write_text("")
    (checkout / "pyproject.toml").write_text("[project]\n")
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    _bot_site(site, "1.0", **{"_editable_mybot.pth": f"{checkout}\n"})
    assert suite_cache.outside_the_suite("mybot-dist")
    (checkout / "conftest.py").write_text("")  # would be importable by the suite's name
    assert not suite_cache.outside_the_suite("mybot-dist")


def test_a_pth_line_is_a_folder_relative_to_the_site_it_sits_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "src" / "mybot").mkdir(parents=True)
    (site / "src" / "tests").mkdir()  # the suite's own name, added by a relative line
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.chdir(tmp_path)  # not where the line is read from
    _bot_site(site, "1.0", **{"_editable_mybot.pth": "src\n"})
    assert not suite_cache.outside_the_suite("mybot-dist")
    (site / "src" / "tests").rmdir()
    assert suite_cache.outside_the_suite("mybot-dist")


def test_a_run_not_kept_says_which_inputs_changed() -> None:
    from safetrade.certification.suite_runner import _changed

    before = {"python": "3.11.2", "project_files": {"a.py": "1", "b.py": "2"}}
    after = {"python": "3.11.2", "project_files": {"a.py": "9", "c.py": "3"}}
    assert _changed(before, after) == [
        "project_files/a.py", "project_files/b.py removed", "project_files/c.py added",
    ]  # fmt: skip


def test_a_short_validity_reuses_only_runs_young_enough_to_leave_half_of_it(
    tmp_path: Path,
) -> None:
    # validity counts from the run an artifact rests on: a 5-day policy and a 6-day-old run
    # was refused on every re-run, each reusing the same run, until the cache let it go
    from safetrade.certification.suite_runner import _reuse_limit

    (tmp_path / "certification").mkdir()
    policy = tmp_path / "certification" / "policy.toml"
    policy.write_text("[certificate]\nvalidity_days = 5\n", encoding="utf-8")
    assert _reuse_limit(tmp_path) == timedelta(days=2.5)
    policy.write_text("[certificate]\nvalidity_days = 30\n", encoding="utf-8")
    assert _reuse_limit(tmp_path) == suite_cache.MAX_AGE  # never more than the cache's own
    policy.write_text("not toml [", encoding="utf-8")
    assert _reuse_limit(tmp_path) == suite_cache.MAX_AGE
