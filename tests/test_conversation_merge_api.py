"""Merging a conversation into another of the same contact, over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.auth.visibility import Viewer
from hub.events.work import Work
from hub.inbox.conversation_merge import merge
from hub.settings import Settings
from hub.store.models import (
    Comment,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationThreadKey,
    Draft,
    Message,
    User,
)
from tests.channel_doubles import manager, message, post
from tests.factories import BASE_TIME, Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


def url(conversation_id: int) -> str:
    return f"/api/v1/conversations/{conversation_id}/merge"


async def _timeline(client: Client, auth: dict[str, str], conversation_id: int) -> list[Any]:
    response = await client.get(
        f"/api/v1/conversations/{conversation_id}/timeline",
        params={"limit": "100", "order": "asc"},
        headers=auth,
    )
    assert response.status == 200, await response.text()
    return list((await response.json())["items"])


async def test_the_source_timeline_moves_in_time_order_and_both_get_an_event(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    channel = await factory.channel()
    ada = await factory.contact("Ada")
    target = await factory.conversation(channel, ada, minutes=10, unread_count=1)
    source = await factory.conversation(channel, ada, minutes=20, unread_count=2)
    t = BASE_TIME
    await factory.message(target, "first", created_at=t + timedelta(minutes=1))
    await factory.message(source, "second", created_at=t + timedelta(minutes=2))
    await factory.message(target, "third", created_at=t + timedelta(minutes=3))
    await factory.add(
        Comment(conversation_id=source.id, author_id=me.id, body="note", created_at=t),
        ConversationThreadKey(
            channel_id=channel.id, key="subject:hello", conversation_id=source.id
        ),
        Draft(user_id=me.id, conversation_id=source.id, mode="reply", body="unsent"),
    )

    response = await client.post(url(source.id), json={"into": target.id}, headers=auth)

    assert response.status == 200, await response.text()
    merged = await response.json()
    assert merged["id"] == target.id
    assert merged["unread_count"] == 3
    assert merged["last_message_at"].startswith((t + timedelta(minutes=20)).isoformat()[:19])
    items = await _timeline(client, auth, target.id)
    texts = [i.get("text") or i.get("body") for i in items if i["type"] in ("message", "comment")]
    assert texts == ["note", "first", "second", "third"]  # in time order, times kept
    assert items[-1]["type"] == "event" and items[-1]["kind"] == "merged_in"
    assert items[-1]["data"] == {"source": source.id}
    async with db() as session:
        left = await session.get(Conversation, source.id)
        assert left is not None
        assert (left.status, left.merged_into_id, left.unread_count) == ("closed", target.id, 0)
        kinds = await session.scalars(
            select(ConversationEvent.kind).where(ConversationEvent.conversation_id == source.id)
        )
        assert list(kinds) == ["merged_into"]
        key = await session.scalar(select(ConversationThreadKey.conversation_id))
        assert key == target.id  # the thread's next email lands in the target
        draft = await session.scalar(select(Draft.conversation_id))
        assert draft == source.id  # the agent's unsent text stays where it was written
    # The source still answers (its page points at the target), no 404.
    response = await client.get(f"/api/v1/conversations/{source.id}", headers=auth)
    assert response.status == 200
    assert (await _timeline(client, auth, source.id))[-1]["data"] == {"into": target.id}


async def test_merge_rules(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    agent, auth = await user_token("agent@example.com", visibility="assigned")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    ada, bob = await factory.contact("Ada"), await factory.contact("Bob")
    one = await factory.conversation(channel, ada, assignee_id=agent.id)
    two = await factory.conversation(channel, ada, assignee_id=agent.id)
    hidden = await factory.conversation(channel, ada, assignee_id=other.id)
    bobs = await factory.conversation(channel, bob, assignee_id=agent.id)

    async def try_merge(source: int, body: Any) -> tuple[int, str | None]:
        response = await client.post(url(source), json=body, headers=auth)
        error = (await response.json()).get("error", {}) if response.status >= 400 else {}
        return response.status, error.get("code")

    assert await try_merge(one.id, {"into": bobs.id}) == (409, "different_contacts")
    assert await try_merge(one.id, {"into": one.id}) == (422, "validation_error")
    assert await try_merge(one.id, {"into": hidden.id}) == (404, "not_found")
    assert await try_merge(hidden.id, {"into": one.id}) == (404, "not_found")
    assert await try_merge(one.id, {"into": "two"}) == (422, "validation_error")
    assert await try_merge(one.id, {}) == (422, "validation_error")
    assert await try_merge(one.id, {"into": two.id}) == (200, None)
    assert await try_merge(one.id, {"into": two.id}) == (409, "already_merged")
    # Its timeline is in the other one now: it cannot be reopened on its own.
    response = await client.post(f"/api/v1/conversations/{one.id}/reopen", headers=auth)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "merged"
    response = await client.post(
        f"/api/v1/conversations/{one.id}/messages", json={"text": "hi"}, headers=auth
    )
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "merged"
    # Nothing moved for the refused merges.
    async with db() as session:
        assert (await session.get(Conversation, bobs.id)).merged_into_id is None  # type: ignore[union-attr]
        assert (await session.get(Conversation, hidden.id)).status == "open"  # type: ignore[union-attr]


async def test_a_new_message_never_lands_in_a_merged_conversation(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    hub = await aiohttp_client(create_app(settings, plugins=manager()))
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel("double", "Double")
    assert (await post(hub, channel.id, message("m1"))).status == 200
    async with db() as session:
        kept = await session.scalar(select(Conversation))
        assert kept is not None
        kept.status = "closed"
        await session.commit()
    async with db() as session:
        contact = await session.get(Contact, kept.contact_id)
        assert contact is not None
    merged = await factory.conversation(channel, contact, minutes=5)
    response = await hub.post(url(merged.id), json={"into": kept.id}, headers=auth)
    assert response.status == 200, await response.text()

    # The channel reopens a closed conversation on a new message: the one that was kept,
    # never the merged one, though it is the contact's latest on this channel.
    assert (await post(hub, channel.id, message("m2"))).status == 200
    async with db() as session:
        landed = await session.scalar(
            select(Message.conversation_id).where(Message.external_id == "m2")
        )
        assert landed == kept.id
        reopened = await session.get(Conversation, kept.id)
        assert reopened is not None and reopened.status == "open"
        left = await session.get(Conversation, merged.id)
        assert left is not None and left.status == "closed"


async def test_a_merge_announces_both_conversations_live(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_user("owner@example.com", role="owner")
    channel = await factory.channel()
    ada = await factory.contact("Ada")
    target = await factory.conversation(channel, ada)
    source = await factory.conversation(channel, ada)

    async with db() as session:
        work = Work(session)
        await merge(work, Viewer.of(owner), source.id, target.id)
        await session.commit()

    updated = {
        (e.data["conversation_id"], e.data["event"])
        for e in work.events
        if e.type == "conversation.updated"
    }
    assert updated == {(source.id, "merged_into"), (target.id, "merged_in")}
    assert [n.change for n in work.notices] == ["merged_into", "merged_in"]
