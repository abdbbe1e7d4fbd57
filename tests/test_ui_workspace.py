"""The workspace settings page: closing notes off / optional / mandatory."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.workspace import load_workspace_settings
from hub.store.models import User
from tests.test_ui_users import HTML, as_owner, error_of, form_csrf, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def closing_notes(db: async_sessionmaker[AsyncSession]) -> str:
    async with db() as session:
        return (await load_workspace_settings(session)).closing_notes


async def test_setting_closing_notes_to_mandatory(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    page = await (await client.get("/admin/settings", headers=HTML)).text()
    assert re.search(r'value="optional" checked', page)  # the default
    assert "Agents must write a note" in page
    assert form_csrf(page, "/admin/settings") == csrf

    saved = await client.post(
        "/admin/settings",
        data={"csrf_token": csrf, "closing_notes": "mandatory"},
        allow_redirects=False,
    )
    assert saved.status == 303
    assert await closing_notes(db) == "mandatory"
    page = await (await client.get("/admin/settings", headers=HTML)).text()
    assert "Workspace settings saved." in page and re.search(r'value="mandatory" checked', page)
    api = await (await client.get("/api/v1/settings")).json()
    assert api["closing_notes"] == "mandatory"


async def test_a_bad_value_is_refused_beside_the_field(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    for value in ("sometimes", ""):
        response = await client.post(
            "/admin/settings", data={"csrf_token": csrf, "closing_notes": value}
        )
        assert response.status == 422
        assert "mandatory" in error_of(await response.text(), "closing_notes")
    assert await closing_notes(db) == "optional"


async def test_csrf_and_agents(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await as_owner(client, make_user)
    refused = await client.post("/admin/settings", data={"closing_notes": "off"}, headers=HTML)
    assert refused.status == 403
    await make_user("agent@example.com")
    client.session.cookie_jar.clear()
    csrf = await log_in_page(client, "agent@example.com")
    assert (await client.get("/admin/settings", headers=HTML)).status == 403
    posted = await client.post("/admin/settings", data={"csrf_token": csrf, "closing_notes": "off"})
    assert posted.status == 403
    assert await closing_notes(db) == "optional"
