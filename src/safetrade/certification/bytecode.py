"""What Python will execute must be what was digested: no bytecode other than the source's.

The tree digests cover ``.py`` sources and skip ``__pycache__``. Python, however, runs a cached
``.pyc`` whenever its header matches the source (same mtime and size, or same hash), without
looking at the source again: a tampered ``rounder.*.pyc`` with a matching header changes
behaviour while every digest still matches. So each cached file of this interpreter that
Python *would* use is recompiled from its source and compared; anything else in
``__pycache__`` (a ``.py`` hidden there, a ``strategy.json`` the bot reads, the cache of a
deleted source) is refused too, since nothing digests it; only another interpreter's cache of
a source beside it is harmless. Bytecode outside ``__pycache__`` is refused as well (Python
imports it with no source at all).

:func:`shadowed_standard_modules` covers the other way to run unreviewed code under a checked
name: a ``decimal.py`` in the working directory (``python -m bot`` puts it first on
``sys.path``) is imported instead of the standard library's, and safetrade's money arithmetic
is then somebody else's.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import marshal
import os
import re
import site
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import ModuleType

__all__ = [
    "foreign_bytecode",
    "in_standard_library",
    "real_path",
    "shadowed_standard_modules",
    "site_dirs",
]

# setuptools replaces distutils on purpose (its distutils-precedence.pth), from site-packages
_REPLACED_ON_PURPOSE = frozenset({"distutils"})

_MAGIC = importlib.util.MAGIC_NUMBER
_HEADER = 16
_FLAG_HASH, _FLAG_CHECK = 0b01, 0b10


def _would_be_used(data: bytes, source: Path, source_bytes: bytes) -> bool:
    """Whether the import system would run ``data`` for ``source`` instead of compiling it."""
    if len(data) < _HEADER or data[:4] != _MAGIC:
        return False  # another Python's, or garbage: it would be recompiled, never run
    flags = int.from_bytes(data[4:8], "little")
    if flags & _FLAG_HASH:
        import _imp  # noqa: PLC0415 -- the switch the import system itself reads

        # SourceLoader.get_code: the source's hash is compared only when the pyc asks for it
        # (checked) or ``--check-hash-based-pycs always``; ``never`` runs even a checked pyc
        # unchecked, so a stale or tampered one beside the certified source is what runs
        mode = _imp.check_hash_based_pycs
        if mode == "never" or not (flags & _FLAG_CHECK or mode == "always"):
            return True
        # the key is the whole magic number, as py_compile and the import system use it
        return data[8:16] == importlib.util.source_hash(source_bytes)
    stat = source.stat()
    mtime = int(stat.st_mtime) & 0xFFFFFFFF
    size = stat.st_size & 0xFFFFFFFF
    return data[8:12] == mtime.to_bytes(4, "little") and data[12:16] == size.to_bytes(4, "little")


def _check(source: Path, cached: Path, root: Path) -> str | None:
    rel = cached.relative_to(root).as_posix() if cached.is_relative_to(root) else str(cached)
    data = cached.read_bytes()
    source_bytes = source.read_bytes()
    if not _would_be_used(data, source, source_bytes):
        return None
    problem = _compare(data, source_bytes)
    return None if problem is None else f"{rel}: {problem.format(source=source.name)}"


# Recompiling costs ~2 ms a file, ~180 ms for all of safetrade, and the running code is
# measured at every start-up check: the verdict for the same two contents (by digest) is
# kept for the process. Any change to either file is a new digest, so a new comparison.
_VERDICTS: dict[tuple[bytes, bytes, int], str | None] = {}


def _compare(data: bytes, source_bytes: bytes) -> str | None:
    """What is wrong with bytecode ``data`` for ``source_bytes`` (None: it is their code)."""
    digests = (hashlib.sha256(data).digest(), hashlib.sha256(source_bytes).digest())
    key = (*digests, sys.flags.optimize)
    if key in _VERDICTS:
        return _VERDICTS[key]
    try:
        # the bytes Python itself would load from this file: reading them runs nothing
        stored = marshal.loads(data[_HEADER:])  # noqa: S302
        fresh = compile(
            source_bytes,
            stored.co_filename,
            "exec",
            dont_inherit=True,
            optimize=sys.flags.optimize,
        )
    except (ValueError, EOFError, TypeError, SyntaxError, AttributeError) as exc:
        verdict: str | None = f"unreadable bytecode ({type(exc).__name__})"
    else:
        differs = "bytecode differs from {source} (it would run instead)"
        verdict = None if stored == fresh else differs
    if len(_VERDICTS) > 4096:  # bounded: a long-running process re-checks after many edits
        _VERDICTS.clear()
    _VERDICTS[key] = verdict
    return verdict


def foreign_bytecode(root: Path) -> list[str]:
    """Files under ``root`` Python would execute that are not compiled from the digested source.

    Each source's cache is found the way the import system finds it (``sys.pycache_prefix``
    and the interpreter's optimisation level included).

    Returns:
        One line per problem, relative to ``root``; empty when all bytecode is the source's.
    """
    problems: list[str] = []
    if root.is_file():
        # a one-module bot: its cache sits in the __pycache__ beside it
        cached = Path(importlib.util.cache_from_source(str(root)))
        if cached.is_file() and (problem := _check(root, cached, root.parent)):
            problems.append(problem)
        return problems
    if not root.is_dir():
        return problems
    tag = sys.implementation.cache_tag
    sources, strays, caches = _walk(root)
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        if cached.is_file() and (problem := _check(source, cached, root)):
            problems.append(problem)
    # Python imports a .pyc outside __pycache__ without any source (a package
    # ``rounder/__init__.pyc`` even shadows ``rounder.py``): code nobody can review
    problems.extend(
        f"{stray.relative_to(root).as_posix()}: bytecode outside __pycache__ runs without a "
        "source file"
        for stray in strays
    )
    for cache in caches:
        problems.extend(
            f"{path.relative_to(root).as_posix()}: {problem}"
            for path in sorted(cache.iterdir())
            if (problem := _cache_entry_problem(path, cache, tag)) is not None
        )
    return problems


# what a __pycache__ may hold: ``<stem>.<tag>[.opt-N].pyc``, the tag of any interpreter
# (``cpython-311``, ``pypy39``, pytest's ``cpython-311-pytest-9.2.0``)
_CACHED = re.compile(r"(?P<stem>[^.]+)\.(?P<tag>.+?)(?:\.opt-[0-9]+)?\.pyc")


def _cache_entry_problem(path: Path, cache: Path, tag: str) -> str | None:
    """Why ``path`` in the ``__pycache__`` folder ``cache`` is not a source's cached bytecode.

    The digest skips ``__pycache__`` (bytecode differs between machines), so anything else
    kept there would be read, imported or executed without ever being certified: a
    ``strategy.json`` the bot loads, a module hidden there, the cache of a deleted source.
    """
    if path.suffix in (".py", ".pyw") or path.is_dir():
        return "a module hidden in __pycache__ is not digested"
    match = _CACHED.fullmatch(path.name)
    if match is None:
        return (
            "a file in __pycache__ that is no source's cached bytecode is not digested "
            "(data or code kept there changes what runs unseen)"
        )
    stem = match["stem"]
    if any((cache.parent / f"{stem}{suffix}").is_file() for suffix in (".py", ".pyw")):
        return None  # a source's cache: this interpreter's is compared above, others never run
    if match["tag"] == tag:
        return "bytecode without a source file (not digested)"
    return f"bytecode of another interpreter ({match['tag']}) without a source file (not digested)"


def _walk(root: Path) -> tuple[list[Path], list[Path], list[Path]]:
    """Sources, bytecode outside ``__pycache__``, and the ``__pycache__`` folders, sorted.

    One walk of the tree: this runs at every measurement of the running code.
    """
    sources: list[Path] = []
    strays: list[Path] = []
    caches: list[Path] = []
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        if "__pycache__" in dirs:
            caches.append(base / "__pycache__")  # what it holds is checked file by file
            dirs.remove("__pycache__")
        for name in files:
            if name.endswith(".py"):
                sources.append(base / name)
            elif name.endswith((".pyc", ".pyo")):
                strays.append(base / name)
    return sorted(sources), sorted(strays), sorted(caches)


def shadowed_standard_modules(modules: Mapping[str, ModuleType] | None = None) -> list[str]:
    """Loaded modules named like a standard-library module but not loaded from it.

    Args:
        modules: The loaded modules (default ``sys.modules``).

    Returns:
        One line per module, naming the file that was imported instead.
    """
    loaded = sys.modules if modules is None else modules
    names = sys.stdlib_module_names
    problems: list[str] = []
    for name, module in sorted(loaded.items()):
        top = name.partition(".")[0]
        if top not in names or top in _REPLACED_ON_PURPOSE:
            continue
        where = getattr(module, "__file__", None)
        if not isinstance(where, str):
            continue  # built in or frozen: part of the interpreter
        if not in_standard_library(where):
            problems.append(
                f"{name} was imported from {os.path.realpath(where)}, not from the standard "
                f"library ({', '.join(_stdlib_homes())}): a file named like it sits earlier "
                "on sys.path (the working directory, the script's folder or PYTHONPATH)"
            )
    return problems


# Variables that move where Python finds its standard library (PYTHONHOME, PYTHONPLATLIBDIR)
# or the user's packages (PYTHONUSERBASE): "the standard library" and "site-packages", which
# every loaded module is compared with, would then be wherever they point.
MOVING_VARIABLES = ("PYTHONHOME", "PYTHONPLATLIBDIR", "PYTHONUSERBASE")


def moved_homes(
    env: Mapping[str, str] | None = None,
    *,
    ignore_environment: bool | None = None,
    user_site: bool | None = None,
) -> list[str]:
    """The variables of :data:`MOVING_VARIABLES` this interpreter obeys, one line each.

    Args:
        env: The environment (default ``os.environ``).
        ignore_environment: Whether Python ignores ``PYTHON*`` variables (``-E`` / ``-I``;
            default ``sys.flags.ignore_environment``).
        user_site: Whether Python reads the user site (default ``site.ENABLE_USER_SITE``;
            never in a venv, nor with ``-s`` or PYTHONNOUSERSITE).
    """
    ignored = sys.flags.ignore_environment if ignore_environment is None else ignore_environment
    if ignored:
        return []
    variables = os.environ if env is None else env
    # what each would move, were it obeyed: the user site only where Python reads it, the
    # library folder only when it is not the build's own
    obeyed = {
        "PYTHONHOME": True,
        "PYTHONPLATLIBDIR": variables.get("PYTHONPLATLIBDIR")
        != sysconfig.get_config_var("PLATLIBDIR"),
        "PYTHONUSERBASE": bool(site.ENABLE_USER_SITE if user_site is None else user_site),
    }
    return [
        f"{name}={variables[name]} moves where Python finds its standard library or user "
        "packages, which every module is checked against: unset it (or start with python -I)"
        for name in MOVING_VARIABLES
        if variables.get(name) and obeyed[name]
    ]


@functools.cache
def _stdlib_homes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(sorted({os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")}))


# Resolving ~900 module paths costs ~20 ms; a loaded module's file path keeps its answer
# (shared with the check of the loaded modules, provenance.check_loaded_modules).
@functools.lru_cache(maxsize=8192)
def real_path(file: str) -> str:
    """``os.path.realpath(file)``, resolving each folder once (modules share a few hundred)."""
    file = os.path.abspath(file)
    if os.path.islink(file):
        return os.path.realpath(file)
    folder, name = os.path.split(file)
    return os.path.join(_real_folder(folder), name)


@functools.lru_cache(maxsize=4096)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


@functools.cache
def site_dirs() -> tuple[str, ...]:
    """Where installed distributions live (real paths): purelib, platlib, site, user site (if used).

    A venv's platstdlib is the venv's own lib/pythonX.Y, which holds its site-packages (and
    Debian's /usr/lib/python3.11 holds dist-packages): what is installed there is not the
    standard library, whatever its name.
    """
    paths = sysconfig.get_paths()
    dirs = {paths["purelib"], paths["platlib"]}
    dirs.update(getattr(site, "getsitepackages", list)())
    # the user's site-packages only where Python reads it (never in a venv): counted anyway,
    # it would let any folder PYTHONPATH names there pass for installed code
    user = getattr(site, "getusersitepackages", None)
    if user is not None and site.ENABLE_USER_SITE:
        dirs.add(user())
    return tuple(sorted({os.path.realpath(d) for d in dirs}))


@functools.lru_cache(maxsize=8192)
def in_standard_library(file: str) -> bool:
    """Whether ``file`` is the standard library's (not installed into it by a distribution)."""
    # the path as imported or as resolved: Debian links /usr/lib/python3.11/sitecustomize.py
    # to /etc/python3.11/, and only who can write the standard library can place such a link
    return any(
        any(path.startswith(home + os.sep) for home in _stdlib_homes())
        and not any(path.startswith(folder + os.sep) for folder in site_dirs())
        for path in {os.path.abspath(file), real_path(file)}
    )
