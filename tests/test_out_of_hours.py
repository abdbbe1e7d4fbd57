"""The out-of-hours auto-reply: through the real app (a custom channel's webhook, the
built-in observer) and through hub.inbox.out_of_hours directly, on both engines."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hub_custom_channel.signing import signed_headers
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.contract.channel import Capabilities
from hub.events.bus import MemoryBus
from hub.events.work import unit_of_work
from hub.inbox import out_of_hours
from hub.inbox.channel_settings import ChannelSettings, settings_json
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import (
    BusinessHours,
    Channel,
    Conversation,
    Message,
    OutboxItem,
    OutOfHoursReply,
    User,
)
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
TEXT = "We are closed now; we answer from 9 tomorrow."
# Thursday 3 December 2026, 22:00 UTC: closed by NINE_TO_FIVE (UTC, weekdays).
CLOSED = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
OPEN = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
NINE_TO_FIVE = [[["09:00", "17:00"]]] * 5 + [[], []]


def replying(text: str = TEXT, on: bool = True) -> dict[str, Any]:
    return settings_json(ChannelSettings(out_of_hours_reply=on, out_of_hours_text=text))


async def closed_now_week() -> list[list[list[str]]]:
    """A week open only on the day three days from today (UTC): closed all of today."""
    week: list[list[list[str]]] = [[] for _ in range(7)]
    week[(datetime.now(UTC).weekday() + 3) % 7] = [["00:00", "24:00"]]
    return week


async def set_hours(factory: Factory, week: list[list[list[str]]], **kwargs: Any) -> None:
    await factory.add(
        BusinessHours(scope="workspace", time_zone="UTC", week=week, holidays=[], **kwargs)
    )


async def replies_in(
    sessions: async_sessionmaker[AsyncSession], conversation_id: int
) -> list[Message]:
    async with sessions() as db:
        rows = await db.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.direction == "out"
            )
        )
        return list(rows)


# --- through the real app ---------------------------------------------------------------


async def post_message(
    client: Client, channel: dict[str, Any], external_id: str, **extra: Any
) -> None:
    event = {
        "type": "message",
        "id": external_id,
        "timestamp": datetime.now(UTC).isoformat(),
        "sender": {"id": "u-42", "name": "Ada Lovelace"},
        "text": "Hello, anyone there?",
        **extra,
    }
    body = json.dumps(event).encode()
    response = await client.post(
        f"/webhooks/{channel['id']}",
        data=body,
        headers={
            "Content-Type": "application/json",
            **signed_headers(channel["config"]["signing_secret"], body),
        },
    )
    assert response.status == 200, await response.text()
    assert (await response.json())["result"] == "stored"
    await client.app[appkeys.OBSERVERS].drain()


async def custom_channel(
    client: Client, auth: dict[str, str], settings: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "App chat",
            "config": {"outbound_url": "https://chat.example.test/replies"},
            "settings": settings,
        },
        headers=auth,
    )
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def test_a_message_out_of_hours_gets_one_auto_reply_a_day(
    client: Client, user_token: UserToken, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    channel = await custom_channel(client, owner, replying())
    await set_hours(factory, await closed_now_week())
    await post_message(client, channel, "m-1")
    [conversation] = (
        await (await client.get("/api/v1/conversations?view=all", headers=owner)).json()
    )["items"]
    [reply] = await replies_in(db, conversation["id"])
    assert (reply.text, reply.automated, reply.sender_user_id) == (TEXT, "auto_reply", None)
    async with db() as session:
        # Queued for the outbox like any reply.
        assert await session.scalar(select(OutboxItem.id).where(OutboxItem.message_id == reply.id))
    # The API and the timeline say it was automatic.
    shown = await (await client.get(f"/api/v1/messages/{reply.id}", headers=owner)).json()
    assert shown["automated"] == "auto_reply"
    # The timeline shows it as the hub's automatic reply.
    await log_in_page(client, "owner@example.com")
    page = await (
        await client.get(f"/inbox/conversations/{conversation['id']}?full=1", headers=HTML)
    ).text()
    article = page.split(f'id="message-{reply.id}"', 1)[1].split("</article>", 1)[0]
    assert "Automated" in article and "Auto-reply" in article and "out-of-hours reply" in article
    # A second message the same day: no second reply.
    await post_message(client, channel, "m-2")
    assert len(await replies_in(db, conversation["id"])) == 1


async def test_no_reply_while_open_without_hours_or_when_switched_off(
    client: Client, user_token: UserToken, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    off = await custom_channel(client, owner, replying(on=False))
    # No hours at all: always open.
    on = await custom_channel(client, owner, replying())
    await post_message(client, on, "a-1", sender={"id": "u-1", "name": "A"})
    # Open all week.
    await set_hours(factory, [[["00:00", "24:00"]]] * 7)
    await post_message(client, on, "a-2", sender={"id": "u-2", "name": "B"})
    async with db() as session:
        await session.execute(BusinessHours.__table__.update().values(week=await closed_now_week()))
        await session.commit()
    await post_message(client, off, "a-3", sender={"id": "u-3", "name": "C"})
    async with db() as session:
        outgoing = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "out")
        )
    assert outgoing == 0
    # The same contact on the replying channel now gets one: the hours really are closed.
    await post_message(client, on, "a-4", sender={"id": "u-4", "name": "D"})
    async with db() as session:
        outgoing = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "out")
        )
    assert outgoing == 1


async def test_a_failing_reply_loses_no_message(
    client: Client,
    user_token: UserToken,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    channel = await custom_channel(client, owner, replying())
    await set_hours(factory, await closed_now_week())

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the reply broke")

    monkeypatch.setattr(out_of_hours, "reply_if_closed", broken)
    with caplog.at_level(logging.ERROR, logger="hub.observers"):
        await post_message(client, channel, "f-1")
    async with db() as session:
        stored = list(await session.scalars(select(Message.direction)))
    assert stored == ["in"]
    assert any("the reply broke" in str(r.exc_info and r.exc_info[1]) for r in caplog.records)


# --- the domain function ------------------------------------------------------------------


async def arrange(
    factory: Factory,
    *,
    settings: dict[str, Any] | None = None,
    at: datetime = CLOSED,
    hours: bool = True,
) -> tuple[Channel, int, int]:
    """A replying channel, nine-to-five hours (UTC) and a contact's message at ``at``."""
    channel = await factory.channel(settings=settings or replying())
    if hours:
        await set_hours(factory, NINE_TO_FIVE)
    conversation = await factory.conversation(channel, last_inbound_at=at)
    message = await factory.message(conversation, created_at=at)
    return channel, conversation.id, message.id


async def reply(
    sessions: async_sessionmaker[AsyncSession],
    message_id: int,
    at: datetime = CLOSED,
    channels: Any = None,
) -> Message | None:
    async with unit_of_work(sessions, MemoryBus()) as work:
        return await out_of_hours.reply_if_closed(work, message_id, at=at, channels=channels)


async def test_once_per_conversation_and_local_day(
    factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, conversation_id, message_id = await arrange(factory)
    assert await reply(db, message_id) is not None
    assert await reply(db, message_id, CLOSED + timedelta(hours=1)) is None  # 23:00, same day
    # 02:00 the next (Friday) morning is another day in the zone: one more.
    friday = CLOSED + timedelta(hours=4)
    assert await reply(db, message_id, friday) is not None
    assert await reply(db, message_id, OPEN) is None  # open: none
    async with db() as session:
        days = sorted(await session.scalars(select(OutOfHoursReply.day)))
    assert days == ["2026-12-03", "2026-12-04"]
    assert len(await replies_in(db, conversation_id)) == 2


async def test_the_day_is_the_schedules_local_date(
    factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    channel = await factory.channel(settings=replying())
    await factory.add(
        BusinessHours(
            scope="workspace", time_zone="America/New_York", week=NINE_TO_FIVE, holidays=[]
        )
    )
    conversation = await factory.conversation(channel)
    message = await factory.message(conversation, created_at=CLOSED)
    # 22:00 UTC is 17:00 in New York (closed) on 3 December; 04:00 UTC is 23:00 there,
    # still the 3rd; 05:00 UTC is midnight there: the 4th.
    assert await reply(db, message.id, CLOSED) is not None
    later = await factory.message(conversation, created_at=CLOSED + timedelta(hours=6))
    assert await reply(db, later.id, CLOSED + timedelta(hours=6)) is None
    assert await reply(db, later.id, CLOSED + timedelta(hours=7)) is not None


async def test_two_processes_at_once_send_one_reply(
    factory: Factory, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    _, conversation_id, message_id = await arrange(factory)
    # Each "process" has its own engine and connection pool.
    engines = [create_engine(settings.effective_database_url) for _ in range(2)]
    try:
        results = await asyncio.gather(
            *(reply(create_sessionmaker(engine), message_id) for engine in engines)
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(r is not None for r in results) == 1
    assert len(await replies_in(db, conversation_id)) == 1
    async with db() as session:
        [claim] = list(await session.scalars(select(OutOfHoursReply)))
    assert claim.message_id == next(r for r in results if r is not None).id


async def test_a_closed_window_sends_nothing(
    factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    # A WhatsApp-like channel: free replies only within 24 h of the contact's last message.
    windowed = SimpleNamespace(capabilities=Capabilities(window_hours=24))
    channels = SimpleNamespace(for_channel=lambda channel: windowed)
    _, conversation_id, message_id = await arrange(factory, at=CLOSED - timedelta(hours=2))
    async with db() as session:
        # The contact last wrote two days ago.
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.last_inbound_at = CLOSED - timedelta(days=2)
        await session.commit()
    assert await reply(db, message_id, channels=channels) is None
    async with db() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.last_inbound_at = CLOSED - timedelta(hours=2)
        await session.commit()
    assert await reply(db, message_id, channels=channels) is not None


async def test_machines_blocked_contacts_and_stale_messages_get_none(
    factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    channel, conversation_id, message_id = await arrange(factory)
    async with db() as session:
        conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None
    # A contact's own auto-reply gets none back (no ping-pong of two responders).
    machine = await factory.message(conversation, created_at=CLOSED, automated="auto_reply")
    assert await reply(db, machine.id) is None
    # A message that reached the hub hours after it was written (a backlog).
    assert await reply(db, message_id, CLOSED + timedelta(hours=7)) is None
    blocked = await factory.conversation(channel, await factory.contact(blocked=True))
    from_blocked = await factory.message(blocked, created_at=CLOSED)
    assert await reply(db, from_blocked.id) is None
    assert await replies_in(db, conversation_id) == []
    assert await replies_in(db, blocked.id) == []
    # The text must be there to switch it on.
    with pytest.raises(ValueError, match="out_of_hours_text"):
        ChannelSettings(out_of_hours_reply=True, out_of_hours_text="  ")


async def test_on_mail_the_reply_is_in_the_thread(
    factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    mail = SimpleNamespace(capabilities=Capabilities(subject=True))
    chat = SimpleNamespace(capabilities=Capabilities())
    _, _, message_id = await arrange(factory)
    async with db() as session:
        inbound = await session.get(Message, message_id)
        assert inbound is not None
        inbound.subject = "Where is my order?"
        await session.commit()
    sent = await reply(db, message_id, channels=SimpleNamespace(for_channel=lambda c: mail))
    assert sent is not None
    assert (sent.subject, sent.reply_to_id) == ("Where is my order?", message_id)
    # A chat channel: no subject, not a quoted reply.
    _, _, other_id = await arrange(factory, hours=False)
    sent = await reply(db, other_id, channels=SimpleNamespace(for_channel=lambda c: chat))
    assert sent is not None and (sent.subject, sent.reply_to_id) == (None, None)
