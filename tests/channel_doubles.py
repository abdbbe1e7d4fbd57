"""A test-only channel plugin and helpers to drive the inbound pipe with it.

``DoubleChannel`` reads a simple JSON body, ``{"events": [<normalized event>, …]}``, and
checks an ``X-Test-Token`` header against its config: no header is 401, a wrong one
403, a body that is not such JSON 400. A GET with ``?challenge=`` is a handshake whose
answer echoes the challenge. A body of ``{"boom": true}`` makes the plugin raise.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from pydantic import BaseModel, TypeAdapter, ValidationError

from hub.contract import (
    ChannelType,
    InboundEvent,
    WebhookRejected,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
    hookimpl,
)
from hub.contract.notices import MessageReceived, MessageStatusChanged
from hub.plugin_manager import HubPluginManager, PluginInfo

TOKEN = "secret-token"
EVENTS = TypeAdapter(list[InboundEvent])
LOGO = '<svg xmlns="http://www.w3.org/2000/svg"/>'
Client = TestClient[Any, Any]


class DoubleConfig(BaseModel):
    """The double's one setting: the token requests must carry."""

    token: str = TOKEN


class DoubleChannel(ChannelType[DoubleConfig]):
    """A channel whose wire format is the normalized models themselves."""

    name = "double"
    title = "Double"
    description = "A test channel."
    logo = LOGO
    Config = DoubleConfig

    async def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Handshake on GET; verify the token and parse the events on POST."""
        if request.method == "GET":
            return WebhookResult(response=WebhookResponse(body=request.query.get("challenge", "")))
        given = request.headers.get("X-Test-Token")
        if given is None:
            raise WebhookRejected(401, "missing X-Test-Token")
        if given != self.config.token:
            raise WebhookRejected(403, "wrong X-Test-Token")
        try:
            data = json.loads(request.body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise WebhookRejected(400, "the body is not JSON") from None
        if isinstance(data, dict) and data.get("boom"):
            raise RuntimeError("the double blew up")
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise WebhookRejected(400, 'expected {"events": [...]}')
        try:
            events = EVENTS.validate_python(data["events"])
        except ValidationError as err:
            raise WebhookRejected(400, f"bad events: {err.error_count()} errors") from None
        return WebhookResult(events=tuple(events))


@hookimpl
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:
    """Provide the double."""
    return [DoubleChannel]


class Recorder:
    """An observer plugin that remembers the notices it hears."""

    def __init__(self) -> None:
        self.received: list[MessageReceived] = []
        self.statuses: list[MessageStatusChanged] = []

    @hookimpl
    def hub_message_received(self, notice: MessageReceived) -> None:
        """Remember a received message."""
        self.received.append(notice)

    @hookimpl
    async def hub_message_status(self, notice: MessageStatusChanged) -> None:
        """Remember a status change (an async observer)."""
        self.statuses.append(notice)


class Broken:
    """An observer plugin whose every observer raises."""

    @hookimpl
    def hub_message_received(self, notice: MessageReceived) -> None:
        """Fail."""
        raise RuntimeError("observer failure")

    @hookimpl
    def hub_message_status(self, notice: MessageStatusChanged) -> None:
        """Fail."""
        raise RuntimeError("observer failure")


def manager(*observers: object) -> HubPluginManager:
    """A plugin manager with the double and the given observer plugins, nothing else."""
    plugins = HubPluginManager(autoload=False)
    plugins.register(
        __import__(__name__, fromlist=["_"]),
        PluginInfo(name="double", distribution="tests", version="0"),
    )
    for index, observer in enumerate(observers):
        plugins.register(
            observer, PluginInfo(name=f"observer{index}", distribution="t", version="0")
        )
    return plugins


def message(
    external_id: str,
    sender: str = "user-1",
    text: str = "hello",
    *,
    name: str | None = "Ada Lovelace",
    **extra: Any,
) -> dict[str, Any]:
    """A message event as the double's wire format (the normalized model's JSON)."""
    event: dict[str, Any] = {
        "kind": "message",
        "external_id": external_id,
        "sender_id": sender,
        "sender": {"name": name} if name else {},
        "timestamp": datetime(2026, 1, 1, 12, 0, tzinfo=UTC).isoformat(),
        "parts": [{"kind": "text", "text": text}],
    }
    event.update(extra)
    return event


def status(external_id: str, value: str, **extra: Any) -> dict[str, Any]:
    """A status event as the double's wire format."""
    return {"kind": "status", "external_id": external_id, "status": value, **extra}


async def post(
    client: Client, channel_id: int, *events: dict[str, Any], token: str | None = TOKEN
) -> Any:
    """POST events to the channel's webhook, signed with ``token`` (None: unsigned)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Test-Token"] = token
    return await client.post(
        f"/webhooks/{channel_id}", data=json.dumps({"events": list(events)}), headers=headers
    )
