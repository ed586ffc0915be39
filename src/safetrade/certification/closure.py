"""The executable closure that decides what reaches the exchange, beyond safetrade and the bot.

ccxt builds every request KuCoin receives (a changed ``ccxt/kucoin.py`` can send a stop order
with other parameters), so its files are bound by digest. The installed distributions that
safetrade and the bot depend on at run time (attrs, cryptography, requests, ...) are bound by
name and version. Test-only tools (pytest, coverage) are not part of the closure: they are
in the certify environment and not in a live one, and must not make every deployment differ.
"""

from __future__ import annotations

from safetrade.certification import installed
from safetrade.certification.digest import TreeError, package_location, sha256_hex, tree_files
from safetrade.certification.installed import REQUIREMENT_NAME, normalise

__all__ = [
    "CCXT_PARTS",
    "ccxt_files",
    "describe_differences",
    "runtime_distributions",
]

#: The parts of ccxt a KuCoin request goes through: the exchange class, its API table, and
#: the shared base (signing, precision, errors, HTTP).
CCXT_PARTS = ("__init__.py", "kucoin.py", "abstract/kucoin.py", "base")


def ccxt_files() -> dict[str, str]:
    """sha256 of each ccxt file in :data:`CCXT_PARTS`, as installed here (empty: no ccxt).

    Located without importing ccxt (an import takes seconds and runs its code).
    """
    try:
        root = package_location("ccxt")
    except TreeError:
        return {}
    files: dict[str, str] = {}
    for part in CCXT_PARTS:
        path = root / part
        if path.is_dir():
            files.update({f"{part}/{rel}": digest for rel, digest in tree_files(path).items()})
        elif path.is_file():
            files[part] = sha256_hex(path.read_bytes())
    return dict(sorted(files.items()))


def _requirements(requires: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``(name, conditional)`` of each run-time requirement (extras are not run time)."""
    names = []
    for requirement in requires:
        marker = requirement.split(";", 1)[1] if ";" in requirement else ""
        if "extra" in marker:
            continue  # an optional extra is not installed because of this distribution
        match = REQUIREMENT_NAME.match(requirement)
        if match:
            names.append((normalise(match.group(1)), bool(marker.strip())))
    return names


def runtime_distributions(*roots: str) -> dict[str, str]:
    """Name -> version of ``roots`` and everything they require at run time, as installed.

    A requirement that is not installed is recorded as ``"missing"``, unless it is
    conditional (``; python_version < "3.11"``, ``; sys_platform == "win32"``): markers are
    not evaluated, so an absent conditional requirement is taken as not needed here.
    Each name is found as ``importlib.metadata.distribution`` finds it (first on the path).
    """
    seen: dict[str, str] = {}
    pending = [(normalise(r), False) for r in roots if r]
    while pending:
        name, conditional = pending.pop()
        if name in seen:
            continue
        dist = installed.find(name)
        if dist is None:
            if not conditional:
                seen[name] = "missing"
            continue
        seen[name] = dist.version
        pending.extend(_requirements(dist.requires))
    return dict(sorted(seen.items()))


def describe_differences(certified: dict[str, str], running: dict[str, str]) -> str:
    """``requests 2.31.0 -> 2.32.0; added foo 1.0; removed bar 2.0``."""
    parts = [
        f"{name} {certified[name]} -> {running[name]}"
        for name in sorted(certified.keys() & running.keys())
        if certified[name] != running[name]
    ]
    parts += [f"added {n} {running[n]}" for n in sorted(running.keys() - certified.keys())]
    parts += [f"removed {n} {certified[n]}" for n in sorted(certified.keys() - running.keys())]
    return "; ".join(parts)
