"""Threading by what a message names (``hub.inbox.intake_threads``): references to earlier
messages, thread hints with their windows, never across contacts; machine messages that
reopen nothing; envelopes and flags kept; a reply's references and copies for the plugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.channels.outbound_message import build_outbound, load_delivery
from hub.settings import Settings
from hub.store.models import (
    Channel,
    Conversation,
    ConversationThreadKey,
    Message,
    OutboxItem,
    User,
)
from hub.store.types import utcnow
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", "Double")


def mail(external_id: str, sender: str = "ada@example.com", **extra: Any) -> dict[str, Any]:
    """An email-like event: each mail its own thread unless it names an earlier one."""
    return message(
        external_id, sender, f"mail {external_id}", thread_key=f"mid:{external_id}", **extra
    )


def subject_hint(sender: str, subject: str, hours: int | None = 72) -> dict[str, Any]:
    return {"key": f"subject:{sender}:{subject}", "within_hours": hours}


async def take(hub: Client, channel: Channel, *events: dict[str, Any]) -> None:
    for event in events:
        response = await post(hub, channel.id, event)
        assert response.status == 200, await response.text()


async def conversation_of(db: Sessions, external_id: str) -> Conversation:
    async with db() as session:
        found = await session.scalar(
            select(Conversation)
            .join(Message, Message.conversation_id == Conversation.id)
            .where(Message.external_id == external_id)
        )
        assert found is not None, external_id
        return found


async def test_a_reply_naming_an_earlier_mail_joins_its_conversation(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await take(hub, channel, mail("a1"), mail("a2"), mail("a3", references=["nope", "a1"]))

    first, second, reply = [await conversation_of(db, m) for m in ("a1", "a2", "a3")]
    assert reply.id == first.id != second.id


async def test_the_nearest_known_reference_decides(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await take(hub, channel, mail("b1"), mail("b2"), mail("b3", references=["b2", "b1"]))

    assert (await conversation_of(db, "b3")).id == (await conversation_of(db, "b2")).id


async def test_a_reference_never_joins_another_contacts_conversation(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    # Two people answer one mailing: each keeps a conversation of their own.
    await take(
        hub,
        channel,
        mail("c1", "ada@example.com"),
        mail("c2", "bob@example.com", references=["c1"]),
    )

    assert (await conversation_of(db, "c2")).id != (await conversation_of(db, "c1")).id


async def test_a_hint_joins_within_its_window_and_not_after(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    hint = subject_hint("ada@example.com", "invoice")
    await take(hub, channel, mail("d1", thread_hints=[hint]), mail("d2", thread_hints=[hint]))
    first = await conversation_of(db, "d1")
    assert (await conversation_of(db, "d2")).id == first.id

    async with db() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.id == first.id)
            .values(last_message_at=utcnow() - timedelta(hours=73))
        )
    await take(hub, channel, mail("d3", thread_hints=[hint]))

    assert (await conversation_of(db, "d3")).id != first.id


async def test_a_hint_without_a_window_joins_however_old(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    hint = {"key": "outlook:ada@example.com:AQHZ", "within_hours": None}
    await take(hub, channel, mail("e1", thread_hints=[hint]))
    first = await conversation_of(db, "e1")
    async with db() as session, session.begin():
        await session.execute(
            update(Conversation)
            .where(Conversation.id == first.id)
            .values(last_message_at=utcnow() - timedelta(days=400))
        )
    await take(hub, channel, mail("e2", thread_hints=[hint]))

    assert (await conversation_of(db, "e2")).id == first.id


async def test_the_latest_conversation_takes_a_hint_over(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    old, new = subject_hint("ada@example.com", "order"), subject_hint("ada@example.com", "x")
    await take(hub, channel, mail("f1", thread_hints=[old]), mail("f2", thread_hints=[new, old]))
    # f2 matched nothing by its first hint but joined f1 by its second; both keys now
    # point at that conversation.
    conversation = await conversation_of(db, "f1")
    async with db() as session:
        keys = {
            row.key: row.conversation_id
            for row in await session.scalars(
                select(ConversationThreadKey).where(ConversationThreadKey.channel_id == channel.id)
            )
        }
    assert keys == {
        "subject:ada@example.com:order": conversation.id,
        "subject:ada@example.com:x": conversation.id,
    }


async def test_a_reply_to_a_closed_conversation_follows_the_channel_setting(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await take(hub, channel, mail("g1"))
    first = await conversation_of(db, "g1")
    await close(db, first.id)
    await take(hub, channel, mail("g2", references=["g1"]))
    reopened = await conversation_of(db, "g2")
    assert reopened.id == first.id and reopened.status == "open"

    await close(db, first.id)
    async with db() as session, session.begin():
        await session.execute(
            update(Channel)
            .where(Channel.id == channel.id)
            .values(settings={"closed_conversation": "new"})
        )
    await take(hub, channel, mail("g3", references=["g2"]))
    fresh = await conversation_of(db, "g3")
    assert fresh.id != first.id and fresh.status == "open"


async def test_an_auto_reply_is_kept_flagged_and_reopens_nothing(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await take(hub, channel, mail("h1"))
    first = await conversation_of(db, "h1")
    await close(db, first.id)
    await take(hub, channel, mail("h2", references=["h1"], automated="auto_reply"))

    after = await conversation_of(db, "h2")
    assert after.id == first.id and after.status == "closed"
    async with db() as session:
        stored = await session.scalar(select(Message).where(Message.external_id == "h2"))
    assert stored is not None and stored.automated == "auto_reply"


async def test_the_envelope_is_kept_with_only_its_filled_lists(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    envelope = {"to": ["Support <support@acme.test>"], "cc": ["Bob <bob@example.com>"]}
    await take(hub, channel, mail("i1", envelope=envelope))

    async with db() as session:
        stored = await session.scalar(select(Message).where(Message.external_id == "i1"))
    assert stored is not None and stored.envelope == envelope


async def test_a_reply_names_the_earlier_messages_its_copies_and_its_author(
    hub: Client,
    channel: Channel,
    db: Sessions,
    make_user: Callable[..., Awaitable[User]],
    settings: Settings,
) -> None:
    await take(hub, channel, mail("j1"), mail("j2", references=["j1"]))
    conversation = await conversation_of(db, "j1")
    agent = await make_user("ana@example.com", name="Ana Silva")
    async with db() as session, session.begin():
        reply = Message(
            conversation_id=conversation.id,
            channel_id=channel.id,
            direction="out",
            sender_user_id=agent.id,
            text="Thanks!",
            parts=[],
            status="queued",
            envelope={"cc": ["bob@example.com"]},
        )
        session.add(reply)
        await session.flush()
        item = OutboxItem(message_id=reply.id, channel_id=channel.id, status="pending")
        session.add(item)
        await session.flush()
        delivery = await load_delivery(session, item)
    assert delivery is not None

    outbound = build_outbound(delivery, "ada@example.com", settings=settings, secret_key="k" * 32)

    assert outbound.references == ("j1", "j2")
    assert outbound.cc == ("bob@example.com",)
    assert outbound.sender_name == "Ana Silva"


async def close(db: Sessions, conversation_id: int) -> None:
    async with db() as session, session.begin():
        await session.execute(
            update(Conversation).where(Conversation.id == conversation_id).values(status="closed")
        )
