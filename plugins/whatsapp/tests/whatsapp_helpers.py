"""Shared test data: the channel config, the vendor-format fixtures, signed requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from hub.contract import ChannelContext, WebhookRequest
from hub.testing import MemoryFiles
from hub.testing.webhooks import WebhookSample

from hub_whatsapp.channel import WhatsAppChannel
from hub_whatsapp.config import WhatsAppConfig
from hub_whatsapp.signing import SIGNATURE_HEADER, signature

FIXTURES = Path(__file__).parent / "fixtures"
PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
GRAPH = "https://graph.facebook.com/v23.0"
APP_SECRET = "5f2c0e9d8b7a6f5e4d3c2b1a09f8e7d6"
VERIFY_TOKEN = "verify-me-please-0123"
CONFIG: dict[str, Any] = {
    "phone_number_id": PHONE_NUMBER_ID,
    "business_account_id": WABA_ID,
    "access_token": "EAAG-test-access-token",
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}
SENDER = "16505551234"
TEXT_ID = "wamid.HBgLMTY1MDUwNzY1MjAVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
INBOUND_FIXTURES = [
    "text",
    "image",
    "audio_voice",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive_button_reply",
    "interactive_list_reply",
    "button",
    "reaction",
    "unsupported",
    "reply_context",
]


def raw(name: str) -> bytes:
    """A fixture's bytes exactly as stored (Meta's ASCII-escaped JSON)."""
    return (FIXTURES / f"{name}.json").read_bytes()


def load(name: str) -> dict[str, Any]:
    """A fixture, parsed."""
    data: dict[str, Any] = json.loads(raw(name))
    return data


def first_message(name: str) -> dict[str, Any]:
    """The first ``messages[]`` item of a fixture."""
    message: dict[str, Any] = load(name)["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


def signed_sample(name_or_body: str | bytes, app_secret: str = APP_SECRET) -> WebhookSample:
    """A POST as Meta sends it: the raw body and its ``X-Hub-Signature-256``."""
    body = raw(name_or_body) if isinstance(name_or_body, str) else name_or_body
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(app_secret, body)}
    return WebhookSample(body=body, headers=headers)


def request(
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    method: str = "POST",
    query: dict[str, str] | None = None,
) -> WebhookRequest:
    """A webhook request as the inbound pipe hands it to the plugin."""
    return WebhookRequest(
        method=method,
        url="https://hub.example.test/webhooks/7",
        headers=headers or {},
        query=query or {},
        body=body,
    )


def signed_request(name_or_body: str | bytes) -> WebhookRequest:
    """A correctly signed POST of a fixture (by name) or of raw bytes."""
    sample = signed_sample(name_or_body)
    return request(sample.body, headers=dict(sample.headers))


def make_channel(
    http: httpx.AsyncClient | None = None, *, files: MemoryFiles | None = None, **overrides: Any
) -> WhatsAppChannel:
    """A WhatsApp channel with the test config (fields replaced by ``overrides``),
    reading outbound files from ``files``."""
    config = WhatsAppConfig(**{**CONFIG, **overrides})
    context = ChannelContext(
        channel_id=7,
        webhook_url="https://hub.example.test/webhooks/7",
        http=http or httpx.AsyncClient(),
        files=files,
    )
    return WhatsAppChannel(config, context)
