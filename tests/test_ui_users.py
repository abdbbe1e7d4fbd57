"""The users pages: list, create (with a generated password shown once), edit, deactivate."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import LoginSession, User
from tests.conftest import PASSWORD
from tests.factories import Factory
from tests.ui_helpers import HTML, hidden, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def as_owner(client: Client, make_user: MakeUser) -> tuple[User, str]:
    """An owner, logged in; their CSRF token."""
    owner = await make_user("owner@example.com", name="Olive Owner", role="owner")
    return owner, await log_in_page(client, "owner@example.com")


def form_csrf(html: str, action: str) -> str:
    """The CSRF token inside the form posting to ``action`` (not the logout form's)."""
    form = html.split(f'action="{action}"', 1)[1]
    return hidden(form.split("</form>", 1)[0], "csrf_token")


def error_of(html: str, field: str) -> str:
    """The message shown beside ``field``."""
    match = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert match, f"no error beside {field}"
    return match.group(1)


async def test_the_list_shows_users_escaped_and_filters_and_pages(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    owner, _ = await as_owner(client, make_user)
    mallory = await make_user("mallory@example.com", name="<script>alert(1)</script>")
    await factory.team("Support <b>", members=[mallory])
    await make_user("gone@example.com", name="Gone Gary", active=False)
    html = await (await client.get("/admin/users", headers=HTML)).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "Support &lt;b&gt;" in html
    assert "Gone Gary" in html and "badge-deactivated" in html

    found = await (await client.get("/admin/users?q=MALLORY", headers=HTML)).text()
    assert "mallory@example.com" in found and "owner@example.com" not in found
    gone = await (await client.get("/admin/users?status=deactivated", headers=HTML)).text()
    assert "Gone Gary" in gone and "owner@example.com" not in gone
    active = await (await client.get("/admin/users?status=active", headers=HTML)).text()
    assert "Gone Gary" not in active and "owner@example.com" in active

    for n in range(25):
        await make_user(f"user{n:02}@example.com", name=f"Aaron {n:02}")
    first = await (await client.get("/admin/users?status=active", headers=HTML)).text()
    assert "Aaron 00" in first and "owner@example.com" not in first  # 25 a page, by name
    next_url = re.search(r'href="([^"]*)" rel="next"', first)
    assert next_url and "status=active" in next_url.group(1)
    second_page = await client.get(next_url.group(1).replace("&amp;", "&"), headers=HTML)
    second = await second_page.text()
    assert "owner@example.com" in second and "Aaron 00" not in second
    assert "First page" in second
    assert owner.id


async def test_creating_a_user_shows_the_generated_password_once(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    await as_owner(client, make_user)
    team = await factory.team("Sales")
    new_page = await (await client.get("/admin/users/new", headers=HTML)).text()
    form = {
        "csrf_token": form_csrf(new_page, "/admin/users/new"),
        "name": "Nina New",
        "email": "Nina@Example.com",
        "role": "agent",
        "visibility": "team",
        "team_ids": str(team.id),
        "password": "",
    }
    created = await client.post("/admin/users/new", data=form, allow_redirects=False)
    assert created.status == 303
    location = created.headers["Location"]
    assert re.fullmatch(r"/admin/users/\d+/created", location)
    assert "hub_new_password" in created.cookies
    assert "Nina" not in created.cookies["hub_new_password"].value  # encrypted, not plain

    page = await (await client.get(location, headers=HTML)).text()
    match = re.search(r'id="generated-password" type="text" value="([^"]+)"', page)
    assert match, page
    password = match.group(1)
    assert "shown only this once" in page and "Created Nina New." in page
    again = await (await client.get(location, headers=HTML)).text()
    assert password not in again and "no longer shown" in again

    async with db() as session:
        user = await session.get(User, int(location.split("/")[3]))
        assert user is not None
        assert (user.email, user.role, user.visibility) == ("nina@example.com", "agent", "team")
        await session.refresh(user, ["teams"])
        assert [t.name for t in user.teams] == ["Sales"]
    login = await client.post(
        "/api/v1/auth/login", json={"email": "nina@example.com", "password": password}
    )
    assert login.status == 200


async def test_a_typed_password_is_used_and_never_shown(
    client: Client, make_user: MakeUser
) -> None:
    _, csrf = await as_owner(client, make_user)
    form = {
        "csrf_token": csrf,
        "name": "Tom",
        "email": "tom@example.com",
        "role": "agent",
        "visibility": "all",
        "password": "a typed password",
    }
    created = await client.post("/admin/users/new", data=form, allow_redirects=False)
    assert created.status == 303
    assert re.fullmatch(r"/admin/users/\d+", created.headers["Location"])
    page = await (await client.get(created.headers["Location"], headers=HTML)).text()
    assert "a typed password" not in page and "Created Tom." in page


async def test_create_errors_are_shown_beside_the_fields_keeping_the_input(
    client: Client, make_user: MakeUser
) -> None:
    _, csrf = await as_owner(client, make_user)
    form = {
        "csrf_token": csrf,
        "name": "",
        "email": "not-an-email <b>",
        "role": "manager",
        "visibility": "assigned",
        "password": "short",
    }
    response = await client.post("/admin/users/new", data=form)
    html = await response.text()
    assert response.status == 422
    # People's words, not pydantic's ("String should have at least 10 characters").
    assert error_of(html, "name") == "This field is required."
    assert error_of(html, "email").startswith("Enter an email address like name@example.com.")
    assert error_of(html, "password") == "Use at least 10 characters."
    assert 'value="not-an-email &lt;b&gt;"' in html
    assert re.search(r'value="manager" checked', html)
    assert re.search(r'value="assigned" checked', html)
    assert "short" not in html.split('id="password"')[1].split(">")[0]  # never echoed

    taken = {**form, "name": "Again", "email": "owner@example.com", "password": ""}
    response = await client.post("/admin/users/new", data=taken)
    assert response.status == 409
    assert "already exists" in error_of(await response.text(), "email")


async def test_a_manager_cannot_create_an_owner(client: Client, make_user: MakeUser) -> None:
    await make_user("boss@example.com", name="Boss", role="manager")
    csrf = await log_in_page(client, "boss@example.com")
    form = {
        "csrf_token": csrf,
        "name": "Wannabe",
        "email": "w@example.com",
        "role": "owner",
        "visibility": "all",
        "password": "",
    }
    response = await client.post("/admin/users/new", data=form)
    html = await response.text()
    assert response.status == 403
    assert error_of(html, "role") == "Only an owner can make someone an owner."
    assert 'value="Wannabe"' in html


async def test_forms_need_the_csrf_token_and_agents_get_403(
    client: Client, make_user: MakeUser
) -> None:
    await as_owner(client, make_user)
    form = {"name": "X", "email": "x@example.com", "role": "agent", "visibility": "all"}
    assert (await client.post("/admin/users/new", data=form, headers=HTML)).status == 403
    forged = {**form, "csrf_token": "forged"}
    assert (await client.post("/admin/users/new", data=forged, headers=HTML)).status == 403

    await make_user("agent@example.com")
    client.session.cookie_jar.clear()
    await log_in_page(client, "agent@example.com")
    for path in ("/admin/users", "/admin/users/new", "/admin/users/1"):
        response = await client.get(path, headers=HTML)
        assert response.status == 403, path
        assert "You cannot open this page" in await response.text()


async def test_editing_role_visibility_and_teams(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    owner, csrf = await as_owner(client, make_user)
    alex = await make_user("alex@example.com", name="Alex")
    team = await factory.team("Billing")
    page = await (await client.get(f"/admin/users/{alex.id}", headers=HTML)).text()
    assert 'value="Alex"' in page and "Billing" in page
    assert form_csrf(page, f"/admin/users/{alex.id}") == csrf
    form = {
        "csrf_token": csrf,
        "name": "Alex Smith",
        "role": "manager",
        "visibility": "assigned",
        "team_ids": str(team.id),
    }
    saved = await client.post(f"/admin/users/{alex.id}", data=form, allow_redirects=False)
    assert saved.status == 303
    async with db() as session:
        user = await session.get(User, alex.id)
        assert user is not None
        await session.refresh(user, ["teams"])
        assert (user.name, user.role, user.visibility) == ("Alex Smith", "manager", "assigned")
        assert [t.id for t in user.teams] == [team.id]

    bad = {**form, "name": "", "team_ids": "abc"}
    response = await client.post(f"/admin/users/{alex.id}", data=bad)
    html = await response.text()
    assert response.status == 422 and error_of(html, "name") and error_of(html, "team_ids")

    # The last owner cannot be demoted: said beside the role, the choice kept.
    demote = {"csrf_token": csrf, "name": "Olive", "role": "agent", "visibility": "all"}
    response = await client.post(f"/admin/users/{owner.id}", data=demote)
    html = await response.text()
    assert response.status == 409 and "last active owner" in error_of(html, "role")
    assert re.search(r'value="agent" checked', html)


async def test_deactivating_asks_first_then_ends_sessions_and_reactivating(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    alex = await make_user("alex@example.com", name="Alex <i>")
    async with db() as session:
        expires = datetime.now(UTC) + timedelta(days=1)
        session.add(
            LoginSession(
                user_id=alex.id, token_hash="x" * 64, csrf_token="y" * 32, expires_at=expires
            )
        )
        await session.commit()

    confirm = await client.get(f"/admin/users/{alex.id}/deactivate", headers=HTML)
    html = await confirm.text()
    assert confirm.status == 200 and "Deactivate Alex &lt;i&gt;?" in html
    assert "stay assigned" in html and "API tokens stop working" in html
    assert form_csrf(html, f"/admin/users/{alex.id}/deactivate") == csrf

    done = await client.post(
        f"/admin/users/{alex.id}/deactivate", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert done.status == 303
    page = await (await client.get(done.headers["Location"], headers=HTML)).text()
    assert "is deactivated" in page and "Reactivate" in page
    async with db() as session:
        user = await session.get(User, alex.id)
        assert user is not None and not user.is_active
        left = await session.scalar(
            select(func.count()).select_from(LoginSession).where(LoginSession.user_id == alex.id)
        )
        assert left == 0
    login = await client.post(
        "/api/v1/auth/login", json={"email": "alex@example.com", "password": PASSWORD}
    )
    assert login.status == 401

    await client.post(f"/admin/users/{alex.id}/reactivate", data={"csrf_token": csrf})
    async with db() as session:
        user = await session.get(User, alex.id)
        assert user is not None and user.is_active


async def test_deactivating_yourself_is_refused_with_the_reason(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    owner, csrf = await as_owner(client, make_user)
    response = await client.post(
        f"/admin/users/{owner.id}/deactivate", data={"csrf_token": csrf}, headers=HTML
    )
    html = await response.text()
    assert "Not changed: you cannot deactivate your own account." in html
    async with db() as session:
        user = await session.get(User, owner.id)
        assert user is not None and user.is_active


async def test_an_unknown_user_is_a_404_page(client: Client, make_user: MakeUser) -> None:
    await as_owner(client, make_user)
    response = await client.get("/admin/users/999999", headers=HTML)
    assert response.status == 404 and "Page not found" in await response.text()


# --- passwords and one's own account ----------------------------------------------------


async def _sessions_of(db: async_sessionmaker[AsyncSession], user: User) -> int:
    async with db() as session:
        query = select(func.count()).select_from(LoginSession)
        return int(await session.scalar(query.where(LoginSession.user_id == user.id)) or 0)


async def _can_log_in(client: Client, email: str, password: str) -> bool:
    """Whether the API login takes these; on success the client is logged in as them."""
    credentials = {"email": email, "password": password}
    return (await client.post("/api/v1/auth/login", json=credentials)).status == 200


async def test_an_admin_sets_a_typed_password_and_the_users_sessions_end(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    alex = await make_user("alex@example.com", name="Alex Agent")
    async with db() as session:
        expires = datetime.now(UTC) + timedelta(days=1)
        session.add(
            LoginSession(
                user_id=alex.id, token_hash="x" * 64, csrf_token="y" * 32, expires_at=expires
            )
        )
        await session.commit()
    _, csrf = await as_owner(client, make_user)
    user_page = await (await client.get(f"/admin/users/{alex.id}", headers=HTML)).text()
    assert f'href="/admin/users/{alex.id}/password"' in user_page
    form = await (await client.get(f"/admin/users/{alex.id}/password", headers=HTML)).text()
    assert "New password for Alex Agent" in form and "sessions they have open end" in form

    url = f"/admin/users/{alex.id}/password"
    short = await client.post(url, data={"csrf_token": csrf, "password": "short"}, headers=HTML)
    html = await short.text()
    assert short.status == 422 and error_of(html, "password") == "Use at least 10 characters."
    assert 'value="short"' not in html

    done = await client.post(
        url, data={"csrf_token": csrf, "password": "a typed new password"}, allow_redirects=False
    )
    assert done.status == 303 and done.headers["Location"] == f"/admin/users/{alex.id}"
    page = await (await client.get(done.headers["Location"], headers=HTML)).text()
    assert "Alex Agent has a new password; their sessions have ended." in page
    assert "a typed new password" not in page
    assert await _sessions_of(db, alex) == 0
    assert await _can_log_in(client, "alex@example.com", "a typed new password")
    assert not await _can_log_in(client, "alex@example.com", PASSWORD)


async def test_a_generated_password_is_shown_once(client: Client, make_user: MakeUser) -> None:
    alex = await make_user("alex@example.com", name="Alex Agent")
    _, csrf = await as_owner(client, make_user)
    done = await client.post(
        f"/admin/users/{alex.id}/password",
        data={"csrf_token": csrf, "password": ""},
        allow_redirects=False,
    )
    shown_at = f"/admin/users/{alex.id}/password/new"
    assert done.status == 303 and done.headers["Location"] == shown_at
    assert "Alex" not in done.cookies["hub_new_password"].value  # encrypted
    page = await (await client.get(shown_at, headers=HTML)).text()
    match = re.search(r'id="generated-password" type="text" value="([^"]+)"', page)
    assert match and "shown only this once" in page
    again = await (await client.get(shown_at, headers=HTML)).text()
    assert match.group(1) not in again and "no longer shown" in again
    # A new user's page does not show it either: the cookie is bound to its page.
    created = await (await client.get(f"/admin/users/{alex.id}/created", headers=HTML)).text()
    assert match.group(1) not in created
    assert await _can_log_in(client, "alex@example.com", match.group(1))


async def test_a_manager_cannot_set_an_owners_password(client: Client, make_user: MakeUser) -> None:
    boss = await make_user("boss@example.com", name="Boss", role="owner")
    await make_user("max@example.com", name="Max", role="manager")
    csrf = await log_in_page(client, "max@example.com")
    page = await (await client.get(f"/admin/users/{boss.id}", headers=HTML)).text()
    assert "Only an owner can set an owner's password." in page
    assert f'href="/admin/users/{boss.id}/password"' not in page
    url = f"/admin/users/{boss.id}/password"
    assert (await client.get(url, headers=HTML)).status == 403
    refused = await client.post(url, data={"csrf_token": csrf, "password": "x" * 12}, headers=HTML)
    assert refused.status == 403 and "only an owner" in await refused.text()
    assert await _can_log_in(client, "boss@example.com", PASSWORD)


async def test_your_own_page_offers_neither_deactivate_nor_a_password_reset(
    client: Client, make_user: MakeUser
) -> None:
    owner, csrf = await as_owner(client, make_user)
    page = await (await client.get(f"/admin/users/{owner.id}", headers=HTML)).text()
    assert f'href="/admin/users/{owner.id}/deactivate"' not in page
    assert f'href="/admin/users/{owner.id}/password"' not in page
    assert 'href="/me/password"' in page  # where one's own password is changed
    confirm = await client.get(
        f"/admin/users/{owner.id}/deactivate", headers=HTML, allow_redirects=False
    )
    assert confirm.status == 303 and confirm.headers["Location"] == f"/admin/users/{owner.id}"
    back = await (await client.get(confirm.headers["Location"], headers=HTML)).text()
    assert "You cannot deactivate your own account" in back
    assert (await client.get(f"/admin/users/{owner.id}/password", headers=HTML)).status == 403
    refused = await client.post(
        f"/admin/users/{owner.id}/password", data={"csrf_token": csrf, "password": "x" * 12}
    )
    assert refused.status == 403
