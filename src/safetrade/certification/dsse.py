"""DSSE v1 envelopes signed with Ed25519, using only ``cryptography``.

The signature covers the Pre-Authentication Encoding ``PAE(type, body)``, so the payload type is
authenticated too and no JSON canonicalisation is needed: the exact payload bytes are signed.
The ``keyid`` in a signature is only a hint; verification always tries the trusted keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
from cryptography.exceptions import InvalidSignature

from safetrade.certification.keys import PublicKey, public_key_of

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = [
    "PAYLOAD_TYPE",
    "Envelope",
    "EnvelopeFormatError",
    "SignatureCheck",
    "pae",
    "parse_envelope",
    "sign_envelope",
    "verify_signatures",
]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: More signatures than this are refused unchecked (one is normal).
MAX_SIGNATURES = 8


class EnvelopeFormatError(ValueError):
    """The bytes are not a DSSE envelope (bad JSON, missing fields, bad base64)."""


@attrs.frozen
class Signature:
    """One DSSE signature: an unauthenticated key hint and the raw signature bytes."""

    keyid: str
    sig: bytes


@attrs.frozen
class Envelope:
    """A parsed DSSE envelope; ``payload`` is the decoded (still unauthenticated) body."""

    payload: bytes
    payload_type: str
    signatures: tuple[Signature, ...]

    def to_json(self) -> bytes:
        """Serialise in the standard DSSE JSON form."""
        doc = {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"keyid": s.keyid, "sig": base64.b64encode(s.sig).decode("ascii")}
                for s in self.signatures
            ],
        }
        return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


@attrs.frozen
class SignatureCheck:
    """Outcome of checking an envelope's signatures against the trusted keys."""

    ok: bool
    signer: PublicKey | None
    reason: str


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return DSSE's Pre-Authentication Encoding of ``payload_type`` and ``payload``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def _b64decode(text: object) -> bytes:
    if not isinstance(text, str):
        raise EnvelopeFormatError("base64 field is not a string")
    # DSSE requires verifiers to accept standard and URL-safe base64.
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        try:
            return base64.b64decode(text, altchars=b"-_", validate=True)
        except binascii.Error as exc:
            raise EnvelopeFormatError(f"invalid base64: {exc}") from exc


def sign_envelope(
    payload: bytes, private_key: Ed25519PrivateKey, payload_type: str = PAYLOAD_TYPE
) -> Envelope:
    """Sign ``payload`` and return the envelope carrying one Ed25519 signature."""
    signature = private_key.sign(pae(payload_type, payload))
    keyid = public_key_of(private_key).keyid
    return Envelope(payload, payload_type, (Signature(keyid, signature),))


def parse_envelope(data: bytes) -> Envelope:
    """Parse DSSE JSON without verifying anything.

    Raises:
        EnvelopeFormatError: The data is not a well-formed envelope.
    """
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeFormatError(f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise EnvelopeFormatError("nested too deeply to be an envelope") from exc
    if not isinstance(doc, Mapping):
        raise EnvelopeFormatError("top level is not a JSON object")
    missing = [k for k in ("payload", "payloadType", "signatures") if k not in doc]
    if missing:
        raise EnvelopeFormatError(f"missing field(s): {', '.join(missing)}")
    payload_type = doc["payloadType"]
    raw_sigs = doc["signatures"]
    if not isinstance(payload_type, str) or not isinstance(raw_sigs, list):
        raise EnvelopeFormatError("payloadType must be a string and signatures a list")
    if len(raw_sigs) > MAX_SIGNATURES:
        raise EnvelopeFormatError(
            f"{len(raw_sigs)} signatures; at most {MAX_SIGNATURES} are checked"
        )
    signatures: list[Signature] = []
    for raw in raw_sigs:
        if not isinstance(raw, Mapping) or "sig" not in raw:
            raise EnvelopeFormatError("a signature entry lacks 'sig'")
        keyid = raw.get("keyid", "")
        signatures.append(
            Signature(keyid if isinstance(keyid, str) else "", _b64decode(raw["sig"]))
        )
    return Envelope(_b64decode(doc["payload"]), payload_type, tuple(signatures))


def verify_signatures(envelope: Envelope, trusted: Sequence[PublicKey]) -> SignatureCheck:
    """Accept the envelope if any signature verifies under any trusted key.

    Keys named in the envelope are never trusted by themselves; the keyid only makes the
    failure message useful ("signed by key X, which is not trusted").
    """
    if not trusted:
        return SignatureCheck(False, None, "no trusted public keys were configured")
    if not envelope.signatures:
        return SignatureCheck(False, None, "the artifact carries no signature")
    message = pae(envelope.payload_type, envelope.payload)
    for signature in envelope.signatures:
        for key in trusted:
            try:
                key.ed25519().verify(signature.sig, message)
            except InvalidSignature:
                continue
            return SignatureCheck(True, key, f"signed by trusted key {key.keyid}")
    trusted_ids = {k.keyid for k in trusted}
    claimed = [s.keyid for s in envelope.signatures]
    if any(keyid in trusted_ids for keyid in claimed):
        return SignatureCheck(
            False,
            None,
            "signature claims a trusted key but does not verify: the payload or the signature "
            "was altered after signing",
        )
    return SignatureCheck(
        False,
        None,
        f"signed by untrusted key(s) {', '.join(k or '<no keyid>' for k in claimed)}; trusted: "
        f"{', '.join(sorted(trusted_ids))}",
    )
