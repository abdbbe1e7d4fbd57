"""What a websocket client may send, and the typing indicators agents show each other."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import ConversationScope, Viewer, conversation_filter
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.store.models import Conversation

# A client sends "typing: true" on keystrokes; repeating it to every agent more often
# than this adds nothing to the indicator.
TYPING_REPEAT_SECONDS = 3.0
MAX_ID = 2**63 - 1  # ids are 64-bit; a bigger number must not reach the database


class TypingMessage(BaseModel):
    """``{"type": "typing", "conversation_id": 12, "typing": true}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["typing"]
    conversation_id: int = Field(gt=0, le=MAX_ID)
    typing: bool


class PingMessage(BaseModel):
    """``{"type": "ping"}``, answered ``{"type": "pong"}``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    type: Literal["ping"]


ClientMessage = Annotated[TypingMessage | PingMessage, Field(discriminator="type")]
_CLIENT_MESSAGE: TypeAdapter[TypingMessage | PingMessage] = TypeAdapter(ClientMessage)
MESSAGE_TYPES = ("typing", "ping")


class BadMessage(Exception):
    """A client message the hub cannot act on; ``str(err)`` says why, for the client."""


def parse_client_message(text: str) -> TypingMessage | PingMessage:
    """Validate one text frame from a client; raise ``BadMessage`` naming the problem."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise BadMessage('not JSON: send a JSON object with a "type"') from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise BadMessage('send a JSON object with a "type"')
    if raw["type"] not in MESSAGE_TYPES:
        raise BadMessage(f"unknown type {raw['type']!r}: use one of {', '.join(MESSAGE_TYPES)}")
    try:
        return _CLIENT_MESSAGE.validate_python(raw)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(part) for part in first["loc"][1:]) or "message"
        raise BadMessage(f"{field}: {first['msg']}") from None


class TypingIndicators:
    """One connection's typing state: checks visibility, publishes, and clears on close."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        user_id: int,
        user_name: str,
        relay: Callable[[int], object] | None = None,
    ) -> None:
        self._sessions = sessions
        # Told of every conversation the user types in, to show the contact a typing
        # indicator (``ProviderSignals.typing``: throttled, in the background).
        self._relay = relay
        self._bus = bus
        self._user_id = user_id
        self._user_name = user_name
        # conversation id → (its scope, when "typing: true" was last published)
        self._active: dict[int, tuple[ConversationScope, float]] = {}

    async def update(self, viewer: Viewer, message: TypingMessage, now: float) -> bool:
        """Announce that the user started or stopped typing in a conversation.

        False when the viewer may not see the conversation (or it does not exist): the
        two cases look the same, as they do over HTTP.
        """
        active = self._active.get(message.conversation_id)
        if message.typing and active is not None and now - active[1] < TYPING_REPEAT_SECONDS:
            return True  # said recently; a repeat would only add traffic
        async with self._sessions() as db:
            conversation = await db.scalar(
                select(Conversation).where(
                    Conversation.id == message.conversation_id, conversation_filter(viewer)
                )
            )
        if conversation is None:
            self._active.pop(message.conversation_id, None)
            return False
        scope = ConversationScope.of(conversation)
        if message.typing:
            self._active[conversation.id] = (scope, now)
            if self._relay is not None:
                self._relay(conversation.id)
        else:
            self._active.pop(conversation.id, None)
        await self._publish(scope, message.typing)
        return True

    async def stop_all(self) -> None:
        """The connection is ending: whatever the user was typing in, they stopped."""
        active, self._active = self._active, {}
        for scope, _ in active.values():
            await self._publish(scope, False)

    async def _publish(self, scope: ConversationScope, typing: bool) -> None:
        await self._bus.publish(
            HubEvent(
                "typing",
                {
                    "conversation_id": scope.conversation_id,
                    "user_id": self._user_id,
                    "name": self._user_name,
                    "typing": typing,
                },
                scope=scope,
            )
        )
