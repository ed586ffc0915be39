"""Alert hooks: the webhook posts JSON (tested with respx), a broken webhook never raises."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from safetrade.alerts import Alert, WebhookAlerter, log_alert
from safetrade.errors import ConfigError

URL = "https://hooks.example.test/safetrade"
ALERT = Alert(
    level="critical",
    event="halted",
    message="0.6396 SOL/USDT may be UNPROTECTED",
    symbol="SOL/USDT",
    exchange_message="Internal Server Error",
)


def test_webhook_posts_alert_json():
    """The alert arrives as JSON with a display text and the exchange's message."""
    with respx.mock(using="httpx") as router:
        route = router.post(URL).respond(200)
        hook = WebhookAlerter(URL, client=httpx.Client())
        hook(ALERT)
    body = json.loads(route.calls.last.request.content)
    assert body["event"] == "halted"
    assert body["exchange_message"] == "Internal Server Error"
    assert body["text"].startswith("[safetrade CRITICAL] SOL/USDT")
    assert hook.delivered == 1


def test_broken_webhook_is_logged_not_raised(caplog):
    """A 500 from the receiver is counted and logged at CRITICAL; the protector carries on."""
    with respx.mock(using="httpx") as router:
        router.post(URL).respond(500)
        hook = WebhookAlerter(URL, client=httpx.Client())
        hook(ALERT)
    assert hook.failed == 1
    assert any(r.levelname == "CRITICAL" for r in caplog.records)


def test_webhook_needs_http_url():
    """A non-http URL is a configuration error that names the value."""
    with pytest.raises(ConfigError, match="not an http"):
        WebhookAlerter("hooks.example.test")


def test_log_alert_levels(caplog):
    """The default hook logs critical alerts at CRITICAL."""
    log_alert(ALERT)
    assert caplog.records[-1].levelname == "CRITICAL"
