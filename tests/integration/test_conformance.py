"""Certification of the bot that will trade: the harness, its command and the bot contract.

Every bot here is built through the bot contract and driven against the fake KuCoin by the
real conformance harness; nothing in the harness or the bots is mocked. The reference bot must
pass, a bot that cannot be loaded is refused in seconds, and the command writes a failed run
that certify refuses. The incident bot, the broken bots and an outside bot in its own folder
are judged in test_conformance_bots.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from safetrade.certification.bots import load_bot
from safetrade.certification.conformance import (
    REQUIRED_CONTROLS,
    SCENARIOS,
    run_conformance,
)
from safetrade.certification.keys import load_signing_key
from safetrade.certification.seal import CONFORMANCE_SEAL, check_files, read_seal
from safetrade.cli import main
from safetrade.errors import BotContractError


@pytest.fixture(autouse=True)
def _quiet_bots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The command seals with the signing key: here the developer key of a scratch HOME."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("SAFETRADE_CERT_KEY_FILE", "SAFETRADE_CERT_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


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
        # sized from the best ask and bought at it, immediate-or-cancel: no slippage past it
        "order buy limit SOL-USDT size 0.6396 price 87.36 timeInForce IOC -> accepted",
        "stop order sell market SOL-USDT size 0.6396 stop loss stopPrice 85.61 -> accepted",
        "stop order sell market SOL-USDT size 0.6396 stop entry stopPrice 90.13 -> accepted",
    )
    assert feb6.left_live == ()


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


def test_a_bot_that_imports_a_second_package_is_told_before_any_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its live start-up would be refused in all fifteen: said once, in seconds, exit 2."""
    for name, text in {
        "twopkg/__init__.py": "import twopkg_core\n",
        "twopkg/bot.py": "from twopkg_core import make_bot  # noqa: F401\n",
        "twopkg_core/__init__.py": (
            "class Bot:\n    def start(self): ...\n    def on_signal(self, s): ...\n"
            "    def tick(self): ...\n    def stop(self): ...\n"
            "def make_bot(context):\n    return Bot()\n"
        ),
    }.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "twopkg.bot:make_bot", "--out", str(out)]) == 2
    printed = capsys.readouterr().err
    assert "imports code its certification would not cover" in printed
    assert f"twopkg_core ({(tmp_path / 'twopkg_core' / '__init__.py').resolve()})" in printed
    assert "keep all of the bot's code inside its package 'twopkg'" in printed
    assert not (out / "conformance.json").exists()


def test_a_bot_importing_a_distribution_nobody_requires_is_told_to_declare_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only declared requirements are bound by version: an undeclared one could be swapped."""
    from safetrade.certification import provenance

    site = tmp_path / "site-packages"
    (site / "loose_lib").mkdir(parents=True)
    (site / "loose_lib" / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    info = site / "loose_lib-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: loose-lib\nVersion: 1.0\n")
    (info / "RECORD").write_text("loose_lib/__init__.py,,\n", encoding="utf-8")
    (tmp_path / "bots" / "declbot").mkdir(parents=True)
    (tmp_path / "bots" / "declbot" / "__init__.py").write_text(
        "import loose_lib  # noqa: F401\nfrom safetrade.reference_bot.certifiable import "
        "make_bot  # noqa: F401\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(tmp_path / "bots"))
    real = provenance.site_dirs()
    monkeypatch.setattr(provenance, "site_dirs", lambda: (*real, str(site)))
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "declbot:make_bot", "--out", str(out)]) == 2
    printed = capsys.readouterr().err
    assert "it imports loose_lib, from the distribution loose-lib, which neither the bot's" in (
        printed
    )
    assert "add each distribution named to the bot's `[project] dependencies`" in printed
    assert not (out / "conformance.json").exists()


def test_the_conformance_command_writes_a_failed_run_for_certify_to_refuse(
    bot_path: None, tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "incident_bot.certify:make_bot", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[FAIL] feb6-trade" in printed
    assert "incident: Take-profit automation failed" in printed
    record = json.loads((out / "conformance.json").read_text(encoding="utf-8"))
    assert record["result"] == "FAILED"
    assert record["bot"]["package"] == "incident_bot"
    # sealed with the key certify signs with: the record's sha256 and the bot it ran
    key = load_signing_key({}, home)
    seal = read_seal(
        out / CONFORMANCE_SEAL, step="conformance", signer=key.public, sealed="conformance.json"
    )
    check_files(seal, {"conformance.json": out / "conformance.json"})
    assert seal.run["bot"]["package"] == "incident_bot"
    assert seal.run["bot"]["dirHash"] == record["bot"]["dirHash"]
    assert seal.run["safetradeDirHash"] == record["safetradeDirHash"]
    assert seal.started_at <= seal.sealed_at
    assert (out / "conformance.log").read_text(encoding="utf-8")  # the bot's own log lines
    assert main(["conformance", "--out", str(out)]) == 0
    assert "certifying safetrade's REFERENCE BOT, not your bot" in capsys.readouterr().out


def test_the_conformance_command_refuses_to_run_without_a_usable_signing_key(
    bot_path: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A record it could not seal would be refused by certify: it says so before the bot runs."""
    monkeypatch.setenv("SAFETRADE_CERT_KEY_FILE", str(tmp_path / "missing.pem"))
    out = tmp_path / "out"
    assert main(["conformance", "--bot", "incident_bot.certify:make_bot", "--out", str(out)]) == 1
    assert "missing.pem does not exist" in capsys.readouterr().err
    assert not (out / "conformance.json").exists()
    assert not (out / CONFORMANCE_SEAL).exists()


def test_each_scenario_has_its_own_api_key_not_the_fakes_published_one(tmp_path: Path) -> None:
    """The published test key would tell a bot it is under test (and to behave only then)."""
    from safetrade.certification.conformance.stage import Setup, Stage
    from safetrade.certification.provenance import measure_running_code
    from safetrade.testing import TEST_API_KEY, TEST_API_SECRET, TEST_PASSPHRASE

    bot = load_bot(None)
    running = measure_running_code(bot.package)
    keys = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        stage = Stage(bot, running, Setup(dotenv=""), tmp_path / name)
        try:
            key = stage.fake.credentials
            assert (
                stage.context.env["KUCOIN_API_KEY"] == key.api_key == stage.context.access.api_key
            )
            assert stage.context.env["KUCOIN_API_SECRET"] == key.api_secret
            assert key.api_key != TEST_API_KEY
            assert key.api_secret != TEST_API_SECRET
            assert key.passphrase != TEST_PASSPHRASE
            assert len(key.api_key) == 24  # shaped like KuCoin's
            assert stage.context.exchange.fetch_balance()["free"]["USDT"] == 123  # and it works
            keys.append(key.api_key)
        finally:
            stage.close()
    assert keys[0] != keys[1]
