"""The language and time zone of a page: the user's profile, else the browser's
Accept-Language (and the workspace's zone, else UTC); the profile form and
``PUT /api/v1/me/locale`` that change them; dates, times and numbers per locale."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin_ui.catalogs import ui_locale
from admin_ui.i18n import activate, deactivate
from admin_ui.locale_choice import browser_language
from admin_ui.locale_format import day, number, when
from admin_ui.relative_time import ago
from hub.store.models import BusinessHours, User
from tests.ui_helpers import HTML, hidden, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LOCALE = "/api/v1/me/locale"
GERMAN = {**HTML, "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {**HTML, "Accept-Language": "en-GB,en;q=0.9"}


def session_zone(page: str) -> str:
    """The zone the profile's sessions table shows its login times in."""
    found = re.search(r'<th scope="row">[^<]*\d\d:\d\d ([^<\s]+)', page)
    assert found, "no session row"
    return found.group(1)


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-AT;q=0.9, en;q=0.5", "de"),
        ("de", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR, de;q=0.5", "de"),
        ("en;q=0.2, de", "de"),
        ("fr, es", "en"),
        ("", "en"),
        ("*", "en"),
        ("de;q=0, en;q=0.1", "en"),
        ("de;q=oops, en", "en"),
    ],
)
def test_the_browser_language_is_negotiated(header: str, language: str) -> None:
    assert browser_language(header) == language


def test_times_and_numbers_follow_the_locale_and_zone() -> None:
    at = datetime(2026, 11, 21, 14, 5, tzinfo=UTC)
    assert when(at) == "2026-11-21 14:05 UTC" and number(1234.5) == "1,234.5"
    token = activate(ui_locale("de", "Europe/Berlin"))
    try:
        assert when(at) == "21.11.2026, 15:05 MEZ"
        assert number(1234.5) == "1.234,5"
        assert day(at.date()) == "Sa. 21. Nov. 2026"
        assert ago(at - timedelta(minutes=5), at) == "vor 5 Minuten"
        assert ago(at - timedelta(hours=1), at) == "vor 1 Stunde"
        assert ago(at - timedelta(days=3), at) == "vor 3 Tagen"
        assert ago(at, at) == "gerade eben" and ago(None) == "nie"
    finally:
        deactivate(token)
    assert day(at.date()) == "Sat 21 Nov 2026" and ago(None) == "never"


async def test_the_login_page_speaks_the_browser_language(client: Client) -> None:
    german = await (await client.get("/login", headers=GERMAN)).text()
    assert '<html lang="de">' in german and "<h1>Anmelden</h1>" in german
    assert '<label for="password">Passwort</label>' in german
    english = await (await client.get("/login", headers=ENGLISH)).text()
    assert '<html lang="en">' in english and "<h1>Log in</h1>" in english
    # No header at all: English, the source.
    plain = await (await client.get("/login", headers=HTML)).text()
    assert "<h1>Log in</h1>" in plain


async def test_the_profile_language_wins_over_the_browser_and_the_form_sets_it(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    user = await make_user("ana@example.com", name="Ana Agent")
    csrf = await log_in_page(client, "ana@example.com")
    page = await (await client.get("/me", headers=GERMAN)).text()
    # Automatic: the browser's German.
    assert "<h1>Ihr Profil</h1>" in page and '<option value="" selected>' in page
    form = {"csrf_token": csrf, "language": "en", "time_zone": "Europe/Berlin"}
    saved = await client.post("/me/locale", data=form, headers=GERMAN)
    page = await saved.text()
    assert saved.status == 200 and '<html lang="en">' in page
    assert "Your language and time zone are saved." in page
    assert '<option value="en" selected>English</option>' in page
    assert '<option value="Europe/Berlin" selected>Europe/Berlin</option>' in page
    # The sessions table reads in the chosen zone.
    assert session_zone(page) in ("+0100", "+0200")
    async with db() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        assert (stored.language, stored.time_zone) == ("en", "Europe/Berlin")
    # Deutsch, asked for by an English browser: the flash is German already.
    form["language"] = "de"
    page = await (await client.post("/me/locale", data=form, headers=ENGLISH)).text()
    assert '<html lang="de">' in page and "Ihre Sprache und Zeitzone sind gespeichert." in page
    assert session_zone(page) in ("MEZ", "MESZ")
    # Back to automatic.
    form.update(language="", time_zone="")
    page = await (await client.post("/me/locale", data=form, headers=ENGLISH)).text()
    assert '<html lang="en">' in page and session_zone(page) == "UTC"


async def test_a_bad_language_or_zone_is_explained_beside_its_field(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ana@example.com")
    csrf = await log_in_page(client, "ana@example.com")
    form = {"csrf_token": csrf, "language": "fr", "time_zone": "Mars/Olympus"}
    answer = await client.post("/me/locale", data=form, headers=HTML)
    page = await answer.text()
    assert answer.status == 422
    assert 'id="language-error"' in page
    form["language"] = "de"
    answer = await client.post("/me/locale", data=form, headers=HTML)
    assert answer.status == 422 and 'id="time_zone-error"' in await answer.text()
    # Without the CSRF token: refused.
    del form["csrf_token"]
    assert (await client.post("/me/locale", data=form, headers=HTML)).status == 403


async def test_without_a_zone_of_their_own_a_user_sees_the_workspace_zone(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    async with db() as session:
        session.add(
            BusinessHours(
                scope="workspace", team_id=None, time_zone="America/New_York", week=[[]] * 7
            )
        )
        await session.commit()
    await make_user("ana@example.com")
    await log_in_page(client, "ana@example.com")
    page = await (await client.get("/me", headers=ENGLISH)).text()
    assert session_zone(page) in ("EST", "EDT")


async def test_the_api_reads_and_sets_the_language_and_zone(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("ana@example.com")
    me = await (await client.get("/api/v1/me", headers=auth)).json()
    assert me["language"] is None and me["time_zone"] is None
    body = {"language": "de", "time_zone": "Europe/Berlin"}
    answer = await client.put(LOCALE, json=body, headers=auth)
    assert answer.status == 200
    assert {k: (await answer.json())[k] for k in body} == body
    me = await (await client.get("/api/v1/me", headers=auth)).json()
    assert (me["language"], me["time_zone"]) == ("de", "Europe/Berlin")
    automatic = await client.put(LOCALE, json={"language": None, "time_zone": None}, headers=auth)
    assert (await automatic.json())["language"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "fr", "time_zone": None}, "language"),
        ({"language": None, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"language": None}, "time_zone"),
        ({"language": None, "time_zone": None, "theme": "dark"}, "theme"),
        ({"language": "x" * 17, "time_zone": None}, "language"),
    ],
)
async def test_the_api_refuses_a_bad_language_or_zone(
    client: Client, user_token: UserToken, body: dict[str, Any], field: str
) -> None:
    _, auth = await user_token("ana@example.com")
    answer = await client.put(LOCALE, json=body, headers=auth)
    assert answer.status == 422
    fields = [d["field"] for d in (await answer.json())["error"]["details"]]
    assert field in fields


async def test_the_api_needs_a_login(client: Client) -> None:
    answer = await client.put(LOCALE, json={"language": None, "time_zone": None})
    assert answer.status == 401


async def test_a_flash_message_is_worded_in_the_users_language(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ana@example.com")
    csrf = await log_in_page(client, "ana@example.com")
    form = {"csrf_token": csrf, "language": "de", "time_zone": ""}
    await client.post("/me/locale", data=form, headers=HTML)
    page = await (await client.get("/me", headers=ENGLISH)).text()
    csrf = hidden(page, "csrf_token")
    saved = await client.post("/me", data={"csrf_token": csrf, "name": "Ana"}, headers=ENGLISH)
    assert "Ihr Name ist gespeichert." in await saved.text()
