"""Round trip and tamper tests for the certification artifact and the live gate.

Each tamper test asserts that exactly the expected gate check fails, with its own reason.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification import gate, require_valid
from safetrade.certification.conformance.result import REQUIRED_CONTROLS
from safetrade.certification.digest import TreeError, schema_digest, tree_files
from safetrade.certification.dsse import sign_envelope
from safetrade.certification.evidence import Evidence, ItemOutcome
from safetrade.certification.gate import (
    CHECK_NAMES,
    Verdict,
    check_certification,
    evaluate,
    verify_artifact,
)
from safetrade.certification.inventory import InventoryScenario, scenario_key
from safetrade.certification.keys import PublicKey, public_key_of
from safetrade.certification.policy import SHIPPED_POLICY, parse_policy
from safetrade.certification.provenance import (
    GitState,
    LoadedModules,
    RunningCode,
    interpreter,
    measure_running_code,
)
from safetrade.certification.statement import build_statement, statement_bytes
from safetrade.certification.suite import reconcile
from safetrade.errors import CertificationError
from tests.conformance_runs import FLOOR_CONTROLS, conformance_of, floor_policy

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCHEMA = {"ACCOUNT_BALANCE_USD": {"type": "decimal", "required": True}}
POLICY = ("[certificate]\nvalidity_days = 30\n" + floor_policy()).encode()
FEATURE = "features/collar.feature"


def _write_pkg(root: Path, name: str, files: dict[str, str]) -> Path:
    pkg = root / name
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return pkg


@pytest.fixture
def packages(tmp_path: Path) -> dict[str, Path]:
    return {
        "safetrade": _write_pkg(
            tmp_path / "site",
            "safetrade",
            {"__init__.py": "x = 1\n", "guard.py": "def check(): ...\n"},
        ),
        "bot": _write_pkg(
            tmp_path / "site", "toybot", {"__init__.py": "", "strategy.py": "SIGNAL = 1\n"}
        ),
    }


def _running(
    packages: dict[str, Path], *, bot_name: str = "toybot", schema: Any = None
) -> RunningCode:
    return RunningCode(
        safetrade_files=tree_files(packages["safetrade"]),
        bot_package=bot_name,
        bot_files=tree_files(packages["bot"]),
        config_schema_digest=schema_digest(schema or SCHEMA),
    )


def _inventory() -> list[InventoryScenario]:
    def scenario(name: str, tags: tuple[str, ...]) -> InventoryScenario:
        return InventoryScenario(
            key=scenario_key(FEATURE, name),
            feature_path=FEATURE,
            feature_name="Price collar",
            name=name,
            line=3,
            tags=tags,
            incident_line="2026-02-06 bought 10x above market",
            steps=("Given a reference price of 100", "Then it is rejected"),
            examples=0,
        )

    return [
        scenario(
            "Collar rejects a far order",
            (*(f"control-{c}" for c in FLOOR_CONTROLS), "incident-2026-02-06"),
        ),
        scenario("Collar accepts a near order", ("control-price-collar",)),
    ]


def _evidence(outcomes: dict[str, str]) -> Evidence:
    items = tuple(
        ItemOutcome(
            nodeid=f"features/test_collar.py::test_{i}",
            outcome=outcome,
            duration=0.01,
            controls=("price-collar",),
            incidents=(),
            scenario=scenario_key(FEATURE, name),
            message="" if outcome == "passed" else "AssertionError: boom",
        )
        for i, (name, outcome) in enumerate(outcomes.items())
    )
    return Evidence(items, 0, "certify", 0, (), ())


ALL_PASS = {"Collar rejects a far order": "passed", "Collar accepts a near order": "passed"}


_PASSING = object()


def _statement(
    running: RunningCode,
    *,
    outcomes: dict[str, str] = ALL_PASS,
    now: datetime = NOW,
    signer: PublicKey,
    problems: tuple[str, ...] = (),
    conformance: Any = _PASSING,
) -> dict[str, Any]:
    policy = parse_policy(POLICY)
    return build_statement(
        suite=reconcile(_inventory(), _evidence(outcomes)),
        policy=policy,
        evidence=_evidence(outcomes),
        coverage=None,
        running=running,
        git=GitState("a" * 40, False),
        # the interpreter running the tests: measured running code is compared with it
        versions={**interpreter(), "safetrade": "0.1.0", "ccxt": None},
        signer=signer,
        developer_key=False,
        problems=problems,
        now=now,
        conformance=conformance_of(running) if conformance is _PASSING else conformance,
    )


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _sign(statement: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    return sign_envelope(statement_bytes(statement), key).to_json()


def _failed(verdict: Verdict) -> list[str]:
    return [c.name for c in verdict.checks if not c.passed]


def _detail(verdict: Verdict, name: str) -> str:
    return next(c.detail for c in verdict.checks if c.name == name)


def _artifact(packages: dict[str, Path], key: Ed25519PrivateKey, **kwargs: Any) -> bytes:
    return _sign(_statement(_running(packages), signer=public_key_of(key), **kwargs), key)


def test_round_trip_is_valid(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    verdict = evaluate(
        _artifact(packages, key),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert verdict.ok, verdict.table()
    assert [c.name for c in verdict.checks] == list(CHECK_NAMES)
    assert verdict.signer == public_key_of(key)
    assert "VALID" in verdict.table()


def test_edited_payload_fails_signature_only(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    doc = json.loads(_artifact(packages, key))
    statement = json.loads(base64.b64decode(doc["payload"]))
    statement["predicate"]["issuedAt"] = "2026-03-01T11:00:00Z"  # harmless-looking edit
    doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    verdict = evaluate(
        json.dumps(doc).encode(),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict) == ["signature"]
    assert "payload or the signature was altered" in _detail(verdict, "signature")
    # findings on an unauthenticated payload are labelled, never silently trusted
    assert "unauthenticated" in _detail(verdict, "freshness") or verdict.checks[3].passed


def test_edited_signature_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    doc = json.loads(_artifact(packages, key))
    sig = bytearray(base64.b64decode(doc["signatures"][0]["sig"]))
    sig[0] ^= 0x01
    doc["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    verdict = evaluate(
        json.dumps(doc).encode(),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict) == ["signature"]
    assert "does not verify" in _detail(verdict, "signature")


def test_malformed_signature_is_an_unreadable_artifact(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    doc = json.loads(_artifact(packages, key))
    doc["signatures"][0]["sig"] = "not base64 !!"
    verdict = evaluate(
        json.dumps(doc).encode(),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict)[0] == "artifact"
    assert "base64" in _detail(verdict, "artifact")


def test_untrusted_key_is_refused_even_if_named_in_artifact(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    other = Ed25519PrivateKey.generate()
    verdict = evaluate(
        _artifact(packages, key),
        trusted_keys=[public_key_of(other)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict) == ["signature"]
    detail = _detail(verdict, "signature")
    assert f"untrusted key(s) {public_key_of(key).keyid}" in detail
    assert not verdict.ok


def test_no_trusted_keys_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    verdict = evaluate(
        _artifact(packages, key), trusted_keys=[], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["signature"]
    assert "no trusted public keys" in _detail(verdict, "signature")


def test_expired_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    later = NOW + timedelta(days=31)
    verdict = evaluate(
        _artifact(packages, key),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=later,
    )
    assert _failed(verdict) == ["freshness"]
    assert "expired at 2026-03-31T12:00:00Z (1 day(s) ago)" in _detail(verdict, "freshness")


def test_issued_in_the_future_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    verdict = evaluate(
        _artifact(packages, key, now=NOW + timedelta(hours=1)),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict) == ["freshness"]
    assert "issued in the future" in _detail(verdict, "freshness")


def test_validity_beyond_library_maximum_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _statement(_running(packages), signer=public_key_of(key))
    statement["predicate"]["expiresAt"] = (
        "2026-12-01T12:00:00Z"  # signed by a trusted key, still refused
    )
    verdict = evaluate(
        _sign(statement, key),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(verdict) == ["freshness"]
    assert "exceeds the library maximum of 90" in _detail(verdict, "freshness")


def test_changed_source_file_is_named(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    artifact = _artifact(packages, key)
    (packages["safetrade"] / "guard.py").write_text("def check(): return True\n", encoding="utf-8")
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["safetrade code"]
    assert "changed: guard.py" in _detail(verdict, "safetrade code")


def test_added_file_is_named(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    artifact = _artifact(packages, key)
    (packages["safetrade"] / "power_peg.py").write_text("ENABLED = True\n", encoding="utf-8")
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["safetrade code"]
    assert "added: power_peg.py" in _detail(verdict, "safetrade code")


def test_removed_file_is_named(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    artifact = _artifact(packages, key)
    (packages["safetrade"] / "guard.py").unlink()
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert "removed: guard.py" in _detail(verdict, "safetrade code")


def test_different_bot_package_name_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    verdict = evaluate(
        _artifact(packages, key),
        trusted_keys=[public_key_of(key)],
        running=_running(packages, bot_name="otherbot"),
        now=NOW,
    )
    assert _failed(verdict) == ["bot package"]
    assert "certified for bot package 'toybot', but running 'otherbot'" in _detail(
        verdict, "bot package"
    )


def test_changed_bot_code_is_named(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    artifact = _artifact(packages, key)
    (packages["bot"] / "strategy.py").write_text("SIGNAL = 2\n", encoding="utf-8")
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["bot package"]
    assert "changed: strategy.py" in _detail(verdict, "bot package")


def test_changed_config_schema_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    running = _running(packages, schema={**SCHEMA, "POWER_PEG": {"type": "bool"}})
    verdict = evaluate(
        _artifact(packages, key), trusted_keys=[public_key_of(key)], running=running, now=NOW
    )
    assert _failed(verdict) == ["config schema"]
    assert "settings schema differs" in _detail(verdict, "config schema")


def test_failed_scenario_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    outcomes = {**ALL_PASS, "Collar rejects a far order": "failed"}
    # even if a signer signs it, the gate refuses a FAILED statement with a failed scenario
    artifact = _artifact(packages, key, outcomes=outcomes, problems=("scenario failed",))
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["result"]
    detail = _detail(verdict, "result")
    assert "result is 'FAILED'" in detail
    assert f"failed required scenario {FEATURE}::Collar rejects a far order" in detail


def test_failed_scenario_refused_even_if_result_says_passed(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    outcomes = {**ALL_PASS, "Collar accepts a near order": "failed"}
    artifact = _artifact(packages, key, outcomes=outcomes)  # no problems passed in: result PASSED
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["result"]
    assert "failed required scenario" in _detail(verdict, "result")


def test_scenario_that_never_ran_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    outcomes = {"Collar rejects a far order": "passed"}  # the other inventory scenario never ran
    artifact = _artifact(packages, key, outcomes=outcomes)
    verdict = evaluate(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["result"]
    detail = _detail(verdict, "result")
    assert f"not-executed required scenario {FEATURE}::Collar accepts a near order" in detail
    assert "do not reconcile" in detail


def test_missing_and_unparsable_artifacts(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    missing = evaluate(None, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW)
    assert "does not exist" in _detail(missing, "artifact")
    garbage = evaluate(
        b"{nope", trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert "not a DSSE envelope" in _detail(garbage, "artifact")
    assert not missing.ok
    assert not garbage.ok


def test_wrong_payload_type_is_refused(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    statement = _statement(_running(packages), signer=public_key_of(key))
    envelope = sign_envelope(
        statement_bytes(statement), key, payload_type="application/json"
    ).to_json()
    verdict = evaluate(
        envelope, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["statement type"]
    assert "payloadType 'application/json'" in _detail(verdict, "statement type")


def test_all_problems_are_collected_in_order(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    artifact = _artifact(packages, key)
    (packages["safetrade"] / "guard.py").write_text("changed\n", encoding="utf-8")
    (packages["bot"] / "strategy.py").write_text("changed\n", encoding="utf-8")
    verdict = evaluate(
        artifact,
        trusted_keys=[public_key_of(key)],
        running=_running(packages, schema={"other": 1}),
        now=NOW + timedelta(days=40),
    )
    assert _failed(verdict) == ["freshness", "safetrade code", "bot package", "config schema"]


def test_require_valid_raises_certification_error_naming_checks(
    tmp_path: Path,
    packages: dict[str, Path],
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # require_valid measures the *installed* safetrade, which differs from the toy tree
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    artifact = tmp_path / "cert.json"
    artifact.write_bytes(_artifact(packages, key))
    with pytest.raises(CertificationError) as caught:
        require_valid(artifact, trusted_keys=[public_key_of(key)], bot_package="toybot", now=NOW)
    message = str(caught.value)
    assert "safetrade code:" in message
    assert "tox -e certify" in message
    assert any(p.startswith("safetrade code:") for p in caught.value.problems)


# --------------------------------------------------------------------------- each check's reason


def _evaluate_statement(
    packages: dict[str, Path],
    key: Ed25519PrivateKey,
    statement: dict[str, Any],
    running: RunningCode | None = None,
) -> Verdict:
    return evaluate(
        _sign(statement, key),
        trusted_keys=[public_key_of(key)],
        running=running or _running(packages),
        now=NOW,
    )


def _good_statement(packages: dict[str, Path], key: Ed25519PrivateKey) -> dict[str, Any]:
    return _statement(_running(packages), signer=public_key_of(key))


def test_wrong_statement_and_predicate_types_are_each_named(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    statement["_type"] = "https://in-toto.io/Statement/v0.1"
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == ["statement type"]
    detail = _detail(verdict, "statement type")
    assert (
        "_type 'https://in-toto.io/Statement/v0.1' != 'https://in-toto.io/Statement/v1'" in detail
    )
    assert "predicateType 'https://slsa.dev/provenance/v1'" in detail


def test_predicate_that_is_not_an_object_fails_every_predicate_check(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    statement["predicate"] = ["PASSED"]
    verdict = _evaluate_statement(packages, key, statement)
    assert "predicate is not an object" in _detail(verdict, "statement type")
    assert "unreadable issuedAt/expiresAt" in _detail(verdict, "freshness")
    assert "no scenario results in the artifact" in _detail(verdict, "result")
    # the subjects still bind the code, so the digest checks pass on their own; no predicate
    # means no conformance run either
    assert _failed(verdict) == [
        "statement type",
        "freshness",
        "result",
        "bot conformance",
        "distributions",
    ]
    assert "only hashed, never exercised" in _detail(verdict, "bot conformance")


def test_unreadable_timestamps_are_a_freshness_failure(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    statement["predicate"]["expiresAt"] = "2026-03-31T12:00:00"  # no timezone
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == ["freshness"]
    assert "has no timezone" in _detail(verdict, "freshness")


def test_statement_without_scenarios_or_with_a_failing_control_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    statement["predicate"]["suite"]["scenarios"] = []
    statement["predicate"]["suite"]["counts"]["inventory"] = 0
    first = statement["predicate"]["controls"][0]
    first["status"] = "FAIL"
    statement["predicate"]["suite"]["failingTests"] = [
        {"nodeid": "tests/property/test_p.py::test_x", "outcome": "error"}
    ]
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == ["result"]
    detail = _detail(verdict, "result")
    assert "the artifact lists no scenarios" in detail
    assert f"required control {first['control']} is FAIL" in detail
    assert "test error: tests/property/test_p.py::test_x" in detail


def test_skipped_scenarios_pass_only_if_the_signed_policy_allowed_them(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    near = statement["predicate"]["suite"]["scenarios"][1]
    near["outcome"] = "skipped"
    near["controls"] = []  # not a required control
    refused = _evaluate_statement(packages, key, statement)
    assert _failed(refused) == ["result"]
    assert f"skipped scenario {FEATURE}::Collar accepts a near order" in _detail(refused, "result")

    # a signed policy that allows skips is below the library floor: still refused, and why
    statement["predicate"]["policy"]["allowSkipped"] = True
    allowed = _evaluate_statement(packages, key, statement)
    assert _failed(allowed) == ["result"]
    assert _detail(allowed, "result") == (
        "policy below the library floor: skipped scenarios are allowed"
    )


def test_missing_subjects_are_named(packages: dict[str, Path], key: Ed25519PrivateKey) -> None:
    statement = _good_statement(packages, key)
    statement["subject"] = ["not an object"]
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == [
        "safetrade code",
        "bot package",
        "bot conformance",
        "ccxt code",
        "config schema",
    ]
    assert _detail(verdict, "safetrade code") == "the artifact binds no safetrade"
    assert _detail(verdict, "bot conformance") == "the artifact binds no bot package"
    assert _detail(verdict, "ccxt code") == "the artifact binds no ccxt"
    assert _detail(verdict, "bot package") == "the artifact binds no bot package 'toybot'"
    assert _detail(verdict, "config schema") == "the artifact binds no config schema"


def test_digest_mismatch_without_a_file_list_still_refuses(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    del statement["predicate"]["files"]  # an older or trimmed artifact: only the digest remains
    (packages["safetrade"] / "guard.py").write_text("changed\n", encoding="utf-8")
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == ["safetrade code"]
    assert "safetrade digest " in _detail(verdict, "safetrade code")
    assert "!= certified" in _detail(verdict, "safetrade code")


def test_running_code_that_could_not_be_measured_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    running = attrs.evolve(
        _running(packages),
        bot_error="package 'toybot' cannot be located",
        config_error="ImportError: settings",
    )
    verdict = _evaluate_statement(packages, key, _good_statement(packages, key), running)
    assert _failed(verdict) == ["bot package", "config schema"]
    assert "bot package 'toybot' cannot be digested" in _detail(verdict, "bot package")
    assert "running config schema cannot be digested: ImportError" in _detail(
        verdict, "config schema"
    )


def test_payload_that_is_not_json_fails_every_later_check(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    verdict = evaluate(
        sign_envelope(b"[1, 2]", key).to_json(),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert [c.name for c in verdict.checks if c.passed] == ["artifact", "signature"]
    assert "payload is not a JSON statement" in _detail(verdict, "statement type")
    assert verdict.statement is None
    assert verdict.signer == public_key_of(key)  # the signature itself was fine


def test_developer_key_and_near_expiry_are_notes_not_failures(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    statement = _good_statement(packages, key)
    statement["predicate"]["signer"]["developerKey"] = True
    verdict = evaluate(
        _sign(statement, key),
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW + timedelta(days=27),
    )
    assert verdict.ok
    assert verdict.notes[1:] == (
        "signed with a local developer key: do not trust it for production",
        "expires in 3 day(s): re-run `tox -e certify` soon",
    )
    # the policy is always shown (deviations: test_the_shipped_policy_has_no_deviation...)
    assert verdict.notes[0].startswith("policy sha256:")
    assert verdict.notes[0].endswith("as the library ships it")
    assert "note: signed with a local developer key" in verdict.table()
    assert "fix:" not in verdict.table()


def test_an_artifact_signed_by_this_machines_developer_key_is_one_whatever_it_declares(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    """The statement says developerKey false (the key was named in SAFETRADE_CERT_KEY_FILE):
    the signer is still the auto-created key, which live mode refuses without consent."""
    artifact = _artifact(packages, key)
    running = attrs.evolve(_running(packages), developer_key=public_key_of(key))
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=running, now=NOW)
    assert verdict.ok
    assert verdict.developer_key
    assert "signed with a local developer key: do not trust it for production" in verdict.notes
    other = attrs.evolve(running, developer_key=public_key_of(Ed25519PrivateKey.generate()))
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=other, now=NOW)
    assert not verdict.developer_key


def test_another_python_than_the_certified_one_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    """The suite and the conformance run ran on CPython 3.11.7 (the statement's versions)."""
    statement = _good_statement(packages, key)
    statement["predicate"]["versions"].update(implementation="CPython", python="3.11.7")
    artifact = _sign(statement, key)
    same = attrs.evolve(
        _running(packages), interpreter={"implementation": "CPython", "python": "3.11.7"}
    )
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=same, now=NOW)
    assert verdict.ok, verdict.table()
    assert _detail(verdict, "distributions").endswith(", on CPython 3.11.7")
    for other in ({"python": "3.12.1"}, {"implementation": "PyPy"}):
        running = attrs.evolve(same, interpreter={**dict(same.interpreter or {}), **other})
        verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=running, now=NOW)
        assert _failed(verdict) == ["distributions"]
        assert "certified on CPython 3.11.7, running on " in _detail(verdict, "distributions")


def test_verify_artifact_reports_trusted_key_errors_and_unreadable_files(
    tmp_path: Path, packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    (tmp_path / "out").mkdir()
    artifact = tmp_path / "out" / "cert.json"
    artifact.write_bytes(_artifact(packages, key))
    verdict = verify_artifact(
        artifact, trusted_keys=tmp_path / "no-such-keys", running=_running(packages), now=NOW
    )
    assert _failed(verdict) == ["signature"]
    detail = _detail(verdict, "signature")
    assert "trusted keys file" in detail
    assert "does not exist" in detail
    assert "no trusted public keys were configured" in detail
    assert "SAFETRADE_TRUSTED_KEYS" in verdict.fix

    # a trusted-keys file next to the artifact is whoever certified last: never trusted
    beside = tmp_path / "out" / "signer.pub"
    beside.write_text(public_key_of(key).hex + "\n", encoding="utf-8")
    verdict = verify_artifact(artifact, trusted_keys=beside, running=_running(packages), now=NOW)
    assert _failed(verdict) == ["signature"]
    assert "sits in the artifact's own folder" in _detail(verdict, "signature")

    directory = verify_artifact(
        tmp_path, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert "not a DSSE envelope" in _detail(directory, "artifact")
    missing = verify_artifact(
        tmp_path / "none.json",
        trusted_keys=[public_key_of(key)],
        running=_running(packages),
        now=NOW,
    )
    assert _failed(missing) == list(CHECK_NAMES)
    assert "none.json does not exist" in _detail(missing, "artifact")


def test_code_that_cannot_be_measured_refuses_every_check(
    tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unmeasurable(bot_package: str) -> RunningCode:
        raise TreeError("safetrade/x.py is a symlink inside a certified tree")

    # the installed package cannot be given a symlink from a test; the failure mode is what
    # verify_artifact must handle: every check fails, the reason under "safetrade code"
    monkeypatch.setattr(gate, "measure_running_code", unmeasurable)
    verdict = check_certification(tmp_path / "cert.json", [public_key_of(key)], now=NOW)
    assert _failed(verdict) == list(CHECK_NAMES)
    assert "is a symlink" in _detail(verdict, "safetrade code")
    assert _detail(verdict, "artifact") == "not checked"


def test_require_valid_accepts_the_certified_installed_code_and_logs_it(
    tmp_path: Path,
    packages: dict[str, Path],
    key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path / "site_bot"))
    _write_pkg(tmp_path / "site_bot", "livebot", {"__init__.py": "", "s.py": "SIGNAL = 1\n"})
    running = measure_running_code("livebot")  # the safetrade actually installed and running
    statement = _statement(running, signer=public_key_of(key))
    statement["predicate"]["signer"]["developerKey"] = True
    artifact = tmp_path / "cert.json"
    artifact.write_bytes(_sign(statement, key))

    # a developer-key artifact starts live mode only when the owner accepted that risk
    with pytest.raises(CertificationError, match="signed with a local developer key") as refused:
        require_valid(
            artifact,
            trusted_keys=[public_key_of(key)],
            bot_package="livebot",
            now=NOW + timedelta(days=1),
        )
    assert "SAFETRADE_LIVE_WITH_DEVELOPER_KEY=I accept an unreviewed developer key" in (
        refused.value.fix
    )
    # a bot calling the gate itself learns that the setting reaches it only as an argument
    assert "passes allow_developer_key=settings.live_with_developer_key" in refused.value.fix
    with caplog.at_level("INFO", logger="safetrade.certification"):
        run = require_valid(
            artifact,
            trusted_keys=[public_key_of(key)],
            bot_package="livebot",
            now=NOW + timedelta(days=1),
            allow_developer_key=True,
        )
    assert run.developer_key
    assert run.signer == public_key_of(key)
    assert run.git_commit == "a" * 40
    assert run.expires_at == NOW + timedelta(days=30)
    assert run.bot_package == "livebot"
    assert run.notes[1:] == ("signed with a local developer key: do not trust it for production",)
    summary = run.summary()
    assert summary.startswith(f"certified: commit {'a' * 12} tree {run.safetrade_digest[:16]}")
    assert f"key {public_key_of(key).fingerprint} expires 2026-03-31T12:00:00Z" in summary
    assert summary in caplog.messages
    assert any("developer key" in m for m in caplog.messages)


# --- the bot named by the artifact must be the bot that was exercised (issue: certify the bot)


def _conformance_verdict(
    packages: dict[str, Path], key: Ed25519PrivateKey, conformance: Any
) -> Verdict:
    running = _running(packages)
    statement = _statement(running, signer=public_key_of(key), conformance=conformance)
    return evaluate(
        _sign(statement, key), trusted_keys=[public_key_of(key)], running=running, now=NOW
    )


def test_an_artifact_whose_bot_was_only_hashed_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    verdict = _conformance_verdict(packages, key, None)
    assert _failed(verdict) == ["bot conformance"]
    assert "only hashed, never exercised" in _detail(verdict, "bot conformance")


def test_a_conformance_run_of_another_bot_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    other = attrs.evolve(_running(packages), bot_package="safetrade.reference_bot")
    verdict = _conformance_verdict(packages, key, conformance_of(other))
    assert _failed(verdict) == ["bot conformance"]
    assert _detail(verdict, "bot conformance") == (
        "the conformance run exercised 'safetrade.reference_bot', not the certified bot 'toybot'"
    )


def test_a_conformance_run_of_other_code_of_the_same_bot_is_refused(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    running = _running(packages)
    older = attrs.evolve(running, bot_files={**running.bot_files, "strategy.py": "0" * 64})
    verdict = _conformance_verdict(packages, key, conformance_of(older))
    assert _failed(verdict) == ["bot conformance"]
    assert "other code of the bot" in _detail(verdict, "bot conformance")


def test_a_failed_or_incomplete_conformance_run_is_refused_even_when_signed(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    running = _running(packages)
    failed = conformance_of(running, passed=False)
    verdict = _conformance_verdict(packages, key, failed)
    assert _failed(verdict) == ["bot conformance"]
    detail = _detail(verdict, "bot conformance")
    assert "result is 'FAILED'" in detail
    assert "control 'rounding' failed" in detail
    partial = conformance_of(running, controls=("rounding",))
    partial["result"] = "PASSED"  # a forged summary: the findings still decide
    detail = _detail(_conformance_verdict(packages, key, partial), "bot conformance")
    for control in REQUIRED_CONTROLS:
        if control != "rounding":
            assert f"required control {control!r} not evidenced" in detail


def test_ccxt_changed_after_certification_is_refused_by_file(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    """Modifying ccxt/kucoin.py (which builds the stop-order request) used to verify."""
    certified = attrs.evolve(_running(packages), ccxt_files={"kucoin.py": "1" * 64})
    running = attrs.evolve(certified, ccxt_files={"kucoin.py": "2" * 64})
    artifact = _sign(_statement(certified, signer=public_key_of(key)), key)
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=running, now=NOW)
    assert _failed(verdict) == ["ccxt code"]
    assert (
        _detail(verdict, "ccxt code") == "ccxt differs from the certified code: changed: kucoin.py"
    )


def test_other_run_time_distributions_are_refused_by_name(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    certified = attrs.evolve(
        _running(packages), distributions={"ccxt": "4.5.90", "requests": "2.31.0", "old": "1"}
    )
    running = attrs.evolve(
        certified, distributions={"ccxt": "4.5.90", "requests": "2.32.0", "new": "2"}
    )
    artifact = _sign(_statement(certified, signer=public_key_of(key)), key)
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=running, now=NOW)
    assert _failed(verdict) == ["distributions"]
    assert _detail(verdict, "distributions") == (
        "run-time distributions differ: requests 2.31.0 -> 2.32.0; added new 2; removed old 1"
    )
    # a copy of the bot no installed distribution provides (imported from the cwd) is named
    copy = attrs.evolve(running, bot_distributions=())
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=copy, now=NOW)
    assert _detail(verdict, "distributions").endswith(
        "is imported from a copy that no installed distribution provides: run the installed "
        "bot, e.g. from another folder)"
    )


# --- the tamper matrix: every case refused by its own named check, and none raises ---------

TAMPER_CASES_RUN: list[str] = []


def _payload_of(artifact: bytes) -> dict[str, Any]:
    return json.loads(base64.b64decode(json.loads(artifact)["payload"]))


def _raw_envelope(payload: bytes, sigs: list[dict[str, str]] | None = None) -> bytes:
    doc = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": sigs if sigs is not None else [],
    }
    return json.dumps(doc).encode()


def _resigned(key: Ed25519PrivateKey, change: Any) -> Any:
    """A statement changed by ``change`` and signed again by the trusted key (a signer's mistake
    or a weakened certify): the checks after the signature must still refuse it."""

    def make(packages: dict[str, Path]) -> bytes:
        statement = _statement(_running(packages), signer=public_key_of(key))
        change(statement)
        return _sign(statement, key)

    return make


def _set(path: str, value: Any) -> Any:
    def change(statement: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = statement
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value

    return change


def _tamper_cases(key: Ed25519PrivateKey) -> dict[str, tuple[Any, Any, str]]:
    """case -> (artifact maker, running-code changer or None, the check that must fail)."""
    other = Ed25519PrivateKey.generate()
    deep = b"[" * 100_000 + b"]" * 100_000

    def edited_payload(packages: dict[str, Path]) -> bytes:
        good = json.loads(_artifact(packages, key))
        statement = json.loads(base64.b64decode(good["payload"]))
        statement["predicate"]["result"] = "PASSED!"
        good["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
        return json.dumps(good).encode()

    def signed_by(private: Ed25519PrivateKey) -> Any:
        return lambda packages: _sign(
            _statement(_running(packages), signer=public_key_of(private)), private
        )

    def evolve_running(**changes: Any) -> Any:
        return lambda running: attrs.evolve(running, **changes)

    def changed_file(part: str) -> Any:
        def change(running: RunningCode) -> RunningCode:
            files = dict(getattr(running, part))
            files[sorted(files)[0]] = "f" * 64
            return attrs.evolve(running, **{part: files})

        return change

    good = lambda packages: _artifact(packages, key)  # noqa: E731
    return {
        "unsigned": (lambda p: _raw_envelope(statement_bytes(_good_statement(p, key))), None,
                     "signature"),
        "signed by an untrusted key": (signed_by(other), None, "signature"),
        "payload edited after signing": (edited_payload, None, "signature"),
        "expired": (_resigned(key, _set("predicate.expiresAt", "2026-02-01T00:00:00Z")), None,
                    "freshness"),
        "issued in the future": (_resigned(key, _set("predicate.issuedAt", "2027-01-01T00:00:00Z")),
                                 None, "freshness"),
        "validity above 90 days": (_resigned(key, _set("predicate.expiresAt",
                                   "2026-12-31T00:00:00Z")), None, "freshness"),
        "result FAILED": (_resigned(key, _set("predicate.result", "FAILED")), None, "result"),
        "a scenario failed": (_resigned(key, _set("predicate.suite.scenarios.0.outcome",
                              "failed")), None, "result"),
        "safetrade file changed": (good, changed_file("safetrade_files"), "safetrade code"),
        "safetrade file added": (good, lambda r: attrs.evolve(
            r, safetrade_files={**r.safetrade_files, "new.py": "1" * 64}), "safetrade code"),
        "bot file changed": (good, changed_file("bot_files"), "bot package"),
        "another bot runs": (good, evolve_running(bot_package="otherbot"), "bot package"),
        "bot only hashed": (_resigned(key, _set("predicate.conformance", None)), None,
                            "bot conformance"),
        "conformance of another bot": (_resigned(key, _set("predicate.conformance.bot.package",
                                       "otherbot")), None, "bot conformance"),
        "conformance failed": (_resigned(key, _set("predicate.conformance.result", "FAILED")),
                               None, "bot conformance"),
        "ccxt changed": (good, evolve_running(ccxt_files={"kucoin.py": "e" * 64}), "ccxt code"),
        "distributions differ": (good, evolve_running(distributions={"ccxt": "4.5.91"}),
                                 "distributions"),
        "config schema changed": (good, evolve_running(config_schema_digest="0" * 64),
                                  "config schema"),
        "tampered bytecode": (good, evolve_running(bytecode_problems=(
            "safetrade/__pycache__/rounder.cpython-311.pyc: bytecode differs",)), "bytecode"),
        "data kept in __pycache__": (good, evolve_running(bytecode_problems=(
            "toybot/__pycache__/strategy.json: a file in __pycache__ that is no source's cached "
            "bytecode is not digested",)), "bytecode"),
        "a script outside the bot runs": (good, evolve_running(loaded_modules=LoadedModules((
            "__main__ (/srv/run_live.py) is a script outside the certified bot package",), 900)),
            "loaded modules"),
        "not JSON": (lambda _p: b"{not json", None, "artifact"),
        "a JSON list": (lambda _p: b"[1, 2]", None, "artifact"),
        "fields missing": (lambda _p: b'{"payload": "e30="}', None, "artifact"),
        "bad base64": (lambda _p: _raw_envelope(b"{}")[:-3] + b'!!"}', None, "artifact"),
        "nested 100000 deep": (lambda _p: deep, None, "artifact"),
        "payload nested 100000 deep": (lambda _p: _raw_envelope(deep, [{"keyid": "",
                                       "sig": "AAAA"}]), None, "signature"),
        "payload not an object": (lambda _p: _sign_raw(key, b"[1]"), None, "statement type"),
        "predicate fields of the wrong type": (_resigned(key, _wrong_types), None, "result"),
        "too many signatures": (lambda _p: _raw_envelope(b"{}", [{"keyid": "", "sig": "AAAA"}] * 9),
                                None, "artifact"),
    }  # fmt: skip


def _sign_raw(key: Ed25519PrivateKey, payload: bytes) -> bytes:
    return sign_envelope(payload, key).to_json()


def _wrong_types(statement: dict[str, Any]) -> None:
    predicate = statement["predicate"]
    predicate["suite"] = {"scenarios": 5, "counts": "x", "failingTests": None}
    predicate["controls"] = "x"
    predicate["signer"] = 3
    predicate["files"] = []
    predicate["conformance"] = {"bot": "x", "scenarios": [1, "x", None]}
    predicate["environment"] = {"distributions": ["x"]}
    statement["subject"].append({"name": None, "digest": 7})


def test_the_tamper_matrix_refuses_every_case_by_its_own_check_and_never_raises(
    packages: dict[str, Path], key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    cases = _tamper_cases(key)
    (tmp_path / "art").mkdir()
    for name, (make, change_running, check) in cases.items():
        running = _running(packages)
        running = change_running(running) if change_running else running
        artifact = tmp_path / "art" / "cert.json"
        artifact.write_bytes(make(packages))
        verdict = verify_artifact(
            artifact, trusted_keys=[public_key_of(key)], running=running, now=NOW
        )
        assert not verdict.ok, name
        assert check in _failed(verdict), (name, verdict.table())
        TAMPER_CASES_RUN.append(name)
    # refused before they can be judged, whatever the artifact holds
    artifact = tmp_path / "art" / "cert.json"
    artifact.write_bytes(_artifact(packages, key))
    naive = verify_artifact(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages),
        now=datetime(2026, 3, 1, 12, 0),  # noqa: DTZ001 - the case under test
    )  # fmt: skip
    assert "has no timezone" in _detail(naive, "artifact")
    with pytest.raises(CertificationError, match="has no timezone"):
        require_valid(
            artifact, trusted_keys=[public_key_of(key)], bot_package="toybot",
            now=datetime(2026, 3, 1, 12, 0),  # noqa: DTZ001
        )  # fmt: skip
    huge = tmp_path / "art" / "huge.json"
    with huge.open("wb") as out:
        out.truncate(gate.MAX_ARTIFACT_BYTES + 1)
    assert "above the 8,388,608 limit" in _detail(
        verify_artifact(huge, trusted_keys=[public_key_of(key)], running=_running(packages)),
        "artifact",
    )
    directory = verify_artifact(
        tmp_path, trusted_keys=[public_key_of(key)], running=_running(packages)
    )
    assert not directory.ok
    TAMPER_CASES_RUN.extend(
        ["naive time", "naive time at live start", "300 MB artifact", "a folder"]
    )
    # and what holds: the untouched artifact is valid
    valid = verify_artifact(
        artifact, trusted_keys=[public_key_of(key)], running=_running(packages), now=NOW
    )
    assert valid.ok, valid.table()
    print(f"tamper matrix: {len(TAMPER_CASES_RUN)} cases refused, 0 raised")  # noqa: T201
    assert len(TAMPER_CASES_RUN) == len(cases) + 4


def test_a_tampered_pyc_whose_header_matches_its_source_is_refused(
    tmp_path: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """85.605 rounding to 85.60 instead of 85.61 from a swapped pyc used to verify as valid."""
    import compileall
    import marshal

    site = tmp_path / "site"
    package = _write_pkg(site, "pycbot", {"__init__.py": "", "rounder.py": "UP = True\n"})
    compileall.compile_dir(package, quiet=1)
    monkeypatch.syspath_prepend(str(site))
    clean = measure_running_code("pycbot")
    assert clean.bytecode_problems == ()
    artifact = _sign(_statement(clean, signer=public_key_of(key)), key)
    (pyc,) = (package / "__pycache__").glob("rounder.*.pyc")
    original = pyc.read_bytes()
    header = original[:16]  # same mtime and size: Python will run it
    evil = compile("UP = False\n", str(package / "rounder.py"), "exec")
    pyc.write_bytes(header + marshal.dumps(evil))
    # the same process checked the clean file a moment ago: its verdict is not reused
    assert measure_running_code("pycbot").bytecode_problems != ()
    pyc.write_bytes(original)
    assert measure_running_code("pycbot").bytecode_problems == ()
    pyc.write_bytes(header + marshal.dumps(evil))
    (package / "__pycache__" / "extra.py").write_text("print('not digested')\n")
    tampered = measure_running_code("pycbot")
    verdict = evaluate(artifact, trusted_keys=[public_key_of(key)], running=tampered, now=NOW)
    assert _failed(verdict) == ["bytecode"]
    detail = _detail(verdict, "bytecode")
    assert "pycbot/__pycache__/rounder." in detail
    assert "bytecode differs from rounder.py" in detail
    assert "pycbot/__pycache__/extra.py: a module hidden in __pycache__ is not digested" in detail


def test_the_shipped_policy_has_no_deviation_and_a_weakened_one_is_named() -> None:
    from safetrade.certification.policy import deviations

    shipped = parse_policy(SHIPPED_POLICY.read_bytes())
    assert deviations(shipped.to_json()) == []
    weak = parse_policy(
        b"[certificate]\nvalidity_days = 90\n[scenarios]\nallow_skipped = true\n"
        b"required_controls = []\n[coverage]\ntotal_floor = 0\n"
    )
    found = deviations(weak.to_json())
    assert "validity 90 days (library default 30)" in found
    assert "skipped scenarios are allowed" in found
    assert "required tag 'incident-2026-02-06' dropped" in found
    assert "required control 'rounding' dropped" in found
    assert "total coverage floor 0.0 (library default 80)" in found
    assert "coverage floor of safetrade/guard.py None (library default 90)" in found


def test_malformed_predicate_parts_fail_the_check_that_reads_them(
    packages: dict[str, Path], key: Ed25519PrivateKey
) -> None:
    """The typed predicate names the malformed field; a signer block that is not an object no
    longer reads as "not a developer key" (it used to, and live mode started)."""
    statement = _good_statement(packages, key)
    statement["predicate"]["signer"]["developerKey"] = "yes"
    statement["predicate"]["suite"]["scenarios"][0]["controls"] = "rounding"
    verdict = _evaluate_statement(packages, key, statement)
    assert _failed(verdict) == ["statement type", "result"]
    assert _detail(verdict, "statement type") == (
        "predicate.signer.developerKey must be true or false, got 'yes'"
    )
    assert _detail(verdict, "result") == (
        "unreadable scenario results: predicate.suite.scenarios[0].controls must be a list, "
        "got 'rounding'"
    )
    assert not any("developer key" in n for n in verdict.notes)
