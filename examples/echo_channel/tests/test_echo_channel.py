"""Tests of the echo example plugin: its webhook, its send and its registration."""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib import import_module
from pathlib import Path

import httpx
import hub.contract.hookspecs
import pluggy
import pytest
from hub.contract import (
    ChannelContext,
    ChannelType,
    InboundMessage,
    OutboundMessage,
    TextPart,
    WebhookRejected,
    WebhookRequest,
)

from hub_echo_channel import channel
from hub_echo_channel.channel import EchoChannel
from hub_echo_channel.config import EchoConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


@pytest.fixture
async def echo() -> AsyncIterator[EchoChannel]:
    """An echo channel with default settings and a real (unused) HTTP client."""
    async with httpx.AsyncClient() as http:
        context = ChannelContext(channel_id=7, webhook_url="http://hub/webhooks/7", http=http)
        yield EchoChannel(EchoConfig(), context)


def webhook(body: bytes) -> WebhookRequest:
    """Build a webhook POST carrying ``body``."""
    return WebhookRequest(
        method="POST",
        url="http://hub/webhooks/7",
        headers={"content-type": "application/json"},
        query={},
        body=body,
    )


async def test_webhook_turns_the_body_into_one_inbound_message(echo: EchoChannel) -> None:
    body = {"id": "m-1", "sender": "alice", "text": "hello, hub"}
    before = datetime.now(UTC)
    result = await echo.handle_webhook(webhook(json.dumps(body).encode()))
    assert result.response is None
    [message] = result.events
    assert isinstance(message, InboundMessage)
    assert (message.external_id, message.sender_id) == ("m-1", "alice")
    assert message.parts == (TextPart(text="hello, hub"),)
    assert message.raw == body
    assert message.timestamp.utcoffset() == timedelta(0)
    assert before <= message.timestamp <= datetime.now(UTC)


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b""])
async def test_webhook_rejects_malformed_json(echo: EchoChannel, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await echo.handle_webhook(webhook(body))
    assert caught.value.status == 400
    assert "not valid JSON" in caught.value.reason


async def test_webhook_rejects_a_body_that_is_not_an_object(echo: EchoChannel) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await echo.handle_webhook(webhook(b'["m-1", "alice", "hi"]'))
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"sender": "alice", "text": "hi"}, "id"),
        ({"id": "m-1", "text": "hi"}, "sender"),
        ({"id": "m-1", "sender": "alice"}, "text"),
        ({"id": "m-1", "sender": "alice", "text": ""}, "text"),
        ({"id": 1, "sender": "alice", "text": "hi"}, "id"),
    ],
)
async def test_webhook_rejects_missing_fields_naming_them(
    echo: EchoChannel, body: dict[str, object], named: str
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await echo.handle_webhook(webhook(json.dumps(body).encode()))
    assert caught.value.status == 400
    assert caught.value.reason == f"missing or invalid fields: {named}"


async def test_send_returns_an_id_stable_across_retries(echo: EchoChannel) -> None:
    reply = OutboundMessage(
        message_id=42, conversation_id=3, recipient_id="alice", idempotency_key="k", text="hi"
    )
    assert await echo.send(reply) == "echo-42"
    assert await echo.send(reply) == "echo-42"


def test_type_declares_its_identity_and_defaults() -> None:
    assert issubclass(EchoChannel, ChannelType)
    assert (EchoChannel.name, EchoChannel.title) == ("echo", "Echo")
    assert EchoChannel.description
    assert ET.fromstring(EchoChannel.logo).tag == "{http://www.w3.org/2000/svg}svg"
    config = EchoConfig()
    assert (config.api_base_url, config.reply_prefix) == ("http://localhost", "echo: ")
    assert EchoChannel.supports("handle_webhook") and not EchoChannel.supports("poll")


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[EchoChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "hub-echo-channel"
    assert project["entry-points"]["hub"] == {"echo": "hub_echo_channel.channel"}
    assert import_module(project["entry-points"]["hub"]["echo"]) is channel
