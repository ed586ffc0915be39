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

import email.parser
import importlib.metadata
import inspect
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import attrs

__all__ = [
    "REQUIREMENT_NAME",
    "Installed",
    "by_name",
    "distributions",
    "find",
    "listed_files",
    "normalise",
    "owners_of",
    "read",
    "version_of",
]


#: The distribution name a requirement line starts with.
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


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

    @property
    def required(self) -> frozenset[str]:
        """Normalised names of everything it requires, under any marker or extra."""
        return frozenset(
            normalise(match.group(1))
            for line in self.requires
            if (match := REQUIREMENT_NAME.match(line))
        )


@lru_cache(maxsize=4096)
def _headers(text: str) -> tuple[str, str, tuple[str, ...]]:
    # the headers end at the first blank line; the body is the long description
    head = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    message = email.parser.HeaderParser().parsestr(head)
    requires = tuple(str(r) for r in message.get_all("Requires-Dist") or ())
    return str(message.get("Name") or ""), str(message.get("Version") or ""), requires


def _importable(name: str) -> bool:
    return "." not in name


def _top_level_inferred(dist: importlib.metadata.Distribution) -> set[str]:
    """What ``packages_distributions()`` infers when ``top_level.txt`` names nothing."""
    # the running Python's own rule (3.11: first part of each .py file; 3.12: of every file)
    own = getattr(importlib.metadata, "_top_level_inferred", None)
    if own is not None:
        return set(own(dist))
    names = set()  # 3.12's rule, should a later Python rename its helper
    for path in dist.files or ():
        top, *rest = path.parts
        names.add(top if rest else (inspect.getmodulename(str(path)) or str(path)))
    return set(filter(_importable, names))


_INFERRED: dict[tuple[str | None, ...], tuple[str, ...]] = {}


def _top_level(dist: importlib.metadata.Distribution) -> tuple[str, ...]:
    declared = (dist.read_text("top_level.txt") or "").split()
    if declared:
        return tuple(declared)
    # inferred from the files a distribution lists (RECORD, or an egg's file lists), parsed
    # once per distinct listing
    listing = tuple(dist.read_text(n) for n in ("RECORD", "installed-files.txt", "SOURCES.txt"))
    if listing not in _INFERRED:
        if len(_INFERRED) > 4096:  # bounded, like the header cache
            _INFERRED.clear()
        _INFERRED[listing] = tuple(sorted(_top_level_inferred(dist)))
    return _INFERRED[listing]


def read(dist: importlib.metadata.Distribution) -> Installed | None:
    """What certification needs of ``dist`` (None: it has no usable metadata)."""
    # the texts importlib.metadata reads, in its order (a one-file .egg-info is read as "")
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("")
    if not text:
        return None
    name, version, requires = _headers(text)
    if not name:
        return None
    if not requires and dist.read_text("requires.txt") is not None:
        requires = tuple(dist.requires or ())  # an egg keeps them in requires.txt
    return Installed(name, version, requires, _top_level(dist), dist.read_text("direct_url.json"))


def distributions() -> tuple[Installed, ...]:
    """Every installed distribution, in ``sys.path`` order (a name can appear twice)."""
    found = (read(dist) for dist in importlib.metadata.distributions())
    return tuple(d for d in found if d is not None)


def by_name() -> dict[str, Installed]:
    """Normalised name -> the distribution of that name imports would use (the first)."""
    named: dict[str, Installed] = {}
    for dist in distributions():
        named.setdefault(dist.key, dist)
    return named


def owners_of(top_level: str, *, location: Path | None = None) -> list[str]:
    """Names of the distributions that provide the top-level package ``top_level``.

    An editable install by a ``.pth`` path (hatchling's, the one ``tox -e certify -- --bot
    FOLDER`` makes) lists only ``_name.pth`` in its RECORD, so no top-level name is seen:
    given the package's ``location`` (its folder, or a module's file), the editable
    distribution whose ``.pth`` puts that location's parent on ``sys.path`` is its owner.
    """
    found = [d.name for d in by_name().values() if top_level in d.top_level]
    if found or location is None:
        return found
    parent = os.path.realpath(location.parent)
    # read() parses only the headers, once per text (``dist.metadata`` parses all of it)
    return [
        info.name
        for dist in importlib.metadata.distributions()
        if _editable(dist) and parent in _pth_paths(dist) and (info := read(dist)) is not None
    ]


def _editable(dist: importlib.metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        info = json.loads(text).get("dir_info") or {}
    except (ValueError, AttributeError):
        return False
    return bool(isinstance(info, dict) and info.get("editable"))


def _pth_paths(dist: importlib.metadata.Distribution) -> set[str]:
    """The folders an editable distribution's ``.pth`` files put on ``sys.path``."""
    paths: set[str] = set()
    for listed in dist.files or ():
        if listed.suffix != ".pth":
            continue
        try:
            text = Path(str(dist.locate_file(listed))).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        # a .pth line is a path, or code when it starts with "import" (site's own rule)
        paths.update(
            os.path.realpath(line.strip())
            for line in text.splitlines()
            if line.strip() and not line.startswith(("#", "import ", "import\t"))
        )
    return paths


def find(name: str) -> Installed | None:
    """The distribution ``name`` as ``importlib.metadata.distribution`` finds it, or None."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    return read(dist)


def version_of(name: str) -> str | None:
    """The version of the distribution ``name`` imports would use (None: not installed)."""
    dist = find(name)
    return None if dist is None else dist.version


def listed_files(name: str) -> frozenset[str]:
    """Real paths of the files the distribution ``name`` lists (its RECORD), as installed.

    An editable install lists only its metadata and ``.pth`` file, not the sources it points
    at. Empty when ``name`` is not installed or lists nothing.
    """
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return frozenset()
    return frozenset(os.path.realpath(str(dist.locate_file(path))) for path in dist.files or ())
