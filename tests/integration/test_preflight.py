"""``safetrade preflight``: one go/no-go table, every check run, against the fake KuCoin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from safetrade.config import load_settings
from safetrade.gateway import Gateway
from safetrade.preflight import render, run_preflight
from safetrade.testing import FakeKucoin

BASE = {"RISK_PERCENT": "1", "MAX_OPEN_POSITIONS": "1"}


@pytest.fixture
def fake():
    with FakeKucoin(balances={"USDT": "123"}, prices={"SOL/USDT": "87.36"}) as ex:
        yield ex


def _rows(fake, env, tmp_path):
    settings = load_settings(
        env={**BASE, "SAFETRADE_KILL_SWITCH_FILE": str(tmp_path / "ks.json"), **env}
    )
    return run_preflight(
        settings,
        lambda: Gateway(fake.ccxt_client()),
        symbol="SOL/USDT",
        bot_package="safetrade.reference_bot",
    )


def test_paper_mode_is_go_with_matching_balance(fake, tmp_path):
    """Paper mode, balance matching the exchange: every row passes and the verdict is GO."""
    rows = _rows(fake, {"TRADING_MODE": "paper", "ACCOUNT_BALANCE_USD": "123"}, tmp_path)
    assert all(r.passed for r in rows), render(rows)
    assert render(rows).endswith("preflight: GO")


def test_balance_mismatch_is_no_go_with_both_numbers(fake, tmp_path):
    """Configured 10000 against the exchange's 123: NO-GO, and the row shows both numbers."""
    rows = _rows(fake, {"TRADING_MODE": "paper", "ACCOUNT_BALANCE_USD": "10000"}, tmp_path)
    balance = next(r for r in rows if r.name == "balance")
    assert not balance.passed
    assert "10000" in balance.detail
    assert "123" in balance.detail
    assert render(rows).endswith("preflight: NO-GO")


def test_live_without_certificate_is_no_go(fake, tmp_path):
    """Live mode with a missing artifact fails the certification row and says how to fix it."""
    env = {
        "TRADING_MODE": "live",
        "ACCOUNT_BALANCE_USD": "123",
        "KUCOIN_API_KEY": "k",
        "KUCOIN_API_SECRET": "s",
        "KUCOIN_API_PASSPHRASE": "p",
        "SAFETRADE_CERTIFICATE": str(tmp_path / "missing.cert.json"),
        "SAFETRADE_TRUSTED_KEYS": str(tmp_path / "trusted.txt"),
    }
    rows = _rows(fake, env, tmp_path)
    cert = next(r for r in rows if r.name == "certification")
    assert not cert.passed
    assert "tox -e certify" in cert.detail


def test_engaged_kill_switch_is_no_go(fake, tmp_path):
    """A kill switch left engaged by a previous run blocks start-up."""
    from safetrade.killswitch import KillSwitch

    KillSwitch(tmp_path / "ks.json").engage("flatten failed on SOL/USDT")
    rows = _rows(fake, {"TRADING_MODE": "paper"}, tmp_path)
    kill = next(r for r in rows if r.name == "kill switch")
    assert not kill.passed
    assert "flatten failed" in kill.detail


def test_unreachable_exchange_is_no_go(fake, tmp_path):
    """An exchange that refuses the credentials fails the exchange and balance rows."""
    settings = load_settings(env={**BASE, "TRADING_MODE": "paper"})
    rows = run_preflight(
        settings,
        lambda: Gateway(fake.ccxt_client(secret="wrong")),
        symbol="SOL/USDT",
        bot_package="safetrade.reference_bot",
    )
    assert [r.name for r in rows if not r.passed] == ["exchange", "balance"]


def test_paper_mode_without_configured_balance_is_go_and_says_so(fake, tmp_path):
    """Paper mode may run without ACCOUNT_BALANCE_USD; the row shows the exchange's number."""
    rows = _rows(fake, {"TRADING_MODE": "paper"}, tmp_path)
    balance = next(r for r in rows if r.name == "balance")
    assert balance.passed
    assert balance.detail.startswith("exchange reports 123")
    assert balance.detail.endswith("free; ACCOUNT_BALANCE_USD not set")


def test_live_with_a_valid_certificate_is_go(fake, tmp_path):
    """A certificate signed by a trusted key for exactly the installed code passes the row."""
    import json

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from safetrade.certification.certify import CertifyInputs, certify
    from safetrade.certification.keys import SigningKey
    from safetrade.certification.provenance import measure_running_code
    from tests.conformance_runs import (
        FLOOR_TAGS,
        conformance_result,
        floor_coverage,
        floor_policy,
        seal_outputs,
    )

    bot = "safetrade.reference_bot"
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "k.feature").write_text(
        f"Feature: K\n  {FLOOR_TAGS}\n  Scenario: S\n    Given g\n", encoding="utf-8"
    )
    (tmp_path / "policy.toml").write_text(floor_policy(), encoding="utf-8")
    (tmp_path / "coverage.json").write_text(json.dumps(floor_coverage()), encoding="utf-8")
    running = measure_running_code(bot)
    evidence = {
        "format": "safetrade-evidence/1",
        "exitstatus": 0,
        "testedFiles": dict(running.safetrade_files),
        "items": [
            {"nodeid": "t::s", "outcome": "passed", "duration": 0, "controls": [],
             "incidents": [], "scenario": "features/k.feature::S"}
        ],
    }  # fmt: skip
    (tmp_path / "evidence.json").write_text(json.dumps(evidence), encoding="utf-8")
    (tmp_path / "conformance.json").write_bytes(conformance_result(running).dumps())
    key = SigningKey(Ed25519PrivateKey.generate(), "test", developer=False)
    inputs = CertifyInputs(
        project_root=tmp_path,
        out_dir=tmp_path / "out",
        policy=tmp_path / "policy.toml",
        evidence=tmp_path / "evidence.json",
        coverage=tmp_path / "coverage.json",
        cucumber=None,
        conformance=tmp_path / "conformance.json",
    )
    seal_outputs(inputs, key)  # as the conformance and suite steps seal what they write
    outcome = certify(
        inputs,
        signing_key=key,
        now=datetime.now(UTC),
        running=running,
    )
    assert outcome.certified, outcome.problems
    (tmp_path / "trusted.txt").write_text(key.public.hex + "\n", encoding="utf-8")
    env = {
        "TRADING_MODE": "live",
        "ACCOUNT_BALANCE_USD": "123",
        "KUCOIN_API_KEY": "k",
        "KUCOIN_API_SECRET": "s",
        "KUCOIN_API_PASSPHRASE": "p",
        "SAFETRADE_CERTIFICATE": str(outcome.artifact),
        "SAFETRADE_TRUSTED_KEYS": str(tmp_path / "trusted.txt"),
    }
    rows = _rows(fake, env, tmp_path)
    cert = next(r for r in rows if r.name == "certification")
    assert (cert.passed, cert.detail) == (True, "valid")
    assert render(rows).endswith("preflight: GO")


def test_the_command_in_paper_mode_never_sends_the_keys_to_kucoin(tmp_path, monkeypatch, capsys):
    """Paper mode signs nothing: not even preflight's read-only look at the account."""
    from safetrade.cli import main

    def kucoin(**_kwargs):
        raise AssertionError("preflight built a KuCoin gateway in paper mode")

    monkeypatch.setattr(Gateway, "kucoin", staticmethod(kucoin))
    env = tmp_path / ".env"
    env.write_text("TRADING_MODE=paper\nACCOUNT_BALANCE_USD=123\nKUCOIN_API_KEY=real-looking\n"
                   "KUCOIN_API_SECRET=real-secret\nKUCOIN_API_PASSPHRASE=real-pass\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(["preflight", "--env-file", str(env)]) == 1
    out = capsys.readouterr().out
    assert "preflight does not contact KuCoin in paper mode" in out
    assert "real-secret" not in out
