"""A fake Telegram Bot API on localhost for the browser tests (no respx: the hub runs in
another thread and calls it over real HTTP).

It answers the methods a channel's ``connect`` and ``disconnect`` call — ``getMe``,
``setWebhook``, ``deleteWebhook``, ``getWebhookInfo`` — in the Bot API's format: ``{"ok":
true, "result": …}``, or ``{"ok": false, "error_code": 401, "description":
"Unauthorized"}`` with HTTP status 401 for a token it does not know, as Telegram does.
Every call is recorded for the test to check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Call:
    """One method call the fake received."""

    token: str
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    """The fake's state: the tokens it accepts, the webhook set, the calls received."""

    tokens: set[str]
    calls: list[Call] = field(default_factory=list)
    webhook: dict[str, Any] = field(default_factory=dict)

    def calls_to(self, method: str) -> list[Call]:
        """The calls of ``method``, in order."""
        return [call for call in self.calls if call.method == method]

    def app(self) -> web.Application:
        """The aiohttp app serving ``/bot<token>/<method>``."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        raw = await request.read()
        params: dict[str, Any] = json.loads(raw) if raw else dict(request.query)
        self.calls.append(Call(token, method, params))
        if token not in self.tokens:
            return _error(401, "Unauthorized")
        if method == "getMe":
            bot_id = int(token.split(":", 1)[0])
            return _ok(
                {"id": bot_id, "is_bot": True, "first_name": "Shop Bot", "username": "shop_bot"}
            )
        if method == "setWebhook":
            self.webhook = {"url": params.get("url", ""), "has_secret": "secret_token" in params}
            return _ok(True, "Webhook was set")
        if method == "deleteWebhook":
            self.webhook = {}
            return _ok(True, "Webhook was deleted")
        if method == "getWebhookInfo":
            info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False}
            return _ok({**info, "pending_update_count": 0})
        return _error(404, "Not Found: method not found")


def _ok(result: Any, description: str | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description:
        body["description"] = description
    return web.json_response(body)


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )
