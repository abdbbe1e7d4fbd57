"""Each user's notification settings: the API, the kinds they turn off, and the
notification of a new message in the assignee's conversation (both intake paths)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.events.event import HubEvent
from hub.settings import Settings
from hub.store.models import Conversation, Notification, User
from tests.channel_doubles import Recorder, manager, message, post
from tests.factories import Factory
from tests.test_inbound_fast import send_together

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
SETTINGS = "/api/v1/me/notification-settings"
DEFAULTS = {
    "message": True,
    "mention": True,
    "assigned": True,
    "snooze_ended": True,
    "sla_breached": True,
    "desktop": False,
    "sound": False,
}


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager(Recorder())))


async def kinds(db: Sessions, user: User) -> list[tuple[str, int | None]]:
    async with db() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
        )
        return [(n.kind, n.conversation_id) for n in rows]


async def test_settings_default_to_every_kind_and_are_replaced_whole(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    _, other_auth = await user_token("other@example.com")
    assert await (await client.get(SETTINGS, headers=auth)).json() == DEFAULTS

    response = await client.put(SETTINGS, json={"mention": False, "sound": True}, headers=auth)
    assert response.status == 200, await response.text()
    chosen = {**DEFAULTS, "mention": False, "sound": True}
    assert await response.json() == chosen
    assert await (await client.get(SETTINGS, headers=auth)).json() == chosen
    # A PUT replaces: what it leaves out is back to its default.
    response = await client.put(SETTINGS, json={"desktop": True}, headers=auth)
    assert await response.json() == {**DEFAULTS, "desktop": True}
    assert await (await client.get(SETTINGS, headers=other_auth)).json() == DEFAULTS


async def test_bad_settings_are_422_naming_the_field(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("me@example.com")
    for body, field in (({"nope": True}, "nope"), ({"mention": "maybe"}, "mention")):
        response = await client.put(SETTINGS, json=body, headers=auth)
        assert response.status == 422, body
        assert (await response.json())["error"]["details"][0]["field"] == field
    broken = {**auth, "Content-Type": "application/json"}
    assert (await client.put(SETTINGS, data="[", headers=broken)).status == 400
    assert (await client.get(SETTINGS)).status == 401


async def test_a_kind_turned_off_is_not_stored_nor_pushed(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    bea, bea_auth = await user_token("bea@example.com")
    conversation = await factory.conversation(await factory.channel())
    comments = f"/api/v1/conversations/{conversation.id}/comments"
    count = "/api/v1/notifications/unread-count"

    await client.put(SETTINGS, json={"mention": False}, headers=bea_auth)
    subscription = client.app[appkeys.BUS].subscribe()
    await client.post(comments, json={"body": "hi", "mentions": [bea.id]}, headers=auth)
    assert await kinds(db, bea) == []
    assert await (await client.get(count, headers=bea_auth)).json() == {"unread": 0}

    await client.put(SETTINGS, json={"mention": True}, headers=bea_auth)
    await client.post(comments, json={"body": "again", "mentions": [bea.id]}, headers=auth)
    assert await kinds(db, bea) == [("mention", conversation.id)]
    assert await (await client.get(count, headers=bea_auth)).json() == {"unread": 1}

    # Assignments follow the setting too.
    await client.put(SETTINGS, json={"assigned": False}, headers=bea_auth)
    assign = f"/api/v1/conversations/{conversation.id}/assign"
    response = await client.post(assign, json={"user_id": bea.id}, headers=auth)
    assert response.status == 200, await response.text()
    assert await kinds(db, bea) == [("mention", conversation.id)]

    subscription.close()
    events: list[HubEvent] = [e async for e in subscription]
    pushed = [(e.type, e.data.get("kind")) for e in events if e.user_ids == frozenset({bea.id})]
    assert pushed == [
        ("notification_settings.updated", None),
        ("notification", "mention"),
        ("notification_settings.updated", None),
    ]


@pytest.mark.parametrize("fast", [True, False], ids=["set-based", "per-message"])
async def test_a_new_message_notifies_the_assignee_who_wants_it(
    hub: Client, factory: Factory, user_token: UserToken, db: Sessions, fast: bool
) -> None:
    channel = await factory.channel("double", "Double")
    bea, bea_auth = await user_token("bea@example.com")
    committer = hub.app[appkeys.INBOUND].committer
    use = committer.fast
    committer.fast = use if fast else None
    try:
        for sender in ("s1", "s2"):
            assert (await post(hub, channel.id, message(f"{sender}-1", sender))).status == 200
        # A new conversation is nobody's yet: no one to notify.
        assert await kinds(db, bea) == []
        async with db() as session:
            await session.execute(update(Conversation).values(assignee_id=bea.id))
            await session.commit()
            ids = list(await session.scalars(select(Conversation.id).order_by(Conversation.id)))
        before = committer.stats.fast
        subscription = hub.app[appkeys.BUS].subscribe()
        # Two requests in one batch: the set-based path takes a batch, never a lone request.
        bodies = [[message("s1-2", "s1", "second")], [message("s2-2", "s2", "also")]]
        assert [r.status for r in await send_together(hub, channel.id, bodies)] == [200, 200]
        assert (committer.stats.fast - before) == (2 if fast else 0)
        assert await kinds(db, bea) == [("message", ids[0]), ("message", ids[1])]
        listed = await (await hub.get("/api/v1/notifications", headers=bea_auth)).json()
        assert [n["data"]["excerpt"] for n in listed["items"]] == ["also", "second"]

        await hub.put(SETTINGS, json={"message": False}, headers=bea_auth)
        bodies = [[message("s1-3", "s1", "third")], [message("s2-3", "s2", "more")]]
        assert [r.status for r in await send_together(hub, channel.id, bodies)] == [200, 200]
        assert len(await kinds(db, bea)) == 2
    finally:
        committer.fast = use
    subscription.close()
    events = [e async for e in subscription]
    assert sorted((e.type, e.data.get("excerpt")) for e in events if e.user_ids) == [
        ("notification", "also"),
        ("notification", "second"),
        ("notification_settings.updated", None),
    ]
