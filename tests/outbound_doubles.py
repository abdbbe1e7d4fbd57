"""A test-only channel type whose ``send`` follows a script, and helpers to queue messages.

The script is a list of steps, one per ``send`` call: a string is returned as the
provider id, an exception is raised, a coroutine function is awaited with the message.
When the steps run out, ``send`` succeeds with a fresh provider id. The script records
every message it was handed and how many sends were in flight at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.contract import ChannelType, MessageFailed, MessageSent, OutboundMessage, hookimpl
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.store.models import Channel, ContactIdentity, Conversation, Message, OutboxItem
from tests.factories import Factory

_recipients = count(1)
Step = str | BaseException | Callable[[OutboundMessage], Awaitable[str]]


class Script:
    """What the scripted channel's ``send`` does, call by call, and what it saw."""

    def __init__(self, *steps: Step, pause: float = 0.0) -> None:
        self.steps: deque[Step] = deque(steps)
        self.calls: list[OutboundMessage] = []
        # The bytes of each attachment sent, read through the channel's context (None:
        # the hub has no copy).
        self.files: list[bytes | None] = []
        self._ids = count(1)
        self.in_flight = 0
        self.max_in_flight = 0
        # Sends last this long, so that concurrent ones overlap.
        self.pause = pause
        # A send waits (up to a second) until this many are in flight, so that a test
        # of a concurrency limit reaches the limit however slowly the store answers.
        self.gather: int | None = None
        # Awaited inside every send, e.g. to change the store while a send is in flight.
        self.during: Callable[[OutboundMessage], Awaitable[None]] | None = None

    def then(self, *steps: Step) -> Script:
        """Add steps to the end of the script."""
        self.steps.extend(steps)
        return self

    async def send(self, message: OutboundMessage) -> str:
        """Play the next step for ``message``."""
        self.calls.append(message)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.pause:
                await asyncio.sleep(self.pause)
            for _ in range(200):
                if self.gather is None or self.in_flight >= self.gather:
                    break
                await asyncio.sleep(0.005)
            if self.during is not None:
                await self.during(message)
            step = self.steps.popleft() if self.steps else f"prov-{next(self._ids)}"
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, str):
                return step
            return await step(message)
        finally:
            self.in_flight -= 1


class ScriptedConfig(BaseModel):
    """No credentials: the scripted channel needs none."""

    model_config = ConfigDict(extra="forbid")


class ScriptedChannel(ChannelType[ScriptedConfig]):
    """A channel whose ``send`` plays ``script`` (set on a subclass per test)."""

    name = "scripted"
    title = "Scripted"
    description = "Test double: sends follow a script."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = ScriptedConfig
    script: Script

    async def send(self, message: OutboundMessage) -> str:
        """Read the attachments as a plugin that uploads them would, then play the script."""
        for attachment in message.attachments:
            try:
                self.script.files.append(await self.context.read_attachment(attachment))
            except FileNotFoundError:
                self.script.files.append(None)
        return await self.script.send(message)


@dataclass
class Observed:
    """The observer notices a test plugin heard."""

    sent: list[MessageSent]
    failed: list[MessageFailed]


class ScriptedPlugin:
    """Registers the scripted channel type and records the outbound observer hooks."""

    def __init__(self, script: Script) -> None:
        self.channel_type = type("BoundScriptedChannel", (ScriptedChannel,), {"script": script})
        self.observed = Observed(sent=[], failed=[])

    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        """The scripted type, bound to this plugin's script."""
        return [self.channel_type]

    @hookimpl
    def hub_message_sent(self, notice: MessageSent) -> None:
        """Record the notice."""
        self.observed.sent.append(notice)

    @hookimpl
    def hub_message_failed(self, notice: MessageFailed) -> None:
        """Record the notice."""
        self.observed.failed.append(notice)


def scripted_manager(script: Script) -> tuple[HubPluginManager, ScriptedPlugin]:
    """A plugin manager with only the scripted channel plugin."""
    manager = HubPluginManager(autoload=False)
    plugin = ScriptedPlugin(script)
    manager.register(plugin, PluginInfo(name="scripted", distribution="tests", version="0"))
    return manager, plugin


@dataclass
class Queued:
    """An agent's message queued for delivery, and what it hangs on."""

    channel: Channel
    conversation: Conversation
    message: Message
    item: OutboxItem


async def scripted_channel(factory: Factory, **kwargs: Any) -> Channel:
    """A channel of the scripted type."""
    return await factory.channel("scripted", **kwargs)


async def queue_message(
    factory: Factory,
    channel: Channel,
    text: str = "Hello there",
    *,
    conversation: Conversation | None = None,
    recipient: str | None = "",
    **message_fields: Any,
) -> Queued:
    """A pending outbound message and its outbox row, as ``send_message`` stores them,
    in a conversation with a contact who has the identity ``recipient`` on ``channel``
    (a fresh one when empty; none when ``None``)."""
    if conversation is None:
        contact = await factory.contact()
        if recipient == "":
            recipient = f"customer-{next(_recipients)}"
        if recipient is not None:
            await factory.add(
                ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id=recipient)
            )
        conversation = await factory.conversation(channel, contact)
    message = await factory.message(
        conversation, text, direction="out", status="pending", **message_fields
    )
    item = OutboxItem(message_id=message.id, channel_id=channel.id, status="pending")
    await factory.add(item)
    return Queued(channel, conversation, message, item)
