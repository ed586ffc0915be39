"""Malformed inputs at the certification edges: DSSE envelopes, key material, trees, git.

Each case feeds the real parser a broken input and checks it is refused with a message that
names what is wrong, never a bare traceback from a library underneath.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from safetrade.certification.digest import TreeError, package_files, package_location, tree_files
from safetrade.certification.dsse import (
    EnvelopeFormatError,
    parse_envelope,
    sign_envelope,
    verify_signatures,
)
from safetrade.certification.keys import (
    PublicKey,
    load_private_key,
    parse_trusted_keys,
    public_key_of,
)
from safetrade.certification.provenance import git_state, measure_running_code
from safetrade.errors import ConfigError

# --------------------------------------------------------------------------- DSSE


def _envelope(**fields: object) -> bytes:
    doc: dict[str, object] = {
        "payload": base64.b64encode(b"{}").decode(),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"keyid": "k", "sig": base64.b64encode(b"s" * 64).decode()}],
    }
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"[]", "top level is not a JSON object"),
        (_envelope(payload=None, signatures=None), "missing field(s): payload, signatures"),
        (_envelope(payloadType=7), "payloadType must be a string and signatures a list"),
        (_envelope(signatures={"sig": "AA=="}), "payloadType must be a string"),
        (_envelope(signatures=[{"keyid": "k"}]), "a signature entry lacks 'sig'"),
        (_envelope(signatures=["AA=="]), "a signature entry lacks 'sig'"),
        (_envelope(payload=12), "base64 field is not a string"),
        (_envelope(payload="!!!"), "invalid base64"),
    ],
)
def test_malformed_envelopes_are_refused_naming_the_problem(data: bytes, named: str) -> None:
    with pytest.raises(EnvelopeFormatError) as caught:
        parse_envelope(data)
    assert named in str(caught.value)


def test_url_safe_base64_and_odd_keyids_are_accepted() -> None:
    key = Ed25519PrivateKey.generate()
    signed = sign_envelope(b'{"a": "~~~>>>???"}', key)
    doc = json.loads(signed.to_json())
    doc["payload"] = base64.urlsafe_b64encode(signed.payload).decode()
    doc["signatures"][0]["sig"] = base64.urlsafe_b64encode(signed.signatures[0].sig).decode()
    doc["signatures"][0]["keyid"] = 42  # a hint only: a non-string is dropped, not trusted
    assert "-" in doc["payload"] or "_" in doc["payload"]
    parsed = parse_envelope(json.dumps(doc).encode())
    assert parsed.payload == signed.payload
    assert parsed.signatures[0].keyid == ""
    assert verify_signatures(parsed, [public_key_of(key)]).ok


def test_an_envelope_without_signatures_does_not_verify() -> None:
    envelope = parse_envelope(_envelope(signatures=[]))
    check = verify_signatures(envelope, [public_key_of(Ed25519PrivateKey.generate())])
    assert not check.ok
    assert check.reason == "the artifact carries no signature"
    assert check.signer is None


# --------------------------------------------------------------------------- keys


def test_public_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="an Ed25519 public key is 32 bytes, got 31"):
        PublicKey(bytes(31))


def test_unreadable_and_foreign_private_keys_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="signing key cannot be loaded") as caught:
        load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    assert "SAFETRADE_CERT_KEY_FILE" in str(caught.value)

    encrypted = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(ConfigError, match="cannot be loaded"):
        load_private_key(encrypted)  # encrypted, no passphrase given
    assert isinstance(load_private_key(encrypted, b"secret"), Ed25519PrivateKey)

    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ConfigError, match=r"signing key is \w+, not Ed25519"):
        load_private_key(ec_pem)


def _public_pem(private: object) -> str:
    return (
        private.public_key()
        .public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )


def test_trusted_key_files_with_broken_pem_blocks_are_refused() -> None:
    good = _public_pem(Ed25519PrivateKey.generate())
    with pytest.raises(ConfigError, match="ends inside a PEM block"):
        parse_trusted_keys(good.rsplit("-----END", 1)[0])
    garbled = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    with pytest.raises(ConfigError, match="PEM public key ending at line 5 is unreadable"):
        parse_trusted_keys("# ci\n\n" + garbled)
    with pytest.raises(ConfigError, match="ending at line 4 is not Ed25519"):
        parse_trusted_keys(_public_pem(ec.generate_private_key(ec.SECP256R1())))


def test_trusted_key_line_must_be_64_hex_digits() -> None:
    with pytest.raises(ConfigError, match="line 2 is not a public key") as caught:
        parse_trusted_keys("# keys\n" + "ab" * 31 + "\n")
    assert "64 hex digits" in str(caught.value)


# --------------------------------------------------------------------------- trees, packages


def test_tree_root_must_exist_and_not_be_a_symlink(tmp_path: Path) -> None:
    with pytest.raises(TreeError, match="does not exist"):
        tree_files(tmp_path / "missing")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(TreeError, match="link is a symlink"):
        tree_files(tmp_path / "link")


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("no_such_bot_package_xyz", "not found on sys.path"),
        ("no_such_bot_package_xyz.strategy", "No module named 'no_such_bot_package_xyz'"),
        ("", "empty"),  # find_spec raises ValueError; its message is kept
    ],
)
def test_unlocatable_packages_are_tree_errors_with_the_reason(name: str, named: str) -> None:
    with pytest.raises(TreeError, match="cannot be located") as caught:
        package_location(name)
    assert named.lower() in caught.value.why.lower()


def test_builtin_modules_have_no_source_to_certify() -> None:
    with pytest.raises(TreeError, match="module 'sys' has no source file"):
        package_location("sys")


def test_a_single_module_bot_is_located_and_digested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "onefilebot.py").write_text("SIGNAL = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert package_location("onefilebot") == tmp_path / "onefilebot.py"
    assert list(package_files("onefilebot")) == ["onefilebot.py"]


# --------------------------------------------------------------------------- provenance


def test_measure_names_an_unlocatable_bot_and_a_failing_schema(tmp_path: Path) -> None:
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "__init__.py").write_text("", encoding="utf-8")

    def broken_schema() -> dict[str, object]:
        raise RuntimeError("settings schema exploded")

    running = measure_running_code(
        "no_such_bot_package_xyz", safetrade_root=tmp_path / "st", schema=broken_schema
    )
    assert list(running.safetrade_files) == ["__init__.py"]
    assert running.bot_files == {}
    assert running.bot_error is not None
    assert "cannot be located" in running.bot_error
    assert running.config_schema_digest is None
    assert running.config_error == "RuntimeError: settings schema exploded"


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@needs_git
def test_git_state_reads_head_and_dirty_flag(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(  # noqa: S603 -- fixed argv
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],  # noqa: S607
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )

    assert git_state(tmp_path).commit is None or git_state(tmp_path / "x").commit is None
    git("init", "-q")
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    git("add", "a.txt")
    git("commit", "-q", "-m", "a")
    clean = git_state(tmp_path)
    assert clean.commit is not None
    assert len(clean.commit) == 40
    assert clean.dirty is False
    (tmp_path / "a.txt").write_text("b", encoding="utf-8")
    assert git_state(tmp_path).dirty is True


def test_git_state_outside_a_repository_or_without_git_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "does-not-exist"  # git cannot even start there: OSError
    assert git_state(missing) == git_state(missing)
    assert git_state(missing).commit is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable on PATH
    state = git_state(tmp_path)
    assert (state.commit, state.dirty) == (None, None)
