"""Scenario certificates: artifacts the harness signs so a bot can start in live mode at all.

A live-mode scenario needs a certification the bot's own gate accepts, before the real one can
exist. The harness signs one per scenario with a throwaway Ed25519 key that lives only in
memory, and writes the artifact and a trusted-keys file naming only that key into the
scenario's working folder. Such an artifact says so in its predicate
(``harness: scenario certificate``) and is trusted nowhere else: whoever can write a
trusted-keys file can trust any key, so this grants nothing new.

The same builder makes the certificates the library's own features use (expired, for other
code, for a one-character edit).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification.conformance.result import REQUIRED_CONTROLS
from safetrade.certification.digest import tree_digest
from safetrade.certification.dsse import sign_envelope
from safetrade.certification.evidence import Evidence, ItemOutcome
from safetrade.certification.inventory import InventoryScenario
from safetrade.certification.keys import public_key_of
from safetrade.certification.policy import LIBRARY_DEFAULTS, parse_policy
from safetrade.certification.provenance import GitState, RunningCode
from safetrade.certification.statement import build_statement, statement_bytes
from safetrade.certification.suite import reconcile

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

__all__ = ["MINTED_LABEL", "MintedCertificate", "mint_certificate"]

MINTED_LABEL = "scenario certificate (throwaway key, valid only inside one scenario)"
_CONTROLS: tuple[str, ...] = tuple(LIBRARY_DEFAULTS["requiredControls"])
# the library's own floor, so a scenario certificate is refused for nothing but the case a
# scenario sets up (missing, expired, other code)
_POLICY = (
    (
        "[certificate]\nvalidity_days = 30\n[scenarios]\n"
        f"required_tags = {LIBRARY_DEFAULTS['requiredTags']!r}\n"
        f"required_controls = {list(_CONTROLS)!r}\n"
        f"[coverage]\ntotal_floor = {LIBRARY_DEFAULTS['totalCoverageFloor']}\n[coverage.floors]\n"
        + "".join(f'"{m}" = {v}\n' for m, v in LIBRARY_DEFAULTS["coverageFloors"].items())
    )
    .replace("'", '"')
    .encode()
)
_SCENARIO_KEY = "harness/scenario-certificate::Scenario certificate"


@attrs.frozen
class MintedCertificate:
    """A signed artifact and the trusted-keys file that trusts only its throwaway key."""

    artifact: Path
    trusted_keys: Path


def _suite() -> tuple[list[InventoryScenario], Evidence]:
    inventory = [
        InventoryScenario(
            key=_SCENARIO_KEY,
            feature_path="harness/scenario-certificate",
            feature_name="Scenario certificate",
            name="Scenario certificate",
            line=1,
            tags=(*(f"control-{c}" for c in _CONTROLS), "incident-2026-02-06"),
            incident_line=None,
            steps=(),
            examples=0,
        )
    ]
    item = ItemOutcome(
        nodeid="harness::scenario-certificate",
        outcome="passed",
        duration=0.0,
        controls=_CONTROLS,
        incidents=("2026-02-06",),
        scenario=_SCENARIO_KEY,
        message="",
    )
    return inventory, Evidence((item,), 0, "certify", 0, (), ())


def _conformance(running: RunningCode) -> dict[str, Any]:
    finding = {
        "title": MINTED_LABEL,
        "incidentLine": "",
        "passed": True,
        "detail": "minted by the conformance harness",
    }
    return {
        "format": "safetrade.conformance/v1",
        "result": "PASSED",
        "harness": MINTED_LABEL,
        "bot": {
            "spec": running.bot_package,
            "factory": "",
            "package": running.bot_package,
            "distribution": None,
            "version": None,
            "dirHash": tree_digest(running.bot_files),
            "files": dict(running.bot_files),
            "isReference": False,
        },
        "requiredControls": list(REQUIRED_CONTROLS),
        "scenarios": [
            {
                "id": "scenario-certificate",
                "title": MINTED_LABEL,
                "story": [],
                "passed": True,
                "findings": [{"control": c, **finding} for c in REQUIRED_CONTROLS],
                "sent": [],
                "leftLive": [],
                "botErrors": [],
                "requests": 0,
                "seconds": 0.0,
            }
        ],
        "failures": [],
        "safetradeDirHash": tree_digest(running.safetrade_files),
        "botCoverage": None,
        "seconds": 0.0,
    }


def mint_certificate(
    directory: Path,
    *,
    running: RunningCode,
    now: datetime,
    age: timedelta = timedelta(0),
    private_key: Ed25519PrivateKey | None = None,
) -> MintedCertificate:
    """Sign an artifact for ``running`` (as if certified ``age`` before ``now``).

    Args:
        directory: Where ``artifact/safetrade.cert.json`` and ``trusted-keys.txt`` go.
        running: The code the artifact binds (measure it, or alter it for a wrong-code case).
        now: The scenario's current time.
        age: How long ago it was issued; more than 30 days makes it expired.
        private_key: The signing key; default a fresh throwaway key.
    """
    private = private_key or Ed25519PrivateKey.generate()
    inventory, evidence = _suite()
    statement = build_statement(
        suite=reconcile(inventory, evidence),
        policy=parse_policy(_POLICY),
        evidence=evidence,
        coverage=None,
        running=running,
        git=GitState(None, None),
        # the interpreter that measured ``running`` (the gate compares it with its own)
        versions={
            "python": None,
            "implementation": None,
            **(running.interpreter or {}),
            "safetrade": None,
            "ccxt": None,
        },
        signer=public_key_of(private),
        developer_key=False,
        problems=(),
        now=now - age,
        conformance=_conformance(running),
    )
    statement["predicate"]["harness"] = MINTED_LABEL
    # the gate refuses a trusted-keys file in the artifact's own folder: keep them apart
    (directory / "artifact").mkdir(parents=True, exist_ok=True)
    artifact = directory / "artifact" / "safetrade.cert.json"
    artifact.write_bytes(sign_envelope(statement_bytes(statement), private).to_json())
    trusted = directory / "trusted-keys.txt"
    trusted.write_text(
        f"# {MINTED_LABEL}\n{public_key_of(private).hex}\n",
        encoding="utf-8",
    )
    return MintedCertificate(artifact, trusted)
