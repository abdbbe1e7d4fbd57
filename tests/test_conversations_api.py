"""Conversations over HTTP: views, tabs, sorting, paging, state changes, counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.inbox.workspace import save_workspace_settings
from hub.settings import Settings
from hub.store.models import ConversationEvent, User
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


async def ids(client: Client, headers: dict[str, str], **params: str) -> list[int]:
    response = await client.get("/api/v1/conversations", params=params, headers=headers)
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["items"]]


async def test_views_show_what_they_promise(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    other, _ = await user_token("other@example.com")
    team = await factory.team("Support", members=[me])
    channel = await factory.channel()
    mine = await factory.conversation(channel, assignee_id=me.id, minutes=1)
    theirs = await factory.conversation(channel, assignee_id=other.id, minutes=2)
    nobody = await factory.conversation(channel, minutes=3)
    team_only = await factory.conversation(channel, team_id=team.id, minutes=4)
    closed = await factory.conversation(channel, status="closed", minutes=5)

    assert await ids(client, auth, view="all") == [team_only.id, nobody.id, theirs.id, mine.id]
    assert await ids(client, auth, view="mine") == [mine.id]
    assert await ids(client, auth, view="unassigned") == [team_only.id, nobody.id]
    assert await ids(client, auth, view=f"team:{team.id}") == [team_only.id]
    assert await ids(client, auth, view="all", status="closed") == [closed.id]
    assert len(await ids(client, auth, view="all", status="all")) == 5


async def test_contact_id_narrows_a_view_to_one_contacts_conversations(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", role="agent")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    ada, bob = await factory.contact("Ada"), await factory.contact("Bob")
    older = await factory.conversation(channel, ada, assignee_id=me.id, minutes=1)
    newer = await factory.conversation(channel, ada, status="closed", minutes=2)
    await factory.conversation(channel, bob, minutes=3)
    hers = await factory.conversation(channel, ada, assignee_id=other.id, minutes=4)

    everything = await ids(client, auth, view="all", status="all", contact_id=str(ada.id))
    assert everything == [hers.id, newer.id, older.id]
    # Still within the view: Mine has only the one assigned to me.
    assert await ids(client, auth, view="mine", contact_id=str(ada.id)) == [older.id]
    assert await ids(client, auth, contact_id="999999") == []
    response = await client.get("/api/v1/conversations", params={"contact_id": "ada"}, headers=auth)
    assert response.status == 422
    assert (await response.json())["error"]["details"][0]["field"] == "contact_id"


async def test_sorting_and_cursor_paging_visit_every_conversation_once(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    made = [await factory.conversation(channel, minutes=i % 3) for i in range(7)]
    newest_first = sorted(made, key=lambda c: (c.last_message_at, c.id), reverse=True)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/v1/conversations", params=params, headers=auth)
        body = await response.json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [c.id for c in newest_first]
    assert await ids(client, auth, sort="oldest") == [c.id for c in reversed(newest_first)]


async def test_bad_query_parameters_get_a_precise_422(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    for params, field in [
        ({"view": "everything"}, "view"),
        ({"status": "done"}, "status"),
        ({"sort": "random"}, "sort"),
        ({"limit": "1000"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"colour": "red"}, "colour"),
    ]:
        response = await client.get("/api/v1/conversations", params=params, headers=auth)
        assert response.status == 422, params
        body = await response.json()
        assert body["error"]["details"][0]["field"] == field


async def test_assign_close_reopen_are_events_in_the_timeline(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    team = await factory.team(members=[me])
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"

    assigned = await client.post(
        f"{url}/assign", json={"user_id": me.id, "team_id": team.id}, headers=auth
    )
    assert assigned.status == 200
    assert (await assigned.json())["assignee_id"] == me.id
    closed = await client.post(f"{url}/close", json={"note": "solved"}, headers=auth)
    body = await closed.json()
    assert (body["status"], body["closing_note"]) == ("closed", "solved")
    assert (await client.post(f"{url}/close", json={}, headers=auth)).status == 409
    reopened = await client.post(f"{url}/reopen", headers=auth)
    assert (await reopened.json())["status"] == "open"
    unassigned = await client.post(f"{url}/unassign", headers=auth)
    assert (await unassigned.json())["assignee_id"] is None

    async with db() as session:
        events = (
            await session.scalars(
                select(ConversationEvent)
                .where(ConversationEvent.conversation_id == conversation.id)
                .order_by(ConversationEvent.id)
            )
        ).all()
    assert [(e.kind, e.actor_id) for e in events] == [
        ("assigned", me.id),
        ("closed", me.id),
        ("reopened", me.id),
        ("unassigned", me.id),
    ]
    assert events[1].data == {"note": "solved"}


@pytest.mark.parametrize(
    ("mode", "note", "status"),
    [
        ("mandatory", None, 422),
        ("mandatory", "  ", 422),
        ("mandatory", "done", 200),
        ("optional", None, 200),
        ("off", "a note", 422),
        ("off", None, 200),
    ],
)
async def test_closing_notes_follow_the_workspace_setting(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    mode: str,
    note: str | None,
    status: int,
) -> None:
    _, auth = await user_token("me@example.com")
    async with db() as session:
        await save_workspace_settings(session, {"closing_notes": mode})
        await session.commit()
    conversation = await factory.conversation(await factory.channel())
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/close", json={"note": note}, headers=auth
    )
    assert response.status == status
    if status == 422:
        assert (await response.json())["error"]["details"][0]["field"] == "note"


async def test_snooze_leaves_the_open_tab_and_comes_back_by_itself(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert (await client.post(f"{url}/snooze", json={"until": past}, headers=auth)).status == 422
    naive = datetime.now().isoformat()
    assert (await client.post(f"{url}/snooze", json={"until": naive}, headers=auth)).status == 422

    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    snoozed = await client.post(f"{url}/snooze", json={"until": soon}, headers=auth)
    assert (await snoozed.json())["status"] == "snoozed"
    assert await ids(client, auth, view="all") == []
    assert await ids(client, auth, view="all", status="snoozed") == [conversation.id]

    back = await client.post(f"{url}/unsnooze", headers=auth)
    assert (await back.json())["status"] == "open"
    assert (await client.post(f"{url}/unsnooze", headers=auth)).status == 409


async def test_a_closed_conversation_is_not_snoozed_but_reopened_first(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"
    closed = await client.post(f"{url}/close", json={"note": "Sorted"}, headers=auth)
    assert closed.status == 200, await closed.text()
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()

    refused = await client.post(f"{url}/snooze", json={"until": soon}, headers=auth)
    assert refused.status == 409
    error = (await refused.json())["error"]
    assert error["code"] == "conversation_closed"
    assert "reopen it first" in error["message"]
    unchanged = await (await client.get(url, headers=auth)).json()
    assert (unchanged["status"], unchanged["snoozed_until"]) == ("closed", None)
    assert unchanged["closed_at"] is not None and unchanged["closing_note"] == "Sorted"

    assert (await client.post(f"{url}/reopen", headers=auth)).status == 200
    snoozed = await client.post(f"{url}/snooze", json={"until": soon}, headers=auth)
    body = await snoozed.json()
    assert (snoozed.status, body["status"], body["closed_at"]) == (200, "snoozed", None)


async def test_counts_and_dots_follow_the_inbox_priority(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    other, _ = await user_token("other@example.com")
    mine_team = await factory.team("A", members=[me])
    other_team = await factory.team("B", members=[other])
    channel = await factory.channel()
    # unread, assigned to me and my team: dot in Mine only
    await factory.conversation(channel, assignee_id=me.id, team_id=mine_team.id, unread_count=2)
    # unread, my team, nobody: dot in team A
    await factory.conversation(channel, team_id=mine_team.id, unread_count=1)
    # unread, nobody, no team: dot in Unassigned
    await factory.conversation(channel, unread_count=5)
    # unread, another team without assignee: not my team, so Unassigned
    await factory.conversation(channel, team_id=other_team.id, unread_count=1)
    # unread, assigned to someone else: All
    await factory.conversation(channel, assignee_id=other.id, unread_count=1)
    # read, unassigned: counted open, no dot
    await factory.conversation(channel)
    # closed: not counted
    await factory.conversation(channel, status="closed", unread_count=3)

    response = await client.get("/api/v1/inbox/counts", headers=auth)
    views = {v["view"]: (v["open"], v["unread"]) for v in (await response.json())["views"]}
    assert views == {
        "all": (6, 1),
        "mine": (1, 1),
        "unassigned": (4, 2),
        f"team:{mine_team.id}": (2, 1),
        f"team:{other_team.id}": (1, 0),
    }


async def test_forged_cursors_and_huge_ids_are_422_not_500(
    client: Client, user_token: UserToken, factory: Factory
) -> None:
    import base64
    import json

    _, auth = await user_token("me@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())

    def forge(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    for cursor in (
        forge(["0001-01-01T00:00:00+14:00", 1]),
        forge(["2026-01-01T00:00:00+00:00", 2**70]),
        forge(["2026-01-01T00:00:00", 1]),
        forge(["2026-01-01T00:00:00+00:00", "1"]),
        forge({"a": 1}),
    ):
        response = await client.get(
            "/api/v1/conversations", params={"cursor": cursor}, headers=auth
        )
        assert response.status == 422, cursor
    url = f"/api/v1/conversations/{conversation.id}"
    assert (await client.post(f"{url}/assign", json={"user_id": 2**70}, headers=auth)).status == 422
    nul = await client.post(f"{url}/close", json={"note": "a\u0000b"}, headers=auth)
    assert nul.status == 422
    assert (await nul.json())["error"]["details"][0]["field"] == "note"


async def test_counts_are_shared_by_every_user_until_a_change(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    user_token: UserToken,
) -> None:
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"counts_cache_seconds": 3600}))
    )
    _, manager = await user_token("manager@example.com", role="manager")
    restricted, agent = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()
    await factory.conversation(channel)

    async def all_open(headers: dict[str, str]) -> dict[str, int]:
        response = await client.get("/api/v1/inbox/counts", headers=headers)
        return {v["view"]: v["open"] for v in (await response.json())["views"]}

    assert (await all_open(manager))["all"] == 1
    assert await all_open(agent) == {"mine": 0}
    # Written behind the hub's back: the shared rows do not know yet, for anyone (a
    # restricted agent takes from them the groups they may see)...
    behind = await factory.conversation(channel, assignee_id=restricted.id)
    assert (await all_open(manager))["all"] == 1
    assert await all_open(agent) == {"mine": 0}
    # ...and a change made through the hub refreshes them for everyone.
    listed = (await (await client.get("/api/v1/conversations", headers=manager)).json())["items"]
    first = next(item for item in listed if item["id"] != behind.id)
    assign = {"user_id": restricted.id}
    await client.post(f"/api/v1/conversations/{first['id']}/assign", json=assign, headers=manager)

    async def refreshed() -> None:  # the bus listener runs as its own task
        assert (await all_open(manager))["all"] == 2
        assert await all_open(agent) == {"mine": 2}

    await eventually(refreshed)


async def test_counts_of_a_team_restricted_agent_cover_their_own_and_their_teams(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="team")
    other, _ = await user_token("other@example.com")
    mine_team = await factory.team("A", members=[me, other])
    other_team = await factory.team("B", members=[other])
    channel = await factory.channel()
    await factory.conversation(channel, assignee_id=me.id, unread_count=1)  # mine, no team
    await factory.conversation(channel, assignee_id=me.id, team_id=other_team.id)  # mine
    await factory.conversation(channel, team_id=mine_team.id, unread_count=2)  # my team's
    await factory.conversation(channel, assignee_id=other.id, team_id=mine_team.id)
    await factory.conversation(channel, assignee_id=other.id, team_id=other_team.id, unread_count=1)
    await factory.conversation(channel, unread_count=1)  # nobody's: not visible to me

    response = await client.get("/api/v1/inbox/counts", headers=auth)
    views = {v["view"]: (v["open"], v["unread"]) for v in (await response.json())["views"]}
    assert views == {"mine": (2, 1), f"team:{mine_team.id}": (2, 1)}
