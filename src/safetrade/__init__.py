"""safetrade: keeps automated crypto trading bots from hurting their owners.

Placeholder during bootstrap; the public API is re-exported here once the core lands.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
