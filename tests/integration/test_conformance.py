"""Certification of the bot that will trade: bots in their own folders, judged by the exchange.

Every bot here is built through the bot contract and driven against the fake KuCoin by the
real conformance harness; nothing in the harness or the bots is mocked. A certification that
cannot fail proves nothing, so the broken bots must each come out NOT CERTIFIED, naming their
failures by control and incident line, and the reference bot and an outside bot must pass.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import require_valid
from safetrade.certification.bots import load_bot
from safetrade.certification.certify import ARTIFACT_NAME, certify
from safetrade.certification.conformance import (
    REQUIRED_CONTROLS,
    SCENARIOS,
    ConformanceResult,
    run_conformance,
)
from safetrade.certification.conformance.judges import INCIDENT
from safetrade.certification.keys import SigningKey
from safetrade.cli import main
from safetrade.errors import BotContractError, CertificationError
from tests.conformance_runs import passing_library_run

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "bots"
KEY = SigningKey(Ed25519PrivateKey.generate(), "test key", developer=False)


@pytest.fixture(autouse=True)
def _quiet_bots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)


@pytest.fixture
def bot_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The fixture bots importable, as if installed; their modules forgotten afterwards."""
    for folder in ("incident_bot", "broken_bots"):
        monkeypatch.syspath_prepend(str(FIXTURES / folder))
    yield
    for name in [m for m in sys.modules if m.split(".")[0] in ("incident_bot", "broken_bots")]:
        del sys.modules[name]


def _failed(result: ConformanceResult) -> dict[str, list[str]]:
    """Failed findings by control: ``{control: ["scenario: detail", ...]}``."""
    failed: dict[str, list[str]] = {}
    for scenario in result.scenarios:
        for finding in scenario.findings:
            if not finding.passed:
                failed.setdefault(finding.control, []).append(f"{scenario.id}: {finding.detail}")
    return failed


def test_the_reference_bot_passes_every_conformance_scenario() -> None:
    result = run_conformance(load_bot(None))
    findings = [f for s in result.scenarios for f in s.findings]
    print(f"conformance: {len(result.scenarios)} scenarios, {len(findings)} findings")  # noqa: T201
    assert result.failures() == ()
    assert result.passed
    assert [s.id for s in result.scenarios] == [s.id for s in SCENARIOS]
    assert {f.control for f in findings} >= set(REQUIRED_CONTROLS)
    assert result.bot.is_reference
    assert result.bot.package == "safetrade.reference_bot"
    feb6 = result.scenarios[0]
    # what the exchange saw: one entry, a stop-loss and a rounded take-profit, nothing else
    assert feb6.sent[:3] == (
        "order buy market SOL-USDT size 0.6396 -> accepted",
        "stop order sell market SOL-USDT size 0.6396 stop loss stopPrice 85.61 -> accepted",
        "stop order sell market SOL-USDT size 0.6396 stop entry stopPrice 90.13 -> accepted",
    )
    assert feb6.left_live == ()


def test_the_incident_bot_is_not_certified_and_each_feb6_failure_is_named(
    bot_path: None, tmp_path: Path
) -> None:
    result = run_conformance(load_bot("incident_bot.certify:make_bot"))
    failed = _failed(result)
    assert not result.passed
    # the four failures of February 6, each by its control
    assert "ACCOUNT_BALANCE=123" in " ".join(
        s.title for s in result.scenarios if s.id in "wrong-env-key"
    )
    assert any("costing 394.3963 USDT" in d for d in failed["balance-check"]), failed
    assert any("0 SOL under live stop-loss" in d for d in failed["protective-orders"]), failed
    assert any("price 90.1353" in d and "Price increment invalid" in d for d in failed["rounding"])
    assert "config-strict" in failed
    assert "code-binding" in failed  # it starts live with no certificate at all

    inputs = passing_library_run(tmp_path, result)
    outcome = certify(inputs, signing_key=KEY, now=datetime.now(UTC))
    assert not outcome.certified
    assert outcome.artifact is None
    assert not (inputs.out_dir / ARTIFACT_NAME).exists()
    report = (inputs.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Verdict: NOT CERTIFIED" in report
    for control in ("config-strict", "balance-check", "protective-orders", "rounding"):
        row = f"| **FAIL** | {control} | {INCIDENT[control].replace('|', chr(92) + '|')} |"
        assert row in report, control
    assert "**Certifies:** incident_bot; package incident_bot" in report
    problems = " ".join(outcome.problems)
    for control in ("config-strict", "balance-check", "protective-orders", "rounding"):
        assert f"bot conformance: {control}: " in problems


@pytest.mark.parametrize(
    ("factory", "control", "evidence"),
    [
        ("broken_bots.no_stop:make_bot", "protective-orders", "0 SOL under live stop-loss"),
        ("broken_bots.swallowed_stop:make_bot", "protective-orders", "0 SOL under live stop-loss"),
        ("broken_bots.raw_take_profit:make_bot", "rounding", "price 90.1353"),
    ],
)
def test_a_bot_with_one_protection_bug_is_not_certified(
    bot_path: None, factory: str, control: str, evidence: str
) -> None:
    result = run_conformance(load_bot(factory))
    assert not result.passed
    failed = _failed(result)
    assert any(evidence in d for d in failed[control]), failed
    feb6 = next(f for f in result.failures() if "(scenario feb6-trade; incident: " in f)
    assert feb6.startswith(f"{control}: ")


def test_a_bot_in_its_own_folder_certifies_and_an_edit_after_certification_stops_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mybot"
    shutil.copytree(ROOT / "examples" / "mybot", folder)
    monkeypatch.syspath_prepend(str(folder))
    try:
        result = run_conformance(load_bot("mybot.certify:make_bot"))
        assert result.failures() == ()
        assert (result.bot.package, result.bot.is_reference) == ("mybot", False)
        outcome = certify(
            passing_library_run(tmp_path / "run", result), signing_key=KEY, now=datetime.now(UTC)
        )
        assert outcome.certified, outcome.problems
        statement = outcome.statement
        assert "bot-package:mybot" in [s["name"] for s in statement["subject"]]
        assert statement["predicate"]["conformance"]["result"] == "PASSED"
        trusted = tmp_path / "trusted.txt"
        trusted.write_text(KEY.public.hex + "\n", encoding="utf-8")
        run = require_valid(outcome.artifact, trusted_keys=trusted, bot_package="mybot")
        assert run.bot_package == "mybot"
        # the reference bot's certificate is not mybot's, and mybot's is not the reference's
        with pytest.raises(CertificationError, match="certified for bot package 'mybot'"):
            require_valid(
                outcome.artifact, trusted_keys=trusted, bot_package="safetrade.reference_bot"
            )
        strategy = folder / "mybot" / "strategy.py"
        strategy.write_text(strategy.read_text().replace("fast: int = 3", "fast: int = 2"))
        with pytest.raises(CertificationError, match=r"changed: strategy\.py"):
            require_valid(outcome.artifact, trusted_keys=trusted, bot_package="mybot")
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "mybot"]:
            del sys.modules[name]


def test_a_bot_that_does_not_import_or_lacks_a_call_is_refused_in_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "badbot"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "syntax.py").write_text("def make_bot(context)\n    return None\n")
    (package / "half.py").write_text(
        "class Half:\n    def start(self): ...\n    def on_signal(self, s): ...\n"
        "def make_bot(context):\n    return Half()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(BotContractError, match="SyntaxError"):
        load_bot("badbot.syntax:make_bot")
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "badbot.half:make_bot", "--out", str(out)]) == 2
    assert not (out / "conformance.json").exists()
    with pytest.raises(BotContractError, match=r"installed bots: .*reference"):
        load_bot("no-such-bot")
    assert main(["conformance", "--bot", str(tmp_path), "--out", str(out)]) == 2  # no pyproject


def test_the_conformance_command_writes_a_failed_run_for_certify_to_refuse(
    bot_path: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "incident_bot.certify:make_bot", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[FAIL] feb6-trade" in printed
    assert "incident: Take-profit automation failed" in printed
    record = json.loads((out / "conformance.json").read_text(encoding="utf-8"))
    assert record["result"] == "FAILED"
    assert record["bot"]["package"] == "incident_bot"
    assert (out / "conformance.log").read_text(encoding="utf-8")  # the bot's own log lines
    assert main(["conformance", "--out", str(out)]) == 0
    assert "certifying safetrade's REFERENCE BOT, not your bot" in capsys.readouterr().out
