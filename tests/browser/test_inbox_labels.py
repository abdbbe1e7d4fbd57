"""Labels and priority in the browser: an admin creates labels in the admin pages; an
agent puts them on a conversation with the ``l`` key and with the command bar, and they
show on the row, in the header and in another agent's browser live; the list filters
by label, the priority is set with ``p`` and the list sorts by it; desktop and phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld


def create_label(page: Page, name: str, colour: str, description: str = "") -> None:
    """Create a label through the admin form."""
    page.goto("/admin/labels/new")
    page.get_by_label("Name").fill(name)
    page.get_by_role("group", name="Colour").get_by_label(colour).check()
    if description:
        page.get_by_label("Description (optional)").fill(description)
    page.get_by_role("button", name="Create label").click()
    expect(page.locator(".flashes")).to_contain_text(f"Created label {name}.")


def test_labels_and_priority_from_the_admin_page_to_the_list_live(
    page: Page,
    world: InboxWorld,
    browser: Browser,
    hub: LiveHub,
    artifacts: Path,
    snap: Callable[[str], None],
) -> None:
    hub.add_user("mia@example.com", role="agent", name="Mia Agent")
    world.customer_writes("ada-lovelace", "My invoice is wrong")
    world.customer_writes("grace-hopper", "Where is my parcel?")
    log_in(page, "owner@example.com")

    # The admin creates two labels; the list shows them with their usage.
    create_label(page, "Billing", "Green", "Invoices, refunds, payments")
    create_label(page, "VIP", "Purple")
    table = page.get_by_role("table", name="Labels, by name")
    expect(table.get_by_role("row")).to_have_count(3)  # the header and two labels
    expect(table.get_by_role("row", name=re.compile("Billing"))).to_contain_text("0")
    snap("admin-labels")

    # Another agent watches the list.
    other = browser.new_context(base_url=hub.url, viewport={"width": 1280, "height": 900})
    mia = other.new_page()
    try:
        log_in(mia, "mia@example.com")
        mia_rows = mia.locator("#rows .row")
        expect(mia_rows).to_have_count(2)

        page.goto("/inbox")
        rows = page.locator("#rows .row")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Grace Hopper")
        rows.filter(has_text="Ada Lovelace").locator(".row-link").click()
        heading = page.locator("#conversation-heading")
        expect(heading).to_have_text("Ada Lovelace")
        ada_row = rows.filter(has_text="Ada Lovelace")
        ada_id = ada_row.get_attribute("data-conversation-id")

        # l: the label picker, its filter box focused; Enter ticks the one label left.
        page.locator("body").press("Escape")
        page.keyboard.press("l")
        picker = page.get_by_role("dialog", name="Labels")
        expect(picker).to_be_visible()
        expect(picker.get_by_role("searchbox", name="Filter labels")).to_be_focused()
        expect(picker.get_by_text("Invoices, refunds, payments")).to_be_visible()
        page.keyboard.type("bil")
        expect(picker.get_by_role("checkbox", name="VIP")).to_be_hidden()
        page.keyboard.press("Enter")
        expect(picker.get_by_role("checkbox", name="Billing")).to_be_checked()
        snap("label-picker")
        page.keyboard.press("Escape")
        expect(picker).to_be_hidden()
        head = page.locator("#pane-head")
        expect(head.locator(".label-chip")).to_have_text(["Billing"])
        expect(ada_row.locator(".label-chip")).to_have_text(["Billing"])
        # Live in the other agent's list.
        expect(mia.locator(f"#row-{ada_id} .label-chip")).to_have_text(["Billing"])
        expect(page.get_by_role("log")).to_contain_text("Olive Owner added label Billing")

        # The command bar adds the other label.
        page.keyboard.press("Control+k")
        bar = page.get_by_role("dialog", name="Command bar")
        expect(bar).to_be_visible()
        page.keyboard.type("add label vip")
        expect(bar.get_by_role("option").first).to_contain_text("Add label VIP")
        page.keyboard.press("Enter")
        expect(ada_row.locator(".label-chip")).to_have_text(["Billing", "VIP"])
        expect(mia.locator(f"#row-{ada_id} .label-chip")).to_have_text(["Billing", "VIP"])

        # p: the priority picker; High shows on the row, live elsewhere too.
        page.keyboard.press("p")
        priority = page.get_by_role("dialog", name="Priority")
        expect(priority).to_be_visible()
        priority.get_by_label("High").check()
        priority.get_by_role("button", name="Set priority").click()
        expect(priority).to_be_hidden()
        expect(ada_row.locator(".priority-tag")).to_have_text(re.compile("high", re.I))
        expect(head.locator(".priority-tag")).to_have_text(re.compile("high", re.I))
        expect(mia.locator(f"#row-{ada_id} .priority-tag")).to_have_text(re.compile("high", re.I))
        expect(page.get_by_role("log")).to_contain_text("Olive Owner set priority to High")
        snap("labelled")

        # Sort by priority: Ada (high) before Grace (none, but newer).
        expect(rows.first).to_contain_text("Grace Hopper")
        page.get_by_label("Sort").select_option("priority")
        page.wait_for_url(re.compile(r"sort=priority"))
        expect(rows.first).to_contain_text("Ada Lovelace")
        # Filter by label: only Ada carries VIP; the sort stays.
        page.get_by_label("Label", exact=True).select_option(label="VIP")
        page.wait_for_url(re.compile(r"label=\d+"))
        assert "sort=priority" in page.url
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Ada Lovelace")
        snap("filtered")
        mia.screenshot(path=str(artifacts / "labels-other-agent.png"), full_page=True)
    finally:
        other.close()

    # On a phone: the row and the header keep their chips, the pickers fit.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/inbox?sort=priority")
    expect(page.locator("#rows .row").first.locator(".label-chip")).to_have_count(2)
    snap("phone-list")
    page.locator("#rows .row").first.locator(".row-link").click()
    expect(page.locator("#pane-head .label-chip")).to_have_count(2)
    snap("phone-conversation")
    # The composer's Labels button opens the same picker.
    page.locator("#composer").get_by_role("button", name="Labels").click()
    expect(page.get_by_role("dialog", name="Labels")).to_be_visible()
    box = page.get_by_role("dialog", name="Labels").locator(".label-choice").first.bounding_box()
    assert box is not None and box["height"] >= 44
    snap("phone-label-picker")
