"""The strategy: a long signal when the fast average crosses above the slow one."""

from __future__ import annotations

from collections import deque
from decimal import Decimal


class MovingAverageCross:
    """Decides; never sizes, rounds or sends anything."""

    def __init__(self, fast: int = 3, slow: int = 8, stop_percent: Decimal = Decimal(2)) -> None:
        self.fast, self.slow = fast, slow
        self.stop_percent = stop_percent
        self.prices: deque[Decimal] = deque(maxlen=slow)

    def levels(self, entry: Decimal) -> tuple[Decimal, Decimal]:
        """Raw stop-loss and take-profit levels (2 % below, 3 % above): the bot rounds them."""
        stop = entry * (1 - self.stop_percent / 100)
        return stop, entry * (1 + self.stop_percent * Decimal("1.5") / 100)

    def update(self, price: Decimal) -> Decimal | None:
        """Feed one price; return a signal strength in [0, 1] on a cross, else None."""
        self.prices.append(price)
        if len(self.prices) < self.slow:
            return None
        fast = sum(list(self.prices)[-self.fast :], Decimal(0)) / self.fast
        slow = sum(self.prices, Decimal(0)) / self.slow
        if fast <= slow:
            return None
        return min((fast - slow) / slow * 100, Decimal(1))
