"""Parse types used in step patterns: ``Dec`` (money as ``Decimal``) and ``Word``."""

from __future__ import annotations

from decimal import Decimal

from pytest_bdd import parsers


def _decimal(text: str) -> Decimal:
    return Decimal(text)


# money is never parsed as float: ``{x:f}`` would turn 85.61 into 85.6099999...
_decimal.pattern = r"-?\d+(?:\.\d+)?"  # type: ignore[attr-defined]


def _word(text: str) -> str:
    return text


_word.pattern = r"[A-Za-z0-9_/.:-]+"  # type: ignore[attr-defined]

TYPES = {"Dec": _decimal, "Word": _word}


def parse(text: str) -> parsers.parse:
    """``parsers.parse`` with the ``Dec`` (Decimal) and ``Word`` types."""
    return parsers.parse(text, extra_types=TYPES)
