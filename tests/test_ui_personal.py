"""Personal pages: your profile (name, email, availability) and your password."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import LoginSession, User
from tests.conftest import PASSWORD, log_in
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
NEW = "a brand new passphrase"


def error_of(html: str, field: str) -> str:
    """The message shown beside ``field``."""
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no error beside {field}"
    return match.group(1)


async def agent(client: Client, make_user: MakeUser, **kwargs: Any) -> tuple[User, str]:
    """An agent, logged in through the form; their CSRF token."""
    user = await make_user("ana@example.com", name="Ana <b>Agent</b>", **kwargs)
    return user, await log_in_page(client, "ana@example.com")


async def stored(db: async_sessionmaker[AsyncSession], user: User) -> User:
    async with db() as session:
        found = await session.get(User, user.id)
        assert found is not None
        return found


async def test_an_agent_starts_in_the_inbox_and_their_profile_shows_who_they_are(
    client: Client, make_user: MakeUser
) -> None:
    await agent(client, make_user)
    start = await client.get("/", headers=HTML)
    assert start.status == 200 and str(start.url).endswith("/inbox")
    assert 'href="/me"' in await start.text()
    start = await client.get("/me", headers=HTML)
    html = await start.text()
    assert start.status == 200
    assert "<h1>Your profile</h1>" in html
    assert "ana@example.com" in html and "<dd>Agent</dd>" in html
    assert 'value="Ana &lt;b&gt;Agent&lt;/b&gt;"' in html and "<b>Agent" not in html
    assert 'href="/me/password"' in html and 'href="/me/tokens"' in html


async def test_changing_your_name_and_a_bad_one_explained(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    user, csrf = await agent(client, make_user)
    empty = await client.post("/me", data={"csrf_token": csrf, "name": "  "}, headers=HTML)
    assert empty.status == 422
    assert error_of(await empty.text(), "name") == "This field is required."
    long = await client.post("/me", data={"csrf_token": csrf, "name": "n" * 201}, headers=HTML)
    assert error_of(await long.text(), "name") == "Use at most 200 characters."

    saved = await client.post(
        "/me", data={"csrf_token": csrf, "name": "Ana Lopez"}, allow_redirects=False
    )
    assert saved.status == 303 and saved.headers["Location"] == "/me"
    page = await (await client.get("/me", headers=HTML)).text()
    assert "Your name is saved." in page and 'value="Ana Lopez"' in page
    assert (await stored(db, user)).name == "Ana Lopez"


async def test_the_availability_toggle(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    user, csrf = await agent(client, make_user)
    page = await (await client.get("/me", headers=HTML)).text()
    assert "Mark me unavailable" in page
    await client.post("/me/availability", data={"csrf_token": csrf, "available": "false"})
    assert (await stored(db, user)).available is False
    page = await (await client.get("/me", headers=HTML)).text()
    assert "Mark me available" in page and "badge-disabled" in page
    await client.post("/me/availability", data={"csrf_token": csrf, "available": "true"})
    assert (await stored(db, user)).available is True


async def test_changing_your_password_ends_your_other_sessions_only(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await agent(client, make_user)
    # A second session, which this browser uses from now on: the first is "elsewhere".
    csrf = await log_in(client, "ana@example.com")
    form = await (await client.get("/me/password", headers=HTML)).text()
    assert 'autocomplete="current-password"' in form and "10 characters or more" in form

    done = await client.post(
        "/me/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": NEW,
            "new_password_again": NEW,
        },
        allow_redirects=False,
    )
    assert done.status == 303 and done.headers["Location"] == "/me"
    page = await client.get("/me", headers=HTML)
    assert page.status == 200 and "Your password is changed." in await page.text()
    async with db() as session:
        left = await session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
        )
    assert left == 1  # this browser's session; the other one ended
    client.session.cookie_jar.clear()
    old = {"email": "ana@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/auth/login", json=old)).status == 401
    new = {"email": "ana@example.com", "password": NEW}
    assert (await client.post("/api/v1/auth/login", json=new)).status == 200


async def test_password_errors_are_explained_and_nothing_is_echoed(
    client: Client, make_user: MakeUser
) -> None:
    _, csrf = await agent(client, make_user)

    async def post(current: str, new: str, again: str) -> tuple[int, str]:
        data = {
            "csrf_token": csrf,
            "current_password": current,
            "new_password": new,
            "new_password_again": again,
        }
        response = await client.post("/me/password", data=data, headers=HTML)
        return response.status, await response.text()

    status, html = await post("wrong password", NEW, NEW)
    assert status == 422
    assert error_of(html, "current_password") == "This is not your current password."
    assert "wrong password" not in html and NEW not in html

    status, html = await post(PASSWORD, "short", "short")
    assert status == 422 and error_of(html, "new_password") == "Use at least 10 characters."

    status, html = await post(PASSWORD, NEW, NEW + "!")
    assert status == 422
    assert error_of(html, "new_password_again") == "Type the same new password twice."

    status, html = await post("", NEW, NEW)
    assert status == 422 and error_of(html, "current_password") == "This field is required."

    # Wrong current passwords count as failed logins: after five, a wait.
    for _ in range(4):
        await post("wrong password", NEW, NEW)
    status, html = await post(PASSWORD, NEW, NEW)
    assert status == 429 and "Too many attempts" in html
