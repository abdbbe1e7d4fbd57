"""People in the admin: create a user (password shown once) and a team, deactivate a user,
make closing notes mandatory."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub


def test_create_a_user_with_a_generated_password_then_a_team(
    owner_page: Page, hub: LiveHub, browser: Browser, snap: Callable[[str], None]
) -> None:
    page = owner_page
    page.goto("/admin/users")
    page.get_by_role("link", name="New user").click()
    expect(page.get_by_role("heading", name="New user")).to_be_visible()

    # A bad email is refused beside the field; what was typed stays.
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Email").fill("nina-at-example.com")
    page.get_by_label("Manager", exact=True).check()
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Nina New")
    expect(page.get_by_label("Manager", exact=True)).to_be_checked()

    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_label("Agent", exact=True).check()
    page.get_by_label("Their teams' conversations").check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("heading", name="Nina New can log in now")).to_be_visible()
    password_box = page.get_by_role("textbox", name="Generated password")
    password = password_box.input_value()
    assert len(password) >= 10
    page.get_by_role("button", name="Copy Generated password").click()
    expect(page.get_by_role("button", name="Copy Generated password")).to_have_text("Copied")
    snap("password-shown")

    # Shown once: the same page no longer has it.
    page.reload()
    expect(page.get_by_text("no longer shown")).to_be_visible()
    expect(page.get_by_role("textbox", name="Generated password")).to_have_count(0)

    # Nina logs in with it in a browser of her own.
    other = browser.new_context(base_url=hub.url)
    try:
        nina = other.new_page()
        log_in(nina, "nina@example.com", password)
        expect(nina.get_by_label("Account menu for Nina New")).to_be_visible()
        nina.goto("/me")
        expect(nina.get_by_label("Your name")).to_have_value("Nina New")
    finally:
        other.close()

    # A team with Nina in it.
    page.goto("/admin/teams")
    page.get_by_role("link", name="New team").click()
    page.get_by_label("Team name").fill("Support")
    page.get_by_label("Nina New · nina@example.com").check()
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_text("Created team Support.")).to_be_visible()
    expect(page.get_by_label("Nina New · nina@example.com")).to_be_checked()
    snap("team-created")
    page.goto("/admin/teams")
    row = page.get_by_role("row", name="Support")
    expect(row.get_by_role("cell").nth(1)).to_have_text("1")
    page.goto("/admin/users?q=nina")
    expect(page.get_by_role("row", name="Nina New")).to_contain_text("Support")


def test_deactivate_a_user_after_the_confirmation(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    hub.add_user("alex@example.com", role="agent", name="Alex Agent")
    page = owner_page
    page.goto("/admin/users")
    page.get_by_role("link", name="Alex Agent").click()
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Alex Agent?")).to_be_visible()
    expect(page.get_by_text("stay assigned to them")).to_be_visible()
    snap("confirm")

    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Alex Agent is deactivated.")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    page.goto("/admin/users?status=deactivated")
    expect(page.get_by_role("row", name="Alex Agent")).to_contain_text("deactivated")


def test_make_closing_notes_mandatory(owner_page: Page, hub: LiveHub) -> None:
    page = owner_page
    page.goto("/admin/users")
    page.get_by_role("link", name="Workspace settings").click()
    expect(page.get_by_role("heading", name="Workspace settings")).to_be_visible()
    expect(page.get_by_label("Optional")).to_be_checked()
    page.get_by_label("Mandatory").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Workspace settings saved.")).to_be_visible()
    expect(page.get_by_label("Mandatory")).to_be_checked()
