"""Shared helpers of the Telegram plugin's tests: fixtures, requests and a plugin object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.contract import WebhookRequest
from hub.testing.webhooks import WebhookSample

FIXTURES = Path(__file__).parent / "fixtures"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4"
SECRET = "test-secret_token-0123456789"
API = f"https://api.telegram.org/bot{BOT_TOKEN}"


def fixture(name: str) -> dict[str, Any]:
    """A recorded-format payload from ``fixtures/<name>.json``."""
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def update_sample(name: str, secret: str = SECRET) -> WebhookSample:
    """The webhook POST Telegram makes for fixture ``update_<name>``."""
    body = json.dumps(fixture(f"update_{name}")).encode()
    return WebhookSample(
        body=body,
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
    )


def request_of(sample: WebhookSample) -> WebhookRequest:
    """The request the plugin sees for ``sample``."""
    return WebhookRequest(
        method=sample.method,
        url="https://hub.example.test/webhooks/1",
        headers=dict(sample.headers),
        query={},
        body=sample.body,
    )
