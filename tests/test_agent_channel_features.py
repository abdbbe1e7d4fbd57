"""Agent-side channel features in the core: the customer-service window checked before
queueing, message templates (listed and sent), typing relayed to the contact, and read
receipts.

A test-only channel type with WhatsApp-like capabilities records what the core asks of
it; the app, database and bus are real.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.channels.agent_signals import signals_of
from hub.channels.outbound import deliver_due
from hub.contract import (
    BadCredentials,
    Capabilities,
    ChannelType,
    MessageTemplate,
    OutboundMessage,
    RetryLater,
    TemplateRef,
    hookimpl,
)
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import Channel, Contact, ContactIdentity, Conversation, Message, User
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Recorder:
    """What the test channel types were asked to do."""

    sent: list[OutboundMessage] = field(default_factory=list)
    typing: list[tuple[str, str | None]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    templates_error: Exception | None = None
    fail_signals: bool = False


class NoConfig(BaseModel):
    """No credentials."""

    model_config = ConfigDict(extra="forbid")


class WindowedChannel(ChannelType[NoConfig]):
    """WhatsApp-like: a 24-hour window, templates, typing and read receipts."""

    name = "windowed"
    title = "Windowed"
    description = "Test double with a customer-service window."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = NoConfig
    capabilities = Capabilities(templates=True, typing=True, window_hours=24)
    record: ClassVar[Recorder]

    async def send(self, message: OutboundMessage) -> str:
        """Record the message."""
        self.record.sent.append(message)
        return f"prov-{len(self.record.sent)}"

    async def send_typing(
        self, recipient_id: str, *, last_inbound_external_id: str | None = None
    ) -> None:
        """Record the call."""
        if self.record.fail_signals:
            raise RetryLater("provider down")
        self.record.typing.append((recipient_id, last_inbound_external_id))

    async def mark_read(self, external_id: str) -> None:
        """Record the call."""
        if self.record.fail_signals:
            raise RetryLater("provider down")
        self.record.read.append(external_id)

    async def list_templates(self) -> list[MessageTemplate]:
        """Two templates, or the scripted error."""
        if self.record.templates_error is not None:
            raise self.record.templates_error
        return [
            MessageTemplate(
                name="order_update", language="en_US", body="Order {{1}}", parameters=1
            ),
            MessageTemplate(name="hello", language="de", body="Hallo", parameters=0),
        ]


class PlainChannel(ChannelType[NoConfig]):
    """No window, no templates, no typing, no receipts."""

    name = "plain"
    title = "Plain"
    description = "Test double without extras."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = NoConfig
    record: ClassVar[Recorder]

    async def send(self, message: OutboundMessage) -> str:
        """Record the message."""
        self.record.sent.append(message)
        return "plain-1"


class Plugin:
    """Registers both test types, bound to one recorder."""

    def __init__(self, record: Recorder) -> None:
        self.types: list[type[ChannelType[Any]]] = [
            type("BoundWindowed", (WindowedChannel,), {"record": record}),
            type("BoundPlain", (PlainChannel,), {"record": record}),
        ]

    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        """The test types."""
        return self.types


@dataclass
class Hub:
    """The running hub, its recorder and an agent's auth header."""

    client: Client
    record: Recorder
    auth: dict[str, str]
    agent: User


@pytest.fixture
async def hub(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    user_token: Callable[..., Awaitable[tuple[User, dict[str, str]]]],
) -> Hub:
    record = Recorder()
    manager = HubPluginManager(autoload=False)
    manager.register(
        Plugin(record), PluginInfo(name="agent-test", distribution="tests", version="0")
    )
    idle = settings.model_copy(update={"outbox_poll_seconds": 3600})
    client = await aiohttp_client(create_app(idle, plugins=manager))
    agent, auth = await user_token("agent@example.com")
    return Hub(client, record, auth, agent)


async def conversation_on(
    factory: Factory,
    type_: str,
    *,
    inbound_hours_ago: float | None,
    recipient: str = "wa-4915",
) -> tuple[Channel, Conversation]:
    """A conversation with a contact who has an identity on a new channel of ``type_``,
    whose last inbound message came ``inbound_hours_ago`` (never when None)."""
    channel = await factory.channel(type_)
    contact = await factory.contact()
    await factory.add(
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id=recipient)
    )
    last = None if inbound_hours_ago is None else utcnow() - timedelta(hours=inbound_hours_ago)
    conversation = await factory.conversation(channel, contact, last_inbound_at=last)
    return channel, conversation


async def send(hub: Hub, conversation_id: int, body: dict[str, Any]) -> tuple[int, Any]:
    response = await hub.client.post(
        f"/api/v1/conversations/{conversation_id}/messages", json=body, headers=hub.auth
    )
    return response.status, await response.json()


async def delivered(hub: Hub) -> None:
    """Drive the outbox until the queued message reached the plugin (the app's own
    worker, woken by the bus, may be delivering it at the same time)."""

    async def sent() -> None:
        await deliver_due(hub.client.app)
        assert hub.record.sent, "the message was never delivered"

    await eventually(sent)


TEMPLATE = {"name": "order_update", "language": "en_US", "parameters": ["A-1042"]}


# --- the window ---------------------------------------------------------------------------


@pytest.mark.parametrize("hours_ago", [25.0, None])
async def test_free_text_outside_the_window_is_refused_before_anything_is_queued(
    hub: Hub, factory: Factory, db: Sessions, hours_ago: float | None
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=hours_ago)

    status, body = await send(hub, conversation.id, {"text": "are you there?"})

    assert status == 409
    assert body["error"]["code"] == "window_closed"
    assert body["error"]["message"] == (
        "the 24-hour customer-service window is closed: send a template"
    )
    async with db() as session:
        assert list(await session.scalars(select(Message))) == []


async def test_free_text_inside_the_window_is_queued(hub: Hub, factory: Factory) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=23)

    status, body = await send(hub, conversation.id, {"text": "on it"})

    assert status == 201, body
    assert body["status"] == "pending"


async def test_the_window_counts_the_contacts_latest_message_in_any_of_their_threads(
    hub: Hub, factory: Factory, db: Sessions
) -> None:
    channel, old = await conversation_on(factory, "windowed", inbound_hours_ago=48)
    async with db() as session:
        contact = await session.get(Contact, old.contact_id)
    await factory.conversation(channel, contact, last_inbound_at=utcnow(), subject="other")

    status, body = await send(hub, old.id, {"text": "following up"})

    assert status == 201, body


async def test_a_channel_without_a_window_takes_free_text_at_any_time(
    hub: Hub, factory: Factory
) -> None:
    _, conversation = await conversation_on(factory, "plain", inbound_hours_ago=None)

    status, body = await send(hub, conversation.id, {"text": "hello"})

    assert status == 201, body


async def test_starting_a_conversation_on_a_windowed_channel_needs_a_template(
    hub: Hub, factory: Factory, db: Sessions
) -> None:
    channel, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=None)
    start = {"contact_id": conversation.contact_id, "channel_id": channel.id}
    async with db() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None
        stored.status = "closed"
        await session.commit()

    refused = await hub.client.post(
        "/api/v1/conversations", json={**start, "text": "hi"}, headers=hub.auth
    )
    started = await hub.client.post(
        "/api/v1/conversations", json={**start, "template": TEMPLATE}, headers=hub.auth
    )

    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "window_closed"
    assert started.status == 201, await started.text()
    assert (await started.json())["message"]["parts"][0]["kind"] == "template"


# --- templates ----------------------------------------------------------------------------


async def test_a_template_outside_the_window_is_stored_readably_and_sent_as_a_template(
    hub: Hub, factory: Factory
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=72)

    status, body = await send(hub, conversation.id, {"template": TEMPLATE})
    await delivered(hub)

    assert status == 201, body
    assert body["text"] == "[template order_update (en_US)] A-1042"
    assert body["parts"] == [{"kind": "template", **TEMPLATE}]
    [sent] = hub.record.sent
    assert sent.template == TemplateRef(
        name="order_update", language="en_US", parameters=("A-1042",)
    )
    assert sent.recipient_id == "wa-4915"


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ({"name": "", "language": "en"}, "template.name"),
        ({"name": "   ", "language": "en"}, "template.name"),
        ({"name": "x", "language": ""}, "template.language"),
        ({"name": "x"}, "template.language"),
        ({"name": "x", "language": "en", "parameters": ["p"] * 51}, "template.parameters"),
        ({"name": "x", "language": "en", "parameters": ["p" * 1025]}, "template.parameters.0"),
        ({"name": "x", "language": "en", "parameters": [3]}, "template.parameters.0"),
        ({"name": "x", "language": "en", "extra": 1}, "template.extra"),
    ],
)
async def test_a_malformed_template_is_refused_naming_the_field(
    hub: Hub, factory: Factory, template: dict[str, Any], field: str
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)

    status, body = await send(hub, conversation.id, {"template": template})

    assert status == 422
    assert field in str(body["error"])


async def test_a_template_with_text_is_refused(hub: Hub, factory: Factory) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)

    status, body = await send(hub, conversation.id, {"template": TEMPLATE, "text": "and"})

    assert status == 422
    assert "template" in str(body["error"])


async def test_a_template_to_a_channel_without_templates_is_refused(
    hub: Hub, factory: Factory
) -> None:
    _, conversation = await conversation_on(factory, "plain", inbound_hours_ago=1)

    status, body = await send(hub, conversation.id, {"template": TEMPLATE})

    assert status == 422
    assert "no message templates" in str(body["error"])


async def test_any_agent_lists_a_channels_templates(hub: Hub, factory: Factory) -> None:
    channel = await factory.channel("windowed")

    response = await hub.client.get(f"/api/v1/channels/{channel.id}/templates", headers=hub.auth)

    assert response.status == 200
    items = (await response.json())["items"]
    assert [(t["name"], t["language"], t["parameters"]) for t in items] == [
        ("order_update", "en_US", 1),
        ("hello", "de", 0),
    ]


async def test_templates_of_a_type_without_them_answer_not_supported(
    hub: Hub, factory: Factory
) -> None:
    channel = await factory.channel("plain")

    response = await hub.client.get(f"/api/v1/channels/{channel.id}/templates", headers=hub.auth)

    assert response.status == 409
    assert (await response.json())["error"]["code"] == "not_supported"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BadCredentials("token expired"), 422, "bad_credentials"),
        (RetryLater("rate limited"), 502, "provider_unavailable"),
    ],
)
async def test_provider_errors_while_listing_templates_are_reported(
    hub: Hub, factory: Factory, error: Exception, status: int, code: str
) -> None:
    channel = await factory.channel("windowed")
    hub.record.templates_error = error

    response = await hub.client.get(f"/api/v1/channels/{channel.id}/templates", headers=hub.auth)

    body = await response.json()
    assert response.status == status
    assert body["error"]["code"] == code
    assert str(error) in body["error"]["message"]


async def test_templates_of_a_missing_or_deleted_channel_answer_404(
    hub: Hub, factory: Factory
) -> None:
    deleted = await factory.channel("windowed", deleted_at=utcnow())

    for channel_id in (deleted.id, 999_999):
        response = await hub.client.get(
            f"/api/v1/channels/{channel_id}/templates", headers=hub.auth
        )
        assert response.status == 404


# --- typing and read receipts ---------------------------------------------------------------


async def test_an_agent_typing_shows_the_contact_a_typing_indicator_once_per_few_seconds(
    hub: Hub, factory: Factory
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    await factory.message(conversation, "first", external_id="wamid.1")
    await factory.message(conversation, "latest", external_id="wamid.2")
    typing = {"type": "typing", "conversation_id": conversation.id, "typing": True}

    async with hub.client.ws_connect("/ws", headers=hub.auth) as socket:
        assert (await socket.receive_json())["type"] == "hello"
        await socket.send_json(typing)
        await socket.send_json({"type": "ping"})
        assert (await socket.receive_json())["type"] == "pong"
        # Past the agents' 3-second repeat, within the provider's 5-second throttle.
        signals = signals_of(hub.client.app)
        assert signals.typing(conversation.id) is False
        await signals.drain()

    assert hub.record.typing == [("wa-4915", "wamid.2")]


async def test_the_typing_relay_throttles_per_conversation(hub: Hub, factory: Factory) -> None:
    _, first = await conversation_on(factory, "windowed", inbound_hours_ago=1, recipient="a")
    _, second = await conversation_on(factory, "windowed", inbound_hours_ago=1, recipient="b")
    signals = signals_of(hub.client.app)

    assert signals.typing(first.id, now=100.0) is True
    assert signals.typing(first.id, now=103.0) is False
    assert signals.typing(second.id, now=103.0) is True
    assert signals.typing(first.id, now=105.5) is True
    await signals.drain()

    assert sorted(r for r, _ in hub.record.typing) == ["a", "a", "b"]


async def test_no_typing_relay_where_the_channel_has_no_typing(hub: Hub, factory: Factory) -> None:
    _, conversation = await conversation_on(factory, "plain", inbound_hours_ago=1)
    signals = signals_of(hub.client.app)

    signals.typing(conversation.id)
    await signals.drain()

    assert hub.record.typing == []


async def test_marking_read_sends_a_read_receipt_for_the_latest_inbound_message_once(
    hub: Hub, factory: Factory
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    await factory.message(conversation, "old", external_id="wamid.old")
    await factory.message(conversation, "new", external_id="wamid.new")
    await factory.message(conversation, "reply", direction="out", status="sent", external_id="o")
    url = f"/api/v1/conversations/{conversation.id}/read"

    for _ in range(2):
        response = await hub.client.post(url, headers=hub.auth)
        assert response.status == 200
        await signals_of(hub.client.app).drain()

    assert hub.record.read == ["wamid.new"]


async def test_provider_failures_of_typing_and_receipts_are_only_logged(
    hub: Hub, factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    _, conversation = await conversation_on(factory, "windowed", inbound_hours_ago=1)
    await factory.message(conversation, "hi", external_id="wamid.x")
    hub.record.fail_signals = True

    response = await hub.client.post(
        f"/api/v1/conversations/{conversation.id}/read", headers=hub.auth
    )
    signals = signals_of(hub.client.app)
    signals.typing(conversation.id)
    await signals.drain()

    assert response.status == 200
    assert "read receipt for conversation" in caplog.text
    assert "typing relay for conversation" in caplog.text


async def test_no_read_receipt_for_a_type_without_mark_read(hub: Hub, factory: Factory) -> None:
    _, conversation = await conversation_on(factory, "plain", inbound_hours_ago=1)
    await factory.message(conversation, "hi", external_id="plain.1")

    response = await hub.client.post(
        f"/api/v1/conversations/{conversation.id}/read", headers=hub.auth
    )
    await signals_of(hub.client.app).drain()

    assert response.status == 200
    assert hub.record.read == []
