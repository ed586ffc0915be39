"""How often to retry a step, and how long to wait between attempts: one bounded policy."""

from __future__ import annotations

import attrs

__all__ = ["RetryPolicy"]


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """Bounded retries per step.

    ``attempts`` tries per step, waiting ``backoff[i]`` seconds after the i-th failure (the
    last value repeats).
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    backoff: tuple[float, ...] = (0.5, 1.0, 2.0)

    def delay(self, failure: int) -> float:
        """Seconds to wait after the ``failure``-th failure (1-based)."""
        if not self.backoff:
            return 0.0
        return self.backoff[min(failure, len(self.backoff)) - 1]
