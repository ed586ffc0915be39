"""The evidence file format: ``evidence.json`` (``safetrade-evidence/1``) and its typed reading.

The file is written at the end of a pytest session by the plugin in
:mod:`safetrade.certification.evidence_plugin`; ``certify`` reads it back with
:func:`load_evidence`. Each item is one collected pytest item's :class:`ItemOutcome`, with the
key of the ``.feature`` scenario it ran (:mod:`safetrade.certification.inventory`), if any.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.errors import SafetradeError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "EVIDENCE_FORMAT",
    "Evidence",
    "EvidenceError",
    "ItemOutcome",
    "load_evidence",
    "parse_evidence",
]

EVIDENCE_FORMAT = "safetrade-evidence/1"


class EvidenceError(SafetradeError):
    """Evidence or feature files are missing or malformed."""


@attrs.frozen
class ItemOutcome:
    """The outcome of one collected pytest item.

    ``outcome`` is one of ``passed``, ``failed``, ``error`` (setup/teardown failure),
    ``skipped`` (including xfail).
    """

    nodeid: str
    outcome: str
    duration: float
    controls: tuple[str, ...]
    incidents: tuple[str, ...]
    scenario: str | None
    message: str


@attrs.frozen
class Evidence:
    """Everything the plugin recorded for one pytest session."""

    items: tuple[ItemOutcome, ...]
    exitstatus: int
    hypothesis_profile: str | None
    deselected: int
    collection_errors: tuple[str, ...]
    args: tuple[str, ...]
    #: sha256 of each safetrade file, measured in the test process when the session started
    #: (None: an evidence file that does not say what it tested)
    tested_files: Mapping[str, str] | None = None
    #: the same measured when the session finished: a change during the run shows here
    tested_files_at_end: Mapping[str, str] | None = None
    #: set when ``safetrade suite`` reused a signed earlier passing run of exactly these inputs
    #: instead of running the suite (suite_cache.py): cache key, when and where it ran, signer
    reused: Mapping[str, Any] | None = None


def _reused(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError("reused is not an object")
    return dict(value)


def _files(value: object) -> Mapping[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError("testedFiles is not an object")
    return {str(k): str(v) for k, v in value.items()}


def parse_evidence(data: bytes) -> Evidence:
    """Parse the JSON written by the plugin.

    Raises:
        EvidenceError: The document is not evidence in the expected format.
    """
    try:
        doc = json.loads(data)
        if doc.get("format") != EVIDENCE_FORMAT:
            raise EvidenceError(
                f"evidence format is {doc.get('format')!r}, expected {EVIDENCE_FORMAT!r}"
            )
        items = tuple(
            ItemOutcome(
                nodeid=str(i["nodeid"]),
                outcome=str(i["outcome"]),
                duration=float(i["duration"]),
                controls=tuple(i["controls"]),
                incidents=tuple(i["incidents"]),
                scenario=i["scenario"],
                message=str(i.get("message", "")),
            )
            for i in doc["items"]
        )
        return Evidence(
            items=items,
            exitstatus=int(doc["exitstatus"]),
            hypothesis_profile=doc.get("hypothesisProfile"),
            deselected=int(doc.get("deselected", 0)),
            collection_errors=tuple(str(e) for e in doc.get("collectionErrors", [])),
            args=tuple(str(a) for a in doc.get("args", [])),
            tested_files=_files(doc.get("testedFiles")),
            tested_files_at_end=_files(doc.get("testedFilesAtEnd")),
            reused=_reused(doc.get("reused")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvidenceError(
            "evidence JSON is malformed", why=str(exc), fix="re-run `tox -e certify`"
        ) from exc


def load_evidence(path: Path) -> Evidence:
    """Read the evidence file at ``path``.

    Raises:
        EvidenceError: It is missing or malformed.
    """
    if not path.is_file():
        raise EvidenceError(
            f"evidence file {path} does not exist",
            why="the pytest run did not finish or did not load the evidence plugin",
            fix="run pytest with -p safetrade.certification.evidence_plugin"
            " --safetrade-evidence=PATH",
        )
    return parse_evidence(path.read_bytes())
