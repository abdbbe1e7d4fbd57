"""Notifications over HTTP: each user sees and marks only their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.event import HubEvent
from hub.store.models import Notification, User
from tests.factories import BASE_TIME, Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
URL = "/api/v1/notifications"


async def notification(factory: Factory, user: User, minutes: int = 0, **kwargs: Any) -> int:
    row = Notification(
        user_id=user.id,
        kind=kwargs.pop("kind", "mention"),
        created_at=BASE_TIME + timedelta(minutes=minutes),
        **kwargs,
    )
    await factory.add(row)
    return row.id


async def ids(client: Client, auth: dict[str, str], **params: str) -> list[int]:
    response = await client.get(URL, params=params, headers=auth)
    assert response.status == 200, await response.text()
    return [n["id"] for n in (await response.json())["items"]]


async def test_a_user_lists_their_own_notifications_newest_first(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    other, _ = await user_token("other@example.com")
    conversation = await factory.conversation(await factory.channel())
    mine = [
        await notification(factory, me, i, conversation_id=conversation.id, data={"by": other.id})
        for i in range(5)
    ]
    await notification(factory, other, 9)

    assert await ids(client, auth) == list(reversed(mine))
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get(URL, params=params, headers=auth)).json()
        seen += [n["id"] for n in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(mine))

    first = (await (await client.get(URL, headers=auth)).json())["items"][-1]
    assert first == {
        "id": mine[0],
        "kind": "mention",
        "conversation_id": conversation.id,
        "data": {"by": other.id},
        "created_at": first["created_at"],
        "read_at": None,
    }


async def test_reading_one_or_all_changes_only_ones_own(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    other, other_auth = await user_token("other@example.com")
    a, b, c = [await notification(factory, me, i) for i in range(3)]
    theirs = await notification(factory, other)

    assert (await client.post(f"{URL}/{theirs}/read", headers=auth)).status == 404
    assert (await client.post(f"{URL}/999999/read", headers=auth)).status == 404
    assert (await client.post(f"{URL}/nope/read", headers=auth)).status == 404

    subscription = client.app[appkeys.BUS].subscribe()
    response = await client.post(f"{URL}/{b}/read", headers=auth)
    assert response.status == 200
    read_at = (await response.json())["read_at"]
    assert read_at is not None
    # Reading it again keeps the first time.
    again = await client.post(f"{URL}/{b}/read", headers=auth)
    assert (await again.json())["read_at"] == read_at
    assert await ids(client, auth, unread="true") == [c, a]
    assert await ids(client, auth, unread="false") == [b]

    done = await client.post(f"{URL}/read-all", headers=auth)
    assert await done.json() == {"updated": 2}
    assert await ids(client, auth, unread="true") == []
    assert await ids(client, other_auth, unread="true") == [theirs]
    assert await (await client.post(f"{URL}/read-all", headers=auth)).json() == {"updated": 0}

    subscription.close()
    events: list[HubEvent] = [e async for e in subscription]
    assert [(e.type, e.user_ids) for e in events] == [
        ("notifications.read", frozenset({me.id})),
        ("notifications.read", frozenset({me.id})),
    ]
    async with db() as session:
        stored = await session.get(Notification, theirs)
    assert stored is not None and stored.read_at is None


async def test_notifications_about_conversations_one_cannot_see_are_hidden(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    channel = await factory.channel()
    still_mine = await factory.conversation(channel, assignee_id=me.id)
    moved_away = await factory.conversation(channel)
    visible = await notification(factory, me, 1, conversation_id=still_mine.id)
    hidden = await notification(factory, me, 2, conversation_id=moved_away.id)
    general = await notification(factory, me, 3, kind="announcement")

    assert await ids(client, auth) == [general, visible]
    assert (await client.post(f"{URL}/{hidden}/read", headers=auth)).status == 404


async def test_bad_notification_queries_are_422_naming_the_parameter(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    for params, field in [
        ({"unread": "maybe"}, "unread"),
        ({"limit": "101"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"sort": "oldest"}, "sort"),
    ]:
        response = await client.get(URL, params=params, headers=auth)
        assert response.status == 422, params
        assert (await response.json())["error"]["details"][0]["field"] == field
    assert (await client.get(URL)).status == 401


async def test_mentions_arrive_as_notifications(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    bea, bea_auth = await user_token("bea@example.com")
    conversation = await factory.conversation(await factory.channel())
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/comments",
        json={"body": "look at this", "mentions": [bea.id]},
        headers=auth,
    )
    comment_id = (await response.json())["id"]
    items = (await (await client.get(URL, headers=bea_auth)).json())["items"]
    assert [(n["kind"], n["conversation_id"]) for n in items] == [("mention", conversation.id)]
    assert items[0]["data"] == {"comment_id": comment_id, "by": me.id, "excerpt": "look at this"}
    assert await ids(client, auth) == []
