"""Users and teams over HTTP: listing, creating, editing, permissions, availability."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.event import HubEvent
from hub.store.models import Conversation, LoginSession, User
from tests.conftest import log_in
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


def cursor_of(value: Any) -> str:
    """A forged cursor in the API's encoding."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def field_of(body: dict[str, Any]) -> str:
    return str(body["error"]["details"][0]["field"])


async def published(client: Client, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    """The events the bus carries while ``action`` runs."""
    subscription = client.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


# --- listing -------------------------------------------------------------------------


async def test_every_user_may_list_users_sorted_by_name_with_their_teams(
    client: Client, factory: Factory, user_token: UserToken, make_user: Callable[..., Any]
) -> None:
    # Even an agent restricted to their own conversations: they assign and @mention.
    me, auth = await user_token("zed@example.com", name="Zed", visibility="assigned")
    bea = await make_user("bea@example.com", name="bea Baker", role="manager")
    team = await factory.team("Support", members=[bea])

    response = await client.get("/api/v1/users", headers=auth)
    assert response.status == 200
    body = await response.json()
    assert [u["name"] for u in body["items"]] == ["bea Baker", "Zed"]
    assert body["next_cursor"] is None
    assert body["items"][0] == {
        "id": bea.id,
        "email": "bea@example.com",
        "name": "bea Baker",
        "role": "manager",
        "visibility": "all",
        "available": True,
        "is_active": True,
        "teams": [{"id": team.id, "name": "Support"}],
        "language": None,
        "time_zone": None,
    }
    assert "password_hash" not in body["items"][1] and body["items"][1]["id"] == me.id


async def test_users_search_by_name_or_email_and_filter_by_status(
    client: Client, user_token: UserToken, make_user: Callable[..., Any]
) -> None:
    _, auth = await user_token("owner@example.com", name="Olga Owner", role="owner")
    await make_user("ana@shop.example.org", name="Ana Silva")
    await make_user("bo@example.com", name="Bo Dormant", active=False)

    async def names(**params: str) -> list[str]:
        response = await client.get("/api/v1/users", params=params, headers=auth)
        assert response.status == 200, await response.text()
        return [u["name"] for u in (await response.json())["items"]]

    assert await names(q="silva") == ["Ana Silva"]
    assert await names(q="SHOP.EXAMPLE") == ["Ana Silva"]
    assert await names(q="%") == []  # wildcards are literal characters
    assert await names(active="false") == ["Bo Dormant"]
    assert await names(active="true") == ["Ana Silva", "Olga Owner"]


async def test_users_are_paged_by_cursor_without_gaps_or_repeats(
    client: Client, user_token: UserToken, make_user: Callable[..., Any]
) -> None:
    _, auth = await user_token("a@example.com", name="Same")
    for i in range(4):
        await make_user(f"u{i}@example.com", name="Same" if i % 2 else f"Name {i}")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get("/api/v1/users", params=params, headers=auth)).json()
        seen += [u["id"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    everyone = await (await client.get("/api/v1/users", headers=auth)).json()
    assert seen == [u["id"] for u in everyone["items"]]
    assert len(set(seen)) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "nope"}, "cursor"),
        ({"cursor": cursor_of(["a", 2**64])}, "cursor"),
        ({"cursor": cursor_of(["a\x00", 1])}, "cursor"),
        ({"cursor": cursor_of([1, 1])}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"active": "maybe"}, "active"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_user_list_parameters_get_a_422_naming_them(
    client: Client, user_token: UserToken, params: dict[str, str], field: str
) -> None:
    _, auth = await user_token("a@example.com")
    response = await client.get("/api/v1/users", params=params, headers=auth)
    assert response.status == 422
    assert field_of(await response.json()) == field


async def test_a_user_is_read_by_id_and_a_missing_one_is_404(
    client: Client, user_token: UserToken
) -> None:
    me, auth = await user_token("a@example.com")
    response = await client.get(f"/api/v1/users/{me.id}", headers=auth)
    assert (await response.json())["email"] == "a@example.com"
    assert (await client.get("/api/v1/users/999", headers=auth)).status == 404
    assert (await client.get("/api/v1/users/abc", headers=auth)).status == 404
    assert (await client.get("/api/v1/users")).status == 401


# --- creating ------------------------------------------------------------------------


async def test_a_manager_creates_a_user_and_a_generated_password_is_shown_once(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("boss@example.com", role="manager")
    team = await factory.team("Sales")
    response = await client.post(
        "/api/v1/users",
        json={"email": "New@Example.com", "name": " Nia ", "team_ids": [team.id]},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    assert (body["email"], body["name"], body["role"]) == ("new@example.com", "Nia", "agent")
    assert body["teams"] == [{"id": team.id, "name": "Sales"}]
    password = body["password"]
    assert len(password) >= 10
    # The generated password works, and is never shown again.
    await log_in(client, "new@example.com", password)
    again = await client.get(f"/api/v1/users/{body['id']}", headers=auth)
    assert "password" not in await again.json()


async def test_a_given_password_is_not_echoed(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("boss@example.com", role="owner")
    response = await client.post(
        "/api/v1/users",
        json={
            "email": "o2@example.com",
            "name": "Owner Two",
            "role": "owner",
            "password": "x" * 12,
        },
        headers=auth,
    )
    assert response.status == 201
    body = await response.json()
    assert (body["role"], body["password"]) == ("owner", None)
    await log_in(client, "o2@example.com", "x" * 12)


@pytest.mark.parametrize(
    ("role", "new_role", "status"),
    [("agent", "agent", 403), ("manager", "owner", 403), ("manager", "manager", 201)],
)
async def test_who_may_create_which_users(
    client: Client, user_token: UserToken, role: str, new_role: str, status: int
) -> None:
    _, auth = await user_token("me@example.com", role=role)
    response = await client.post(
        "/api/v1/users",
        json={"email": "x@example.com", "name": "X", "role": new_role},
        headers=auth,
    )
    assert response.status == status


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "X"}, "email"),
        ({"email": "x@example.com", "name": ""}, "name"),
        ({"email": "x@example.com", "name": "X", "password": "short"}, "password"),
        ({"email": "x@example.com", "name": "X", "role": "boss"}, "role"),
        ({"email": "x@example.com", "name": "X", "visibility": "some"}, "visibility"),
        ({"email": "x@example.com", "name": "X", "team_ids": [999]}, "team_ids"),
        ({"email": "x@example.com", "name": "X", "team_ids": [10**20]}, "team_ids.0"),
        ({"email": "x@example.com", "name": "X", "admin": True}, "admin"),
    ],
)
async def test_bad_new_users_get_a_422_naming_the_field(
    client: Client, user_token: UserToken, body: dict[str, Any], field: str
) -> None:
    _, auth = await user_token("boss@example.com", role="owner")
    response = await client.post("/api/v1/users", json=body, headers=auth)
    assert response.status == 422, await response.text()
    assert field_of(await response.json()) == field


async def test_a_taken_email_is_409(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("boss@example.com", role="owner")
    body = {"email": "BOSS@example.com", "name": "Again"}
    response = await client.post("/api/v1/users", json=body, headers=auth)
    assert response.status == 409


# --- editing -------------------------------------------------------------------------


async def test_anyone_may_rename_themselves_but_change_nothing_else(
    client: Client, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="team")
    url = f"/api/v1/users/{me.id}"
    renamed = await client.patch(url, json={"name": "New Name"}, headers=auth)
    assert (await renamed.json())["name"] == "New Name"
    for change in ({"role": "manager"}, {"visibility": "all"}, {"team_ids": []}):
        response = await client.patch(url, json=change, headers=auth)
        assert response.status == 403, change


async def test_agents_cannot_edit_other_users(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("me@example.com")
    other, _ = await user_token("other@example.com")
    response = await client.patch(f"/api/v1/users/{other.id}", json={"name": "X"}, headers=auth)
    assert response.status == 403


async def test_a_manager_edits_agents_but_not_owners_and_cannot_make_owners(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("manager@example.com", role="manager")
    owner, _ = await user_token("owner@example.com", role="owner")
    agent, _ = await user_token("agent@example.com")
    team = await factory.team("Support")
    url = f"/api/v1/users/{agent.id}"

    response = await client.patch(
        url,
        json={"role": "manager", "visibility": "team", "team_ids": [team.id], "name": "Al"},
        headers=auth,
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["role"], body["visibility"], body["name"]) == ("manager", "team", "Al")
    assert body["teams"] == [{"id": team.id, "name": "Support"}]
    cleared = await client.patch(url, json={"team_ids": []}, headers=auth)
    assert (await cleared.json())["teams"] == []

    assert (await client.patch(url, json={"role": "owner"}, headers=auth)).status == 403
    owner_url = f"/api/v1/users/{owner.id}"
    assert (await client.patch(owner_url, json={"name": "X"}, headers=auth)).status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": None}, "role"),
        ({"name": None}, "name"),
        ({"role": "boss"}, "role"),
        ({"is_active": "no"}, "is_active"),
        ({"team_ids": [999]}, "team_ids"),
        ({"email": "x@example.com"}, "email"),
    ],
)
async def test_bad_user_changes_get_a_422_naming_the_field(
    client: Client, user_token: UserToken, body: dict[str, Any], field: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    agent, _ = await user_token("agent@example.com")
    response = await client.patch(f"/api/v1/users/{agent.id}", json=body, headers=auth)
    assert response.status == 422, await response.text()
    assert field_of(await response.json()) == field


async def test_the_last_active_owner_cannot_be_demoted_or_deactivated(
    client: Client, user_token: UserToken
) -> None:
    first, first_auth = await user_token("first@example.com", role="owner")
    # An inactive owner does not count as another owner.
    await user_token("gone@example.com", role="owner", active=False)
    url = f"/api/v1/users/{first.id}"
    response = await client.patch(url, json={"role": "manager"}, headers=first_auth)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "last_owner"

    second, second_auth = await user_token("second@example.com", role="owner")
    demoted = await client.patch(url, json={"role": "manager"}, headers=second_auth)
    assert demoted.status == 200
    # Now the second owner is the last one: nobody may demote or deactivate them.
    second_url = f"/api/v1/users/{second.id}"
    assert (
        await client.patch(second_url, json={"role": "agent"}, headers=second_auth)
    ).status == 409
    assert (
        await client.patch(second_url, json={"is_active": False}, headers=second_auth)
    ).status == 403  # nobody deactivates themselves
    promoted = await client.patch(url, json={"role": "owner"}, headers=second_auth)
    assert promoted.status == 200
    deactivated = await client.patch(second_url, json={"is_active": False}, headers=first_auth)
    assert deactivated.status == 200
    assert (
        await client.patch(url, json={"is_active": False, "name": "x"}, headers=first_auth)
    ).status == 403


async def test_deactivating_ends_sessions_and_stops_tokens_until_reactivated(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("owner@example.com", role="owner")
    agent, agent_auth = await user_token("agent@example.com")
    # The client's cookie jar holds the agent's session; a bearer header takes precedence.
    browser = client
    await log_in(browser, "agent@example.com")
    assert (await browser.get("/api/v1/me")).status == 200

    url = f"/api/v1/users/{agent.id}"
    response = await client.patch(url, json={"is_active": False}, headers=admin)
    assert (await response.json())["is_active"] is False
    assert (await browser.get("/api/v1/me")).status == 401
    assert (await client.get("/api/v1/me", headers=agent_auth)).status == 401
    async with db() as session:
        assert (
            await session.scalars(select(LoginSession).where(LoginSession.user_id == agent.id))
        ).all() == []

    await client.patch(url, json={"is_active": True}, headers=admin)
    assert (await client.get("/api/v1/me", headers=agent_auth)).status == 200
    assert (await browser.get("/api/v1/me")).status == 401  # the session stays ended


# --- availability --------------------------------------------------------------------


async def test_availability_is_toggled_by_the_user_and_shown_everywhere(
    client: Client, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    _, other = await user_token("other@example.com")

    async def put(available: Any) -> Any:
        return await client.put(
            "/api/v1/me/availability", json={"available": available}, headers=auth
        )

    events = await published(client, lambda: put(False))
    assert [(e.type, e.data["user_id"], e.data["available"]) for e in events] == [
        ("user.updated", me.id, False)
    ]
    assert (await (await client.get("/api/v1/me", headers=auth)).json())["available"] is False
    seen_by_other = await client.get(f"/api/v1/users/{me.id}", headers=other)
    assert (await seen_by_other.json())["available"] is False

    back = await put(True)
    assert (back.status, (await back.json())["available"]) == (200, True)
    bad = await put("yes")
    assert bad.status == 422
    assert field_of(await bad.json()) == "available"


# --- teams ---------------------------------------------------------------------------


async def test_teams_list_with_member_ids_and_counts_for_everyone(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    other, _ = await user_token("other@example.com")
    support = await factory.team("Support", members=[me, other])
    billing = await factory.team("billing")
    body = await (await client.get("/api/v1/teams", headers=auth)).json()
    assert body == {
        "items": [
            {"id": billing.id, "name": "billing", "member_ids": [], "member_count": 0},
            {
                "id": support.id,
                "name": "Support",
                "member_ids": sorted([me.id, other.id]),
                "member_count": 2,
            },
        ],
        "next_cursor": None,
    }
    one = await client.get(f"/api/v1/teams/{support.id}", headers=auth)
    assert (await one.json())["member_count"] == 2
    assert (await client.get("/api/v1/teams/999", headers=auth)).status == 404


async def test_admins_create_rename_and_staff_teams(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("manager@example.com", role="manager")
    ana, _ = await user_token("ana@example.com")
    bo, _ = await user_token("bo@example.com")

    created = await client.post(
        "/api/v1/teams", json={"name": "Support", "user_ids": [ana.id]}, headers=auth
    )
    assert created.status == 201
    team = await created.json()
    assert team["member_ids"] == [ana.id]
    url = f"/api/v1/teams/{team['id']}"

    renamed = await client.patch(url, json={"name": "Help desk"}, headers=auth)
    assert (await renamed.json())["name"] == "Help desk"
    members = await client.put(f"{url}/members", json={"user_ids": [bo.id, ana.id]}, headers=auth)
    assert (await members.json())["member_ids"] == sorted([ana.id, bo.id])
    replaced = await client.put(f"{url}/members", json={"user_ids": [bo.id]}, headers=auth)
    assert (await replaced.json())["member_ids"] == [bo.id]
    ana_now = await (await client.get(f"/api/v1/users/{ana.id}", headers=auth)).json()
    assert ana_now["teams"] == []


async def test_team_names_are_unique_ignoring_case(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    first = await client.post("/api/v1/teams", json={"name": "Support"}, headers=auth)
    second = await client.post("/api/v1/teams", json={"name": "Sales"}, headers=auth)
    assert (
        await client.post("/api/v1/teams", json={"name": "support"}, headers=auth)
    ).status == 409
    url = f"/api/v1/teams/{(await second.json())['id']}"
    assert (await client.patch(url, json={"name": "SUPPORT"}, headers=auth)).status == 409
    assert first.status == 201


async def test_unknown_members_are_a_422_naming_user_ids(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("owner@example.com", role="owner")
    team = await factory.team("Support", members=[me])
    url = f"/api/v1/teams/{team.id}/members"
    for body in ({"user_ids": [me.id, 999]}, {"user_ids": "all"}, {}):
        response = await client.put(url, json=body, headers=auth)
        assert response.status == 422, body
        assert field_of(await response.json()).startswith("user_ids")
    created = await client.post(
        "/api/v1/teams", json={"name": "New", "user_ids": [999]}, headers=auth
    )
    assert created.status == 422
    assert field_of(await created.json()) == "user_ids"
    unchanged = await client.get(f"/api/v1/teams/{team.id}", headers=auth)
    assert (await unchanged.json())["member_ids"] == [me.id]


async def test_agents_cannot_change_teams(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("agent@example.com")
    team = await factory.team("Support")
    url = f"/api/v1/teams/{team.id}"
    assert (await client.post("/api/v1/teams", json={"name": "X"}, headers=auth)).status == 403
    assert (await client.patch(url, json={"name": "X"}, headers=auth)).status == 403
    assert (await client.patch(url, json={}, headers=auth)).status == 403
    assert (
        await client.put(f"{url}/members", json={"user_ids": [me.id]}, headers=auth)
    ).status == 403
    assert (await client.delete(url, headers=auth)).status == 403


async def test_deleting_a_team_keeps_its_conversations_assignees(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    me, auth = await user_token("owner@example.com", role="owner")
    team = await factory.team("Support", members=[me])
    conversation = await factory.conversation(
        await factory.channel(), assignee_id=me.id, team_id=team.id
    )
    response = await client.delete(f"/api/v1/teams/{team.id}", headers=auth)
    assert response.status == 204
    assert (await client.get(f"/api/v1/teams/{team.id}", headers=auth)).status == 404
    assert (await client.delete(f"/api/v1/teams/{team.id}", headers=auth)).status == 404
    async with db() as session:
        stored = await session.get(Conversation, conversation.id)
        assert stored is not None
        assert (stored.assignee_id, stored.team_id) == (me.id, None)
    me_now = await (await client.get("/api/v1/me", headers=auth)).json()
    assert me_now["teams"] == []


async def test_nul_characters_are_a_422_naming_the_field_not_a_500(
    client: Client, user_token: UserToken
) -> None:
    # PostgreSQL text cannot hold NUL: it must be refused before it reaches the database.
    _, auth = await user_token("owner@example.com", role="owner")
    searched = await client.get("/api/v1/users", params={"q": "a\x00b"}, headers=auth)
    assert searched.status == 422
    assert field_of(await searched.json()) == "q"
    created = await client.post("/api/v1/teams", json={"name": "a\u0000b"}, headers=auth)
    assert created.status == 422
    assert field_of(await created.json()) == "name"
