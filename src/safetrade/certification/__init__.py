"""Certification: signed evidence that a bot's safety controls passed, bound to its code.

``tox -e certify`` runs the certification suite and ``safetrade certify`` turns the run into a
DSSE-signed in-toto Statement (``certification/out/safetrade.cert.json``) plus Markdown and
HTML reports. Live mode calls :func:`require_valid` before connecting to any exchange.
"""

from __future__ import annotations

from safetrade.certification.gate import (
    DEFAULT_ARTIFACT,
    CertifiedRun,
    Check,
    Verdict,
    check_certification,
    evaluate,
    require_valid,
    verify_artifact,
)
from safetrade.certification.keys import PublicKey, load_trusted_keys, parse_trusted_keys

__all__ = [
    "DEFAULT_ARTIFACT",
    "CertifiedRun",
    "Check",
    "PublicKey",
    "Verdict",
    "check_certification",
    "evaluate",
    "load_trusted_keys",
    "parse_trusted_keys",
    "require_valid",
    "verify_artifact",
]
