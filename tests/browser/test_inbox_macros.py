"""Macros in the browser: the owner builds a macro on /me/macros (picking the actions,
reordering and removing one), runs it on a conversation from the command bar, and its
labels, priority, assignee and comment appear; on a phone, the pages and the composer's
Macros menu fit."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld
from tests.browser.test_inbox_labels import create_label


def add_action(page: Page, title: str) -> None:
    page.get_by_label("Add an action").select_option(label=title)
    page.get_by_role("button", name="Add action").click()


def test_a_macro_built_on_the_me_page_runs_from_the_command_bar(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    hub.add_user("mia@example.com", role="agent", name="Mia Agent")
    world.customer_writes("ada-lovelace", "My invoice is wrong")
    log_in(page, "owner@example.com")
    create_label(page, "Billing", "Green")
    create_label(page, "VIP", "Purple")

    # The editor: four actions, one added by mistake and removed, one moved up.
    page.goto("/me/macros")
    expect(page.get_by_text("You have no macros of your own yet.")).to_be_visible()
    page.get_by_role("link", name="New macro").click()
    page.get_by_label("Name").fill("Billing handled")
    actions = page.locator("#macro-actions > li")
    add_action(page, "Add labels")
    actions.nth(0).get_by_label("Billing").check()
    add_action(page, "Close")
    add_action(page, "Set priority")
    actions.nth(2).get_by_role("combobox", name=re.compile("^Priority")).select_option(label="High")
    add_action(page, "Add a comment")
    actions.nth(3).get_by_role("textbox", name="Comment").fill("Refund issued")
    add_action(page, "Assign")
    actions.nth(4).get_by_role("combobox", name=re.compile("^User")).select_option(
        label="Mia Agent"
    )
    actions.nth(1).get_by_role("button", name=re.compile("^Remove")).click()  # not Close
    expect(actions).to_have_count(4)
    actions.nth(3).get_by_role("button", name=re.compile("^Up")).click()
    expect(actions.locator(".macro-action-title")).to_have_text(
        ["Add labels", "Set priority", "Assign", "Add a comment"]
    )
    snap("editor")
    # Mistakes are named on their action: a snippet reply without a snippet (seen in
    # the page), an assignment to nobody (refused by the hub, which names the action).
    add_action(page, "Reply with a snippet")
    page.get_by_role("button", name="Save macro").click()
    summary = page.locator(".form-error")
    expect(summary).to_have_text("Action 5 (Reply with a snippet): Choose a snippet.")
    expect(summary).to_be_focused()
    expect(actions.nth(4)).to_have_class(re.compile("has-error"))
    actions.nth(4).get_by_role("button", name=re.compile("^Remove")).click()
    add_action(page, "Assign")
    page.get_by_role("button", name="Save macro").click()
    expect(summary).to_contain_text("Action 5 (Assign): ")
    expect(summary).to_contain_text("give a user_id or a team_id")
    expect(actions.nth(4)).to_have_class(re.compile("has-error"))
    expect(actions.nth(3)).not_to_have_class(re.compile("has-error"))
    snap("editor-error")
    actions.nth(4).get_by_role("button", name=re.compile("^Remove")).click()
    page.get_by_role("button", name="Save macro").click()
    page.wait_for_url(re.compile(r"/me/macros$"))
    steps = page.get_by_role("table", name="Your macros, by name").locator(".macro-steps li")
    expect(steps).to_have_text(
        [
            "Add labels Billing",
            "Set priority to High",
            "Assign to Mia Agent",
            "Comment “Refund issued”",
        ]
    )
    snap("list")

    # In the inbox: Ctrl+K, "run macro", Enter.
    page.goto("/inbox")
    rows = page.locator("#rows .row")
    rows.filter(has_text="Ada Lovelace").locator(".row-link").click()
    expect(page.locator("#conversation-heading")).to_have_text("Ada Lovelace")
    page.locator("body").press("Escape")
    page.keyboard.press("Control+k")
    bar = page.get_by_role("dialog", name="Command bar")
    expect(bar).to_be_visible()
    page.keyboard.type("run macro billing")
    expect(bar.get_by_role("option").first).to_contain_text("Run macro: Billing handled")
    page.keyboard.press("Enter")
    head = page.locator("#pane-head")
    expect(head.locator(".label-chip")).to_have_text(["Billing"])
    expect(head.locator(".priority-tag")).to_have_text(re.compile("high", re.I))
    expect(head).to_contain_text("Mia Agent")
    log = page.get_by_role("log")
    expect(log).to_contain_text("Refund issued")
    expect(log).to_contain_text("Olive Owner added label Billing")
    ada_row = rows.filter(has_text="Ada Lovelace")
    expect(ada_row.locator(".label-chip")).to_have_text(["Billing"])
    snap("ran")

    # On a phone: the list, the editor, and the composer's Macros menu.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/me/macros")
    snap("phone-list")
    page.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator("#macro-actions > li")).to_have_count(4)
    snap("phone-editor")
    page.goto("/inbox")
    page.locator("#rows .row").first.locator(".row-link").click()
    page.locator("#composer").get_by_role("button", name="Macros").click()
    menu = page.get_by_role("dialog", name="Run a macro")
    expect(menu).to_be_visible()
    choice = menu.get_by_role("button", name=re.compile("Billing handled"))
    box = choice.bounding_box()
    assert box is not None and box["height"] >= 44
    snap("phone-macro-menu")
    # Running it again from the menu: it was all done already, so it succeeds quietly.
    choice.click()
    expect(menu).to_be_hidden()
