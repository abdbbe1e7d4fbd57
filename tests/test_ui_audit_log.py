"""The audit log page: entries with who, from where and a readable list of changes
(text inert), filters that keep to the page and its CSV link, paging, and the admin
pages' own changes recorded with the browser's address."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.auth import audit
from hub.store.models import User
from tests.audit_helpers import Sessions, entries
from tests.ui_helpers import log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
PAGE = "/admin/audit-log"


def targets(html: str) -> list[str]:
    """The target ids listed, in order."""
    return re.findall(r"\(#([^)]+)\)</span>", html)


@pytest.fixture
async def owner(client: Client, make_user: MakeUser) -> tuple[User, str]:
    user = await make_user("owner@example.com", role="owner", name="Olive Owner")
    return user, await log_in_page(client, "owner@example.com")


async def test_a_change_made_on_an_admin_page_is_listed_with_its_address(
    client: Client, owner: tuple[User, str], db: Sessions
) -> None:
    _, csrf = owner
    form = {"csrf_token": csrf, "name": "<b>VIP</b>", "colour": "red", "description": ""}
    response = await client.post("/admin/labels/new", data=form, allow_redirects=False)
    assert response.status in (302, 303), await response.text()
    (entry,) = await entries(db, "label.")
    assert entry.ip == "127.0.0.1" and entry.token_id is None

    html = await (await client.get(PAGE)).text()
    assert "Olive Owner &lt;owner@example.com&gt;" in html
    assert "from 127.0.0.1" in html
    assert "Label created" in html
    assert "&lt;b&gt;VIP&lt;/b&gt;" in html and "<b>VIP</b>" not in html
    assert "Colour:</span> <del>—</del>" in html
    assert 'href="/api/v1/audit-log?format=csv"' in html


async def test_filters_narrow_the_list_and_carry_to_the_export_and_the_next_page(
    client: Client, owner: tuple[User, str], db: Sessions
) -> None:
    user, _ = owner
    async with db() as session:
        for i in range(60):
            await audit.record(session, user.id, "label.created", "label", str(i), f"L{i}", {})
        await audit.record(session, None, "team.created", "team", "t1", "Support", {})
        await session.commit()

    html = await (await client.get(PAGE, params={"target_type": "label"})).text()
    assert targets(html)[:3] == ["59", "58", "57"] and len(targets(html)) == 50
    assert 'href="/api/v1/audit-log?target_type=label&amp;format=csv"' in html
    next_url = re.search(r'href="(/admin/audit-log\?[^"]*cursor=[^"]+)"', html)
    assert next_url is not None
    second = await (await client.get(next_url.group(1).replace("&amp;", "&"))).text()
    assert targets(second) == [str(i) for i in reversed(range(10))]

    teams = await (await client.get(PAGE, params={"target_type": "team"})).text()
    assert targets(teams) == ["t1"] and audit.HUB_LABEL in teams


async def test_a_bad_filter_is_named_on_the_page(client: Client, owner: tuple[User, str]) -> None:
    response = await client.get(PAGE, params={"since": "not a time"})
    assert response.status == 422
    html = await response.text()
    assert "Fix the filters above" in html and "Export CSV" not in html


async def test_agents_do_not_see_the_page(client: Client, make_user: MakeUser) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    assert (await client.get(PAGE)).status == 403
    assert (await client.get("/api/v1/audit-log", params={"format": "csv"})).status == 403


async def test_the_export_link_works_with_the_page_session(
    client: Client, owner: tuple[User, str], db: Sessions
) -> None:
    user, _ = owner
    async with db() as session:
        await audit.record(session, user.id, "label.created", "label", "1", "VIP", {})
        await session.commit()
    response = await client.get("/api/v1/audit-log", params={"format": "csv"})
    assert response.status == 200
    assert "label.created" in await response.text()
