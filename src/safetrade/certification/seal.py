"""Seals: what the processes that produce certify's inputs signed about the files they wrote.

``safetrade certify`` reads files other processes wrote into the output folder:
``conformance.json`` (written by ``safetrade conformance``, which ran the bot) and
``evidence.json``, ``coverage.json``, ``cucumber.json`` (written by ``safetrade suite``, which ran
safetrade's own tests, or reused a signed cache entry of an identical passing run). Whoever can
write that folder could otherwise graft a passing run's scenario records onto a failing bot's
record, or drop failed items from the evidence, and certify would sign the result.

So each producing step **seals** its outputs as it writes them: a DSSE envelope (the project's
:mod:`~safetrade.certification.dsse`, under its own payload type, so a seal can never pass for a
certificate or a suite-cache entry) signed with the same signing key certify signs artifacts
with (:func:`~safetrade.certification.keys.load_signing_key`). Its statement names

* the step (``conformance`` or ``suite``) and when it started and sealed;
* the sha256 of every file it produced, or ``null`` for one it could not write (a suite whose
  evidence could not be merged), so an added file is caught as well as an edited one;
* what the step ran on: for conformance the bot's package, distribution and tree digest,
  safetrade's tree digest, the ccxt tree digest and every run-time distribution with its
  version; for the suite whether the outputs are a reused cache entry (and when it ran).

Certify verifies both seals (:func:`read_seal`, :func:`check_files`) before it reads any of
those files and refuses with :class:`SealError` when a seal is missing, is not signed by this
signing key, or a file's sha256 differs. A seal makes a file tamper-evident to anyone without
the key; whoever holds the key can sign certificates anyway.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification.digest import canonical_json, sha256_hex
from safetrade.certification.dsse import (
    EnvelopeFormatError,
    parse_envelope,
    sign_envelope,
    verify_signatures,
)
from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    from pathlib import Path

    from safetrade.certification.keys import PublicKey, SigningKey

__all__ = [
    "CONFORMANCE_SEAL",
    "CONFORMANCE_STEP",
    "PAYLOAD_TYPE",
    "SEAL_FORMAT",
    "SUITE_OUTPUTS",
    "SUITE_SEAL",
    "SUITE_STEP",
    "Seal",
    "SealError",
    "check_files",
    "conformance_environment",
    "read_seal",
    "seal_conformance",
    "seal_suite",
    "write_seal",
]

SEAL_FORMAT = "safetrade-seal/1"
PAYLOAD_TYPE = "application/vnd.safetrade.seal+json"
CONFORMANCE_STEP = "conformance"
SUITE_STEP = "suite"
#: the seal files, next to the files they seal
CONFORMANCE_SEAL = "conformance.seal.json"
SUITE_SEAL = "suite.seal.json"
CONFORMANCE_OUTPUT = "conformance.json"
#: what ``safetrade suite`` writes, and what a suite-cache entry stores (suite_cache.OUTPUTS)
SUITE_OUTPUTS = ("evidence.json", "coverage.json", "cucumber.json")
_RERUN = "re-run `tox -e certify` (it runs conformance and the suite, which seal their outputs)"
_STEPS = {CONFORMANCE_STEP: CONFORMANCE_SEAL, SUITE_STEP: SUITE_SEAL}


class SealError(SafetradeError):
    """An input of certify is not sealed by the process that produced it, or was changed."""


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@attrs.frozen
class Seal:
    """A verified seal.

    Attributes:
        step: The step that wrote it (``conformance`` or ``suite``).
        files: File name -> sha256 of what the step wrote (None: the step wrote no such file).
        started_at: When the step started (RFC 3339 UTC).
        sealed_at: When it sealed its outputs.
        run: What the step ran on (the bot for conformance; reuse for the suite).
        signer: Key id of the key it verified under.
    """

    step: str
    files: Mapping[str, str | None]
    started_at: str
    sealed_at: str
    run: Mapping[str, Any]
    signer: str


def write_seal(
    folder: Path,
    *,
    step: str,
    files: Mapping[str, Path],
    signing_key: SigningKey,
    started_at: datetime,
    now: datetime,
    run: Mapping[str, Any],
) -> Path:
    """Sign the sha256 of each of ``files`` (as they are now) into ``folder``'s seal of ``step``.

    Args:
        folder: Where the seal goes (the output folder, next to the files).
        step: ``conformance`` or ``suite``.
        files: Name recorded -> path; a missing file is recorded as ``null``.
        signing_key: The key certify signs artifacts with.
        started_at: When the step started.
        now: When it finished writing its outputs.
        run: What the step ran on, recorded as is (JSON).
    """
    digests: dict[str, str | None] = {}
    for name, path in sorted(files.items()):
        try:
            digests[name] = sha256_hex(path.read_bytes())
        except FileNotFoundError:
            digests[name] = None
    payload = {
        "format": SEAL_FORMAT,
        "step": step,
        "files": digests,
        "startedAt": _time(started_at),
        "sealedAt": _time(now),
        "run": dict(run),
    }
    envelope = sign_envelope(canonical_json(payload), signing_key.private, PAYLOAD_TYPE)
    path = folder / _STEPS[step]
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(envelope.to_json())
    partial.replace(path)
    return path


def seal_conformance(
    target: Path,
    *,
    bot: Mapping[str, Any],
    safetrade_dir_hash: str,
    signing_key: SigningKey,
    started_at: datetime,
    now: datetime,
    environment: Mapping[str, Any] | None = None,
) -> Path:
    """Seal the ``conformance.json`` at ``target`` as the run of ``bot`` (its JSON identity).

    ``environment`` is what else the bot ran on (:func:`conformance_environment`): the ccxt
    code and the run-time distributions, which certify compares with what it signs.
    """
    identity = {k: bot.get(k) for k in ("package", "distribution", "version", "dirHash")}
    run: dict[str, Any] = {"bot": identity, "safetradeDirHash": safetrade_dir_hash}
    if environment is not None:
        run["environment"] = dict(environment)
    return write_seal(
        target.parent,
        step=CONFORMANCE_STEP,
        files={CONFORMANCE_OUTPUT: target},
        signing_key=signing_key,
        started_at=started_at,
        now=now,
        run=run,
    )


def conformance_environment(ccxt_dir_hash: str, distributions: Mapping[str, str]) -> dict[str, Any]:
    """The conformance seal's record of the ccxt tree and the distributions (name -> version)."""
    return {"ccxtDirHash": ccxt_dir_hash, "distributions": dict(sorted(distributions.items()))}


def seal_suite(
    out: Path,
    *,
    signing_key: SigningKey,
    started_at: datetime,
    now: datetime,
    reused: Mapping[str, Any] | None,
    statuses: tuple[int, ...] | None,
    not_run: str | None = None,
) -> Path:
    """Seal the suite's outputs in ``out``: run now (``statuses``) or ``reused`` from the cache.

    ``not_run`` says why the suite did not run at all (the bot failed its conformance run).
    """
    return write_seal(
        out,
        step=SUITE_STEP,
        files={name: out / name for name in SUITE_OUTPUTS},
        signing_key=signing_key,
        started_at=started_at,
        now=now,
        run={
            "reused": None if reused is None else dict(reused),
            "exitStatuses": None if statuses is None else list(statuses),
            **({"notRun": not_run} if not_run else {}),
        },
    )


def read_seal(path: Path, *, step: str, signer: PublicKey, sealed: str) -> Seal:
    """The seal at ``path`` of ``step``, verified under ``signer``.

    Args:
        path: The seal file.
        step: The step it must come from.
        signer: The public key of the signing key certify signs with.
        sealed: What the seal is for, for messages (``conformance.json``).

    Raises:
        SealError: Missing, unreadable, not a seal of ``step``, or not signed by ``signer``.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SealError(
            f"{sealed} is not sealed: {path} is missing",
            why=f"nothing ties {sealed} to a `safetrade {step}` run: it may have been written "
            f"or edited by hand, or by a safetrade that does not seal its outputs",
            fix=_RERUN,
        ) from exc
    except OSError as exc:
        raise SealError(f"seal {path} of {sealed} is unreadable", why=str(exc), fix=_RERUN) from exc
    try:
        envelope = parse_envelope(raw)
    except EnvelopeFormatError as exc:
        raise SealError(
            f"seal {path} of {sealed} is not a signed envelope", why=str(exc), fix=_RERUN
        ) from exc
    if envelope.payload_type != PAYLOAD_TYPE:
        raise SealError(
            f"seal {path} of {sealed} has payload type {envelope.payload_type!r}",
            why=f"a seal is {PAYLOAD_TYPE!r}",
            fix=_RERUN,
        )
    check = verify_signatures(envelope, [signer])
    if not check.ok:
        raise SealError(
            f"seal {path} of {sealed} is not signed by this signing key ({signer.fingerprint})",
            why=f"{check.reason}; {sealed} was not produced by `safetrade {step}` with the key "
            "certify signs with (or the seal was edited)",
            fix=f"{_RERUN} with the same signing key for every step",
        )
    try:
        payload = json.loads(envelope.payload)
        files = payload["files"]
        if not isinstance(files, Mapping) or not isinstance(payload["run"], Mapping):
            raise TypeError("files and run must be objects")
        seal = Seal(
            step=str(payload["step"]),
            files={str(k): None if v is None else str(v) for k, v in files.items()},
            started_at=str(payload["startedAt"]),
            sealed_at=str(payload["sealedAt"]),
            run=dict(payload["run"]),
            signer=signer.keyid,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise SealError(
            f"seal {path} of {sealed} is malformed", why=f"{type(exc).__name__}: {exc}", fix=_RERUN
        ) from exc
    if payload.get("format") != SEAL_FORMAT or seal.step != step:
        raise SealError(
            f"seal {path} is a {payload.get('format')!r} seal of step {seal.step!r}",
            why=f"{sealed} must be sealed by `safetrade {step}` ({SEAL_FORMAT})",
            fix=_RERUN,
        )
    return seal


def check_files(seal: Seal, files: Mapping[str, Path]) -> None:
    """Every file in ``files`` (name as sealed -> path read) is exactly what ``seal`` names.

    Raises:
        SealError: A file is not named by the seal, was written after it (the seal says the
            step wrote none), was removed, or its sha256 differs; the message names the file.
    """
    for name, path in files.items():
        if name not in seal.files:
            raise SealError(
                f"{name} ({path}) is not named by the {seal.step} seal",
                why=f"the seal of {seal.sealed_at} names only {', '.join(sorted(seal.files))}",
                fix=_RERUN,
            )
        recorded = seal.files[name]
        try:
            actual: str | None = sha256_hex(path.read_bytes())
        except FileNotFoundError:
            actual = None
        if actual == recorded:
            continue
        when = f"`safetrade {seal.step}` sealed it at {seal.sealed_at}"
        if recorded is None:
            what = (
                f"{name} ({path}) was written after `safetrade {seal.step}` sealed its outputs "
                f"at {seal.sealed_at}"
            )
            why = f"the {seal.step} step wrote no {name}"
        elif actual is None:
            what = f"{name} ({path}) was removed after {when}"
            why = f"the seal names sha256 {recorded}"
        else:
            what = f"{name} ({path}) changed after {when}"
            why = f"its sha256 is {actual}, the seal names {recorded}: edited or replaced"
        raise SealError(what, why=why, fix=_RERUN)
