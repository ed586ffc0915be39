"""Certification of bots that must fail, and of a bot in its own folder, judged by the exchange.

The incident bot and each broken bot must come out NOT CERTIFIED, naming their failures by
control and incident line; an outside bot copied from examples/ must pass, and an edit after
its certification must stop live start-up. These runs are evidence, not coverage: every line
they reach is reached by tests/integration/test_conformance.py and the unit tests too, so the
certification suite runs this file without coverage (safetrade.certification.suite_runner).
"""

from __future__ import annotations

import logging
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import require_valid
from safetrade.certification.bots import load_bot
from safetrade.certification.certify import ARTIFACT_NAME, certify
from safetrade.certification.conformance import run_conformance
from safetrade.certification.conformance.judges import INCIDENT
from safetrade.certification.conformance.scenarios import SCENARIOS, Scenario
from safetrade.certification.keys import SigningKey
from safetrade.errors import CertificationError
from tests.conformance_runs import failed_findings, passing_library_run

ROOT = Path(__file__).parents[2]
KEY = SigningKey(Ed25519PrivateKey.generate(), "test key", developer=False)


@pytest.fixture(autouse=True)
def _quiet_bots(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL)


def test_the_incident_bot_is_not_certified_and_each_feb6_failure_is_named(
    bot_path: None, tmp_path: Path
) -> None:
    result = run_conformance(load_bot("incident_bot.certify:make_bot"))
    failed = failed_findings(result)
    assert not result.passed
    # the four failures of February 6, each by its control
    [wrong_key] = [s for s in result.scenarios if s.id == "wrong-env-key"]
    assert "ACCOUNT_BALANCE=123" in wrong_key.title
    assert not wrong_key.passed
    assert any("asking for 394.3963 USDT" in d for d in failed["balance-check"]), failed
    assert any("0 SOL under live stop-loss" in d for d in failed["protective-orders"]), failed
    assert any("price 90.1353" in d and "Price increment invalid" in d for d in failed["rounding"])
    assert "config-strict" in failed
    assert "code-binding" in failed  # it starts live with no certificate at all

    inputs = passing_library_run(tmp_path, result, key=KEY)
    outcome = certify(inputs, signing_key=KEY, now=datetime.now(UTC))
    assert not outcome.certified
    assert outcome.artifact is None
    assert not (inputs.out_dir / ARTIFACT_NAME).exists()
    report = (inputs.out_dir / "report.md").read_text(encoding="utf-8")
    assert "## Verdict: NOT CERTIFIED" in report
    for control in ("config-strict", "balance-check", "protective-orders", "rounding"):
        row = f"| **FAIL** | {control} | {INCIDENT[control].replace('|', chr(92) + '|')} |"
        assert row in report, control
    assert "**Judged (not certified):** incident_bot; package incident_bot" in report
    assert "**Certifies:**" not in report
    assert "- **Artifact:** none written (NOT CERTIFIED): nothing was issued" in report
    assert "Issued / expires" not in report
    assert "- **Library BDD scenarios (features/):** " in report
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
    failed = failed_findings(result)
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
            passing_library_run(tmp_path / "run", result, key=KEY),
            signing_key=KEY,
            now=datetime.now(UTC),
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


def _scenarios(*ids: str) -> tuple[Scenario, ...]:
    return tuple(s for s in SCENARIOS if s.id in ids)


def test_a_bot_that_leaves_coins_bare_after_a_rejected_stop_loss_fails_it(
    bot_path: None,
) -> None:
    # it sends no second entry, but MAX_OPEN_POSITIONS=1 would have blocked it anyway
    result = run_conformance(
        load_bot("broken_bots.swallowed_stop:make_bot"),
        scenarios=_scenarios("stop-loss-rejected"),
    )
    [finding] = result.scenarios[0].findings
    assert not finding.passed
    assert finding.detail.startswith(
        "stop-loss rejected, then 0.6396 SOL held unprotected for the rest of the run: "
        "no stop, no sale, no halt"
    ), finding.detail


def test_a_bot_that_engages_its_kill_switch_after_a_rejected_stop_loss_has_halted(
    bot_path: None,
) -> None:
    result = run_conformance(
        load_bot("broken_bots.halts_on_stop_failure:make_bot"),
        scenarios=_scenarios("stop-loss-rejected"),
    )
    [finding] = result.scenarios[0].findings
    assert finding.passed, finding.detail
    assert finding.detail.startswith("halted: the kill switch is engaged (SOL/USDT: stop-loss")


def test_a_bot_that_sells_because_its_own_stop_loss_call_fails_is_not_certified(
    bot_path: None,
) -> None:
    result = run_conformance(
        load_bot("broken_bots.sells_when_stop_fails:make_bot"), scenarios=_scenarios("feb6-trade")
    )
    assert not result.passed
    failed = failed_findings(result)
    assert any("no stop-loss covering them was ever live" in d for d in failed["protective-orders"])
    # the account was flat at the second signal: not "one position open"
    [max_open] = failed["max-open-positions"]
    assert "not tested: the account held 0" in max_open, max_open


_OLDER = ("feb6-trade", "wrong-env-key", "stop-loss-rejected", "stop-loss-timeout")


def _verdicts(factory: str, *ids: str) -> dict[str, list[str]]:
    """Each scenario's failed findings (control: detail), by scenario id."""
    result = run_conformance(load_bot(factory), scenarios=_scenarios(*ids))
    assert [s.id for s in result.scenarios] == [s.id for s in SCENARIOS if s.id in ids]
    return {
        s.id: [f"{f.control}: {f.detail}" for f in s.findings if not f.passed]
        for s in result.scenarios
    }


def test_a_bot_that_sizes_from_the_configured_balance_fails_only_the_balance_scenario(
    bot_path: None,
) -> None:
    """Feb 6 failure 4 in isolation: with the .env right, nothing else tells this bot apart."""
    verdicts = _verdicts(
        "broken_bots.believes_configured_balance:make_bot", *_OLDER, "balance-above-exchange"
    )
    assert all(not verdicts[s] for s in _OLDER), verdicts
    failed = verdicts["balance-above-exchange"]
    assert failed[0].startswith("balance-check: 1 entry(ies) asking for 4547.5076 USDT"), failed
    assert "123 USDT free, 10000 USDT configured: sized from the configured balance" in failed[0]
    # its entry is a limit at the ask (the engine's), which KuCoin holds funds for when it is
    # placed: refused whole, as Feb 6's balance limit refused part of the 4.5 SOL
    assert "rejected 200004 Balance insufficient!" in failed[0], failed
    assert len(failed) == 1, failed


def test_the_incident_bot_fails_the_balance_scenario_with_its_394_usdt_entry(
    bot_path: None,
) -> None:
    [balance, *_] = _verdicts("incident_bot.certify:make_bot", "balance-above-exchange")[
        "balance-above-exchange"
    ]
    assert "order buy market SOL-USDT size 4.5101 -> accepted asking for 394.3963 USDT" in balance


def test_a_bot_that_resends_an_entry_whose_answer_was_lost_holds_twice_the_risk(
    bot_path: None,
) -> None:
    verdicts = _verdicts("broken_bots.resends_lost_entry:make_bot", *_OLDER, "entry-response-lost")
    assert all(not verdicts[s] for s in _OLDER), verdicts
    doubled, stops = verdicts["entry-response-lost"]
    # its stop-losses cover the doubled size, but no stop near the price limits that loss
    assert "the stop-losses sell too far below the price for the 1.2792 SOL" in stops
    assert doubled.startswith("position-sizing: KuCoin accepted 2 entry orders for one signal")
    assert "bought 1.2792 SOL" in doubled
    assert "loses 2.4599 USDT; budget 1% of 123 = 1.23 USDT" in doubled


def test_a_bot_that_protects_the_size_it_ordered_not_the_size_filled_fails_the_thin_book(
    bot_path: None,
) -> None:
    verdicts = _verdicts("broken_bots.assumes_full_fill:make_bot", *_OLDER, "entry-partial-fill")
    assert all(not verdicts[s] for s in _OLDER), verdicts
    over, still, fired = verdicts["entry-partial-fill"]
    assert "stop-losses cover more than is held: 0.3 SOL held, 0.6396 SOL under live" in over
    assert "0.3 SOL held, 0.6396 SOL under live stop-loss" in still
    # what the exchange did when it fired: nothing sold (the stop-loss could not be filled)
    assert fired == (
        "protective-orders: 0.3 SOL are still held after SOL fell through the stop-loss price: "
        "stop-loss 0.6396 SOL at 85.61: KuCoin cancelled its order (Balance insufficient!)"
    )


def test_the_reference_bot_protects_what_filled_and_is_not_fooled_by_a_lost_answer() -> None:
    result = run_conformance(
        load_bot(None),
        scenarios=_scenarios("balance-above-exchange", "entry-response-lost", "entry-partial-fill"),
    )
    # a subset judges only some controls, so each scenario's own verdict is what counts here
    assert all(s.passed for s in result.scenarios), result.failures()
    by_id = {s.id: s for s in result.scenarios}
    [refused] = by_id["balance-above-exchange"].findings
    assert refused.detail.startswith("the bot sent no entry; nothing reached the exchange")
    assert by_id["entry-response-lost"].sent[0] == (
        "order buy limit SOL-USDT size 0.6396 price 87.36 timeInForce IOC -> fault RESPONSE_LOST "
        "(answer was 200000)"
    )
    assert not [line for line in by_id["entry-response-lost"].sent[1:] if "order buy" in line]
    assert by_id["entry-partial-fill"].sent[1] == (
        "stop order sell market SOL-USDT size 0.3 stop loss stopPrice 85.61 -> accepted"
    )


def test_a_plain_ccxt_bot_that_does_it_right_is_certified_on_every_scenario(
    bot_path: None,
) -> None:
    """Fairness: floats, ccxt's own precision helpers, KuCoin's stop params, no safetrade."""
    result = run_conformance(load_bot("ccxt_bots.bot:make_bot"))
    print(f"plain ccxt bot: {len(result.scenarios)} scenarios")  # noqa: T201
    assert result.passed, result.failures()
    assert [s.id for s in result.scenarios] == [s.id for s in SCENARIOS]


def test_a_plain_ccxt_bot_that_sells_what_it_holds_when_it_restarts_is_certified(
    bot_path: None,
) -> None:
    """Closing every position at start-up is a design, not a bug: nothing open to count."""
    result = run_conformance(load_bot("ccxt_bots.variants:sells_on_restart"))
    assert result.passed, result.failures()
    restart = next(s for s in result.scenarios if s.id == "restart-protected")
    [_, flat, _] = restart.findings
    assert flat.detail.startswith("the bot closed its position when it restarted"), flat.detail


def test_a_market_buy_sized_against_the_depth_it_walks_passes_the_wide_book(
    bot_path: None,
) -> None:
    # its buy walks the asks to 88.36 and leaves the last price there: judged from that, the
    # stop at 85.61 looked too far below a price no sale would get (the best bid is lower)
    verdicts = _verdicts("ccxt_bots.variants:depth_sized", "entry-spread")
    assert verdicts["entry-spread"] == [], verdicts


def test_a_bot_that_never_talks_to_the_fake_is_told_to_use_context_exchange(
    bot_path: None,
) -> None:
    result = run_conformance(
        load_bot("ccxt_bots.variants:own_client"), scenarios=_scenarios("feb6-trade")
    )
    details = [f.detail for s in result.scenarios for f in s.findings if not f.passed]
    assert not result.passed
    assert any("the fake KuCoin received no request at all from the bot" in d for d in details), (
        details
    )


@pytest.mark.parametrize(
    ("variant", "scenario", "evidence"),
    [
        (
            "in_memory_positions",
            "restart-protected",
            "max-open-positions: 1 new entry(ies) after a second signal with "
            "MAX_OPEN_POSITIONS=1 and 0.6396 SOL held",
        ),
        (
            "duplicate_stop_on_start",
            "restart-protected",
            "protective-orders: stop-losses cover more than is held: 0.6396 SOL held, "
            "1.2792 SOL under live stop-loss",
        ),
        (
            "stop_from_memory",
            "restart-bare",
            "firing loses 123.774950 USDT from 87.36 (the best bid, or the last price if "
            "lower), more than 1% of the account's 246.79 USDT (2.467891): the stop-losses sell "
            "too far below the price for the 1.417 SOL they cover (1% allows down to 85.6184; a "
            "stop-limit sells at its limit)",
        ),
        (
            "stop_limit_no_gap",
            "feb6-trade",
            "protective-orders: 0.633 SOL are still held after SOL fell through the stop-loss "
            "price: a sell rests unfilled above the price (a stop-limit's limit",
        ),
        (
            "take_profit_as_limit",
            "feb6-trade",
            "but 0.6396 SOL are held by resting orders (sell limit 0.6396 SOL at 90.14",
        ),
        (
            "oco_from_memory",
            "restart-after-stop-fired",
            "protective-orders: left live: take-profit 0.6396 SOL at 90.14",
        ),
        (
            "market_entry",
            "entry-spread",
            "position-sizing: bought 0.6396 SOL for 56.4254 USDT incl. fees; selling at its "
            "live stop-loss 85.61 loses 1.7240 USDT",
        ),
        (
            "risk_default",
            "risk-key-typo",
            "config-strict: started without RISK_PERCENT (the .env says RISK_PCT=0.1: a silent "
            "default instead of the owner's value?): bought 0.6396 SOL",
        ),
        (
            "default_limits",
            "own-limits",
            "signal-threshold: 1 new entry(ies) after a 0.55 signal",
        ),
        (
            "positions_default",
            "positions-key-typo",
            "config-strict: started without MAX_OPEN_POSITIONS (the .env says MAX_POSITIONS=1: "
            "a silent default instead of the owner's value?): 2 entry(ies) for two signals",
        ),
        (
            "classic_only",
            "restart-after-stop-fired-hf",
            "protective-orders: left live: take-profit 0.6396 SOL at 90.14",
        ),
        (
            "stop_above_price",
            "feb6-trade",
            "a stop-loss at or above the price fires the moment it is placed and sells at "
            "market: stop-loss 0.6396 SOL at stopPrice 89.11 placed with SOL at 87.36",
        ),
    ],
)
def test_a_plain_ccxt_bot_with_one_bug_a_reviewer_found_certified_is_not(
    bot_path: None, variant: str, scenario: str, evidence: str
) -> None:
    # the scenario that catches it, and feb6-trade, which each passed alone (but one)
    failed = _verdicts(f"ccxt_bots.variants:{variant}", "feb6-trade", scenario)
    assert any(evidence in d for d in failed[scenario]), failed[scenario]
    if scenario != "feb6-trade":
        assert failed["feb6-trade"] == [], failed["feb6-trade"]


def test_a_stop_limit_is_shown_with_the_limit_it_sells_at(bot_path: None) -> None:
    """The loss is judged at a stop-limit's limit; the findings named only its trigger, so a
    failure blamed a stop at 85.61 that was in fact a sell limit far lower."""
    result = run_conformance(
        load_bot("ccxt_bots.variants:stop_limit_no_gap"), scenarios=_scenarios("feb6-trade")
    )
    details = [f.detail for s in result.scenarios for f in s.findings]
    assert any("stop-loss 0.633 SOL at 85.61, limit 85.59 (" in d for d in details), details
