"""End to end: a toy project's pytest-bdd run → evidence plugin → `safetrade certify` → verify."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from safetrade.certification.certify import CertifyInputs
from safetrade.certification.keys import load_signing_key
from safetrade.certification.provenance import measure_running_code
from safetrade.cli import main
from tests.conformance_runs import (
    FLOOR_TAGS,
    conformance_result,
    floor_coverage,
    floor_policy,
    seal_outputs,
)

FEATURE = f"""\
{FLOOR_TAGS}
Feature: Price collar
  Incident: 2026-02-06 the bot bought far above market

  @incident-2026-02-06
  Scenario: Far order is rejected
    Given a reference price of 100
    When the bot buys at 110
    Then the order is rejected
{{extra}}"""
NEVER_BOUND = """
  Scenario: Nobody implemented this
    Given a step nobody implemented
"""
STEPS = """\
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("collar.feature")


@given(parsers.parse("a reference price of {ref:d}"), target_fixture="ctx")
def _(ref):
    return {"ref": ref}


@when(parsers.parse("the bot buys at {px:d}"))
def _(ctx, px):
    ctx["accepted"] = abs(px - ctx["ref"]) <= ctx["ref"] * 0.05


@then("the order is rejected")
def _(ctx):
    assert ctx["accepted"] is False
"""
CONFTEST = """\
from safetrade.certification.evidence_plugin import apply_tag


def pytest_bdd_apply_tag(tag, function):
    return apply_tag(tag, function)
"""
PYTEST_INI = """\
[pytest]
bdd_features_base_dir = features/
addopts = -p no:cacheprovider
strict_markers = true
markers =
    control(name): control
    incident(id): incident
"""
POLICY = "[certificate]\nvalidity_days = 30\n" + floor_policy()


def _project(root: Path, *, extra: str = "") -> Path:
    (root / "features").mkdir(parents=True)
    (root / "features" / "collar.feature").write_text(FEATURE.format(extra=extra), encoding="utf-8")
    (root / "features" / "test_collar.py").write_text(STEPS, encoding="utf-8")
    (root / "features" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (root / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    (root / "policy.toml").write_text(POLICY, encoding="utf-8")
    bot = root / "botsite" / "toybot"
    bot.mkdir(parents=True)
    (bot / "__init__.py").write_text("SIGNAL = 1\n", encoding="utf-8")
    return root


def _run_suite(root: Path) -> None:
    out = root / "out"
    subprocess.run(  # noqa: S603 -- fixed argv
        [
            sys.executable,
            "-m",
            "pytest",
            "features",
            "-q",
            "-p",
            "safetrade.certification.evidence_plugin",
            f"--safetrade-evidence={out / 'evidence.json'}",
        ],
        cwd=root,
        check=False,
        capture_output=True,
    )
    assert (out / "evidence.json").is_file()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in ("SAFETRADE_CERT_KEY_FILE", "SAFETRADE_CERT_KEY", "SAFETRADE_TRUSTED_KEYS"):
        monkeypatch.delenv(name, raising=False)
    return home


def _certify(root: Path) -> int:
    return main(
        [
            "certify",
            "--out",
            str(root / "out"),
            "--policy",
            str(root / "policy.toml"),
            "--project-root",
            str(root),
        ]
    )


def _conformance_run(root: Path) -> None:
    """The toy bot's conformance record (certify and verify are under test here, not the run)."""
    (root / "out").mkdir(exist_ok=True)
    record = conformance_result(measure_running_code("toybot"))
    (root / "out" / "conformance.json").write_bytes(record.dumps())
    # the suite here runs without coverage.py: its report is what a covered run would write
    (root / "out" / "coverage.json").write_text(json.dumps(floor_coverage()), encoding="utf-8")
    # sealed with the key certify will load (the developer key of this HOME), as the
    # conformance and suite steps seal what they write
    inputs = CertifyInputs.in_folder(root, root / "out", root / "policy.toml")
    seal_outputs(inputs, load_signing_key(os.environ, Path.home()))


def test_certify_then_verify_round_trip(
    tmp_path: Path, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "proj")
    monkeypatch.syspath_prepend(str(root / "botsite"))
    _run_suite(root)
    _conformance_run(root)
    assert _certify(root) == 0
    captured = capsys.readouterr()
    assert "LOCAL DEVELOPER KEY" in captured.err
    assert (env / ".safetrade" / "dev-signing-key.pem").is_file()
    out = root / "out"
    envelope = json.loads((out / "safetrade.cert.json").read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    report = (out / "report.md").read_text()
    assert "## Verdict: CERTIFIED\n" in report
    assert "**Certifies:** " in report
    assert "- **Issued / expires:** " in report
    assert "signed with a local developer key" in (out / "report.html").read_text().lower()

    verify = ["verify", str(out / "safetrade.cert.json"), "--bot-package", "toybot"]
    # without explicit trust the key inside/next to the artifact is not enough
    assert main(verify) == 1
    assert "no trusted public keys" in capsys.readouterr().out
    assert main([*verify, "--trusted-keys", str(out / "signer.pub")]) == 1
    assert "sits in the artifact's own folder" in capsys.readouterr().out

    # trusting is its own act, showing the fingerprint, into a file kept elsewhere
    trusted = env / "trusted-keys"
    trust = ["trust", "add", str(out / "signer.pub"), "--trusted-keys", str(trusted)]
    assert main(trust) == 2  # a label is required: who holds this key?
    capsys.readouterr()
    assert main([*trust, "--label", "my laptop's developer key"]) == 0
    printed = capsys.readouterr().out
    assert "keyid:" in printed
    assert "check this keyid with the key's owner" in printed
    assert main([*verify, "--trusted-keys", str(trusted)]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main(["trust", "list", "--trusted-keys", str(trusted)]) == 0
    assert "1 trusted key(s)" in capsys.readouterr().out

    # drift in the bot after certification is named
    (root / "botsite" / "toybot" / "__init__.py").write_text("SIGNAL = 2\n", encoding="utf-8")
    assert main([*verify, "--trusted-keys", str(trusted)]) == 1
    assert "changed: __init__.py" in capsys.readouterr().out


def test_scenario_never_executed_is_not_certified(
    tmp_path: Path, env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path / "proj", extra=NEVER_BOUND)
    monkeypatch.syspath_prepend(str(root / "botsite"))
    out = root / "out"
    out.mkdir()
    (out / "safetrade.cert.json").write_text("stale artifact from an earlier run")
    _run_suite(root)
    _conformance_run(root)
    assert _certify(root) == 1
    err = capsys.readouterr().err
    assert "NOT CERTIFIED" in err
    assert "features/collar.feature::Nobody implemented this" in err
    assert not (out / "safetrade.cert.json").exists()  # a stale artifact is removed
    assert "NOT CERTIFIED" in (out / "report.md").read_text()


def test_keygen_prints_public_key_and_refuses_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "k.pem"
    assert main(["keygen", "--out", str(key)]) == 0
    printed = capsys.readouterr().out
    assert "keyid" in printed
    assert "SAFETRADE_CERT_KEY_FILE" in printed
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert main(["keygen", "--out", str(key)]) == 1
    assert textwrap.dedent(printed).count("public key:") == 1
