"""Refuse a value of the wrong type or enum member by name, with an :class:`InvalidValue`.

The public functions take typed values (a MarketSpec, a PositionSide, a TradePlan, ...);
callers outside mypy's reach (bots, fuzzers) can pass anything, and these checks turn that
into a clear error at the boundary instead of an AttributeError deep inside.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from safetrade.errors import InvalidValue

__all__ = ["MARKET_FIX", "member_validator", "require_instance", "require_member"]

#: The fix hint when a ``market`` argument is not a MarketSpec.
MARKET_FIX = "pass gateway.load_market(symbol) or MarketSpec.from_ccxt(exchange.market(symbol))"

_E = TypeVar("_E", bound=enum.Enum)


def require_member(value: object, kind: type[_E], name: str) -> _E:
    """Return ``value`` if it is a member of ``kind``; otherwise raise :class:`InvalidValue`.

    Text is refused rather than converted, like floats: ``side="long"`` used to skip the
    sizer's stop-side check (it compares with ``PositionSide.LONG``), and a misspelt side would
    otherwise quietly mean the other direction.
    """
    if isinstance(value, kind):
        return value
    members = " or ".join(f"{kind.__name__}.{m.name}" for m in kind)
    hint = ""
    if isinstance(value, str) and value in {m.value for m in kind}:
        hint = f" ({kind.__name__}({value!r}) converts the text)"
    raise InvalidValue(
        f"{name} must be a {kind.__name__}, got {type(value).__name__} {value!r}",
        why="the direction of every rounding and check depends on it",
        fix=f"pass {members}{hint}",
    )


_T = TypeVar("_T")


def require_instance(value: object, kind: type[_T], name: str, fix: str) -> _T:
    """Return ``value`` if it is a ``kind``; otherwise raise :class:`InvalidValue`.

    The public functions take typed values (a MarketSpec, a TradePlan, ...); an untyped
    caller passing a dict or None used to fail deep inside with an AttributeError.
    """
    if isinstance(value, kind):
        return value
    raise InvalidValue(
        f"{name} must be a {kind.__name__}, got {type(value).__name__} {value!r:.80}",
        fix=fix,
    )


def member_validator(
    kind: type[_E],
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """An attrs validator that refuses anything but a member of ``kind`` (InvalidValue)."""

    def validate(inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        require_member(value, kind, attribute.name)

    return validate
