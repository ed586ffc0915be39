"""Alerts: what the protector says when something needs a human.

A log line nobody reads is how the Feb 6 bot sat unprotected (it logged a WARNING). The
protector therefore calls an *alert hook* (any callable taking an :class:`Alert`) for every
failure, in addition to logging at ERROR or CRITICAL. :class:`WebhookAlerter` posts alerts as
JSON to a URL (Slack-, Discord- or ntfy-style receivers accept such posts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from safetrade.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import httpx

__all__ = ["Alert", "AlertHook", "WebhookAlerter", "log_alert", "redacting"]

log = logging.getLogger("safetrade.alerts")


@attrs.frozen(kw_only=True)
class Alert:
    """Something a human must know about now.

    Attributes:
        level: ``"error"`` (handled, e.g. retried) or ``"critical"`` (trading halted).
        event: Machine-readable event name, e.g. ``"stop-loss-rejected"``.
        message: What happened and what was done about it.
        symbol: The market concerned.
        exchange_message: The exchange's own words, if it said something.
    """

    level: str = attrs.field(validator=attrs.validators.in_(("error", "critical")))
    event: str
    message: str
    symbol: str
    exchange_message: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (with a ``text`` field chat webhooks display)."""
        data = attrs.asdict(self)
        data["text"] = f"[safetrade {self.level.upper()}] {self.symbol}: {self.message}"
        return data


AlertHook = Callable[[Alert], None]


def redacting(hook: AlertHook, redact: Callable[[str], str]) -> AlertHook:
    """``hook``, handed each alert with its text passed through ``redact`` first.

    The trader wraps its alert hook (and the protector's) with its settings' secret mask, so
    no alert, wherever it is delivered, shows a configured secret.
    """

    def deliver(alert: Alert) -> None:
        hook(
            attrs.evolve(
                alert,
                event=redact(alert.event),
                message=redact(alert.message),
                symbol=redact(alert.symbol),
                exchange_message=None
                if alert.exchange_message is None
                else redact(alert.exchange_message),
            )
        )

    return deliver


def log_alert(alert: Alert) -> None:
    """The default hook: log at ERROR or CRITICAL (the protector logs too; this is the floor)."""
    level = logging.CRITICAL if alert.level == "critical" else logging.ERROR
    log.log(level, "ALERT %s %s: %s", alert.event, alert.symbol, alert.message)


class WebhookAlerter:
    """Post each alert as JSON to ``url``; a failing webhook is logged, never raised.

    An alert that cannot be delivered must not stop the protector from flattening a
    position, so delivery errors are logged at CRITICAL and swallowed.

    Args:
        url: The webhook address (``https://...``).
        client: An ``httpx.Client`` to use (inject one in tests); created on demand.
        timeout: Seconds to wait for the receiver.
    """

    def __init__(
        self, url: str, *, client: httpx.Client | None = None, timeout: float = 5.0
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigError(
                f"alert webhook URL {url!r} is not an http(s) URL",
                fix="give the full https:// address of your webhook",
            )
        self._url = url
        self._client = client
        self._timeout = timeout
        self.delivered = 0
        self.failed = 0

    def __call__(self, alert: Alert) -> None:
        """Deliver ``alert``."""
        import httpx  # noqa: PLC0415 - optional dependency, only needed when alerts are posted

        client = self._client or httpx.Client(timeout=self._timeout)
        try:
            response = client.post(self._url, json=alert.to_json())
            response.raise_for_status()
            self.delivered += 1
        except httpx.HTTPError as exc:
            self.failed += 1
            log.critical("could not deliver alert %s to webhook: %s", alert.event, exc)
        finally:
            if self._client is None:
                client.close()
