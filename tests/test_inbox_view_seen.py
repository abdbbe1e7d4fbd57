"""The sidebar's new-message dots go out when their inbox is opened
(``POST /api/v1/inbox/seen``) and come back with the next message that arrives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.view_seen import mark_seen
from hub.store.models import Conversation, User
from tests.factories import BASE_TIME, Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


async def dots(client: Client, auth: dict[str, str]) -> dict[str, int]:
    response = await client.get("/api/v1/inbox/counts", headers=auth)
    assert response.status == 200, await response.text()
    return {v["view"]: v["unread"] for v in (await response.json())["views"]}


async def see(client: Client, auth: dict[str, str], view: str) -> int:
    response = await client.post("/api/v1/inbox/seen", json={"view": view}, headers=auth)
    return response.status


async def _world(factory: Factory, me: User, other: User) -> dict[str, Conversation]:
    """One unread conversation for each place a dot can land (as in the priority test
    of test_conversations_api), each with a message in at BASE_TIME."""
    mine_team = await factory.team("A", members=[me])
    other_team = await factory.team("B", members=[other])
    channel = await factory.channel()
    at = {"last_inbound_at": BASE_TIME, "unread_count": 1}
    return {
        "mine": await factory.conversation(channel, assignee_id=me.id, team_id=mine_team.id, **at),
        f"team:{mine_team.id}": await factory.conversation(channel, team_id=mine_team.id, **at),
        "unassigned": await factory.conversation(channel, **at),
        "unassigned_other_team": await factory.conversation(channel, team_id=other_team.id, **at),
        "all": await factory.conversation(channel, assignee_id=other.id, **at),
        "read": await factory.conversation(channel, last_inbound_at=BASE_TIME),
    }


async def test_the_dot_rule_in_sql_is_the_folding_of_the_counts(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    other, _ = await user_token("other@example.com")
    await _world(factory, me, other)
    folded = await dots(client, auth)
    assert sum(folded.values()) == 5 and folded["unassigned"] == 2
    # Seen long before every message: re-counting each dot by its SQL twin changes
    # nothing, so the two agree on where every conversation's dot lands.
    async with db() as session:
        for view in folded:
            await mark_seen(session, me.id, view, at=BASE_TIME - timedelta(days=1))
        await session.commit()
    assert await dots(client, auth) == folded


async def test_opening_an_inbox_clears_its_dot_until_a_new_message(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    other, _ = await user_token("other@example.com")
    world = await _world(factory, me, other)
    before = await dots(client, auth)

    assert await see(client, auth, "mine") == 204
    after = await dots(client, auth)
    assert after["mine"] == 0
    assert {v: n for v, n in after.items() if v != "mine"} == {
        v: n for v, n in before.items() if v != "mine"
    }
    for view in before:
        assert await see(client, auth, view) == 204
    assert set((await dots(client, auth)).values()) == {0}

    # A message arrives in an unassigned conversation: only Unassigned lights up again.
    async with db() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == world["unassigned"].id)
            .values(last_inbound_at=datetime.now(UTC) + timedelta(minutes=1))
        )
        await session.commit()
    assert {v: n for v, n in (await dots(client, auth)).items() if n} == {"unassigned": 1}


async def test_only_an_inbox_the_caller_has_can_be_seen(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, agent = await user_token("agent@example.com", visibility="assigned")
    _, owner = await user_token("owner@example.com", role="owner")
    team = await factory.team("Elsewhere")
    assert await see(client, agent, "mine") == 204
    assert await see(client, agent, "all") == 403
    assert await see(client, agent, f"team:{team.id}") == 403
    assert await see(client, owner, "team:999999") == 404
    bad = await client.post("/api/v1/inbox/seen", json={"view": "everything"}, headers=owner)
    assert bad.status == 422
    assert (await bad.json())["error"]["details"][0]["field"] == "view"
    # A custom inbox has no dot: seeing it is allowed and changes nothing.
    made = await client.post("/api/v1/custom-inboxes", json={"name": "VIP"}, headers=owner)
    assert await see(client, owner, f"custom:{(await made.json())['id']}") == 204
