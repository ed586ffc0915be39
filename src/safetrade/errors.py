"""Every error safetrade raises, rooted in :class:`SafetradeError`.

The tree::

    SafetradeError
    ├── ConfigError            (also ValueError)  settings missing, malformed or near-missed
    ├── InvalidValue           (also ValueError)  a number handed to a pure function is unusable
    ├── MarketSpecError        (also ValueError)  a market lacks the increments we need
    ├── RoundingError          (also ValueError)  a value cannot be put on the market's grid
    ├── SizingError                               no valid position size exists
    ├── OrderBuildError        (also ValueError)  an order would be invalid; refused before sending
    ├── GuardRefused                              pre-trade checks refused a trade
    ├── DecisionMismatch       (also ValueError)  a guard decision made for another plan
    ├── ExchangeError                             the exchange failed or said no
    │   ├── ExchangeUnavailable                   transient: timeout, 5xx, 429, network; retry
    │   ├── AuthenticationFailed                  key, secret or passphrase wrong; stop
    │   ├── OrderRejected                         the exchange refused an order; fix the order
    │   └── OrderNotFound                         the exchange does not know an order
    ├── CertificationError                        live mode without a valid certification
    └── BotContractError                          the bot to certify cannot be found or built

Every message states what failed, the values involved, and how to fix it. The pieces are also
kept as attributes (``what``, ``why``, ``fix``) so callers and reports can use them.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AuthenticationFailed",
    "BotContractError",
    "CertificationError",
    "ConfigError",
    "DecisionMismatch",
    "ExchangeError",
    "ExchangeUnavailable",
    "GuardRefused",
    "InvalidValue",
    "MarketSpecError",
    "OrderBuildError",
    "OrderNotFound",
    "OrderRejected",
    "RoundingError",
    "SafetradeError",
    "SizingError",
]


class SafetradeError(Exception):
    """Base of every safetrade error.

    Args:
        what: What failed, with the values involved.
        why: Why that is refused or what caused it.
        fix: What the user should do about it.
    """

    def __init__(self, what: str, *, why: str = "", fix: str = "") -> None:
        self.what = what
        self.why = why
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [self.what.rstrip(".")]
        if self.why:
            parts.append(self.why.rstrip("."))
        text = "; ".join(parts)
        text += "" if text.endswith(("?", "!")) else "."
        if self.fix:
            text += " Fix: " + self.fix.rstrip(".") + "."
        return text


class ConfigError(SafetradeError, ValueError):
    """Settings are missing, malformed, or present under a near-miss name."""


class InvalidValue(SafetradeError, ValueError):
    """A value handed to a pure function is unusable (NaN, infinite, negative, float, ...)."""


class MarketSpecError(SafetradeError, ValueError):
    """A market description lacks the increments or limits safetrade needs."""


class RoundingError(SafetradeError, ValueError):
    """A value cannot be put on the market's grid without changing its meaning."""


class SizingError(SafetradeError):
    """No valid position size exists for the inputs (e.g. below the market's minimum)."""


class OrderBuildError(SafetradeError, ValueError):
    """An order would be invalid (wrong side of entry, zero size, ...); nothing was sent."""


class GuardRefused(SafetradeError):
    """Pre-trade checks refused a trade; ``reasons`` lists every failed check."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__(
            "trade refused by pre-trade checks",
            why="; ".join(self.reasons),
            fix="resolve every reason listed; nothing was sent to the exchange",
        )


class DecisionMismatch(SafetradeError, ValueError):
    """A guard :class:`~safetrade.Decision` was handed over with a plan it was not made for."""


class ExchangeError(SafetradeError):
    """The exchange failed or refused; keeps the exchange's own code and message.

    Args:
        what: What safetrade was doing.
        exchange_code: The exchange's error code, if it sent one.
        exchange_message: The exchange's own message, verbatim.
        fix: What to do about it.
    """

    def __init__(
        self,
        what: str,
        *,
        exchange_code: str | None = None,
        exchange_message: str = "",
        fix: str = "",
    ) -> None:
        self.exchange_code = exchange_code
        self.exchange_message = exchange_message
        why = f"exchange said: {exchange_message}" if exchange_message else ""
        if exchange_code:
            why += f" (code {exchange_code})"
        super().__init__(what, why=why, fix=fix)


class ExchangeUnavailable(ExchangeError):
    """A transient failure (timeout, 5xx, 429, network). Retrying may succeed."""


class AuthenticationFailed(ExchangeError):
    """The exchange rejected the API key, secret or passphrase."""


class OrderRejected(ExchangeError):
    """The exchange refused an order."""


class OrderNotFound(ExchangeError):
    """The exchange does not know the order."""


class CertificationError(SafetradeError):
    """Live mode refused: the certification artifact is missing, invalid or stale.

    Args:
        problems: Every failed check, each naming what failed.
        fix: The command that repairs it.
    """

    def __init__(self, problems: Sequence[str], *, fix: str) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "live mode refused: certification check failed",
            why="; ".join(self.problems),
            fix=fix,
        )


class BotContractError(SafetradeError):
    """The bot named for certification cannot be found, imported or built, or lacks a call."""
