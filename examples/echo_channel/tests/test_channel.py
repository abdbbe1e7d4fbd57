"""The Echo channel's own rules: signatures, malformed bodies, the registration."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from importlib import import_module
from importlib.metadata import entry_points

import httpx
import pytest
from hub.contract import ChannelContext, WebhookRejected, WebhookRequest
from hub.testing import signed_headers

from hub_echo_channel.channel import EchoChannel
from hub_echo_channel.config import EchoConfig

SECRET = "webhook-secret-for-tests"
BODY = json.dumps({"id": "m-1", "sender": {"id": "c-1"}, "text": "hi"}).encode()


@pytest.fixture
async def channel() -> AsyncIterator[EchoChannel]:
    """A channel with a known webhook secret."""
    config = EchoConfig.model_validate({"webhook_secret": SECRET})
    async with httpx.AsyncClient() as http:
        yield EchoChannel(config, ChannelContext(1, "https://hub.test/webhooks/1", http))


def request(body: bytes, headers: dict[str, str]) -> WebhookRequest:
    """A webhook request as the hub hands it over."""
    return WebhookRequest(
        method="POST", url="https://hub.test", headers=headers, query={}, body=body
    )


async def test_a_signed_message_is_accepted(channel: EchoChannel) -> None:
    result = await channel.handle_webhook(request(BODY, signed_headers(SECRET, BODY)))
    assert [event.external_id for event in result.events] == ["m-1"]


async def test_an_unsigned_request_is_401(channel: EchoChannel) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await channel.handle_webhook(request(BODY, {}))
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "headers",
    [
        signed_headers("another secret", BODY),
        signed_headers(SECRET, BODY, timestamp=int(time.time()) - 3600),
    ],
    ids=["wrong secret", "stale"],
)
async def test_a_wrongly_signed_or_stale_request_is_403(
    channel: EchoChannel, headers: dict[str, str]
) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await channel.handle_webhook(request(BODY, headers))
    assert caught.value.status == 403


@pytest.mark.parametrize("body", [b"{nope", b'{"id": "m-1"}', b'{"id": "m-1", "sender": {}}'])
async def test_a_malformed_body_is_400(channel: EchoChannel, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await channel.handle_webhook(request(body, signed_headers(SECRET, body)))
    assert caught.value.status == 400


def test_the_entry_point_registers_the_channel_module() -> None:
    [entry] = [ep for ep in entry_points(group="hub") if ep.name == "echo"]
    assert entry.load() is import_module("hub_echo_channel.channel")
