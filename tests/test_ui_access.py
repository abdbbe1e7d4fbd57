"""Every admin page, found from the app's routes, refuses who it must.

The routes are enumerated, not listed, so a page added later is checked too: an agent
gets a 403 page for every GET and POST, an anonymous visitor is sent to log in, and a
logged-in admin's POST without the form's CSRF token is refused.
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

from admin_ui.personal.tokens import moved
from hub.api.lazy_routes import real_handler
from hub.auth.api_tokens import create_token
from hub.store.models import User
from tests.factories import Factory
from tests.ui_helpers import HTML, csrf_refusals, log_in_page

Client = TestClient[Any, Any]
PARAM = re.compile(r"\{(\w+)")
POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)


def _fill(name: str) -> str:
    """A value for a path parameter: the first row's id, or an installed type's name."""
    return "1" if name == "id" or name.endswith("_id") else "custom_channel"


def admin_routes(app: web.Application) -> list[tuple[str, str]]:
    """(method, path) of every GET and POST route under /admin, parameters filled in;
    not the old addresses of pages that moved out (they redirect, see test_ui_personal).

    The root router's routes include those of the sub-apps mounted in it (the admin
    section is one), with their prefixed paths."""
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if (
            route.method not in ("GET", "POST")
            or resource is None
            or real_handler(route.handler) is moved
        ):
            continue
        template = resource.canonical
        if template != "/admin" and not template.startswith("/admin/"):
            continue
        params = {name: _fill(name) for name in PARAM.findall(template)}
        path = str(resource.url_for(**params)) if params else template
        found.add((route.method, path))
    return sorted(found)


@pytest.fixture
async def routes(
    client: Client,
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> list[tuple[str, str]]:
    """Every admin route, with one of each thing arranged so that an id of 1 names a row
    that exists (the owner's token too)."""
    await make_user("agent@example.com", role="agent")
    owner = await make_user("owner@example.com", role="owner", name="Olive Owner")
    await factory.team("Support")
    await factory.channel(name="Shop chat")
    async with db() as session:
        await create_token(session, owner, "Backups")
        await session.commit()
    assert client.app is not None
    found = admin_routes(client.app)
    # A sanity floor: if enumeration broke, the checks below would pass vacuously.
    assert {"/admin/plugins", "/admin/users/1"} <= {path for _, path in found}, found
    return found


async def test_an_agent_gets_a_403_page_on_every_admin_get_and_post(
    client: Client, routes: list[tuple[str, str]]
) -> None:
    csrf = await log_in_page(client, "agent@example.com")
    wrong = []
    for method, path in routes:
        # With a valid CSRF token, so the refusal proven is the role's, not the token's.
        data = {"csrf_token": csrf} if method == "POST" else None
        response = await client.request(method, path, data=data, headers=HTML)
        text = await response.text()
        if response.status != 403 or response.content_type != "text/html":
            wrong.append(f"{method} {path}: {response.status} {response.content_type}")
        elif "You cannot open this page" not in text:
            wrong.append(f"{method} {path}: 403 without the error page")
    assert not wrong, "\n".join(wrong)


async def test_an_anonymous_visitor_is_sent_to_log_in_from_every_admin_page(
    client: Client, routes: list[tuple[str, str]]
) -> None:
    wrong = []
    for method, path in routes:
        if method != "GET":
            continue
        response = await client.get(path, headers=HTML, allow_redirects=False)
        location = response.headers.get("Location", "")
        # /admin itself forwards to its first page, which then asks to log in.
        while response.status in (302, 303) and location.startswith("/admin"):
            response = await client.get(location, headers=HTML, allow_redirects=False)
            location = response.headers.get("Location", "")
        target = parse_qs(location.partition("?")[2]).get("next", [""])[0]
        if response.status != 303 or not location.startswith("/login?next="):
            wrong.append(f"GET {path}: {response.status} → {location!r}")
        elif not target.startswith("/admin"):
            wrong.append(f"GET {path}: returns to {target!r} after logging in")
    assert not wrong, "\n".join(wrong)


async def test_an_admin_post_without_the_csrf_token_is_refused_everywhere(
    client: Client, routes: list[tuple[str, str]]
) -> None:
    good = await log_in_page(client, "owner@example.com")
    wrong = await csrf_refusals(client, routes, good)
    assert not wrong, "\n".join(wrong)


async def test_every_form_on_every_admin_page_carries_the_csrf_token(
    client: Client, routes: list[tuple[str, str]]
) -> None:
    csrf = await log_in_page(client, "owner@example.com")
    field = f'<input type="hidden" name="csrf_token" value="{csrf}">'
    wrong, checked = [], 0
    for method, path in routes:
        if method != "GET":
            continue
        response = await client.get(path, headers=HTML)
        if response.status != 200:
            continue  # a page that needs other state; the browser tests visit it
        forms = POST_FORM.findall(await response.text())
        checked += len(forms)
        wrong += [
            f"GET {path}: form {n} has no CSRF token" for n, f in enumerate(forms) if field not in f
        ]
    assert checked, "no form was checked"
    assert not wrong, "\n".join(wrong)
