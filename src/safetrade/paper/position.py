"""A paper position as the venue tracks it and saves it in the paper database's meta table.

One format, read by the venue after a restart and by ``paper status`` (a position bare now).
"""

from __future__ import annotations

import json
from decimal import Decimal

import attrs

__all__ = ["PaperPosition"]

ZERO = Decimal(0)


@attrs.define
class PaperPosition:
    """A paper position between its first buy and the sale that ends it (for round trips).

    ``opened_by`` and ``bare_by`` are the ``(safetrade, bot)`` digests of the code that opened
    the position and of the code that left it without a stop-loss: a round trip or a bare
    window is that code's record, not the record of the code that happens to close it.
    """

    opened_at: int | None = None
    flow: Decimal = ZERO  # quote received minus quote paid, fees included
    sold: bool = False
    bare_since: int | None = None
    opened_by: tuple[str, str] | None = None
    bare_by: tuple[str, str] | None = None

    def dumps(self) -> str | None:
        """The meta value, or None for a flat position with nothing to keep."""
        if self.opened_at is None and self.bare_since is None and not self.flow:
            return None
        return json.dumps({
            "opened_at": self.opened_at, "flow": str(self.flow), "sold": self.sold,
            "bare_since": self.bare_since,
            "opened_by": None if self.opened_by is None else list(self.opened_by),
            "bare_by": None if self.bare_by is None else list(self.bare_by),
        })  # fmt: skip

    @classmethod
    def loads(cls, text: str) -> PaperPosition:
        """Inverse of :meth:`dumps`."""
        raw = json.loads(text)

        def pair(key: str) -> tuple[str, str] | None:
            value = raw.get(key)
            return None if value is None else (str(value[0]), str(value[1]))

        return cls(raw.get("opened_at"), Decimal(raw.get("flow", "0")), bool(raw.get("sold")),
                   raw.get("bare_since"), pair("opened_by"), pair("bare_by"))  # fmt: skip
