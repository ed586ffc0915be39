"""KuCoin API-key authentication as the gateway checks it (kucoin-wire.md §2)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Callable, Mapping
from urllib.parse import unquote

import attrs

from safetrade.testing._wire import (
    BAD_PASSPHRASE,
    BAD_SIGN,
    BAD_TIMESTAMP,
    MISSING_HEADER,
    UNKNOWN_KEY,
)

TIMESTAMP_WINDOW_MS = 5_000
_REQUIRED = ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")


def b64_hmac(secret: str, message: str) -> str:
    """Return ``base64(HMAC_SHA256(secret, message))``, KuCoin's signature encoding."""
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@functools.lru_cache(maxsize=64)
def _passphrase_v2(secret: str, passphrase: str) -> str:
    """The passphrase as API key version 2 sends it (the same for every request of a key)."""
    return b64_hmac(secret, passphrase)


@attrs.frozen
class Credentials:
    """An API key the fake accepts."""

    api_key: str
    api_secret: str = attrs.field(repr=False)
    passphrase: str = attrs.field(repr=False)


def verify(
    credentials: Credentials,
    clock: Callable[[], int],
    *,
    headers: Mapping[str, str],
    method: str,
    raw_target: str,
    body: str,
) -> None:
    """Raise the gateway's error for the first failing check; return quietly when all pass.

    Order: missing header (400001), timestamp outside ±5 s of ``clock`` (400002), unknown key
    (400003), passphrase (400004), signature (400005). With a wrong secret the passphrase HMAC is
    wrong too, so a wrong secret surfaces as 400004, as on KuCoin.

    Args:
        credentials: The one key the fake knows.
        clock: Server time in epoch milliseconds.
        headers: Request headers (case-insensitive mapping).
        method: Upper-case HTTP method.
        raw_target: Path plus ``?query`` exactly as received (not re-encoded).
        body: Raw body text, ``""`` when absent.

    Raises:
        KucoinError: with KuCoin's code, message and HTTP status.
    """
    if any(not headers.get(name) for name in _REQUIRED):
        raise MISSING_HEADER.error()
    timestamp = headers["KC-API-TIMESTAMP"]
    if not timestamp.isdigit() or abs(int(timestamp) - clock()) > TIMESTAMP_WINDOW_MS:
        raise BAD_TIMESTAMP.error()
    if not hmac.compare_digest(headers["KC-API-KEY"], credentials.api_key):
        raise UNKNOWN_KEY.error()
    version = headers.get("KC-API-KEY-VERSION", "1")
    expected_passphrase = (
        credentials.passphrase
        if version == "1"
        else _passphrase_v2(credentials.api_secret, credentials.passphrase)
    )
    if not hmac.compare_digest(headers["KC-API-PASSPHRASE"], expected_passphrase):
        raise BAD_PASSPHRASE.error()
    # KuCoin signs the non-URL-encoded target; the body is signed byte for byte as sent
    path, _, query = raw_target.partition("?")
    target = f"{path}?{unquote(query)}" if query else path
    expected_sign = b64_hmac(credentials.api_secret, timestamp + method + target + body)
    if not hmac.compare_digest(headers["KC-API-SIGN"], expected_sign):
        raise BAD_SIGN.error()
