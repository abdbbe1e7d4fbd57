"""Every personal page (/me...), found from the app's routes, is open to every role and
closed to everyone else.

Like tests/test_ui_access.py for the admin pages, the routes are enumerated, so a page
added later is checked too: a visitor is sent to log in (and back), a POST without the
session's CSRF token is refused, owners, managers and agents all open every page, and
nobody reaches another person's token.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.api_tokens import create_token
from hub.store.models import ApiToken, User
from tests.ui_helpers import HTML, csrf_refusals, log_in_page

Client = TestClient[Any, Any]
PARAM = re.compile(r"\{(\w+)")
ROLES = ("owner", "manager", "agent")


def personal_routes(app: web.Application, token_id: int) -> list[tuple[str, str]]:
    """(method, path) of every GET and POST route under /me, ``token_id`` filled in."""
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if route.method not in ("GET", "POST") or resource is None:
            continue
        template = resource.canonical
        if template != "/me" and not template.startswith("/me/"):
            continue
        params = {name: str(token_id) for name in PARAM.findall(template)}
        found.add((route.method, str(resource.url_for(**params)) if params else template))
    return sorted(found)


@pytest.fixture
async def people(
    make_user: Callable[..., Awaitable[User]], db: async_sessionmaker[AsyncSession]
) -> dict[str, tuple[User, ApiToken]]:
    """One user of each role, each with a token of their own."""
    made = {}
    for role in ROLES:
        user = await make_user(f"{role}@example.com", role=role, name=f"{role.title()} Person")
        async with db() as session:
            _, token = await create_token(session, user, f"{role}'s script")
            await session.commit()
        made[role] = (user, token)
    return made


@pytest.fixture
def routes(client: Client, people: dict[str, tuple[User, ApiToken]]) -> list[tuple[str, str]]:
    assert client.app is not None
    found = personal_routes(client.app, people["agent"][1].id)
    # A sanity floor: if enumeration broke, the checks below would pass vacuously.
    paths = {path for _, path in found}
    assert {"/me", "/me/password", "/me/tokens", "/me/availability"} <= paths, found
    return found


async def test_a_visitor_is_sent_to_log_in_and_back_from_every_personal_page(
    client: Client, routes: list[tuple[str, str]]
) -> None:
    wrong = []
    for method, path in routes:
        if method != "GET":
            continue
        response = await client.get(path, headers=HTML, allow_redirects=False)
        location = response.headers.get("Location", "")
        target = parse_qs(location.partition("?")[2]).get("next", [""])[0]
        if response.status != 303 or not location.startswith("/login?next=") or target != path:
            wrong.append(f"GET {path}: {response.status} → {location!r}")
    assert not wrong, "\n".join(wrong)


async def test_a_post_without_the_csrf_token_is_refused_everywhere(
    client: Client, routes: list[tuple[str, str]], people: dict[str, tuple[User, ApiToken]]
) -> None:
    good = await log_in_page(client, "agent@example.com")
    wrong = await csrf_refusals(client, routes, good)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
async def test_every_role_opens_every_personal_page(
    client: Client, routes: list[tuple[str, str]], role: str
) -> None:
    await log_in_page(client, f"{role}@example.com")
    wrong = []
    for method, path in routes:
        if method != "GET" or "{" in path or "/revoke" in path:
            continue  # a token's revoke page is the agent's own; checked below
        if re.fullmatch(r"/me/macros/\d+", path):
            continue  # the id is a token's, not a macro's: tests/test_ui_macros.py
        response = await client.get(path, headers=HTML)
        text = await response.text()
        if response.status != 200 or 'aria-label="Your account"' not in text:
            wrong.append(f"GET {path}: {response.status}")
    assert not wrong, "\n".join(wrong)
    # The header links everyone to the personal pages; only admins to the admin ones.
    header = (await (await client.get("/me", headers=HTML)).text()).split("</header>")[0]
    assert 'href="/me">Your account</a>' in header
    assert ('href="/admin"' in header) == (role != "agent")


async def test_nobody_sees_or_revokes_another_persons_token(
    client: Client,
    people: dict[str, tuple[User, ApiToken]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    # Even an owner: tokens are personal, whatever the role.
    csrf = await log_in_page(client, "owner@example.com")
    agents_token = people["agent"][1]
    listing = await (await client.get("/me/tokens", headers=HTML)).text()
    assert "owner&#39;s script" in listing and "agent&#39;s script" not in listing
    url = f"/me/tokens/{agents_token.id}/revoke"
    assert (await client.get(url, headers=HTML)).status == 404
    refused = await client.post(url, data={"csrf_token": csrf}, headers=HTML)
    assert refused.status == 404 and "token not found" in await refused.text()
    async with db() as session:
        token = await session.get(ApiToken, agents_token.id)
        assert token is not None and token.revoked_at is None
