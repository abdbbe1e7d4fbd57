"""The hub's channel contract, run against the Echo channel through a real hub."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from hub.contract import BadCredentials, PermanentFailure, RetryLater
from hub.testing import ChannelContract, SendErrorCase, WebhookSample, signed_json

from hub_echo_channel.channel import EchoChannel


def _message(secret: str, external_id: str, text: str) -> WebhookSample:
    return signed_json(
        secret,
        {
            "id": external_id,
            "sender": {"id": "contact-1", "name": "Ann Example"},
            "type": "text",
            "text": text,
            "timestamp": "2024-05-01T12:00:00+02:00",
        },
    )


def _answer(status: int, **kwargs: Any) -> Any:
    """A provider mock answering ``status`` to every send."""

    def mock(router: respx.MockRouter, config: dict[str, Any]) -> object:
        return router.post(f"{config['api_base_url']}/messages").respond(status, **kwargs)

    return mock


def _timeout(router: respx.MockRouter, config: dict[str, Any]) -> object:
    return router.post(f"{config['api_base_url']}/messages").mock(
        side_effect=httpx.ConnectTimeout("timed out")
    )


class TestEchoContract(ChannelContract):
    """External ids, zones, idempotency, unsupported content, send and its errors."""

    channel_type = EchoChannel

    def channel_config(self) -> dict[str, Any]:
        return {}

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        secret = config["webhook_secret"]
        return [_message(secret, "m-1", "hello"), _message(secret, "m-2", "are you there?")]

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        return signed_json(
            config["webhook_secret"],
            {"id": "m-poll", "sender": {"id": "contact-1"}, "type": "poll"},
        )

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        router.post(f"{config['api_base_url']}/messages").respond(201, json={"id": "echo-42"})

    def send_error_cases(self) -> list[SendErrorCase]:
        return [
            SendErrorCase("rate limited", _answer(429, headers={"Retry-After": "30"}), RetryLater),
            SendErrorCase("server error", _answer(503), RetryLater),
            SendErrorCase("timeout", _timeout, RetryLater),
            SendErrorCase("hub refused", _answer(401), BadCredentials),
            SendErrorCase(
                "refused", _answer(400, json={"error": "bad recipient"}), PermanentFailure
            ),
        ]
