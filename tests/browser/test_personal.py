"""An agent's personal pages: land on the profile, change the password, create a token;
at desktop width and at a phone's (375 px)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.conftest import PASSWORD

NEW = "correct horse battery staple"
FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [1280, 375])
def test_an_agent_changes_their_password_and_creates_a_token(
    page: Page, hub: LiveHub, snap: Callable[[str], None], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    hub.add_user("alex@example.com", role="agent", name="Alex Agent")
    log_in(page, "alex@example.com")

    # An agent lands in the inbox; their profile is in its account menu, and linked from
    # the header of every other page.
    expect(page).to_have_url(f"{hub.url}/inbox")
    page.get_by_label("Account menu for Alex Agent").click()
    page.get_by_role("link", name="Your profile").click()
    expect(page).to_have_url(f"{hub.url}/me")
    expect(page.get_by_role("heading", level=1, name="Your profile")).to_be_visible()
    expect(page.get_by_text("alex@example.com")).to_be_visible()
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Your account")).to_be_visible()
    expect(account.get_by_role("link", name="Admin")).to_have_count(0)
    page.get_by_role("button", name="Mark me unavailable").click()
    expect(page.get_by_text("You are unavailable")).to_be_visible()
    assert page.evaluate(FITS), "the profile is wider than the screen"
    snap("profile")

    # The password: a mismatch is explained beside the field, then the change works.
    menu = page.get_by_role("navigation", name="Your account")
    menu.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.locator("#new_password").fill(NEW)
    page.get_by_label("New password, again").fill(NEW + "!")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#new_password_again-error")).to_have_text(
        "Type the same new password twice."
    )
    expect(page.get_by_label("Current password")).to_have_value("")  # never echoed
    assert page.evaluate(FITS), "the password form is wider than the screen"
    snap("password-error")
    page.get_by_label("Current password").fill(PASSWORD)
    page.locator("#new_password").fill(NEW)
    page.get_by_label("New password, again").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()

    # A token, shown once, works on the API.
    menu.get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("My script")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “My script” created")).to_be_visible()
    token = page.get_by_role("textbox", name="Your new API token").input_value()
    me = httpx.get(f"{hub.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == "alex@example.com"
    assert page.evaluate(FITS), "the token page is wider than the screen"
    snap("token")
    page.get_by_role("link", name="Done, back to API tokens").click()
    expect(page.get_by_role("row").filter(has_text="My script")).to_be_visible()
    snap("tokens")

    # The new password is the one that logs in now.
    page.get_by_role("button", name="Log out").click()
    log_in(page, "alex@example.com", NEW)
    expect(page).to_have_url(f"{hub.url}/inbox")
    expect(page.get_by_role("switch", name="Away")).to_be_visible()
