"""Review 13: certify signs only what the sealed runs ran with, and never renews old runs.

* Dependencies changed after a passing run (``pip install attrs==24.2.0``, an edited
  ``ccxt/kucoin.py``), then only ``safetrade certify``: it used to sign the new attrs and ccxt
  as if the bot's conformance run had exercised them.
* ``safetrade certify`` run again 85 days after the sealed runs: it used to sign them with a
  fresh validity window, valid at +86 days.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from safetrade.certification.certify import ARTIFACT_NAME, CertifyInputs, certify
from safetrade.certification.conformance import cli as conformance_cli
from safetrade.certification.digest import tree_digest
from safetrade.certification.dsse import parse_envelope
from safetrade.certification.provenance import RunningCode, measure_running_code
from safetrade.certification.seal import (
    CONFORMANCE_SEAL,
    conformance_environment,
    read_seal,
    seal_conformance,
    seal_suite,
)
from tests.conformance_runs import conformance_result, passing_library_run
from tests.unit.test_certify_inputs import KEY, RUNNING, finished_run

REFERENCE = "safetrade.reference_bot"
#: when the sealed runs of these tests started
RAN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WITH_ATTRS = attrs.evolve(RUNNING, distributions={"attrs": "26.1.0", "safetrade": "0.1.0"})


def _inputs(root: Path) -> CertifyInputs:
    return CertifyInputs.in_folder(root, root / "out", root / "policy.toml", cucumber=False)


def _reseal(
    root: Path,
    *,
    started: datetime = RAN,
    environment: dict[str, Any] | None = None,
    reused: dict[str, Any] | None = None,
) -> None:
    """Seal the run's outputs again as the conformance and suite steps would at ``started``."""
    out = root / "out"
    record = json.loads((out / "conformance.json").read_bytes())
    seal_conformance(
        out / "conformance.json", bot=record["bot"], safetrade_dir_hash=record["safetradeDirHash"],
        signing_key=KEY, started_at=started, now=started + timedelta(minutes=2),
        environment=environment,
    )  # fmt: skip
    seal_suite(
        out, signing_key=KEY, started_at=started + timedelta(minutes=3),
        now=started + timedelta(minutes=5), reused=reused, statuses=None if reused else (0,),
    )  # fmt: skip


def _environment_of(running: RunningCode) -> dict[str, Any]:
    return conformance_environment(tree_digest(running.ccxt_files), running.distributions)


@pytest.fixture
def run(tmp_path: Path) -> Path:
    (tmp_path / "run").mkdir()
    return finished_run(tmp_path / "run")


# ------------------------------------------------ 4. what the conformance run ran with


def test_distributions_changed_after_the_conformance_run_are_named_and_not_signed(
    run: Path,
) -> None:
    _reseal(run, environment=_environment_of(WITH_ATTRS))
    now = RAN + timedelta(hours=1)
    signed = certify(_inputs(run), signing_key=KEY, now=now, running=WITH_ATTRS)
    assert signed.certified, signed.problems
    downgraded = attrs.evolve(WITH_ATTRS, distributions={"attrs": "24.2.0", "safetrade": "0.1.0"})
    refused = certify(_inputs(run), signing_key=KEY, now=now, running=downgraded)
    assert not refused.certified
    assert refused.problems == (
        "distributions changed after the bot's conformance run: attrs 26.1.0 when the bot's "
        "conformance ran, 24.2.0 now: re-run `tox -e certify`",
    )
    assert not (run / "out" / ARTIFACT_NAME).exists()
    added = attrs.evolve(WITH_ATTRS, distributions={**WITH_ATTRS.distributions, "six": "1.16.0"})
    (problem,) = certify(_inputs(run), signing_key=KEY, now=now, running=added).problems
    assert "six not installed when the bot's conformance ran, 1.16.0 now" in problem


def test_ccxt_edited_after_the_conformance_run_is_named_and_not_signed(run: Path) -> None:
    _reseal(run, environment=_environment_of(RUNNING))
    edited = attrs.evolve(RUNNING, ccxt_files={"ccxt/kucoin.py": "f" * 64})
    outcome = certify(_inputs(run), signing_key=KEY, now=RAN + timedelta(hours=1), running=edited)
    (problem,) = outcome.problems
    assert problem.startswith("ccxt changed after the bot's conformance run (tree ")
    assert problem.endswith("now): re-run `tox -e certify`")


def test_the_conformance_command_seals_the_ccxt_tree_and_the_distributions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measured = measure_running_code(REFERENCE)
    result = conformance_result(measured)

    class Bot:
        is_reference = True

        def describe(self) -> str:
            return "the reference bot"

    monkeypatch.setattr(conformance_cli, "_covered_run", lambda _spec: (Bot(), result))
    monkeypatch.setattr(conformance_cli, "load_signing_key", lambda _env, _home: KEY)
    out = tmp_path / "out"
    args = argparse.Namespace(bot=None, out=out, check_only=False, log=None)
    assert conformance_cli.run(args, "conformance") == 0
    seal = read_seal(
        out / CONFORMANCE_SEAL, step="conformance", signer=KEY.public, sealed="conformance.json"
    )
    environment = seal.run["environment"]
    assert environment == _environment_of(measure_running_code(result.bot.package))
    assert environment["ccxtDirHash"] == tree_digest(measured.ccxt_files)
    assert "attrs" in environment["distributions"]

    # end to end: certify measures for itself, and refuses a distribution changed since
    inputs = passing_library_run(tmp_path / "lib", result, key=KEY)
    seal_conformance(
        inputs.conformance, bot=result.bot.to_json(), safetrade_dir_hash=result.safetrade_dir_hash,
        signing_key=KEY, started_at=datetime.now(UTC), now=datetime.now(UTC),
        environment=environment,
    )  # fmt: skip
    outcome = certify(inputs, signing_key=KEY, now=datetime.now(UTC))
    assert outcome.certified, outcome.problems
    real = measure_running_code(REFERENCE)
    older = attrs.evolve(real, distributions={**real.distributions, "attrs": "24.2.0"})
    monkeypatch.setattr(
        "safetrade.certification.certify.measure_running_code", lambda _package: older
    )
    refused = certify(inputs, signing_key=KEY, now=datetime.now(UTC))
    assert any(
        f"attrs {real.distributions['attrs']} when the bot's conformance ran, 24.2.0 now" in p
        for p in refused.problems
    ), refused.problems


# ------------------------------------------------ 5. validity starts with the sealed runs


def _window(root: Path) -> tuple[str, str]:
    statement = json.loads(parse_envelope((root / "out" / ARTIFACT_NAME).read_bytes()).payload)
    return statement["predicate"]["issuedAt"], statement["predicate"]["expiresAt"]


def test_the_validity_starts_when_the_sealed_runs_started_not_when_certify_signs(
    run: Path,
) -> None:
    _reseal(run)
    later = certify(_inputs(run), signing_key=KEY, now=RAN + timedelta(days=10), running=RUNNING)
    assert later.certified, later.problems
    # 30 days from the conformance run's start, not from the signature ten days later
    assert _window(run) == ("2026-03-01T12:00:00Z", "2026-03-31T12:00:00Z")


def test_signing_old_runs_again_later_renews_nothing(run: Path) -> None:
    """The review's renew_later.py: 85 days later, certify signed a 30-day window from then."""
    _reseal(run)
    (run / "out" / ARTIFACT_NAME).write_text("an older run's artifact", encoding="utf-8")
    outcome = certify(_inputs(run), signing_key=KEY, now=RAN + timedelta(days=85), running=RUNNING)
    assert not outcome.certified
    assert outcome.problems == (
        "freshness: the runs this certificate would rest on started at 2026-03-01T12:00:00Z, so "
        "its 30-day validity ended at 2026-03-31T12:00:00Z: signing them again renews nothing; "
        "re-run `tox -e certify` (with SAFETRADE_SUITE_CACHE=off if it reuses an old suite run)",
    )
    assert not (run / "out" / ARTIFACT_NAME).exists()


def test_a_suite_reused_from_the_cache_starts_the_validity_when_it_first_ran(run: Path) -> None:
    reused = {"cacheKey": "k" * 64, "ranAt": "2026-02-25T08:00:00Z", "run": {}, "signer": "x"}
    _reseal(run, reused=reused)
    outcome = certify(_inputs(run), signing_key=KEY, now=RAN + timedelta(hours=1), running=RUNNING)
    assert outcome.certified, outcome.problems
    assert _window(run) == ("2026-02-25T08:00:00Z", "2026-03-27T08:00:00Z")
    # no time recorded for the reused run: its seal's start
    _reseal(run, reused={"cacheKey": "k" * 64})
    assert certify(_inputs(run), signing_key=KEY, now=RAN, running=RUNNING).certified
    assert _window(run)[0] == "2026-03-01T12:00:00Z"
