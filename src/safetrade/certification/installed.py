"""The installed distributions as certification reads them: name, version, requirements, packages.

``importlib.metadata`` parses a distribution's whole ``METADATA`` file (long description
included) with the email parser on every ``.metadata``, ``.version`` and ``.requires`` access,
and ``packages_distributions()`` does it for every distribution on every call: one measurement
of the running code cost ~85 ms of parsing, the same files each time. Here each file's *text*
is read on every call (so an upgraded, edited or removed distribution is seen at once) but
parsed once per process per distinct text, and only its headers.

Distributions are listed in ``sys.path`` order and a name's first one wins, as for imports: a
distribution shadowed by an earlier one on the path is not the code that runs.
"""

from __future__ import annotations

import csv
import email.parser
import importlib.metadata
import re
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Installed", "by_name", "distributions", "normalise", "owners_of", "version_of"]


def normalise(name: str) -> str:
    """A distribution name as packaging compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@attrs.frozen
class Installed:
    """What certification needs of one installed distribution."""

    name: str  # as its metadata spells it
    version: str
    requires: tuple[str, ...]  # Requires-Dist lines, markers included
    top_level: tuple[str, ...]  # importable top-level names it provides
    direct_url: str | None  # PEP 610 direct_url.json, when installed from a URL or folder

    @property
    def key(self) -> str:
        """The name as packaging compares it."""
        return normalise(self.name)


@lru_cache(maxsize=4096)
def _headers(text: str) -> tuple[str, str, tuple[str, ...]]:
    # the headers end at the first blank line; the body is the long description
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    message = email.parser.HeaderParser().parsestr(head)
    requires = tuple(str(r) for r in message.get_all("Requires-Dist") or ())
    return str(message.get("Name") or ""), str(message.get("Version") or ""), requires


@lru_cache(maxsize=4096)
def _record_top_level(record: str) -> tuple[str, ...]:
    # what packages_distributions() infers when top_level.txt is absent: the first part of
    # each .py path listed in RECORD (a module at the top is named without its suffix)
    names = set()
    for row in csv.reader(record.splitlines()):
        if not row:
            continue
        path = PurePosixPath(row[0])
        if path.suffix == ".py":
            names.add(path.parts[0] if len(path.parts) > 1 else path.stem)
    return tuple(sorted(n for n in names if "." not in n))


def _read(dist: importlib.metadata.Distribution) -> Installed | None:
    text = dist.read_text("METADATA")
    if text is None:
        text = dist.read_text("PKG-INFO")  # an egg-info distribution
        if text is None:
            return None
        name, version, _ = _headers(text)
        requires = tuple(dist.requires or ())  # egg-info keeps them in requires.txt
    else:
        name, version, requires = _headers(text)
    if not name:
        return None
    declared = dist.read_text("top_level.txt")
    if declared is not None:
        top_level = tuple(declared.split())
    else:
        top_level = _record_top_level(dist.read_text("RECORD") or "")
    return Installed(name, version, requires, top_level, dist.read_text("direct_url.json"))


def distributions() -> tuple[Installed, ...]:
    """Every installed distribution, in ``sys.path`` order (a name can appear twice)."""
    found = (_read(dist) for dist in importlib.metadata.distributions())
    return tuple(d for d in found if d is not None)


def by_name() -> dict[str, Installed]:
    """Normalised name -> the distribution of that name imports would use (the first)."""
    named: dict[str, Installed] = {}
    for dist in distributions():
        named.setdefault(dist.key, dist)
    return named


def owners_of(top_level: str, named: Mapping[str, Installed] | None = None) -> list[str]:
    """Names of the distributions that provide the top-level package ``top_level``.

    ``named`` is a :func:`by_name` the caller already read.
    """
    named = by_name() if named is None else named
    return [d.name for d in named.values() if top_level in d.top_level]


def version_of(name: str) -> str | None:
    """The version of the distribution ``name`` imports would use (None: not installed)."""
    dist = by_name().get(normalise(name))
    return None if dist is None else dist.version
