"""Passwords over HTTP: an admin sets a user's, a user changes their own; sessions end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import LoginSession, User
from tests.conftest import PASSWORD, log_in

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
MakeUser = Callable[..., Awaitable[User]]
NEW = "a brand new passphrase"


async def sessions_of(db: async_sessionmaker[AsyncSession], user: User) -> int:
    async with db() as session:
        query = select(func.count()).select_from(LoginSession)
        return int(await session.scalar(query.where(LoginSession.user_id == user.id)) or 0)


async def session_cookie(client: Client, email: str, password: str = PASSWORD) -> str:
    """A fresh login's session cookie value, taken out of the client's jar."""
    await log_in(client, email, password)
    value = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"].value
    client.session.cookie_jar.clear()
    return value


async def logged_in(client: Client, cookie: str) -> bool:
    """Whether a session cookie still works (the client's jar must be empty)."""
    response = await client.get("/api/v1/me", headers={"Cookie": f"hub_session={cookie}"})
    return response.status == 200


async def can_log_in(client: Client, email: str, password: str) -> bool:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    client.session.cookie_jar.clear()
    return response.status == 200


# --- an admin sets a user's password ------------------------------------------------


async def test_an_admin_sets_a_typed_password_and_the_users_sessions_end(
    client: Client, user_token: UserToken, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("manager@example.com", role="manager")
    ana = await make_user("ana@example.com", name="Ana")
    ana_cookie = await session_cookie(client, "ana@example.com")
    assert await logged_in(client, ana_cookie)

    response = await client.post(
        f"/api/v1/users/{ana.id}/password", json={"password": NEW}, headers=auth
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["id"] == ana.id and body["email"] == "ana@example.com"
    assert body["password"] is None  # typed, so not echoed

    assert not await logged_in(client, ana_cookie)
    assert await sessions_of(db, ana) == 0
    assert not await can_log_in(client, "ana@example.com", PASSWORD)
    assert await can_log_in(client, "ana@example.com", NEW)


async def test_without_a_password_one_is_generated_and_answered_once(
    client: Client, user_token: UserToken, make_user: MakeUser
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    ana = await make_user("ana@example.com", name="Ana")
    response = await client.post(f"/api/v1/users/{ana.id}/password", json={}, headers=auth)
    assert response.status == 200
    generated = (await response.json())["password"]
    assert isinstance(generated, str) and len(generated) >= 10
    assert await can_log_in(client, "ana@example.com", generated)
    again = await (await client.get(f"/api/v1/users/{ana.id}", headers=auth)).json()
    assert "password" not in again


@pytest.mark.parametrize(
    ("caller", "target", "status"),
    [
        ("agent", "other_agent", 403),
        ("agent", "agent", 403),  # one's own goes through /me/password
        ("manager", "manager", 403),
        ("manager", "owner", 403),  # only an owner changes an owner
        ("manager", "other_agent", 200),
        ("owner", "other_owner", 200),
        ("owner", "manager", 200),
    ],
)
async def test_who_may_set_whose_password(
    client: Client,
    user_token: UserToken,
    make_user: MakeUser,
    caller: str,
    target: str,
    status: int,
) -> None:
    people: dict[str, User] = {}
    auths: dict[str, dict[str, str]] = {}
    for name, role in (("agent", "agent"), ("manager", "manager"), ("owner", "owner")):
        people[name], auths[name] = await user_token(f"{name}@example.com", role=role)
    people["other_agent"] = await make_user("other@example.com", name="Other")
    people["other_owner"] = await make_user("boss@example.com", name="Boss", role="owner")
    response = await client.post(
        f"/api/v1/users/{people[target].id}/password", json={"password": NEW}, headers=auths[caller]
    )
    assert response.status == status, await response.text()
    changed = await can_log_in(client, people[target].email, NEW)
    assert changed == (status == 200)


async def test_setting_a_password_refuses_bad_input_precisely(
    client: Client, user_token: UserToken, make_user: MakeUser
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    ana = await make_user("ana@example.com", name="Ana")
    url = f"/api/v1/users/{ana.id}/password"
    short = await client.post(url, json={"password": "short"}, headers=auth)
    assert short.status == 422
    assert (await short.json())["error"]["details"][0]["field"] == "password"
    extra = await client.post(url, json={"password": NEW, "notify": True}, headers=auth)
    assert extra.status == 422
    assert (await client.post("/api/v1/users/999/password", json={}, headers=auth)).status == 404
    assert (await client.post("/api/v1/users/abc/password", json={}, headers=auth)).status == 404
    assert (await client.post(url, json={}, headers={})).status == 401
    assert await can_log_in(client, "ana@example.com", PASSWORD)


async def test_a_cookie_session_needs_the_csrf_token_to_set_a_password(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("owner@example.com", role="owner")
    ana = await make_user("ana@example.com", name="Ana")
    csrf = await log_in(client, "owner@example.com")
    url = f"/api/v1/users/{ana.id}/password"
    assert (await client.post(url, json={"password": NEW})).status == 403
    ok = await client.post(url, json={"password": NEW}, headers={"X-CSRF-Token": csrf})
    assert ok.status == 200


# --- a user changes their own -------------------------------------------------------


async def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    ana = await make_user("ana@example.com", name="Ana")
    other_device = await session_cookie(client, "ana@example.com")
    csrf = await log_in(client, "ana@example.com")
    assert await sessions_of(db, ana) == 2

    response = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status == 204, await response.text()
    assert (await client.get("/api/v1/me")).status == 200  # this session stays
    assert await sessions_of(db, ana) == 1
    client.session.cookie_jar.clear()
    assert not await logged_in(client, other_device)
    assert await can_log_in(client, "ana@example.com", NEW)
    assert not await can_log_in(client, "ana@example.com", PASSWORD)


async def test_a_wrong_current_password_is_refused_and_counts_as_a_failed_login(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("ana@example.com", name="Ana")
    wrong = {"current_password": "not my password", "new_password": NEW}
    response = await client.post("/api/v1/me/password", json=wrong, headers=auth)
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "wrong_password"
    assert error["details"] == [
        {"field": "current_password", "message": "this is not your current password"}
    ]
    for _ in range(4):  # HUB_LOGIN_MAX_FAILURES is 5
        await client.post("/api/v1/me/password", json=wrong, headers=auth)
    right = {"current_password": PASSWORD, "new_password": NEW}
    throttled = await client.post("/api/v1/me/password", json=right, headers=auth)
    assert throttled.status == 429 and "Retry-After" in throttled.headers
    assert await can_log_in(client, "ana@example.com", PASSWORD) is False  # throttled too


async def test_changing_ones_own_password_refuses_bad_input_precisely(
    client: Client, user_token: UserToken, make_user: MakeUser
) -> None:
    _, auth = await user_token("ana@example.com", name="Ana")
    url = "/api/v1/me/password"
    same = await client.post(
        url, json={"current_password": PASSWORD, "new_password": PASSWORD}, headers=auth
    )
    assert same.status == 422
    assert (await same.json())["error"]["details"][0]["field"] == "new_password"
    short = await client.post(
        url, json={"current_password": PASSWORD, "new_password": "short"}, headers=auth
    )
    assert short.status == 422
    assert (await short.json())["error"]["details"][0]["field"] == "new_password"
    missing = await client.post(url, json={"new_password": NEW}, headers=auth)
    assert missing.status == 422
    assert (await client.post(url, data="x", headers=auth)).status == 415
    assert (await client.post(url, json={})).status == 401

    await make_user("bo@example.com", name="Bo")
    csrf = await log_in(client, "bo@example.com")
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert (await client.post(url, json=body)).status == 403  # no CSRF token
    assert (await client.post(url, json=body, headers={"X-CSRF-Token": csrf})).status == 204
