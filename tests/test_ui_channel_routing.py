"""A channel's routing page: the form, validation beside the fields with the input kept,
saving through the channel service, and the connect wizard's step 2 (``?setup=1``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Channel, User
from tests.factories import Factory
from tests.test_ui_channels import HTML, log_in_page, owner, page_text

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


def checked(html: str, input_id: str) -> bool:
    """Whether the input with this id is checked."""
    match = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', html)
    assert match, f"no input {input_id}"
    return " checked" in match.group(0)


async def stored(db: async_sessionmaker[AsyncSession], channel_id: int) -> Channel:
    async with db() as session:
        channel = await session.get(Channel, channel_id)
        assert channel is not None
        return channel


async def test_the_form_shows_the_stored_routing_users_and_teams(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann <i>Agent</i>")
    await make_user("gone@example.com", name="Gone Agent", active=False)
    team = await factory.team("Tier <1>", members=[ann])
    channel = await factory.channel(
        name="Help <desk>",
        routing={"mode": "round_robin", "user_ids": [], "team_ids": [team.id]},
        settings={"closed_conversation": "new", "max_concurrency": 3},
    )
    status, html = await page_text(client, f"/admin/channels/{channel.id}/routing")
    assert status == 200 and html.count("<h1") == 1
    assert "Routing of Help &lt;desk&gt;" in html
    assert checked(html, "mode-2") and not checked(html, "mode-1")  # round_robin
    assert checked(html, f"team-{team.id}") and not checked(html, f"user-{ann.id}")
    assert "Ann &lt;i&gt;Agent&lt;/i&gt;" in html and "Tier &lt;1&gt;" in html
    assert "Gone Agent" not in html  # only active users take turns
    assert checked(html, "closed_conversation-2")  # new
    assert 'id="max_concurrency" name="max_concurrency" type="number" value="3"' in html
    assert '<details class="advanced" open>' in html
    assert "available" in html and "falls back to unassigned" in html.lower()


async def test_round_robin_with_nobody_chosen_is_refused_beside_the_field(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await owner(client, make_user)
    channel = await factory.channel(name="Support")
    form = {
        "csrf_token": csrf,
        "mode": "round_robin",
        "closed_conversation": "new",
        "max_concurrency": "7",
        "rate_per_second": "",
    }
    response = await client.post(f"/admin/channels/{channel.id}/routing", data=form)
    html = await response.text()
    assert response.status == 422
    assert 'id="user_ids-error"' in html and "Choose at least one user or team" in html
    assert 'href="#user_ids"' in html  # the summary links to the field
    assert checked(html, "mode-2") and checked(html, "closed_conversation-2")
    assert 'value="7"' in html
    assert (await stored(db, channel.id)).routing == {}  # nothing saved


async def test_bad_limits_are_refused_beside_their_fields_keeping_the_input(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    csrf = await owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann")
    channel = await factory.channel(name="Support")
    form = {
        "csrf_token": csrf,
        "mode": "round_robin",
        "user_ids": str(ann.id),
        "closed_conversation": "reopen",
        "max_concurrency": "0",
        "rate_per_second": "fast",
    }
    response = await client.post(f"/admin/channels/{channel.id}/routing", data=form)
    html = await response.text()
    assert response.status == 422
    assert 'id="max_concurrency-error"' in html and "whole number from 1 to 100" in html
    assert 'id="rate_per_second-error"' in html and 'value="fast"' in html
    assert checked(html, f"user-{ann.id}")
    assert '<details class="advanced" open>' in html

    # An id that names nobody (a user deleted meanwhile, a forged form) is refused too.
    form.update(max_concurrency="", rate_per_second="", user_ids="999999")
    response = await client.post(f"/admin/channels/{channel.id}/routing", data=form)
    assert response.status == 422
    assert 'id="user_ids-error"' in await response.text()


async def test_saving_routing_to_a_team_stores_it_and_returns_to_the_channel(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await owner(client, make_user)
    ann = await make_user("ann@example.com", name="Ann")
    team = await factory.team("Tier 1", members=[ann])
    channel = await factory.channel(name="Support <x>")
    form = {
        "csrf_token": csrf,
        "mode": "round_robin",
        "team_ids": str(team.id),
        "closed_conversation": "new",
        "max_concurrency": "",
        "rate_per_second": "2.5",
    }
    path = f"/admin/channels/{channel.id}/routing"
    assert (await client.post(path, data={**form, "csrf_token": "forged"})).status == 403
    response = await client.post(path, data=form, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/admin/channels/{channel.id}"
    saved = await stored(db, channel.id)
    assert saved.routing == {"mode": "round_robin", "user_ids": [], "team_ids": [team.id]}
    assert saved.settings == {
        "closed_conversation": "new",
        "max_concurrency": None,
        "rate_per_second": 2.5,
        "out_of_hours_reply": False,
        "out_of_hours_text": None,
    }
    _, html = await page_text(client, f"/admin/channels/{channel.id}")
    assert "Routing of Support &lt;x&gt; saved." in html
    assert "Round-robin among 0 user(s) and 1 team(s)" in html

    # Turning auto-assign off again.
    form.update(mode="unassigned", team_ids="", rate_per_second="")
    response = await client.post(path, data=form, allow_redirects=False)
    assert response.status == 303
    assert (await stored(db, channel.id)).routing["mode"] == "unassigned"


async def test_the_setup_step_reads_as_step_two_and_finishes_on_the_done_page(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    csrf = await owner(client, make_user)
    channel = await factory.channel(name="New one")
    path = f"/admin/channels/{channel.id}/routing?setup=1"
    status, html = await page_text(client, path)
    assert status == 200
    assert "Step 2 of 3: routing" in html and "Save and finish" in html
    assert f'action="/admin/channels/{channel.id}/routing?setup=1"' in html
    form = {"csrf_token": csrf, "mode": "crm_owner", "closed_conversation": "reopen"}
    response = await client.post(path, data=form, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/admin/channels/{channel.id}/connected"
    assert (await stored(db, channel.id)).routing["mode"] == "crm_owner"


async def test_an_agent_gets_403_on_the_routing_page(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    channel = await factory.channel(name="Support")
    await make_user("agent@example.com", role="agent")
    csrf = await log_in_page(client, "agent@example.com")
    path = f"/admin/channels/{channel.id}/routing"
    assert (await client.get(path, headers=HTML)).status == 403
    response = await client.post(path, data={"csrf_token": csrf, "mode": "crm_owner"})
    assert response.status == 403


async def test_a_missing_channel_has_no_routing_page(client: Client, make_user: MakeUser) -> None:
    await owner(client, make_user)
    assert (await page_text(client, "/admin/channels/424242/routing"))[0] == 404
