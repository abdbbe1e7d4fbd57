"""Internal comments over HTTP: never sent to the contact; mentions notify only the
mentioned, who must be able to see the conversation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.event import HubEvent
from hub.store.models import Message, Notification, OutboxItem, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


async def published(client: Client, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    """The events the bus carries while ``action`` runs."""
    subscription = client.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


async def field_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    return response.status, body["error"]["details"][0]["field"]


async def test_a_comment_is_stored_and_never_reaches_the_contact(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/comments"
    response = None

    async def post() -> None:
        nonlocal response
        response = await client.post(url, json={"body": "  call her back  "}, headers=auth)

    events = await published(client, post)
    assert response is not None and response.status == 201
    comment = await response.json()
    assert (comment["body"], comment["author_id"]) == ("call her back", me.id)
    assert (comment["mentions"], comment["attachments"]) == ([], [])
    async with db() as session:
        for model in (Message, OutboxItem):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    assert [e.type for e in events] == ["comment.created"]
    assert events[0].scope is not None and events[0].scope.conversation_id == conversation.id

    listed = await (await client.get(url, headers=auth)).json()
    assert [c["id"] for c in listed["items"]] == [comment["id"]]


async def test_mentions_notify_only_the_mentioned(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    bea, _ = await user_token("bea@example.com")
    cal, _ = await user_token("cal@example.com")
    bystander, _ = await user_token("dee@example.com")
    conversation = await factory.conversation(await factory.channel())
    response = None

    async def post() -> None:
        nonlocal response
        response = await client.post(
            f"/api/v1/conversations/{conversation.id}/comments",
            json={"body": "@Bea @Cal have a look", "mentions": [bea.id, cal.id, me.id]},
            headers=auth,
        )

    events = await published(client, post)
    assert response is not None and response.status == 201
    comment = await response.json()
    assert comment["mentions"] == [bea.id, cal.id, me.id]

    async with db() as session:
        notes = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    # Mentioning oneself notifies no one; the bystander hears nothing.
    assert [(n.user_id, n.kind, n.conversation_id) for n in notes] == [
        (bea.id, "mention", conversation.id),
        (cal.id, "mention", conversation.id),
    ]
    assert notes[0].data["comment_id"] == comment["id"]
    assert notes[0].data["by"] == me.id
    pushed = [e for e in events if e.type == "notification"]
    assert [e.user_ids for e in pushed] == [frozenset({bea.id}), frozenset({cal.id})]
    assert bystander.id not in {u for e in pushed for u in (e.user_ids or ())}


async def test_only_active_users_who_see_the_conversation_can_be_mentioned(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    teammate, _ = await user_token("team@example.com", visibility="team")
    outsider, _ = await user_token("out@example.com", visibility="team")
    assigned_only, _ = await user_token("assigned@example.com", visibility="assigned")
    gone, _ = await user_token("gone@example.com", active=False)
    team = await factory.team(members=[teammate])
    conversation = await factory.conversation(await factory.channel(), team_id=team.id)
    url = f"/api/v1/conversations/{conversation.id}/comments"

    for mentions in (
        [outsider.id],
        [assigned_only.id],
        [gone.id],
        [999999],
        [teammate.id, teammate.id],
        [teammate.id, outsider.id],
    ):
        response = await client.post(url, json={"body": "hi", "mentions": mentions}, headers=auth)
        assert await field_of(response) == (422, "mentions"), mentions
    response = await client.post(url, json={"body": "hi", "mentions": [0]}, headers=auth)
    status, field = await field_of(response)
    assert (status, field.split(".")[0]) == (422, "mentions")
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0

    ok = await client.post(url, json={"body": "hi", "mentions": [teammate.id]}, headers=auth)
    assert ok.status == 201
    assert me.id


async def test_bad_comment_bodies_are_422_naming_the_field(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/comments"
    for body, field in [
        ({}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "a\x00b"}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": "hi", "mentions": "everyone"}, "mentions"),
        ({"body": "hi", "internal": False}, "internal"),
    ]:
        response = await client.post(url, json=body, headers=auth)
        assert await field_of(response) == (422, field), body
    not_json = await client.post(url, data="body=hi", headers=auth)
    assert not_json.status == 415


async def test_comments_of_hidden_conversations_are_404(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", visibility="assigned")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/comments"
    assert (await client.get(url, headers=auth)).status == 404
    assert (await client.post(url, json={"body": "hi"}, headers=auth)).status == 404
    assert (await client.get("/api/v1/conversations/x/comments", headers=auth)).status == 404


async def test_comments_are_paged_by_keyset(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/comments"
    made = []
    for i in range(5):
        response = await client.post(url, json={"body": f"note {i}"}, headers=auth)
        made.append((await response.json())["id"])

    for order, want in (("asc", made), ("desc", list(reversed(made)))):
        seen: list[int] = []
        cursor = None
        while True:
            params = {"limit": "2", "order": order, **({"cursor": cursor} if cursor else {})}
            body = await (await client.get(url, params=params, headers=auth)).json()
            seen += [c["id"] for c in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == want
