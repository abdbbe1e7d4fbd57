"""The WhatsApp channel passes the hub's channel conformance kit (``hub.testing``)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from hub.contract import BadCredentials, PermanentFailure, RetryLater, WindowClosed
from hub.testing.contract import ChannelContract, MockProvider, SendErrorCase
from hub.testing.webhooks import WebhookSample
from whatsapp_helpers import CONFIG, GRAPH, PHONE_NUMBER_ID, WABA_ID, raw, signed_sample

from hub_whatsapp.channel import WhatsAppChannel

MESSAGES = f"{GRAPH}/{PHONE_NUMBER_ID}/messages"


def _answer(response: httpx.Response | Exception) -> MockProvider:
    def mock(router: respx.MockRouter, config: dict[str, Any]) -> None:
        route = router.post(MESSAGES)
        if isinstance(response, httpx.Response):
            route.mock(return_value=response)
        else:
            route.mock(side_effect=response)

    return mock


def _error(code: int, status: int = 400) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"message": f"error {code}", "type": "OAuthException", "code": code}}
    )


class TestWhatsAppContract(ChannelContract):
    """The kit's checks with Meta-format samples signed with the channel's App Secret."""

    channel_type = WhatsAppChannel

    def channel_config(self) -> dict[str, Any]:
        return {key: value for key, value in CONFIG.items() if key != "verify_token"}

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        return [
            signed_sample(raw("text"), config["app_secret"]),
            signed_sample(raw("image"), config["app_secret"]),
            signed_sample(raw("batch"), config["app_secret"]),
        ]

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        return signed_sample(raw("unsupported"), config["app_secret"])

    def mock_connect(self, router: respx.MockRouter) -> None:
        router.get(f"{GRAPH}/{WABA_ID}/phone_numbers").respond(
            200, json={"data": [{"id": PHONE_NUMBER_ID, "display_phone_number": "+1 555-078-3881"}]}
        )

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        router.post(MESSAGES).respond(
            200,
            json={
                "messaging_product": "whatsapp",
                "contacts": [{"input": "16505551234", "wa_id": "16505551234"}],
                "messages": [{"id": "wamid.CONTRACT1"}],
            },
        )

    def send_error_cases(self) -> list[SendErrorCase]:
        return [
            SendErrorCase("window closed", _answer(_error(131047)), WindowClosed),
            SendErrorCase("rate limited", _answer(_error(130429)), RetryLater),
            SendErrorCase("token expired", _answer(_error(190, 401)), BadCredentials),
            SendErrorCase("undeliverable", _answer(_error(131026)), PermanentFailure),
            SendErrorCase("server error", _answer(httpx.Response(503)), RetryLater),
            SendErrorCase("timeout", _answer(httpx.ReadTimeout("slow")), RetryLater),
        ]
