"""The plugins page and the API token flow: create (shown once), use, revoke, refused."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.browser.harness import LiveHub

BUNDLED = ("custom_channel", "email", "hubspot", "salesforce", "telegram", "whatsapp")


def test_the_plugins_page_lists_the_bundled_plugins(owner_page: Page) -> None:
    page = owner_page
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Plugins").click()
    expect(page.get_by_role("heading", level=1, name="Plugins")).to_be_visible()
    table = page.get_by_role("table", name="Installed plugins")
    for name in BUNDLED:
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        expect(row.get_by_text("ok", exact=True)).to_be_visible()
    telegram = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="telegram"))
    expect(telegram.locator("img.logo")).to_have_attribute(
        "src", "/channel-types/telegram/logo.svg"
    )
    expect(page.get_by_role("heading", name="Adding plugins")).to_be_visible()


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    page.goto("/admin/tokens")
    expect(page.get_by_text("You have no API tokens yet")).to_be_visible()

    # An empty name is refused beside the field.
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#name-error")).to_contain_text("Enter a name")

    page.get_by_label("Token name").fill("CI script")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token “CI script” created")).to_be_visible()
    expect(page.get_by_text("only time it is shown")).to_be_visible()
    field = page.get_by_role("textbox", name="Your new API token")
    token = field.input_value()
    assert token.startswith("hub_")
    page.get_by_role("button", name="Copy Your new API token").click()
    assert page.evaluate("navigator.clipboard.readText()") == token
    snap("created")

    users = f"{hub.url}/api/v1/users"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(users, headers=bearer).status_code == 200

    page.get_by_role("link", name="Done, back to API tokens").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="CI script"))
    expect(row).to_contain_text(token[:10])
    expect(page.get_by_text(token)).to_have_count(0)  # never shown again
    row.get_by_role("link", name="Revoke CI script").click()

    expect(page.get_by_role("heading", name="Revoke the token “CI script”?")).to_be_visible()
    snap("confirm")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("The token “CI script” is revoked.")).to_be_visible()
    expect(row.get_by_text("revoked", exact=True)).to_be_visible()
    assert httpx.get(users, headers=bearer).status_code == 401
