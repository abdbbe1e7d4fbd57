"""The first pages a person meets: owner setup from the one-time link, login, logout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.setup import issue_setup_token
from hub.store.models import User
from tests.conftest import PASSWORD
from tests.ui_helpers import hidden

Client = TestClient[Any, Any]


async def test_the_setup_link_creates_the_owner_and_logs_them_in(
    client: Client, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session:
        token = await issue_setup_token(session)
    page = await client.get(f"/setup?token={token}")
    html = await page.text()
    assert page.status == 200 and 'name="password"' in html
    form = {
        "form_token": hidden(html, "form_token"),
        "token": hidden(html, "token"),
        "name": "Olive <b>Owner</b>",
        "email": "owner@example.com",
        "password": "a long password",
    }
    done = await client.post("/setup", data=form, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/"
    home = await client.get("/", allow_redirects=False)
    # An owner of a hub without channels starts where the first one is connected.
    assert home.status == 303 and home.headers["Location"] == "/admin/channels"
    page = await client.get("/admin/channels", headers={"Accept": "text/html"})
    text = await page.text()
    assert "Olive &lt;b&gt;Owner&lt;/b&gt; · Owner" in text  # escaped, never markup
    # Once used, the link shows that the hub is set up already.
    again = await client.get(f"/setup?token={token}")
    assert "set up already" in await again.text()


async def test_setup_errors_are_shown_beside_the_field_keeping_the_input(
    client: Client, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session:
        token = await issue_setup_token(session)
    html = await (await client.get(f"/setup?token={token}")).text()
    form = {
        "form_token": hidden(html, "form_token"),
        "token": str(token),
        "name": "Olive",
        "email": "not-an-email",
        "password": "short",
    }
    response = await client.post("/setup", data=form)
    page = await response.text()
    assert response.status == 422
    assert 'id="email-error"' in page and 'id="password-error"' in page
    assert 'value="not-an-email"' in page and 'value="Olive"' in page
    assert "short" not in page.split("<form", 1)[1].split('id="password-error"')[0]


async def test_a_form_post_without_the_form_token_is_refused(client: Client) -> None:
    response = await client.post("/login", data={"email": "a@b.c", "password": "x"})
    assert response.status == 403


async def test_login_and_logout_through_the_pages(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("ann@example.com", name="Ann")
    assert (await client.get("/", allow_redirects=False)).headers["Location"] == "/login"
    html = await (await client.get("/login")).text()
    token = hidden(html, "form_token")

    wrong = await client.post(
        "/login", data={"form_token": token, "email": "ann@example.com", "password": "nope"}
    )
    assert wrong.status == 401
    wrong_html = await wrong.text()
    assert "the email or password is wrong" in wrong_html
    assert 'value="ann@example.com"' in wrong_html

    ok = await client.post(
        "/login",
        data={"form_token": token, "email": "ann@example.com", "password": PASSWORD},
        allow_redirects=False,
    )
    assert ok.status == 303
    # An agent starts in the inbox.
    start = await client.get("/", allow_redirects=False)
    assert start.status == 303 and start.headers["Location"] == "/inbox"
    home = await (await client.get("/me")).text()
    assert "Your profile" in home and 'value="Ann"' in home

    csrf = hidden(home, "csrf_token")
    assert (await client.post("/logout", data={"csrf_token": "forged"})).status == 403
    out = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/login"
    assert (await client.get("/", allow_redirects=False)).status == 303
