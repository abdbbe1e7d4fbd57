"""The Telegram plugin passes the hub's channel conformance kit (``hub.testing``)."""

from __future__ import annotations

from typing import Any

import httpx
import respx
from hub.contract import BadCredentials, PermanentFailure, RetryLater
from hub.testing.contract import ChannelContract, SendErrorCase
from hub.testing.webhooks import WebhookSample
from telegram_helpers import BOT_TOKEN, fixture, update_sample

from hub_telegram.channel import TelegramChannel

API = f"https://api.telegram.org/bot{BOT_TOKEN}"


def _refuse(status: int, description: str, **parameters: Any) -> Any:
    def mock(router: respx.MockRouter, config: dict[str, Any]) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        router.post(f"{API}/sendMessage").respond(status, json=body)

    return mock


def _timeout(router: respx.MockRouter, config: dict[str, Any]) -> None:
    router.post(f"{API}/sendMessage").mock(side_effect=httpx.ReadTimeout("slow"))


class TestTelegramContract(ChannelContract):
    """The kit's checks, with Bot API updates in the documented format."""

    channel_type = TelegramChannel

    def channel_config(self) -> dict[str, Any]:
        return {"bot_token": BOT_TOKEN}

    def inbound_samples(self, config: dict[str, Any]) -> list[WebhookSample]:
        return [update_sample(name, config["secret_token"]) for name in ("text", "photo")]

    def unsupported_sample(self, config: dict[str, Any]) -> WebhookSample:
        return update_sample("poll", config["secret_token"])

    def mock_connect(self, router: respx.MockRouter) -> None:
        router.post(f"{API}/getMe").respond(200, json=fixture("get_me"))
        router.post(f"{API}/setWebhook").respond(200, json={"ok": True, "result": True})

    def mock_send_success(self, router: respx.MockRouter, config: dict[str, Any]) -> None:
        router.post(f"{API}/sendMessage").respond(200, json=fixture("sent_message"))

    def send_error_cases(self) -> list[SendErrorCase]:
        return [
            SendErrorCase(
                "rate limited",
                _refuse(429, "Too Many Requests: retry after 35", retry_after=35),
                RetryLater,
            ),
            SendErrorCase(
                "blocked", _refuse(403, "Forbidden: bot was blocked by the user"), PermanentFailure
            ),
            SendErrorCase("bad token", _refuse(401, "Unauthorized"), BadCredentials),
            SendErrorCase(
                "chat gone", _refuse(400, "Bad Request: chat not found"), PermanentFailure
            ),
            SendErrorCase("server error", _refuse(502, "Bad Gateway"), RetryLater),
            SendErrorCase("timeout", _timeout, RetryLater),
        ]
