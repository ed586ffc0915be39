"""Tree digest determinism, key files, developer key on first use, trusted-key parsing, policy."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from safetrade.certification.digest import TreeError, diff_trees, tree_digest, tree_files
from safetrade.certification.keys import (
    DEV_KEY_MARKER,
    DEV_KEY_RELATIVE,
    ENV_KEY,
    ENV_KEY_FILE,
    SIGNER_HEADER,
    developer_public_key,
    generate_key_file,
    load_signing_key,
    load_trusted_keys,
    parse_trusted_keys,
)
from safetrade.certification.policy import MAX_VALIDITY_DAYS, SHIPPED_POLICY, parse_policy
from safetrade.errors import ConfigError


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_tree_digest_ignores_order_mtime_and_bytecode(tmp_path: Path) -> None:
    files = {"a.py": "A\n", "sub/b.py": "B\n", "Z.txt": "z"}
    first = _tree(tmp_path / "one", files)
    second = _tree(tmp_path / "two", dict(reversed(list(files.items()))))
    os.utime(second / "a.py", (1, 1))
    (second / "__pycache__").mkdir()
    (second / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\x00")
    assert tree_files(first) == tree_files(second)
    assert tree_digest(tree_files(first)) == tree_digest(tree_files(second))
    assert tree_digest(dict(reversed(list(tree_files(first).items())))) == tree_digest(
        tree_files(first)
    )


def test_bytecode_outside_pycache_is_digested_since_python_runs_it_without_a_source(
    tmp_path: Path,
) -> None:
    root = _tree(tmp_path / "one", {"a.py": "A\n"})
    before = tree_files(root)
    (root / "a").mkdir()
    (root / "a" / "__init__.pyc").write_bytes(b"\x00")  # imported instead of a.py
    assert diff_trees(before, tree_files(root)).added == ("a/__init__.pyc",)


def test_tree_digest_matches_in_toto_dirhash_construction(tmp_path: Path) -> None:
    import hashlib

    root = _tree(tmp_path / "p", {"b.py": "b", "a.py": "a"})
    lines = "".join(
        f"{hashlib.sha256(c.encode()).hexdigest()}  {n}\n"
        for n, c in sorted({"a.py": "a", "b.py": "b"}.items())
    )
    assert tree_digest(tree_files(root)) == hashlib.sha256(lines.encode()).hexdigest()


def test_content_change_changes_digest_and_diff_names_it(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {"a.py": "A", "b.py": "B"})
    before = tree_files(root)
    (root / "a.py").write_text("A2", encoding="utf-8")
    (root / "c.py").write_text("C", encoding="utf-8")
    (root / "b.py").unlink()
    after = tree_files(root)
    assert tree_digest(before) != tree_digest(after)
    diff = diff_trees(before, after)
    assert (diff.changed, diff.added, diff.removed) == (("a.py",), ("c.py",), ("b.py",))
    assert diff.describe() == "changed: a.py; added: c.py; removed: b.py"


def test_symlinks_are_refused(tmp_path: Path) -> None:
    root = _tree(tmp_path / "p", {"a.py": "A"})
    (root / "link.py").symlink_to(root / "a.py")
    with pytest.raises(TreeError, match="symlink"):
        tree_files(root)


def test_single_module_bot_is_digested_as_one_file(tmp_path: Path) -> None:
    module = tmp_path / "bot.py"
    module.write_text("X = 1\n", encoding="utf-8")
    assert list(tree_files(module)) == ["bot.py"]


def test_keygen_file_is_owner_only_and_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "cert.pem"
    public = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in path.read_bytes()
    assert len(public.keyid) == 64
    with pytest.raises(FileExistsError):
        generate_key_file(path)


def test_developer_key_created_on_first_use_then_reused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = load_signing_key({}, home)
    dev = home / DEV_KEY_RELATIVE
    assert first.developer
    assert "created now" in first.source
    assert stat.S_IMODE(dev.stat().st_mode) == 0o600
    second = load_signing_key({}, home)
    assert second.developer
    assert second.public == first.public
    assert "created now" not in second.source


def test_configured_key_wins_over_developer_key(tmp_path: Path) -> None:
    key_path = tmp_path / "ci.pem"
    public = generate_key_file(key_path)
    from_file = load_signing_key({ENV_KEY_FILE: str(key_path)}, tmp_path / "home")
    from_text = load_signing_key({ENV_KEY: key_path.read_text()}, tmp_path / "home")
    assert from_file.public == public == from_text.public
    assert not from_file.developer
    assert not from_text.developer
    assert not (tmp_path / "home" / DEV_KEY_RELATIVE).exists()


def test_the_developer_key_named_as_the_signing_key_is_still_a_developer_key(
    tmp_path: Path,
) -> None:
    """Naming ~/.safetrade/dev-signing-key.pem in SAFETRADE_CERT_KEY_FILE dropped its label,
    so live mode started without the owner's consent to a key nobody reviewed."""
    home = tmp_path / "home"
    dev = load_signing_key({}, home)
    dev_file = home / DEV_KEY_RELATIVE
    from_file = load_signing_key({ENV_KEY_FILE: str(dev_file)}, home)
    from_text = load_signing_key({ENV_KEY: dev_file.read_text()}, home)
    assert from_file.public == from_text.public == dev.public
    assert from_file.developer
    assert from_text.developer
    assert "auto-created developer key" in from_file.source
    assert developer_public_key(home) == dev.public
    assert developer_public_key(tmp_path / "elsewhere") is None


def test_the_developer_key_moved_off_this_machine_is_still_a_developer_key(
    tmp_path: Path,
) -> None:
    """Moved off ~/.safetrade (the README says keep keys off the trading machine) or pasted
    into SAFETRADE_CERT_KEY elsewhere, it lost its label: its file now says what it is."""
    home = tmp_path / "home"
    dev = load_signing_key({}, home)
    moved = tmp_path / "elsewhere" / "signing.pem"
    moved.parent.mkdir()
    (home / DEV_KEY_RELATIVE).rename(moved)
    other_home = tmp_path / "other"
    from_file = load_signing_key({ENV_KEY_FILE: str(moved)}, other_home)
    from_text = load_signing_key({ENV_KEY: moved.read_text()}, other_home)
    assert from_file.public == from_text.public == dev.public
    assert from_file.developer
    assert from_text.developer
    assert moved.read_text().startswith(DEV_KEY_MARKER)
    # a key from `safetrade keygen` carries no marker
    own = tmp_path / "own.pem"
    generate_key_file(own)
    assert not load_signing_key({ENV_KEY_FILE: str(own)}, other_home).developer


def test_a_signer_pub_certify_wrote_is_never_a_trusted_keys_file(tmp_path: Path) -> None:
    """Copied away from the artifact (a deploy step), it was accepted: every certify rewrites it."""
    key = generate_key_file(tmp_path / "k.pem")
    signer_pub = tmp_path / "deploy" / "signer.pub"
    signer_pub.parent.mkdir()
    signer_pub.write_text(f"{SIGNER_HEADER}{key.fingerprint}\n{key.hex}\n", encoding="utf-8")
    artifact = tmp_path / "elsewhere" / "safetrade.cert.json"
    with pytest.raises(ConfigError, match=r"is a signer\.pub that certify wrote") as info:
        load_trusted_keys(signer_pub, {}, artifact=artifact)
    assert "safetrade trust add" in str(info.value)
    # what `safetrade trust add` writes from it is trusted
    trusted = tmp_path / "trusted-keys"
    trusted.write_text(f"# ci (added by hand)\n{key.hex}\n", encoding="utf-8")
    assert load_trusted_keys(trusted, {}, artifact=artifact) == (key,)


def test_missing_configured_key_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_signing_key({ENV_KEY_FILE: str(tmp_path / "nope.pem")}, tmp_path)


def test_trusted_keys_accept_hex_and_pem_with_comments(tmp_path: Path) -> None:
    a = generate_key_file(tmp_path / "a.pem")
    b = generate_key_file(tmp_path / "b.pem")
    text = f"# ci key\n{a.hex}\n\n{b.pem()}"
    assert parse_trusted_keys(text) == (a, b)
    trusted = tmp_path / "trusted"
    trusted.write_text(text, encoding="utf-8")
    assert load_trusted_keys(None, {"SAFETRADE_TRUSTED_KEYS": str(trusted)}) == (a, b)
    assert load_trusted_keys(None, {}) == ()
    with pytest.raises(ConfigError, match="line 1"):
        parse_trusted_keys("not-a-key")


def test_policy_parses_and_enforces_library_maximum() -> None:
    policy = parse_policy(
        b"[certificate]\nvalidity_days = 30\n[coverage]\ntotal_floor = 80\n"
        b'[coverage.floors]\n"safetrade/guard.py" = 90\n'
    )
    assert policy.validity_days == 30
    assert policy.coverage_floors == (("safetrade/guard.py", 90.0),)
    with pytest.raises(ConfigError, match=f"outside 1..{MAX_VALIDITY_DAYS}"):
        parse_policy(b"[certificate]\nvalidity_days = 365\n")
    with pytest.raises(ConfigError, match="unknown table"):
        parse_policy(b"[certificat]\n")


def test_repository_policy_is_valid() -> None:
    policy_path = SHIPPED_POLICY
    policy = parse_policy(policy_path.read_bytes())
    assert "incident-2026-02-06" in policy.required_tags
    assert dict(policy.coverage_floors)["safetrade/guard.py"] >= 90
