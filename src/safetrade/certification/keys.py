"""Ed25519 signing keys and trusted public keys for certification artifacts.

Key ids are the lowercase hex sha256 of the raw 32-byte Ed25519 public key. That is simple to
recompute anywhere (``sha256sum`` of the raw key) and is only ever a hint: verification always
uses the trusted keys themselves.

Where the signing key comes from (first match wins):

1. ``SAFETRADE_CERT_KEY_FILE``: path to a PKCS#8 PEM private key;
2. ``SAFETRADE_CERT_KEY``: the PEM text itself (for CI secret stores);
3. otherwise a **local developer key** at ``~/.safetrade/dev-signing-key.pem``, created on
   first use. Artifacts signed with it are labelled as such and should never be trusted by a
   production deployment.

``SAFETRADE_CERT_KEY_PASSPHRASE`` decrypts an encrypted PEM. Trusted keys are never taken from
an artifact; they come from ``SAFETRADE_TRUSTED_KEYS`` (a file path) or an explicit argument.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from safetrade.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DEV_KEY_RELATIVE",
    "ENV_KEY",
    "ENV_KEY_FILE",
    "ENV_KEY_PASSPHRASE",
    "ENV_TRUSTED_KEYS",
    "PublicKey",
    "SigningKey",
    "generate_key_file",
    "load_private_key",
    "load_signing_key",
    "load_trusted_keys",
    "parse_trusted_keys",
    "public_key_of",
    "trusted_keys_path",
    "write_private_key",
]

ENV_KEY_FILE = "SAFETRADE_CERT_KEY_FILE"
ENV_KEY = "SAFETRADE_CERT_KEY"
ENV_KEY_PASSPHRASE = "SAFETRADE_CERT_KEY_PASSPHRASE"  # noqa: S105 -- a variable name, not a secret
ENV_TRUSTED_KEYS = "SAFETRADE_TRUSTED_KEYS"
DEV_KEY_RELATIVE = Path(".safetrade") / "dev-signing-key.pem"

_RAW_LEN = 32


def _check_raw(_instance: object, _attribute: object, value: bytes) -> None:
    if len(value) != _RAW_LEN:
        raise ValueError(f"an Ed25519 public key is {_RAW_LEN} bytes, got {len(value)}")


@attrs.frozen
class PublicKey:
    """A trusted (or claimed) Ed25519 public key, kept as its raw 32 bytes."""

    raw: bytes = attrs.field(validator=_check_raw)

    @property
    def keyid(self) -> str:
        """Hex sha256 of the raw public key."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def fingerprint(self) -> str:
        """Short form of the key id for humans: ``SHA256:`` + first 16 hex digits."""
        return f"SHA256:{self.keyid[:16]}"

    @property
    def hex(self) -> str:
        """The raw key as 64 hex digits (the one-line trusted-keys format)."""
        return self.raw.hex()

    def ed25519(self) -> Ed25519PublicKey:
        """Return the ``cryptography`` key object."""
        return Ed25519PublicKey.from_public_bytes(self.raw)

    def pem(self) -> str:
        """Return the SubjectPublicKeyInfo PEM text."""
        return (
            self.ed25519()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )


@attrs.frozen
class SigningKey:
    """A private key plus where it came from (shown in the report and artifact)."""

    private: Ed25519PrivateKey
    source: str
    developer: bool

    @property
    def public(self) -> PublicKey:
        """The matching public key."""
        return public_key_of(self.private)


def public_key_of(private: Ed25519PrivateKey) -> PublicKey:
    """Return the :class:`PublicKey` of ``private``."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PublicKey(raw)


def load_private_key(pem: bytes, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    """Load a PKCS#8 PEM Ed25519 private key.

    Raises:
        ConfigError: The PEM is unreadable, encrypted without a passphrase, or not Ed25519.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            "certification signing key cannot be loaded",
            why=str(exc),
            fix=f"point {ENV_KEY_FILE} at a PEM from `safetrade keygen` (set {ENV_KEY_PASSPHRASE} "
            "if it is encrypted)",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            f"certification signing key is {type(key).__name__}, not Ed25519",
            fix="create one with `safetrade keygen --out PATH`",
        )
    return key


#: The first line of the key certify creates for itself: wherever the file goes, it stays a
#: developer key (PEM readers skip text before -----BEGIN).
DEV_KEY_MARKER = "# safetrade auto-created developer key: reviewed by nobody"


def write_private_key(path: Path, key: Ed25519PrivateKey, *, header: str = "") -> None:
    """Write ``key`` as unencrypted PKCS#8 PEM readable only by the owner (mode 0600).

    The file is created with 0600 from the start (not chmod-ed afterwards) so the key is never
    readable by others, even briefly.

    Raises:
        FileExistsError: ``path`` already exists; keys are never silently overwritten.
    """
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if header:
        pem = header.encode("ascii") + b"\n" + pem
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)  # defeats a permissive umask on filesystems that ignore the mode


def generate_key_file(path: Path) -> PublicKey:
    """Create a new Ed25519 key at ``path`` (mode 0600) and return its public key."""
    key = Ed25519PrivateKey.generate()
    write_private_key(path, key)
    return public_key_of(key)


def load_signing_key(env: Mapping[str, str], home: Path) -> SigningKey:
    """Find the signing key from ``env``, falling back to (creating) the local developer key.

    Args:
        env: Environment variables (``os.environ`` at the edge; a dict in tests).
        home: The user's home directory; the developer key lives under it, outside the repo.

    Raises:
        ConfigError: A configured key is missing or unreadable.
    """
    passphrase = env.get(ENV_KEY_PASSPHRASE)
    secret = passphrase.encode() if passphrase else None
    configured: tuple[Ed25519PrivateKey, str, bool] | None = None
    if key_file := env.get(ENV_KEY_FILE):
        path = Path(key_file).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{ENV_KEY_FILE}={key_file} does not exist",
                fix=f"create it with `safetrade keygen --out {key_file}` or unset {ENV_KEY_FILE}",
            )
        text = path.read_bytes()
        configured = load_private_key(text, secret), f"file {path}", DEV_KEY_MARKER.encode() in text
    elif pem := env.get(ENV_KEY):
        configured = load_private_key(pem.encode(), secret), f"${ENV_KEY}", DEV_KEY_MARKER in pem
    if configured is not None:
        key, source, marked = configured
        # the auto-created key stays a developer key however it is named, and wherever its
        # file went (its marker line; one made before the marker, by being this machine's):
        # only being named would otherwise drop the label live mode refuses without consent
        developer = marked or public_key_of(key) == developer_public_key(home)
        if developer:
            source += " (an auto-created developer key)"  # not necessarily this machine's
        return SigningKey(key, source, developer)
    dev_path = home / DEV_KEY_RELATIVE
    if dev_path.exists():
        return SigningKey(
            load_private_key(dev_path.read_bytes(), secret), f"developer key {dev_path}", True
        )
    dev_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    write_private_key(dev_path, key, header=DEV_KEY_MARKER)
    return SigningKey(key, f"developer key {dev_path} (created now)", True)


def developer_public_key(home: Path) -> PublicKey | None:
    """The public half of this machine's auto-created developer key; None if it has none."""
    try:
        return public_key_of(load_private_key((home / DEV_KEY_RELATIVE).read_bytes()))
    except (OSError, ConfigError):
        return None  # none, or unreadable: then no artifact can be signed by it here either


def parse_trusted_keys(text: str) -> tuple[PublicKey, ...]:
    """Parse trusted public keys: one 64-hex-digit key per line, or PEM blocks.

    Blank lines and lines starting with ``#`` are ignored.

    Raises:
        ConfigError: A line is neither a hex key nor part of a PEM public key.
    """
    keys: list[PublicKey] = []
    pem_lines: list[str] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if pem_lines or line.startswith("-----BEGIN"):
            pem_lines.append(line)
            if line.startswith("-----END"):
                keys.append(_pem_public_key("\n".join(pem_lines) + "\n", number))
                pem_lines = []
            continue
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(PublicKey(bytes.fromhex(line)))
        except ValueError as exc:
            raise ConfigError(
                f"trusted keys line {number} is not a public key: {line[:40]!r}",
                why=str(exc),
                fix="use 64 hex digits (as printed by `safetrade keygen`) or a PEM public key",
            ) from exc
    if pem_lines:
        raise ConfigError("trusted keys file ends inside a PEM block", fix="add the -----END line")
    return tuple(keys)


def _pem_public_key(pem: str, line: int) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except ValueError as exc:
        raise ConfigError(
            f"PEM public key ending at line {line} is unreadable", why=str(exc)
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"PEM public key ending at line {line} is not Ed25519")
    return PublicKey(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


#: The first line of the signer.pub certify writes next to each artifact.
SIGNER_HEADER = "# safetrade certification signer "
_TRUST_FIX = (
    "keep trusted keys elsewhere: `safetrade trust add KEYFILE --label WHO "
    "--trusted-keys ~/.safetrade/trusted-keys`, after checking the key's fingerprint with its owner"
)


def trusted_keys_path(
    source: Path | str | Sequence[PublicKey] | None, env: Mapping[str, str]
) -> Path | None:
    """The trusted-keys file ``source`` (or ``SAFETRADE_TRUSTED_KEYS``) names, if a file."""
    if source is None:
        configured = env.get(ENV_TRUSTED_KEYS)
        return Path(configured).expanduser() if configured else None
    if isinstance(source, (str, Path)):
        return Path(source).expanduser()
    return None


def load_trusted_keys(
    source: Path | str | Sequence[PublicKey] | None,
    env: Mapping[str, str],
    *,
    artifact: Path | None = None,
) -> tuple[PublicKey, ...]:
    """Resolve trusted keys from an explicit list, a file path, or ``SAFETRADE_TRUSTED_KEYS``.

    Args:
        source: Keys, a trusted-keys file, or None for ``SAFETRADE_TRUSTED_KEYS``.
        env: The environment to read ``SAFETRADE_TRUSTED_KEYS`` from.
        artifact: The artifact about to be verified: a trusted-keys file in its folder is
            refused, since whoever wrote the artifact could write that file too.

    Raises:
        ConfigError: The file is missing, malformed, or sits next to the artifact.
    """
    path = trusted_keys_path(source, env)
    if path is None and source is None:
        return ()
    if path is not None:
        if artifact is not None and path.resolve().parent == artifact.resolve().parent:
            raise ConfigError(
                f"the trusted-keys file {path} sits in the artifact's own folder",
                why="whoever wrote the artifact there could write that file too (every certify "
                "run rewrites signer.pub): trusting it trusts whoever certified last",
                fix=_TRUST_FIX,
            )
        if not path.is_file():
            raise ConfigError(
                f"trusted keys file {path} does not exist",
                fix=f"set {ENV_TRUSTED_KEYS} or --trusted-keys to a file of public keys",
            )
        text = path.read_text(encoding="utf-8")
        if text.startswith(SIGNER_HEADER):
            # wherever it was copied: certify rewrites it with whatever key signs next
            raise ConfigError(
                f"the trusted-keys file {path} is a signer.pub that certify wrote",
                why="every certify run rewrites signer.pub with the key it signed with: trusting "
                "that file trusts whoever certified last, with any key",
                fix=_TRUST_FIX,
            )
        return parse_trusted_keys(text)
    return tuple(source)  # type: ignore[arg-type]
