"""certify() refuses inputs that are not what the conformance and suite steps sealed.

The review's attacks, with write access to the output folder only (not the signing key): a
passing run's scenario records grafted onto a failing bot's conformance.json, and the items of
one scenario-outline example removed from evidence.json. Both used to certify. Each test here
first shows that the edited input *would* pass on its own (sealed as if a step had produced
it), so it fails if certify's seal verification is removed.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import suite_runner
from safetrade.certification.certify import ARTIFACT_NAME, CertifyInputs, certify
from safetrade.certification.digest import sha256_hex
from safetrade.certification.dsse import parse_envelope, sign_envelope
from safetrade.certification.keys import SigningKey
from safetrade.certification.provenance import RunningCode
from safetrade.certification.seal import (
    CONFORMANCE_SEAL,
    PAYLOAD_TYPE,
    SUITE_SEAL,
    SealError,
    read_seal,
    seal_conformance,
    seal_suite,
    write_seal,
)
from safetrade.errors import ConfigError, SafetradeError
from tests.conformance_runs import conformance_result, seal_outputs
from tests.unit.test_certify_inputs import KEY, NOW, RUNNING, _evidence_doc, finished_run
from tests.unit.test_suite_cache import _suite_args
from tests.unit.test_suite_cache import suite as suite_fixture

OTHER_KEY = SigningKey(Ed25519PrivateKey.generate(), "another machine's key", developer=False)
RERUN = "re-run `tox -e certify`"
suite = suite_fixture


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "run").mkdir()
    return finished_run(tmp_path / "run")


def _inputs(root: Path) -> CertifyInputs:
    """The folder as it is: no sealing here (the seals are the producers')."""
    return CertifyInputs.in_folder(root, root / "out", root / "policy.toml", cucumber=False)


def _certify(root: Path) -> Any:
    return certify(_inputs(root), signing_key=KEY, now=NOW, running=RUNNING)


def _refused(root: Path, *needles: str) -> SealError:
    out = root / "out"
    (out / ARTIFACT_NAME).write_text("an older run's artifact", encoding="utf-8")
    with pytest.raises(SealError) as caught:
        _certify(root)
    message = str(caught.value)
    for needle in (*needles, RERUN):
        assert needle in message, message
    assert isinstance(caught.value, SafetradeError)
    assert not (out / ARTIFACT_NAME).exists()  # never left looking like this run's result
    return caught.value


def test_the_sealed_outputs_of_a_run_certify_and_the_seals_are_bound(project: Path) -> None:
    outcome = _certify(project)
    assert outcome.certified, outcome.problems
    statement = json.loads(parse_envelope((project / "out" / ARTIFACT_NAME).read_bytes()).payload)
    reports = {r["name"]: r["digest"]["sha256"] for r in statement["predicate"]["reports"]}
    for seal in (CONFORMANCE_SEAL, SUITE_SEAL):
        assert reports[seal] == sha256_hex((project / "out" / seal).read_bytes())


def test_a_passing_runs_scenarios_grafted_onto_a_failing_bots_record_are_refused(
    project: Path,
) -> None:
    """fabricate_conformance.sh: the incident bot's record, with a passing run's scenarios."""
    out = project / "out"
    failing = conformance_result(RUNNING, passed=False)
    (out / "conformance.json").write_bytes(failing.dumps())
    seal_outputs(_inputs(project), KEY)  # what `safetrade conformance` wrote for this bot
    assert not _certify(project).certified
    bad = json.loads((out / "conformance.json").read_bytes())
    good = conformance_result(RUNNING).to_json()
    grafted = {**good, "bot": bad["bot"], "botCoverage": bad["botCoverage"]}
    (out / "conformance.json").write_text(json.dumps(grafted), encoding="utf-8")
    error = _refused(project, "conformance.json", "changed after `safetrade conformance`")
    assert error.what.startswith("conformance.json (")
    # the graft itself is a well-formed passing record: sealed, it would have been certified
    seal_outputs(_inputs(project), KEY)
    assert _certify(project).certified


def test_another_bots_sealed_passing_run_copied_in_does_not_certify_this_bot(
    project: Path, tmp_path: Path
) -> None:
    """Record and seal of a passing bot, copied whole: true of that bot, not of this one."""
    other = RunningCode(dict(RUNNING.safetrade_files), "goodbot", {"g.py": "7" * 64}, "2" * 64)
    (tmp_path / "good").mkdir()
    elsewhere = finished_run(tmp_path / "good")
    (elsewhere / "out" / "conformance.json").write_bytes(conformance_result(other).dumps())
    seal_outputs(_inputs(elsewhere), KEY)
    for name in ("conformance.json", CONFORMANCE_SEAL):
        shutil.copy(elsewhere / "out" / name, project / "out" / name)
    outcome = _certify(project)
    assert not outcome.certified
    assert outcome.artifact is None
    assert (
        "the code signed is bot package 'toybot', but the conformance run exercised 'goodbot': "
        "re-run `tox -e certify`"
    ) in outcome.problems


def test_evidence_items_of_one_outline_example_removed_are_refused(project: Path) -> None:
    out = project / "out"
    doc = _evidence_doc()
    example = doc["items"][0]  # type: ignore[index]
    failed = {**example, "nodeid": example["nodeid"] + "[example 2]", "outcome": "failed"}
    doc["items"] = [example, failed]
    (out / "evidence.json").write_text(json.dumps(doc), encoding="utf-8")
    seal_outputs(_inputs(project), KEY)  # what `safetrade suite` wrote: one example failed
    assert not _certify(project).certified
    doc["items"] = [example]
    doc["exitstatus"] = 0
    (out / "evidence.json").write_text(json.dumps(doc), encoding="utf-8")
    _refused(project, "evidence.json", "changed after `safetrade suite`", "edited or replaced")
    seal_outputs(_inputs(project), KEY)  # sealed, the edited evidence would have certified
    assert _certify(project).certified


def test_coverage_edited_or_a_file_added_after_the_suite_is_refused(project: Path) -> None:
    out = project / "out"
    coverage = json.loads((out / "coverage.json").read_bytes())
    coverage["totals"]["percent_covered"] = 99.0
    (out / "coverage.json").write_text(json.dumps(coverage), encoding="utf-8")
    _refused(project, "coverage.json", "changed after")
    seal_outputs(_inputs(project), KEY)
    (out / "cucumber.json").write_text("[]", encoding="utf-8")  # the suite wrote none
    inputs = CertifyInputs.in_folder(project, out, project / "policy.toml")
    with pytest.raises(SealError, match=r"cucumber\.json .* was written after"):
        certify(inputs, signing_key=KEY, now=NOW, running=RUNNING)
    (out / "evidence.json").unlink()
    _refused(project, "evidence.json", "was removed after")


@pytest.mark.parametrize(
    ("seal", "sealed"), [(CONFORMANCE_SEAL, "conformance.json"), (SUITE_SEAL, "evidence.json")]
)
def test_a_missing_seal_is_refused(project: Path, seal: str, sealed: str) -> None:
    (project / "out" / seal).unlink()
    _refused(project, f"{sealed} is not sealed", seal, "missing")


@pytest.mark.parametrize("seal", [CONFORMANCE_SEAL, SUITE_SEAL])
def test_a_seal_signed_by_another_key_is_refused(project: Path, seal: str) -> None:
    """Sealed on another machine (or by an attacker's own key): not this signing key's."""
    out = project / "out"
    kept = {n: (out / n).read_bytes() for n in (CONFORMANCE_SEAL, SUITE_SEAL) if n != seal}
    seal_outputs(_inputs(project), OTHER_KEY)
    for name, data in kept.items():
        (out / name).write_bytes(data)  # only this one seal is foreign
    _refused(project, seal, "is not signed by this signing key", KEY.public.fingerprint)


def test_a_seal_edited_after_signing_is_refused(project: Path) -> None:
    path = project / "out" / CONFORMANCE_SEAL
    envelope = json.loads(path.read_bytes())
    payload = json.loads(parse_envelope(path.read_bytes()).payload)
    payload["files"]["conformance.json"] = "0" * 64
    forged = sign_envelope(json.dumps(payload).encode(), OTHER_KEY.private, PAYLOAD_TYPE)
    envelope["payload"] = json.loads(forged.to_json())["payload"]  # KEY's signature kept
    path.write_text(json.dumps(envelope), encoding="utf-8")
    _refused(project, "not signed by this signing key", "altered after signing")


def test_a_seal_of_the_other_step_or_a_certificate_is_refused(project: Path) -> None:
    out = project / "out"
    shutil.copy(out / SUITE_SEAL, out / CONFORMANCE_SEAL)
    _refused(project, "seal of step 'suite'", "must be sealed by `safetrade conformance`")
    certificate = sign_envelope(b"{}", KEY.private)  # a certificate's payload type
    (out / CONFORMANCE_SEAL).write_bytes(certificate.to_json())
    _refused(project, "payload type 'application/vnd.in-toto+json'")


def test_a_record_whose_seal_names_another_bot_is_refused(project: Path) -> None:
    """Defence in depth: the record's bot must be the bot its sealing run exercised."""
    seal_conformance(
        project / "out" / "conformance.json", bot={"package": "toybot", "dirHash": "f" * 64},
        safetrade_dir_hash="x", signing_key=KEY, started_at=NOW, now=NOW,
    )  # fmt: skip
    _refused(project, "conformance.json names bot 'toybot'", "its seal names ('toybot', 'fff")


# --- the producers seal what they write --------------------------------------------------------


def _suite_seal(out: Path) -> Any:
    return read_seal(out / SUITE_SEAL, step="suite", signer=KEY.public, sealed="evidence.json")


def test_the_suite_seals_a_fresh_run_and_a_reused_one(
    suite: dict[str, Any], tmp_path: Path
) -> None:
    for out in (tmp_path / "out1", tmp_path / "out2"):
        assert suite_runner.run(_suite_args(suite, out), "suite") == 0
        seal = _suite_seal(out)
        for name in ("evidence.json", "coverage.json", "cucumber.json"):
            assert seal.files[name] == sha256_hex((out / name).read_bytes()), name
    assert suite["runs"] == 1  # out2 is the cache entry's outputs, sealed as written
    assert _suite_seal(tmp_path / "out1").run == {"reused": None, "exitStatuses": [0, 0, 0]}
    reused = json.loads((tmp_path / "out2" / "evidence.json").read_bytes())["reused"]
    assert _suite_seal(tmp_path / "out2").run == {"reused": reused, "exitStatuses": None}


def test_a_failed_or_unmerged_suite_is_sealed_too(
    suite: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite["statuses"] = (0, 1, 0)
    assert suite_runner.run(_suite_args(suite, tmp_path / "out", no_cache=True), "suite") == 1
    assert _suite_seal(tmp_path / "out").run["exitStatuses"] == [0, 1, 0]
    monkeypatch.setattr(suite_runner, "_run_suite", lambda _out, _root: None)
    assert suite_runner.run(_suite_args(suite, tmp_path / "out", no_cache=True), "suite") == 1
    # the stale outputs were removed first: the seal says no evidence was written
    assert _suite_seal(tmp_path / "out").files["evidence.json"] is None


def test_the_suite_does_not_run_without_a_usable_signing_key(
    suite: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unusable() -> SigningKey:
        raise ConfigError("SAFETRADE_CERT_KEY_FILE=/x.pem does not exist")

    monkeypatch.setattr(suite_runner, "_signing_key", unusable)
    args = argparse.Namespace(out=tmp_path / "out", project_root=suite["root"], no_cache=True)
    with pytest.raises(ConfigError, match="does not exist"):
        suite_runner.run(args, "suite")
    assert suite["runs"] == 0
    assert not (tmp_path / "out" / SUITE_SEAL).exists()


def test_a_seal_records_a_file_the_step_did_not_write_as_null(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{}", encoding="utf-8")
    when = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    path = write_seal(
        tmp_path, step="suite", files={"a.json": tmp_path / "a.json", "b.json": tmp_path / "b"},
        signing_key=KEY, started_at=when, now=NOW, run={},
    )  # fmt: skip
    seal = read_seal(path, step="suite", signer=KEY.public, sealed="a.json")
    assert seal.files == {"a.json": sha256_hex(b"{}"), "b.json": None}
    assert (seal.started_at, seal.sealed_at) == (
        "2026-03-01T11:00:00.000000Z",
        "2026-03-01T12:00:00.000000Z",
    )
    assert seal.signer == KEY.public.keyid


def test_a_suite_skipped_because_the_bot_failed_is_one_line_after_the_bots_failures(
    tmp_path: Path,
) -> None:
    root = finished_run(tmp_path, evidence=False)
    out = root / "out"
    (out / "coverage.json").unlink()
    (out / "conformance.json").write_bytes(conformance_result(RUNNING, passed=False).dumps())
    seal_outputs(_inputs(root), KEY)
    now = datetime.now(UTC)
    seal_suite(
        out, signing_key=KEY, started_at=now, now=now, reused=None, statuses=None,
        not_run=suite_runner.BOT_FAILED,
    )  # fmt: skip
    outcome = _certify(root)
    assert not outcome.certified
    assert outcome.problems[-1] == f"suite: not run: {suite_runner.BOT_FAILED}"
    assert any(p.startswith("bot conformance: rounding") for p in outcome.problems)
    assert not any(p.startswith(("evidence:", "scenario ")) for p in outcome.problems)
    # and the reports say so: they said the suite "ran in this certification", a hypothesis
    # profile "None", and named a signer as if something had been signed
    for report in outcome.reports:
        text = report.read_text(encoding="utf-8")
        assert f"NOT RUN: {suite_runner.BOT_FAILED}" in text, report
        assert "ran in this certification" not in text
        assert "nothing was signed" in text.lower()
        assert "none (no suite evidence)" in text
    # a suite that did not run for another reason is reported in full
    seal_outputs(_inputs(root), KEY)
    assert any(p.startswith("evidence:") for p in _certify(root).problems)
