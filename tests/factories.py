"""Arrange store state directly: teams, channels, contacts, conversations, messages.

Tests of the API then act over HTTP and check what it answers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.crypto import ConfigCipher
from hub.store.models import Channel, Contact, Conversation, Message, Team, TeamMembership, User

_seq = count(1)
BASE_TIME = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Factory:
    """Builds rows in the test database, each call in its own committed transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.cipher = ConfigCipher("test-secret-" + "x" * 40)

    async def add(self, *rows: Any) -> None:
        async with self.sessions() as db:
            db.add_all(rows)
            await db.commit()

    async def team(self, name: str | None = None, members: list[User] = ()) -> Team:  # type: ignore[assignment]
        team = Team(name=name or f"Team {next(_seq)}")
        await self.add(team)
        if members:
            await self.add(*(TeamMembership(team_id=team.id, user_id=u.id) for u in members))
        return team

    async def channel(
        self, type_: str = "custom_channel", name: str | None = None, **kwargs: Any
    ) -> Channel:
        channel = Channel(
            type=type_,
            name=name or f"Channel {next(_seq)}",
            config_encrypted=self.cipher.encrypt({}),
            **kwargs,
        )
        await self.add(channel)
        return channel

    async def contact(self, name: str | None = None, **kwargs: Any) -> Contact:
        contact = Contact(name=name or f"Contact {next(_seq)}", **kwargs)
        await self.add(contact)
        return contact

    async def conversation(
        self,
        channel: Channel,
        contact: Contact | None = None,
        *,
        minutes: int = 0,
        **kwargs: Any,
    ) -> Conversation:
        """A conversation whose last message was ``minutes`` after ``BASE_TIME``."""
        contact = contact or await self.contact()
        at = BASE_TIME + timedelta(minutes=minutes)
        values: dict[str, Any] = {
            "last_message_at": at,
            "opened_at": at,
            "status_changed_at": at,
            "contact_blocked": contact.blocked,
        }
        values.update(kwargs)
        conversation = Conversation(contact_id=contact.id, channel_id=channel.id, **values)
        await self.add(conversation)
        return conversation

    async def message(
        self, conversation: Conversation, text: str = "hello", **kwargs: Any
    ) -> Message:
        values: dict[str, Any] = {"direction": "in", "status": "received"}
        values.update(kwargs)
        message = Message(
            conversation_id=conversation.id, channel_id=conversation.channel_id, text=text, **values
        )
        await self.add(message)
        return message
