"""Signed reuse of safetrade's own suite evidence, keyed by everything that could change it.

``tox -e certify`` always runs the bot's conformance scenarios; the library suite it runs next
(features + tests under coverage, property tests) depends only on safetrade, its tests, its
dependencies and the interpreter, not on the bot. When exactly that suite already passed on
this machine, ``safetrade suite`` may reuse its outputs instead of running it again:

* The **key** names every input that could change the suite's result: the digest of the
  installed safetrade tree (what the test processes import and record as ``testedFiles``),
  the digest of the project tree the suite reads (tests, features, examples, README, policy,
  ``pyproject.toml``, ``tox.ini``, ``conftest.py``, ... - every file outside ignored output,
  cache and environment folders), the interpreter (version, implementation, platform), every
  installed distribution with its version, and the environment variables that steer Python,
  pytest, hypothesis, coverage, locale, time zone and safetrade (secrets excluded).
* An **entry** holds the outputs certify reads (``evidence.json``, ``coverage.json``,
  ``cucumber.json``), the key, and where and when the run happened. It is stored only for a
  run in which every suite process exited 0, as a DSSE envelope signed with the same local
  signing key that signs certificates (:mod:`safetrade.certification.keys`), under its own
  payload type, so an entry can never pass for a certificate.
* It is **reused** only when its signature verifies under the current signing key, its key
  equals the key measured now (a mismatch names the inputs that changed), and it is at most
  :data:`MAX_AGE` old. Anything else runs the suite. A reused ``evidence.json`` carries a
  ``reused`` block (cache key, when the run happened, from which checkout and commit, signer),
  which certify records in the signed statement and the reports.

Certify judges reused evidence exactly as fresh evidence: the current policy, the scenario
inventory of the current features, coverage floors, and the code measured now against the
evidence's ``testedFiles``. A cache folder on a writable disk can be deleted (the suite runs)
but not edited into passing evidence without the signing key, and whoever holds that key can
sign certificates anyway.

The folder is ``~/.safetrade/suite-cache`` unless ``SAFETRADE_SUITE_CACHE`` names another one;
``SAFETRADE_SUITE_CACHE=off`` (or ``safetrade suite --no-cache``) always runs the suite.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.certification import installed
from safetrade.certification.closure import ccxt_files
from safetrade.certification.digest import canonical_json, sha256_hex, tree_digest
from safetrade.certification.dsse import (
    EnvelopeFormatError,
    parse_envelope,
    sign_envelope,
    verify_signatures,
)
from safetrade.certification.seal import SUITE_OUTPUTS

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from safetrade.certification.keys import SigningKey

__all__ = [
    "CACHE_FORMAT",
    "ENV_CACHE",
    "MAX_AGE",
    "OUTPUTS",
    "PAYLOAD_TYPE",
    "Lookup",
    "cache_dir",
    "entry_path",
    "key_digest",
    "lookup",
    "measure_key",
    "project_files",
    "prune",
    "store",
]

CACHE_FORMAT = "safetrade-suite-cache/1"
PAYLOAD_TYPE = "application/vnd.safetrade.suite-cache+json"
ENV_CACHE = "SAFETRADE_SUITE_CACHE"
MAX_AGE = timedelta(days=7)
KEEP = 8  # entries kept (each is ~1.5 MB); a new key per edit would otherwise pile up
#: the suite's outputs certify reads, as written into the output folder
OUTPUTS = SUITE_OUTPUTS

# Folders of the project root that hold outputs, virtual environments or VCS data (the
# project's .gitignore, plus .git): never inputs of the suite. Only at the root: a tests/build/
# or fixtures/dist/ folder is an input like any other.
_SKIP_ROOT_DIRS = frozenset({
    ".git", ".tox", ".tox-bootstrap", ".venv", "venv", ".safetrade", "build", "dist",
})  # fmt: skip
# tool caches, wherever they are
_SKIP_DIRS = frozenset({
    "__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache",
})  # fmt: skip
_SKIP_PATHS = frozenset({"certification/out"})
_SKIP_NAMES = frozenset({".coverage", ".venv"})
# Environment variables that can change what the suite does. Secrets are left out entirely.
_ENV_PREFIXES = ("PYTHON", "PYTEST", "HYPOTHESIS", "COVERAGE", "SAFETRADE_", "LC_")
_ENV_NAMES = frozenset({"LANG", "TZ"})
# Where the coverage data file goes and how the cache is configured change no result.
# PYTHONHASHSEED: tox draws a fresh random one for every run, so running the suite again would
# use yet another seed too; a result that depended on it would be a defect of the suite.
_ENV_IGNORED = frozenset({
    "COVERAGE_FILE", ENV_CACHE, "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONHASHSEED",
    "SAFETRADE_CERT_KEY", "SAFETRADE_CERT_KEY_PASSPHRASE",
})  # fmt: skip


def cache_dir(env: Mapping[str, str], home: Path) -> Path | None:
    """The cache folder, or None when caching is off (``SAFETRADE_SUITE_CACHE=off``)."""
    configured = env.get(ENV_CACHE, "").strip()
    if configured.lower() in {"off", "0", "no", "false"}:
        return None
    return Path(configured).expanduser() if configured else home / ".safetrade" / "suite-cache"


def _skipped(rel: str, name: str, is_dir: bool) -> bool:
    if is_dir:
        if name in _SKIP_DIRS or ("/" not in rel and name in _SKIP_ROOT_DIRS):
            return True
    elif (
        "/" not in rel and (name in _SKIP_NAMES or name.endswith((".pem", ".key", ".log")))
    ) or name.startswith(".coverage."):
        # keys kept at the root are the .gitignore's (*.pem, *.key): signing material, not
        # inputs; a key file among the tests' fixtures is one. A log at the root is output
        # (`tox -e certify | tee certify.log` grows one while the suite runs, which kept
        # every passing run out of the cache)
        return True
    # Bytecode outside __pycache__ is an input (Python imports it without a source), and so is
    # an *.egg-info folder below tests/ (pytest collects a conftest.py there); setuptools'
    # own, at the root or in src/, is build output.
    if is_dir and name.endswith(".egg-info") and rel.count("/") <= 1:
        return "/" not in rel or rel.startswith("src/")
    return rel in _SKIP_PATHS


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    # symlinked folders are followed (what they hold is an input too), each real folder once
    seen: set[Path] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        base = Path(folder)
        real = base.resolve()
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        prefix = base.relative_to(root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        dirs[:] = sorted(d for d in dirs if not _skipped(prefix + d, d, is_dir=True))
        for name in files:
            if not _skipped(prefix + name, name, is_dir=False):
                yield prefix + name, base / name


def project_files(root: Path) -> dict[str, str]:
    """Every input file of the suite under ``root`` (relative POSIX path -> sha256).

    Symlinks are digested by their target's content (a dangling one by its target text).
    """
    files: dict[str, str] = {}
    for rel, path in _walk(root):
        try:
            files[rel] = sha256_hex(path.read_bytes())
        except OSError:  # a dangling link or an unreadable file: still part of the key
            files[rel] = "unreadable:" + (os.readlink(path) if path.is_symlink() else "")
    return files


def _distributions(skip: frozenset[str] = frozenset()) -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in installed.by_name().values():
        if dist.key in skip:
            continue
        # a path or VCS install is named by where it comes from, not just a version; an
        # editable one's code is digested elsewhere (safetrade: its tree; the bot: its
        # conformance run), and its checkout path must not tell two clones apart
        origin = _origin(dist.direct_url)
        found[dist.key] = dist.version + (f" {origin}" if origin else "")
    return dict(sorted(found.items()))


# what safetrade's suite imports by name from its own checkout, besides installed packages
_SUITE_NAMES = frozenset({"safetrade", "tests", "features", "conftest"})
# entry points that run nothing inside a test process
_HARMLESS_GROUPS = frozenset({"safetrade.bots", "console_scripts", "gui_scripts"})


def outside_the_suite(name: str) -> bool:
    """Whether nothing of the installed distribution ``name`` can run in safetrade's suite.

    Then a bot author's new version need not re-run safetrade's own suite: the bot is bound
    by its conformance run, which always runs. True only if the distribution is installed, is
    not safetrade, is required by no other installed distribution (ccxt, attrs and the test
    tools are), registers no entry point the test process loads (a pytest plugin), has no
    ``.pth`` line that runs code (``import ...``), and every name it makes importable (its
    packages, and what the folders its ``.pth`` files add hold) is new: no standard module, no
    other distribution's package, nothing the suite imports from its checkout.
    """
    try:
        found = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    dist = installed.read(found)
    if dist is None or dist.key == "safetrade":
        return False
    others = [d for d in installed.by_name().values() if d.key != dist.key]
    if any(dist.key in other.required for other in others):
        return False  # a dependency of something (ccxt, a test tool): the suite runs it
    if {ep.group for ep in found.entry_points} - _HARMLESS_GROUPS:
        return False
    provided = set(dist.top_level)
    for path in found.files or ():
        if path.suffix != ".pth":
            continue
        for line in _read_pth(found, path).splitlines():
            entry = line.strip()
            if entry.startswith(("import ", "import\t")):
                return False  # executed at every interpreter start
            if entry and not entry.startswith("#"):
                # as the site module adds it: relative to the folder holding the .pth
                folder = Path(str(found.locate_file(path))).parent / entry
                provided |= {p.stem if p.suffix == ".py" else p.name
                             for p in (folder.iterdir() if folder.is_dir() else ())}  # fmt: skip
    taken = _SUITE_NAMES | {top for d in others for top in d.top_level}
    taken |= set(sys.stdlib_module_names)
    return not provided & taken


def _read_pth(dist: importlib.metadata.Distribution, path: importlib.metadata.PackagePath) -> str:
    try:
        return Path(str(dist.locate_file(path))).read_text(encoding="utf-8")
    except OSError:
        return "import unreadable"  # cannot tell what it does: treat it as code


def _from_a_local_path(direct_url: str | None) -> bool:
    """Whether PEP 610 ``direct_url.json`` says the distribution came from a local path."""
    try:
        data = json.loads(direct_url) if direct_url else None
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("url", "")).startswith("file://")


def _origin(direct_url: str | None) -> str | None:
    """How a distribution was installed (PEP 610 ``direct_url.json``), without local paths.

    A VCS install is named by its URL and commit, an archive by its hash when given; a local
    folder or wheel only by its kind: its path is the checkout's (tox builds the project's own
    wheel inside it) and would tell two clones of the same code apart. The code of safetrade
    itself is digested file by file elsewhere in the key.
    """
    if not direct_url:
        return None
    try:
        data = json.loads(direct_url)
    except ValueError:
        return "unreadable direct_url.json"
    if not isinstance(data, dict):
        return "unreadable direct_url.json"
    if isinstance(data.get("vcs_info"), dict):
        vcs = data["vcs_info"]
        return f"vcs {data.get('url')} {vcs.get('commit_id')}"
    if isinstance(data.get("archive_info"), dict):
        hashes = data["archive_info"].get("hashes") or data["archive_info"].get("hash")
        return f"archive {canonical_json(hashes).decode()}" if hashes else "archive"
    if isinstance(data.get("dir_info"), dict):
        return "editable" if data["dir_info"].get("editable") else "dir"
    return "unknown origin"


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    return {
        k: env[k]
        for k in sorted(env)
        if (k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)) and k not in _ENV_IGNORED
    }


def measure_key(
    *,
    project_root: Path,
    safetrade_files: Mapping[str, str],
    env: Mapping[str, str],
    bot_distribution: str | None = None,
) -> dict[str, Any]:
    """Everything the suite's result depends on, as one JSON object.

    Left out when :func:`outside_the_suite` says nothing of it can run in the suite:
    ``bot_distribution``, the bot under certification, and every other distribution installed
    from a local folder or file (the bots certified earlier in the same environment stay
    installed there; each one used to change the key, so no bot after the first reused a
    suite). A distribution from a package index stays an input whatever it is: the suite may
    run it by name (``python -m coverage``) without importing or requiring it.
    """
    skip = {
        dist.key
        for dist in installed.by_name().values()
        if dist.key != "safetrade"
        and _from_a_local_path(dist.direct_url)
        and outside_the_suite(dist.key)
    }
    if bot_distribution:
        bot = installed.normalise(bot_distribution)
        if bot not in skip and outside_the_suite(bot_distribution):  # not judged twice
            skip.add(bot)
    return {
        "format": CACHE_FORMAT,
        "safetrade": tree_digest(safetrade_files),
        "project": tree_digest(project_files(project_root)),
        "python": {
            "version": sys.version,
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "machine": platform.machine(),
        },
        "distributions": _distributions(frozenset(skip)),
        # the ccxt code itself (an in-place edit keeps its version): the certificate binds it
        "ccxt": tree_digest(ccxt_files()),
        "environment": _environment(env),
    }


def key_digest(key: Mapping[str, Any]) -> str:
    """The sha256 that names an entry (over the canonical JSON of ``key``)."""
    return sha256_hex(canonical_json(key))


def entry_path(folder: Path, key: Mapping[str, Any]) -> Path:
    """Where the entry for ``key`` lives."""
    return folder / f"{key_digest(key)}.dsse.json"


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def store(
    folder: Path,
    *,
    key: Mapping[str, Any],
    outputs: Mapping[str, bytes],
    run: Mapping[str, Any],
    signing_key: SigningKey,
    now: datetime,
) -> Path:
    """Sign and write the entry for a passing suite run; return its path.

    Args:
        folder: The cache folder (created, owner-only, if missing).
        key: :func:`measure_key` taken before the run.
        outputs: The files of :data:`OUTPUTS` as written by the run (UTF-8 JSON text).
        run: Where the run happened (checkout, git commit, dirty flag), recorded as is.
        signing_key: The local signing key (the one certify signs with).
        now: When the run finished.
    """
    payload = {
        "format": CACHE_FORMAT,
        "keyDigest": key_digest(key),
        "key": dict(key),
        "createdAt": _format_time(now),
        "run": dict(run),
        "outputs": {n: outputs[n].decode("utf-8") for n in sorted(outputs)},
    }
    envelope = sign_envelope(canonical_json(payload), signing_key.private, PAYLOAD_TYPE)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = entry_path(folder, key)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(envelope.to_json())
    partial.replace(path)  # readers see the old entry or the new one, never half of one
    return path


@attrs.frozen
class Lookup:
    """The answer of :func:`lookup`: reusable outputs, or why the suite must run."""

    outputs: Mapping[str, bytes] | None
    reason: str
    reused: Mapping[str, Any] | None = None

    @property
    def hit(self) -> bool:
        """True when the outputs may be reused."""
        return self.outputs is not None


def _miss(reason: str) -> Lookup:
    return Lookup(None, reason)


def _changed(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    names = []
    for part in sorted(set(recorded) | set(current)):
        if recorded.get(part) == current.get(part):
            continue
        old, new = recorded.get(part), current.get(part)
        if isinstance(old, dict) and isinstance(new, dict):
            inner = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            names.append(f"{part} ({', '.join(inner[:5])}{', ...' if len(inner) > 5 else ''})")
        else:
            names.append(part)
    return ", ".join(names) or "nothing"


def lookup(
    folder: Path,
    *,
    key: Mapping[str, Any],
    signing_key: SigningKey,
    now: datetime,
    max_age: timedelta = MAX_AGE,
) -> Lookup:
    """The reusable outputs for ``key``, or the reason they cannot be reused.

    Only an entry whose signature verifies under ``signing_key``'s public key, whose recorded
    key equals ``key``, and which is at most ``max_age`` (at most :data:`MAX_AGE`) old is
    reused: a certificate's validity counts from the run it rests on, so the caller passes
    less for a short validity (a run reused past it would be refused on every re-run).
    """
    path = entry_path(folder, key)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        others = list(folder.glob("*.dsse.json")) if folder.is_dir() else []
        newest = _newest_key(others, signing_key)
        if newest is None:
            return _miss(f"no earlier passing run on this machine ({folder})")
        return _miss(
            f"the suite's inputs changed since the last passing run: {_changed(newest, key)}"
        )
    except OSError as exc:
        return _miss(f"cache entry unreadable ({exc})")
    try:
        envelope = parse_envelope(raw)
    except EnvelopeFormatError as exc:
        return _miss(f"cache entry {path.name} is not a signed envelope ({exc})")
    if envelope.payload_type != PAYLOAD_TYPE:
        return _miss(f"cache entry {path.name} has payload type {envelope.payload_type!r}")
    check = verify_signatures(envelope, [signing_key.public])
    if not check.ok:
        return _miss(f"cache entry {path.name} not signed by this machine's key: {check.reason}")
    try:
        payload = json.loads(envelope.payload)
        recorded_key = payload["key"]
        created = datetime.strptime(payload["createdAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        outputs = {str(n): str(v).encode("utf-8") for n, v in payload["outputs"].items()}
        run = dict(payload["run"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return _miss(f"cache entry {path.name} is malformed ({exc})")
    if payload.get("format") != CACHE_FORMAT or recorded_key != dict(key):
        return _miss(
            f"cache entry {path.name} was made for other inputs: {_changed(recorded_key, key)}"
        )
    if payload.get("keyDigest") != key_digest(key):
        return _miss(f"cache entry {path.name} names another key digest")
    age, limit = now - created, min(max_age, MAX_AGE)
    if age > limit or age < -timedelta(minutes=5):
        return _miss(f"cache entry {path.name} is from {payload['createdAt']}: older than "
                     f"{limit} (or from the future)")  # fmt: skip
    if missing := [n for n in OUTPUTS if n not in outputs]:
        return _miss(f"cache entry {path.name} lacks {', '.join(missing)}")
    reused = {
        "cacheKey": key_digest(key),
        "ranAt": payload["createdAt"],
        "run": run,
        "signer": signing_key.public.keyid,
        "entry": str(path),
    }
    return Lookup(outputs, f"reused the passing run of {payload['createdAt']}", reused)


def _newest_key(paths: list[Path], signing_key: SigningKey) -> Mapping[str, Any] | None:
    """The key of the newest verifiable entry (to say what changed since), if any."""
    best: tuple[str, Mapping[str, Any]] | None = None
    for path in paths:
        try:
            envelope = parse_envelope(path.read_bytes())
            if envelope.payload_type != PAYLOAD_TYPE:
                continue
            if not verify_signatures(envelope, [signing_key.public]).ok:
                continue
            payload = json.loads(envelope.payload)
            created, key = str(payload["createdAt"]), payload["key"]
        except (OSError, EnvelopeFormatError, ValueError, KeyError, TypeError):
            continue
        if isinstance(key, dict) and (best is None or created > best[0]):
            best = created, key
    return None if best is None else best[1]


def prune(folder: Path, now: datetime, keep: int = KEEP) -> None:
    """Delete entries older than :data:`MAX_AGE`, and all but the ``keep`` newest."""
    if not folder.is_dir():
        return
    cutoff = (now - MAX_AGE).timestamp()
    dated = []
    for path in folder.glob("*.dsse.json"):
        try:
            dated.append((path.stat().st_mtime, path))
        except OSError:
            continue
    dated.sort(reverse=True)
    for rank, (mtime, path) in enumerate(dated):
        if rank >= keep or mtime < cutoff:
            path.unlink(missing_ok=True)
