"""The custom channel passes the hub's channel conformance kit (``hub.testing``)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from hub.contract import PermanentFailure, RetryLater
from hub.testing.contract import ChannelContract, SendErrorCase
from hub.testing.webhooks import WebhookSample, signed_json

from hub_custom_channel.channel import CustomChannel

SERVICE = "https://svc.example.com/hub/replies"


def _message(external_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": external_id,
        "timestamp": "2026-05-01T12:00:00+02:00",
        "sender": {"id": "user-42", "name": "Ada"},
        "text": text,
    }


def _answer(response: httpx.Response | Exception) -> Any:
    def mock(router: respx.MockRouter, config: dict[str, Any]) -> None:
        route = router.post(config["outbound_url"])
        if isinstance(response, httpx.Response):
            route.mock(return_value=response)
        else:
            route.mock(side_effect=response)

    return mock


class TestCustomChannelContract(ChannelContract):
    """The kit's checks, with the custom channel's documented samples."""

    channel_type = CustomChannel

    def channel_config(self) -> dict[str, Any]:
        return {"outbound_url": SERVICE}

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        secret = config["signing_secret"]
        return [
            signed_json(secret, _message("m-1", "first")),
            signed_json(secret, {"events": [_message("m-2", "second")]}),
        ]

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        poll = {"type": "poll", "id": "p-1", "sender": {"id": "user-42"}, "question": "Tea?"}
        return signed_json(config["signing_secret"], poll)

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        router.post(config["outbound_url"]).respond(200, json={"id": "svc-1"})

    def send_error_cases(self) -> list[SendErrorCase]:
        return [
            SendErrorCase(
                "refused", _answer(httpx.Response(400, json={"error": "no"})), PermanentFailure
            ),
            SendErrorCase("rate limited", _answer(httpx.Response(429)), RetryLater),
            SendErrorCase("server error", _answer(httpx.Response(503)), RetryLater),
            SendErrorCase("timeout", _answer(httpx.ReadTimeout("slow")), RetryLater),
        ]
