"""One flow in German: an agent whose profile says Deutsch logs in from a German browser
and gets the German UI: the login page (Accept-Language), their profile (the profile's
language, times in their zone), and the inbox's frame; at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import User
from tests.browser.harness import LiveHub
from tests.conftest import PASSWORD

FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [1280, 390])
def test_an_agent_whose_profile_says_deutsch_gets_the_german_ui(
    page: Page, hub: LiveHub, snap: Callable[[str], None], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    agent = hub.add_user("anna@example.com", role="agent", name="Anna Agentin")

    async def speak_german(db: AsyncSession) -> None:
        user = await db.get(User, agent.id)
        assert user is not None
        user.language, user.time_zone = "de", "Europe/Berlin"
        await db.commit()

    hub.query(speak_german)
    page.context.set_extra_http_headers({"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})

    # Before anyone is logged in, the browser's language decides.
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1, name="Anmelden")).to_be_visible()
    expect(page).to_have_title("Anmelden · Inbox Hub")
    page.get_by_label("E-Mail").fill("anna@example.com")
    page.get_by_label("Passwort").fill(PASSWORD)
    snap("login")
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{hub.url}/inbox")

    # The profile: German throughout, the language and zone chosen, times in Berlin's.
    page.goto("/me")
    expect(page.get_by_role("heading", level=1, name="Ihr Profil")).to_be_visible()
    expect(page.get_by_role("navigation", name="Ihr Konto")).to_be_visible()
    expect(page.get_by_label("Sprache", exact=True)).to_have_value("de")
    expect(page.get_by_label("Zeitzone", exact=True)).to_have_value("Europe/Berlin")
    expect(page.get_by_text("Agent", exact=True)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="diese Sitzung")).to_contain_text("MEZ")
    page.get_by_role("button", name="Mich als nicht verfügbar markieren").click()
    expect(page.get_by_text("Sie sind nicht verfügbar")).to_be_visible()
    assert page.evaluate(FITS), "the German profile is wider than the screen"
    snap("profile")

    # A form error in German, beside its field.
    page.get_by_role("navigation", name="Ihr Konto").get_by_role("link", name="Passwort").click()
    page.get_by_label("Aktuelles Passwort").fill(PASSWORD)
    page.locator("#new_password").fill("ein ganz neues Passwort")
    page.get_by_label("Neues Passwort, noch einmal").fill("ein anderes Passwort")
    page.get_by_role("button", name="Passwort ändern").click()
    expect(page.locator("#new_password_again-error")).to_have_text(
        "Geben Sie zweimal dasselbe neue Passwort ein."
    )

    # The inbox's frame (its own strings are the inbox's translation work).
    page.goto("/inbox")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_attached()
    assert page.evaluate(FITS), "the German inbox is wider than the screen"
    snap("inbox")
