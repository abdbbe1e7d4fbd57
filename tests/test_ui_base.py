"""The UI base: HTML error pages for browsers, the login return path, signed flash messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from admin_ui.access import safe_next
from admin_ui.flash import COOKIE, add_flash, pending_flashes
from hub import appkeys
from hub.store.models import User
from tests.conftest import PASSWORD
from tests.ui_helpers import HTML, hidden

Client = TestClient[Any, Any]


async def test_browsers_get_an_html_error_page_and_api_clients_json(client: Client) -> None:
    page = await client.get("/no/such/page", headers=HTML)
    assert page.status == 404 and page.content_type == "text/html"
    assert "Page not found" in await page.text()
    api = await client.get("/api/v1/no-such-thing", headers=HTML)
    assert api.status == 404 and (await api.json())["error"]["code"] == "not_found"
    plain = await client.get("/no/such/page")
    assert plain.content_type == "application/json"


async def test_a_visitor_is_sent_to_log_in_and_then_back(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("owner@example.com", role="owner")
    first = await client.get("/admin/channels?sort=created", allow_redirects=False)
    assert first.status == 303
    location = urlsplit(first.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == ["/admin/channels?sort=created"]
    form_page = await client.get(first.headers["Location"])
    html = await form_page.text()
    assert hidden(html, "next") == "/admin/channels?sort=created"
    done = await client.post(
        "/login",
        data={
            "form_token": hidden(html, "form_token"),
            "next": "/admin/channels?sort=created",
            "email": "owner@example.com",
            "password": PASSWORD,
        },
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == "/admin/channels?sort=created"


def test_the_return_path_never_leaves_the_site() -> None:
    assert safe_next("/admin/users") == "/admin/users"
    for hostile in ("https://evil.example", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(hostile) == "/"


async def test_an_agent_sees_a_403_page_on_admin_pages(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("agent@example.com", role="agent")
    html = await (await client.get("/login")).text()
    await client.post(
        "/login",
        data={
            "form_token": hidden(html, "form_token"),
            "email": "agent@example.com",
            "password": PASSWORD,
        },
    )
    page = await client.get("/admin", headers=HTML, allow_redirects=True)
    assert page.status == 403 and "You cannot open this page" in await page.text()
    assert page.headers["Cache-Control"] == "no-store"


def _request(app: web.Application, cookie: str | None = None) -> web.Request:
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    return make_mocked_request("GET", "/", headers=headers, app=app)


async def test_flash_messages_are_signed_so_nobody_else_can_plant_one(client: Client) -> None:
    app = client.server.app
    assert app is not None
    response = web.Response()
    add_flash(_request(app), response, "success", "Channel connected")
    value = response.cookies[COOKIE].value
    assert pending_flashes(_request(app, value)) == [("success", "Channel connected")]

    payload, _, signature = value.partition(".")
    forged = payload[:-2] + "AA" + "." + signature
    assert pending_flashes(_request(app, forged)) == []
    assert pending_flashes(_request(app, "garbage")) == []
    assert app[appkeys.SECRET_KEY]  # signed with the hub's own key


async def test_pages_forbid_inline_scripts_and_framing(client: Client) -> None:
    page = await client.get("/login")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
