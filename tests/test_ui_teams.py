"""The teams pages: list with member counts, create, rename and set members, delete."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Team, User
from tests.factories import Factory
from tests.test_ui_users import HTML, as_owner, error_of, form_csrf, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def members_of(db: async_sessionmaker[AsyncSession], team_id: int) -> list[int]:
    async with db() as session:
        team = await session.get(Team, team_id)
        assert team is not None
        return sorted(member.id for member in team.members)


async def test_creating_a_team_with_members(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann <b>")
    await make_user("gone@example.com", name="Gone Gary", active=False)
    form_page = await (await client.get("/admin/teams/new", headers=HTML)).text()
    assert "Ann &lt;b&gt;" in form_page and "Gone Gary" not in form_page  # active users only
    assert form_csrf(form_page, "/admin/teams/new") == csrf

    form = {"csrf_token": csrf, "name": "Support <script>", "user_ids": str(ann.id)}
    created = await client.post("/admin/teams/new", data=form, allow_redirects=False)
    assert created.status == 303
    team_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert await members_of(db, team_id) == [ann.id]

    listing = await (await client.get("/admin/teams", headers=HTML)).text()
    assert "Support &lt;script&gt;" in listing and "<script>" not in listing
    assert re.search(r"Support &lt;script&gt;</a></td>\s*<td>1</td>", listing)


async def test_a_taken_name_is_shown_beside_the_field_keeping_the_input(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    _, csrf = await as_owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann")
    await factory.team("Sales")
    form = {"csrf_token": csrf, "name": "sales", "user_ids": str(ann.id)}
    response = await client.post("/admin/teams/new", data=form)
    html = await response.text()
    assert response.status == 409
    assert "exists already" in error_of(html, "name")
    assert 'value="sales"' in html
    assert re.search(rf'id="user_ids-{ann.id}" name="user_ids" value="{ann.id}" checked', html)

    empty = await client.post("/admin/teams/new", data={"csrf_token": csrf, "name": " "})
    assert empty.status == 422 and error_of(await empty.text(), "name")


async def test_renaming_and_setting_members_keeps_deactivated_members_listed(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann")
    bob = await make_user("bob@example.com", name="Bob")
    gone = await make_user("gone@example.com", name="Gone Gary", active=False)
    team = await factory.team("Sales", members=[ann, gone])
    page = await (await client.get(f"/admin/teams/{team.id}", headers=HTML)).text()
    assert 'Gone Gary · gone@example.com <span class="muted">(deactivated)</span>' in page
    assert re.search(rf'value="{gone.id}" checked', page)

    form = {"csrf_token": csrf, "name": "Sales EMEA", "user_ids": [str(bob.id), str(gone.id)]}
    saved = await client.post(f"/admin/teams/{team.id}", data=form, allow_redirects=False)
    assert saved.status == 303
    assert await members_of(db, team.id) == sorted([bob.id, gone.id])
    page = await (await client.get(f"/admin/teams/{team.id}", headers=HTML)).text()
    assert "Saved team Sales EMEA." in page

    bad = {"csrf_token": csrf, "name": "Sales EMEA", "user_ids": "999999"}
    response = await client.post(f"/admin/teams/{team.id}", data=bad)
    assert response.status == 422
    assert "No user with id 999999." in error_of(await response.text(), "user_ids")
    assert await members_of(db, team.id) == sorted([bob.id, gone.id])  # nothing half-saved


async def test_deleting_asks_first_naming_the_team(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    team = await factory.team("Night <shift>")
    confirm = await (await client.get(f"/admin/teams/{team.id}/delete", headers=HTML)).text()
    assert "Delete the team Night &lt;shift&gt;?" in confirm
    assert "keep their assignee" in confirm
    assert form_csrf(confirm, f"/admin/teams/{team.id}/delete") == csrf
    done = await client.post(
        f"/admin/teams/{team.id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == "/admin/teams"
    async with db() as session:
        assert await session.scalar(select(Team).where(Team.id == team.id)) is None
    page = await (await client.get("/admin/teams", headers=HTML)).text()
    assert "Deleted team Night &lt;shift&gt;." in page


async def test_the_list_pages(client: Client, make_user: MakeUser, factory: Factory) -> None:
    await as_owner(client, make_user)
    for n in range(26):
        await factory.team(f"Team {n:02}")
    first = await (await client.get("/admin/teams", headers=HTML)).text()
    assert "Team 24" in first and "Team 25" not in first
    next_url = re.search(r'href="([^"]*)" rel="next"', first)
    assert next_url
    second = await (await client.get(next_url.group(1), headers=HTML)).text()
    assert "Team 25" in second and "Team 24" not in second


async def test_csrf_and_agents(client: Client, make_user: MakeUser, factory: Factory) -> None:
    await as_owner(client, make_user)
    team = await factory.team("Sales")
    refused = await client.post(f"/admin/teams/{team.id}/delete", data={}, headers=HTML)
    assert refused.status == 403
    await make_user("agent@example.com")
    client.session.cookie_jar.clear()
    await log_in_page(client, "agent@example.com")  # reads the token off the 403 page
    for path in ("/admin/teams", "/admin/teams/new", f"/admin/teams/{team.id}/delete"):
        assert (await client.get(path, headers=HTML)).status == 403, path
