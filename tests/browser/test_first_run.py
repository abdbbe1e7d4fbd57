"""First run: the owner follows the setup link, creates their account, logs out and in."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.conftest import PASSWORD


def test_first_run_owner_setup_then_login(
    page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page.goto(hub.setup_link())
    expect(page.get_by_role("heading", name="Create the owner account")).to_be_visible()

    # A too-short password is refused beside the field; what was typed stays.
    page.get_by_label("Your name").fill("Olive Owner")
    page.get_by_label("Email").fill("olive@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_be_visible()
    expect(page.get_by_label("Your name")).to_have_value("Olive Owner")
    snap("password-refused")

    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{hub.url}/admin/channels")
    expect(page.get_by_text("Olive Owner · Owner")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{hub.url}/login")

    # The link is used up.
    page.goto("/setup?token=used")
    expect(page.get_by_text("set up already")).to_be_visible()

    log_in(page, "olive@example.com", "a long enough password")
    expect(page).to_have_url(f"{hub.url}/admin/channels")


def test_an_admin_page_sends_a_visitor_to_log_in_and_back(page: Page, hub: LiveHub) -> None:
    hub.add_user("owner@example.com", role="owner")
    page.goto("/admin/users")
    expect(page).to_have_url(f"{hub.url}/login?next=/admin/users")
    page.get_by_label("Email").fill("owner@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{hub.url}/admin/users")


def test_an_agent_gets_a_403_page_on_admin_pages(page: Page, hub: LiveHub) -> None:
    hub.add_user("agent@example.com", role="agent", name="Alex Agent")
    log_in(page, "agent@example.com")
    # Agents start in the inbox, where the menu has no Admin entry.
    expect(page).to_have_url(f"{hub.url}/inbox")
    page.get_by_label("Account menu for Alex Agent").click()
    expect(page.get_by_role("link", name="Your profile")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    response = page.goto("/admin/channels")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You cannot open this page")).to_be_visible()
