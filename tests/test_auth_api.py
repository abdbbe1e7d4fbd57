"""Login, logout, sessions, CSRF, API tokens, throttling and the owner setup, over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.auth.setup import issue_setup_token
from hub.settings import Settings
from hub.store.models import User
from tests.conftest import PASSWORD, log_in

MakeUser = Callable[..., Awaitable[User]]
Client = TestClient[Any, Any]


def error_of(body: dict[str, Any]) -> str:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return str(body["error"]["code"])


async def test_login_sets_a_httponly_samesite_secure_session_cookie(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    client = await aiohttp_client(create_app(settings.model_copy(update={"cookie_secure": None})))
    response = await client.post(
        "/api/v1/auth/login", json={"email": "Ann@Example.com", "password": PASSWORD}
    )
    assert response.status == 200
    cookie = response.cookies["hub_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    body = await response.json()
    assert body["email"] == "ann@example.com"
    assert body["role"] == "agent" and body["visibility"] == "all"
    assert len(body["csrf_token"]) > 20
    assert "password" not in str(body) and "hash" not in str(body)


async def test_me_answers_the_logged_in_user(client: Client, make_user: MakeUser) -> None:
    user = await make_user("ann@example.com", role="manager", visibility="team")
    await log_in(client, "ann@example.com")
    response = await client.get("/api/v1/me")
    assert response.status == 200
    body = await response.json()
    assert (body["id"], body["role"], body["visibility"], body["auth"]) == (
        user.id,
        "manager",
        "team",
        "session",
    )


async def test_me_without_credentials_is_401(client: Client) -> None:
    response = await client.get("/api/v1/me")
    assert response.status == 401
    assert error_of(await response.json()) == "unauthenticated"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"email": "a@b.c", "password": ', "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        (b'{"email": "a@b.c"}', "application/json", 422, "validation_error"),
        (b'["a@b.c", "pw"]', "application/json", 422, "validation_error"),
        (
            b'{"email": "a@b.c", "password": "x", "admin": true}',
            "application/json",
            422,
            "validation_error",
        ),
        (
            b"email=a@b.c&password=x",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
    ],
)
async def test_a_malformed_login_body_gets_a_precise_4xx(
    client: Client, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = await client.post(
        "/api/v1/auth/login", data=body, headers={"Content-Type": content_type}
    )
    assert response.status == status
    assert error_of(await response.json()) == code


async def test_a_missing_field_is_named_in_the_validation_error(client: Client) -> None:
    response = await client.post("/api/v1/auth/login", json={"email": "a@b.c"})
    body = await response.json()
    assert body["error"]["details"] == [{"field": "password", "message": "Field required"}]


async def test_a_wrong_password_is_401_without_a_cookie(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": "wrong password"}
    )
    assert response.status == 401
    assert error_of(await response.json()) == "invalid_credentials"
    assert "hub_session" not in response.cookies


async def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client: Client) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": "whatever"}
    )
    assert response.status == 401
    assert error_of(await response.json()) == "invalid_credentials"


async def test_a_deactivated_user_cannot_log_in(client: Client, make_user: MakeUser) -> None:
    await make_user("gone@example.com", active=False)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "gone@example.com", "password": PASSWORD}
    )
    assert response.status == 401


async def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    for _ in range(5):
        response = await client.post(
            "/api/v1/auth/login", json={"email": "ann@example.com", "password": "nope nope"}
        )
        assert response.status == 401
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert response.status == 429
    assert error_of(await response.json()) == "throttled"
    assert int(response.headers["Retry-After"]) > 0


async def test_a_bad_bearer_token_is_401(client: Client) -> None:
    for header in ("Bearer hub_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz"):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status == 401, header
        assert error_of(await response.json()) == "invalid_token"


async def test_a_cookie_write_without_csrf_token_is_403(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    await log_in(client, "ann@example.com")
    response = await client.post("/api/v1/tokens", json={"name": "ci"})
    assert response.status == 403
    assert error_of(await response.json()) == "csrf_missing"


async def test_a_cookie_write_with_a_wrong_csrf_token_is_403(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    await log_in(client, "ann@example.com")
    response = await client.post(
        "/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status == 403
    assert error_of(await response.json()) == "csrf_invalid"


async def test_a_cookie_write_with_the_csrf_token_succeeds(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    csrf = await log_in(client, "ann@example.com")
    response = await client.post(
        "/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 201


async def test_logout_ends_the_session(client: Client, make_user: MakeUser) -> None:
    await make_user("ann@example.com")
    csrf = await log_in(client, "ann@example.com")
    old_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"].value
    response = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status == 204
    assert (await client.get("/api/v1/me")).status == 401
    # Replaying the old cookie does not bring the session back: it was deleted server-side.
    replay = await client.get("/api/v1/me", cookies={"hub_session": old_cookie})
    assert replay.status == 401


async def test_an_api_token_is_shown_once_then_authenticates_until_revoked(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    csrf = await log_in(client, "ann@example.com")
    created = await client.post(
        "/api/v1/tokens", json={"name": "deploy bot"}, headers={"X-CSRF-Token": csrf}
    )
    body = await created.json()
    token = body["token"]
    assert token.startswith("hub_") and body["prefix"] == token[:10]

    listing = await (await client.get("/api/v1/tokens")).json()
    assert listing["next_cursor"] is None
    assert [t["name"] for t in listing["items"]] == ["deploy bot"]
    assert token not in str(listing)

    client.session.cookie_jar.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    me = await client.get("/api/v1/me", headers=bearer)
    assert me.status == 200
    assert (await me.json())["auth"] == "token"
    # A bearer-authenticated write needs no CSRF token.
    revoked = await client.delete(f"/api/v1/tokens/{body['id']}", headers=bearer)
    assert revoked.status == 204
    after = await client.get("/api/v1/me", headers=bearer)
    assert after.status == 401


async def test_a_user_cannot_revoke_another_users_token(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    await make_user("bob@example.com")
    csrf = await log_in(client, "ann@example.com")
    created = await client.post(
        "/api/v1/tokens", json={"name": "a"}, headers={"X-CSRF-Token": csrf}
    )
    token_id = (await created.json())["id"]
    client.session.cookie_jar.clear()
    csrf = await log_in(client, "bob@example.com")
    for path in (f"/api/v1/tokens/{token_id}", "/api/v1/tokens/999999", "/api/v1/tokens/abc"):
        response = await client.delete(path, headers={"X-CSRF-Token": csrf})
        assert response.status == 404, path


async def test_setup_creates_the_owner_once_and_logs_them_in(
    client: Client, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session:
        token = await issue_setup_token(session)
    assert token is not None
    owner = {"email": "owner@example.com", "name": "Olive Owner", "password": "a long password"}

    bad = await client.post("/api/v1/setup", json={**owner, "token": "guessed"})
    assert bad.status == 403
    assert error_of(await bad.json()) == "invalid_setup_token"

    short = await client.post("/api/v1/setup", json={**owner, "password": "short", "token": token})
    assert short.status == 422

    done = await client.post("/api/v1/setup", json={**owner, "token": token})
    assert done.status == 201
    body = await done.json()
    assert body["role"] == "owner" and body["visibility"] == "all"
    assert (await client.get("/api/v1/me")).status == 200

    again = await client.post("/api/v1/setup", json={**owner, "token": token})
    assert again.status == 403
    async with db() as session:
        assert await issue_setup_token(session) is None  # users exist: no new link


async def test_a_successful_login_does_not_clear_the_failures_of_the_address(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    await make_user("mallory@example.com")
    for i in range(4):
        response = await client.post(
            "/api/v1/auth/login", json={"email": f"victim{i}@example.com", "password": "guess"}
        )
        assert response.status == 401
    # Mallory logs into her own account, then tries one more guess on someone else's.
    await log_in(client, "mallory@example.com")
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": "guess"}
    )
    assert response.status == 401
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ann@example.com", "password": PASSWORD}
    )
    assert response.status == 429
