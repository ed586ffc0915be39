"""certify() with missing or broken inputs: every one becomes a named problem, never a crash.

Runs :func:`certify` directly on files written here (evidence, features, coverage, policy), with
pre-measured running code and an in-memory signing key, so no pytest subprocess is needed. The
files stand for what the conformance and suite steps wrote, so they are sealed as those steps
seal them (tests/unit/test_certify_seals.py is about inputs changed after their seal).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification.certify import ARTIFACT_NAME, CertifyInputs, certify
from safetrade.certification.digest import sha256_hex
from safetrade.certification.dsse import parse_envelope
from safetrade.certification.keys import SigningKey
from safetrade.certification.provenance import RunningCode
from safetrade.certification.seal import SealError
from safetrade.errors import ConfigError
from tests.conformance_runs import (
    FLOOR_TAGS,
    conformance_result,
    floor_coverage,
    floor_policy,
    seal_outputs,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEATURE = f"""\
{FLOOR_TAGS}
Feature: Collar
  Scenario: Far order is rejected
    Given a far order
"""
RUNNING = RunningCode({"a.py": "0" * 64}, "toybot", {"b.py": "1" * 64}, "2" * 64)
KEY = SigningKey(Ed25519PrivateKey.generate(), "test key", developer=False)


def _evidence_doc(outcome: str = "passed") -> dict[str, object]:
    return {
        "format": "safetrade-evidence/1",
        "exitstatus": 0 if outcome == "passed" else 1,
        "testedFiles": dict(RUNNING.safetrade_files),
        "hypothesisProfile": "ci",
        "items": [
            {
                "nodeid": "features/test_collar.py::test_far",
                "outcome": outcome,
                "duration": 0.1,
                "controls": ["price-collar"],
                "incidents": [],
                "scenario": "features/collar.feature::Far order is rejected",
            }
        ],
    }


def _coverage_doc(total: float) -> dict[str, object]:
    doc = floor_coverage(95.0)
    doc["totals"] = {"percent_covered": total}
    return doc


def finished_run(root: Path, *, evidence: bool = True) -> Path:
    """A finished certification run's folder: feature, policy, coverage, conformance, seals."""
    (root / "features").mkdir()
    (root / "features" / "collar.feature").write_text(FEATURE, encoding="utf-8")
    (root / "policy.toml").write_text(floor_policy(total_floor=90), encoding="utf-8")
    out = root / "out"
    out.mkdir()
    if evidence:
        (out / "evidence.json").write_text(json.dumps(_evidence_doc()), encoding="utf-8")
    (out / "coverage.json").write_text(json.dumps(_coverage_doc(95.0)), encoding="utf-8")
    (out / "conformance.json").write_bytes(conformance_result(RUNNING).dumps())
    seal_outputs(CertifyInputs.in_folder(root, out, root / "policy.toml"), KEY)
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return finished_run(tmp_path)


def _inputs(root: Path, *, cucumber: Path | None = None) -> CertifyInputs:
    """The outputs as each test wrote them, sealed as the steps that write them seal them."""
    inputs = CertifyInputs.in_folder(root, root / "out", root / "policy.toml", cucumber=False)
    inputs = attrs.evolve(inputs, cucumber=cucumber)
    seal_outputs(inputs, KEY)
    return inputs


def test_complete_inputs_are_certified_and_bound_by_digest(project: Path) -> None:
    out = project / "out"
    (out / "cucumber.json").write_text("[]", encoding="utf-8")
    outcome = certify(
        _inputs(project, cucumber=out / "cucumber.json"), signing_key=KEY, now=NOW, running=RUNNING
    )
    assert outcome.problems == ()
    assert outcome.certified
    assert outcome.artifact == out / ARTIFACT_NAME
    envelope = (out / ARTIFACT_NAME).read_bytes()
    assert outcome.envelope_sha256 == sha256_hex(envelope)
    statement = json.loads(parse_envelope(envelope).payload)
    reports = {r["name"]: r["digest"]["sha256"] for r in statement["predicate"]["reports"]}
    assert sorted(reports) == [
        "conformance.json",
        "conformance.seal.json",
        "coverage.json",
        "cucumber.json",
        "evidence.json",
        "report.html",
        "report.md",
        "suite.seal.json",
    ]
    assert reports["cucumber.json"] == sha256_hex(b"[]")
    assert reports["report.md"] == sha256_hex((out / "report.md").read_bytes())
    assert statement["predicate"]["coverage"]["total"] == 95.0
    assert KEY.public.hex in (out / "signer.pub").read_text(encoding="utf-8")


def test_missing_evidence_is_a_named_problem(project: Path) -> None:
    (project / "out" / "evidence.json").unlink()
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert outcome.artifact is None
    assert outcome.problems[0].startswith("evidence: evidence file ")
    assert "pytest exited with status -1 (0 required)" in outcome.problems
    # the scenario that has no recorded outcome is named too
    assert "scenario not-executed: features/collar.feature::Far order is rejected" in (
        outcome.problems
    )
    assert not (project / "out" / ARTIFACT_NAME).exists()
    assert "NOT CERTIFIED" in (project / "out" / "report.md").read_text(encoding="utf-8")


def test_missing_features_folder_is_a_named_problem(project: Path) -> None:
    policy = floor_policy().replace("[scenarios]\n", '[scenarios]\nfeatures_dir = "specs"\n')
    (project / "policy.toml").write_text(policy, encoding="utf-8")
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert outcome.problems[0].startswith("inventory: features folder ")
    assert "no scenarios found under specs/" in outcome.problems


def test_invalid_gherkin_is_a_named_problem_not_a_crash(project: Path) -> None:
    (project / "features" / "broken.feature").write_text("Given no feature line\n")
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert outcome.problems[0].startswith("inventory: features/broken.feature is not valid Gherkin")


def test_unparsable_or_missing_coverage_is_a_named_problem(project: Path) -> None:
    coverage = project / "out" / "coverage.json"
    coverage.write_text('{"meta": {}}', encoding="utf-8")
    broken = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert broken.problems[0].startswith("coverage.json is not a coverage.py JSON report")
    assert "coverage.json missing: coverage floors cannot be checked" in broken.problems

    coverage.unlink()
    missing = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert missing.problems == ("coverage.json missing: coverage floors cannot be checked",)


def test_coverage_below_the_floor_is_not_certified(project: Path) -> None:
    (project / "out" / "coverage.json").write_text(json.dumps(_coverage_doc(89.0)))
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert outcome.problems == ("total coverage 89.0% < floor 90%",)


def test_a_missing_policy_is_an_error_not_a_problem(project: Path) -> None:
    (project / "policy.toml").unlink()
    with pytest.raises(ConfigError, match=r"policy\.toml does not exist"):
        certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)


def test_without_a_conformance_run_the_bot_is_not_certified(project: Path) -> None:
    (project / "out" / "conformance.json").unlink()
    (project / "out" / "conformance.seal.json").unlink()
    with pytest.raises(SealError, match=r"^no conformance run at .*only be hashed, never"):
        certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not (project / "out" / ARTIFACT_NAME).exists()


def test_a_failed_conformance_run_names_each_failure_and_writes_no_artifact(
    project: Path,
) -> None:
    failed = conformance_result(RUNNING, passed=False)
    (project / "out" / "conformance.json").write_bytes(failed.dumps())
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert not (project / "out" / ARTIFACT_NAME).exists()
    assert outcome.problems == (
        "bot conformance: rounding: rounding judged (scenario feb6-trade; incident: an "
        "incident line): numbers",
    )
    report = (project / "out" / "report.md").read_text(encoding="utf-8")
    assert "| **FAIL** | rounding | an incident line | feb6-trade: rounding judged | numbers |" in (
        report
    )


def test_an_edited_conformance_file_is_refused(project: Path) -> None:
    path = project / "out" / "conformance.json"
    data = json.loads(conformance_result(RUNNING, passed=False).dumps())
    data["result"] = "PASSED"  # the findings still say FAILED
    path.write_text(json.dumps(data), encoding="utf-8")
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert "the file was edited after the run" in outcome.problems[0]


def test_a_bot_changed_after_its_conformance_run_is_not_certified(project: Path) -> None:
    edited = RunningCode({"a.py": "0" * 64}, "toybot", {"b.py": "9" * 64}, "2" * 64)
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=edited)
    assert outcome.problems == (
        "bot package 'toybot' changed after its conformance run (changed: b.py): re-run "
        "`tox -e certify`",
    )


def _rewrite_evidence(project: Path, **changes: object) -> None:
    path = project / "out" / "evidence.json"
    doc = {**json.loads(path.read_text(encoding="utf-8")), **changes}
    path.write_text(json.dumps({k: v for k, v in doc.items() if v is not None}), encoding="utf-8")


def test_code_edited_after_the_test_run_is_not_certified(project: Path) -> None:
    """Edit rounder.py after the tests, then certify: the evidence is about other code."""
    _rewrite_evidence(project, testedFiles={"a.py": "f" * 64})
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    assert outcome.problems[0] == (
        "safetrade changed after its tests ran (changed: a.py): the tests did not run on the "
        "code being signed; re-run `tox -e certify`"
    )


def test_code_edited_during_the_test_run_is_not_certified(project: Path) -> None:
    _rewrite_evidence(project, testedFilesAtEnd={"a.py": "0" * 64, "new.py": "1" * 64})
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert outcome.problems == ("safetrade changed while its tests ran (added: new.py)",)


def test_evidence_that_does_not_say_what_it_tested_is_not_certified(project: Path) -> None:
    _rewrite_evidence(project, testedFiles=None)
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert outcome.problems[0].startswith("evidence: it does not record the code it tested")


def test_a_policy_below_the_library_floor_is_not_certified_naming_each_way(project: Path) -> None:
    """No required controls or tags, floors of 0, skips allowed: it used to certify."""
    (project / "policy.toml").write_text(
        "[certificate]\nvalidity_days = 90\n[scenarios]\nallow_skipped = true\n"
        "required_controls = []\n[coverage]\ntotal_floor = 0\n"
        '[coverage.floors]\n"safetrade/guard.py" = 0\n',
        encoding="utf-8",
    )
    outcome = certify(_inputs(project), signing_key=KEY, now=NOW, running=RUNNING)
    assert not outcome.certified
    floor = [p for p in outcome.problems if p.startswith("policy below the library floor: ")]
    assert "policy below the library floor: skipped scenarios are allowed" in floor
    assert "policy below the library floor: required tag 'incident-2026-02-06' dropped" in floor
    assert "policy below the library floor: required control 'rounding' dropped" in floor
    assert (
        "policy below the library floor: coverage floor of safetrade/guard.py 0.0 "
        "(library default 90)"
    ) in floor
    assert len(floor) == 1 + 1 + 11 + 1 + 6  # skips, tag, controls, total, module floors
