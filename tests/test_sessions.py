"""Your sessions: listed on your profile and in the API, "log out everywhere else", and
every other session ending on a password change. The "other device" is a second HTTP
client with a cookie jar of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.realtime import ws
from hub.store.models import LoginSession, User
from hub.store.types import utcnow
from tests.conftest import PASSWORD, log_in
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
PHONE = "PhoneBrowser/7.1 (a phone)"
NEW = "a brand new passphrase"


@pytest.fixture
async def phone(client: Client) -> AsyncIterator[aiohttp.ClientSession]:
    """Another device: its own cookies and user agent, talking to the same hub."""
    async with aiohttp.ClientSession(
        base_url=client.make_url("/"),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"User-Agent": PHONE},
    ) as session:
        yield session


async def phone_logs_in(phone: aiohttp.ClientSession) -> None:
    body = {"email": "ana@example.com", "password": PASSWORD}
    async with phone.post("/api/v1/auth/login", json=body) as response:
        assert response.status == 200


async def phone_is_logged_in(phone: aiohttp.ClientSession) -> bool:
    async with phone.get("/api/v1/me") as response:
        assert response.status in (200, 401)
        return response.status == 200


async def test_the_profile_lists_your_sessions_and_logs_out_everywhere_else(
    client: Client, make_user: MakeUser, phone: aiohttp.ClientSession
) -> None:
    await make_user("ana@example.com", name="Ana Agent")
    await phone_logs_in(phone)
    csrf = await log_in_page(client, "ana@example.com")

    html = await (await client.get("/me", headers=HTML)).text()
    assert "Where you are logged in" in html
    assert PHONE in html and "127.0.0.1" in html
    assert html.count("this session") == 1
    assert 'action="/me/sessions/end-others"' in html

    async with phone.ws_connect("/ws") as socket:
        assert (await socket.receive_json(timeout=5.0))["type"] == "hello"
        done = await client.post(
            "/me/sessions/end-others", data={"csrf_token": csrf}, allow_redirects=False
        )
        assert done.status == 303 and done.headers["Location"] == "/me"
        closed = await socket.receive(timeout=5.0)
    assert (closed.type, closed.data) == (WSMsgType.CLOSE, ws.CLOSE_ACCESS_ENDED)

    page = await (await client.get("/me", headers=HTML)).text()
    assert "Logged out everywhere else: 1 other session ended." in page
    assert PHONE not in page and "You are logged in nowhere else." in page
    assert not await phone_is_logged_in(phone)


async def test_logging_out_everywhere_else_needs_the_csrf_token(
    client: Client, make_user: MakeUser, phone: aiohttp.ClientSession
) -> None:
    await make_user("ana@example.com")
    await phone_logs_in(phone)
    await log_in_page(client, "ana@example.com")
    refused = await client.post("/me/sessions/end-others", data={}, headers=HTML)
    assert refused.status == 403
    assert await phone_is_logged_in(phone)


async def test_changing_your_password_on_the_page_logs_out_your_other_devices(
    client: Client, make_user: MakeUser, phone: aiohttp.ClientSession
) -> None:
    await make_user("ana@example.com")
    await phone_logs_in(phone)
    csrf = await log_in_page(client, "ana@example.com")
    form = {
        "csrf_token": csrf,
        "current_password": PASSWORD,
        "new_password": NEW,
        "new_password_again": NEW,
    }
    done = await client.post("/me/password", data=form, allow_redirects=False)
    assert done.status == 303
    assert not await phone_is_logged_in(phone)
    assert (await client.get("/api/v1/me")).status == 200  # this one stays


async def test_the_api_lists_your_sessions_and_ends_the_others(
    client: Client,
    make_user: MakeUser,
    phone: aiohttp.ClientSession,
    db: async_sessionmaker[AsyncSession],
) -> None:
    ana = await make_user("ana@example.com")
    await phone_logs_in(phone)
    csrf = await log_in(client, "ana@example.com")
    async with db() as session:  # expired: neither listed nor counted as ended
        expired = utcnow() - timedelta(minutes=1)
        session.add(
            LoginSession(user_id=ana.id, token_hash="x" * 64, csrf_token="y", expires_at=expired)
        )
        await session.commit()

    listed = await client.get("/api/v1/me/sessions")
    assert listed.status == 200
    items = (await listed.json())["items"]
    assert [(s["user_agent"] == PHONE, s["current"]) for s in items] == [
        (False, True),
        (True, False),
    ]
    assert set(items[0]) == {"id", "created_at", "expires_at", "ip", "user_agent", "current"}

    assert (await client.post("/api/v1/me/sessions/end-others")).status == 403  # no CSRF
    ended = await client.post("/api/v1/me/sessions/end-others", headers={"X-CSRF-Token": csrf})
    assert ended.status == 200 and await ended.json() == {"ended": 1}
    assert not await phone_is_logged_in(phone)
    after = (await (await client.get("/api/v1/me/sessions")).json())["items"]
    assert [s["current"] for s in after] == [True]


async def test_with_a_token_every_session_ends_and_none_is_current(
    client: Client,
    user_token: Callable[..., Awaitable[tuple[User, dict[str, str]]]],
    phone: aiohttp.ClientSession,
) -> None:
    _, auth = await user_token("ana@example.com")
    await phone_logs_in(phone)
    items = (await (await client.get("/api/v1/me/sessions", headers=auth)).json())["items"]
    assert [s["current"] for s in items] == [False]
    ended = await client.post("/api/v1/me/sessions/end-others", headers=auth)
    assert await ended.json() == {"ended": 1}
    assert not await phone_is_logged_in(phone)
    assert (await client.get("/api/v1/me/sessions")).status == 401
