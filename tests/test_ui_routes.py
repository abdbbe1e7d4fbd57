"""How the pages are put together: named routes instead of spelled-out paths, each
sub-app answering its errors its own way, the admin guard in one place, and the icon."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from admin_ui.urls import PageUrls
from hub.store.models import User
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
TEMPLATES = Path(__file__).parents[1] / "admin_ui" / "templates"
# A path written into a link, a form or an image instead of url(...): in an attribute, or
# as a string of a template expression (a menu entry, a post_button's action).
SPELLED_OUT = re.compile(
    r"""\b(?:href|src|action|formaction)=["']/|["']/(?:admin|static|login|logout|setup|me)\b"""
)


def test_no_template_spells_out_a_path() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SPELLED_OUT.search(line) and "{#" not in line
    ]
    assert not found, "use url(name, …) instead:\n" + "\n".join(found)


def test_the_template_guard_catches_the_ways_a_path_is_spelled_out() -> None:
    for line in (
        '<a href="/admin/users">',
        '<form action="/admin/teams/{{ team.id }}">',
        "{{ post_button('/admin/users/' ~ subject.id ~ '/reactivate', 'Reactivate') }}",
        '("users", "/admin/users", "Users"),',
        '<link rel="stylesheet" href="/static/hub.css">',
    ):
        assert SPELLED_OUT.search(line), line
    # A snippet's shortcut in a placeholder is text, not a path of the hub.
    for line in ("<a href=\"{{ url('admin.users') }}\">", 'placeholder="/thanks"'):
        assert not SPELLED_OUT.search(line), line


def _app_with_pages() -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    admin = web.Application()
    admin.router.add_get("/users/{user_id}", handler, name="admin.user")
    admin.router.add_get("", handler, name="admin")
    app = web.Application()
    app.router.add_get("/login", handler, name="login")
    app.add_subapp("/admin", admin)
    return app


def test_page_urls_reach_into_sub_apps_and_add_a_query_string() -> None:
    urls = PageUrls(_app_with_pages())
    assert urls("admin") == "/admin"
    assert urls("admin.user", user_id=7) == "/admin/users/7"
    assert urls("login", {"next": "/admin?x=1&y=2"}) == "/login?next=/admin?x%3D1%26y%3D2"
    assert urls("login", {"next": None}) == "/login"
    with pytest.raises(LookupError, match=r"admin\.nope"):
        urls("admin.nope")


def test_two_routes_of_one_name_are_refused() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app = _app_with_pages()
    other = web.Application()
    other.router.add_get("/login", handler, name="login")
    app.add_subapp("/elsewhere", other)
    with pytest.raises(ValueError, match="login"):
        PageUrls(app)("login")


async def test_each_sub_app_answers_a_browser_its_own_way(client: Client) -> None:
    # Pages: an error page. API, webhooks, media links: JSON, even for a browser.
    page = await client.get("/no/such/page", headers=HTML)
    assert page.status == 404 and page.content_type == "text/html"
    for path in ("/api/v1/no-such-thing", "/webhooks/999999", "/media/1/2/3/x.txt"):
        response = await client.get(path, headers=HTML)
        assert response.content_type == "application/json", path
        assert response.status in (403, 404), path


async def test_an_unknown_admin_path_tells_nobody_but_admins_that_it_is_unknown(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    anonymous = await client.get("/admin/no-such-page", headers=HTML, allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login?next=")
    await make_user("agent@example.com", role="agent")
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "agent@example.com")
    agent = await client.get("/admin/no-such-page", headers=HTML)
    assert agent.status == 403 and "You cannot open this page" in await agent.text()
    client.session.cookie_jar.clear()
    await log_in_page(client, "owner@example.com")
    owner = await client.get("/admin/no-such-page")
    assert owner.status == 404 and owner.content_type == "text/html"
    assert "Page not found" in await owner.text()


async def test_every_role_sees_channel_type_logos(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("agent@example.com", role="agent")
    await log_in_page(client, "agent@example.com")
    logo = await client.get("/channel-types/custom_channel/logo.svg")
    assert logo.status == 200 and logo.content_type == "image/svg+xml"


async def test_the_icon_is_linked_from_every_page_and_answers_at_favicon_ico(
    client: Client,
) -> None:
    login = await (await client.get("/login", headers=HTML)).text()
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', login)
    assert link, "the page links no icon"
    icon = await client.get(link.group(1))
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    svg = await icon.read()
    assert svg.startswith(b"<svg")
    unasked = await client.get("/favicon.ico")
    assert unasked.status == 200 and await unasked.read() == svg
