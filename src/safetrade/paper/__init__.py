"""Paper trading on a local KuCoin: KuCoin's rules, KuCoin's public prices, no real orders.

* :class:`PaperVenue` — the fake KuCoin's engine fed with KuCoin's public market data
  (:class:`PublicKucoin`), its state in sqlite (:class:`PaperStore`), so a paper run can last
  days and survive restarts; ``safetrade.Trader.start`` builds it in paper mode.
* The journal — every order, rejection (by KuCoin code), fill, protection event and position
  left without a stop-loss, stamped with the digests of the code that ran, append-only and
  hash-chained. :func:`read_summary` / ``safetrade paper status`` summarise it, and
  ``safetrade certify`` checks it against the policy's ``[paper]`` section
  (:class:`PaperRequirement`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from safetrade.paper.digests import code_digests
from safetrade.paper.status import read_summary
from safetrade.paper.store import JournalEntry, PaperStore
from safetrade.paper.summary import PaperRequirement, PaperSummary, summarize

if TYPE_CHECKING:
    from safetrade.paper.source import PublicKucoin, Quote
    from safetrade.paper.venue import PaperVenue

# the venue pulls in httpx, respx and the fake's engine: loaded on first use, so the
# certification policy and the live gate can read paper summaries without them
_LAZY = {
    "PaperVenue": "safetrade.paper.venue",
    "PublicKucoin": "safetrade.paper.source",
    "Quote": "safetrade.paper.source",
}


def __getattr__(name: str) -> Any:  # noqa: ANN401 - module attribute hook
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    msg = f"module 'safetrade.paper' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "JournalEntry",
    "PaperRequirement",
    "PaperStore",
    "PaperSummary",
    "PaperVenue",
    "PublicKucoin",
    "Quote",
    "code_digests",
    "read_summary",
    "summarize",
]
