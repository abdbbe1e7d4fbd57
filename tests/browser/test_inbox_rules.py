"""Rules in the browser: the owner builds a rule on /admin/rules (a condition on the
message text, a bad pattern refused and named on its condition, three actions), and a
customer's message about an invoice is routed to Billing, labelled and answered with a
snippet, live in the inbox, its timeline naming the rule, and logged in the run log; a
message about something else is left alone. A no-reply rule is added, moved up, turned
off and deleted. A rule with the business-hours condition replies out of hours, and not
once the hours are open. On a phone, the pages fit."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from hub import appkeys
from hub.events.work import unit_of_work
from hub.inbox import business_hours
from hub.inbox.business_hours import HoursSpec
from hub.inbox.snippets import create_snippet
from hub.people import directory
from hub.store.models import RuleRun
from hub.store.types import utcnow
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub, wait_for
from tests.browser.inbox_world import InboxWorld
from tests.browser.test_inbox_labels import create_label

PHONE = {"width": 390, "height": 844}
# How the timeline names what the rule did (typographic quotes).
BY_RULE = "Rule \u2018Billing routing\u2019"


def arrange(hub: LiveHub) -> None:
    """The team Billing (Mia in it) and the snippet the rule replies with."""
    mia = hub.add_user("mia@example.com", role="agent", name="Mia Agent")
    viewer = hub.viewer()
    app = hub.app

    async def make() -> None:
        async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
            await directory.create_team(work, viewer, "Billing", [mia.id])
        async with app[appkeys.SESSIONS]() as db:
            await create_snippet(
                db,
                viewer,
                name="Invoice help",
                shortcut="invoice",
                body="Hi $contact.first_name, our billing team has your invoice question.",
            )
            await db.commit()

    hub.run(make())


def add(page: Page, what: str, title: str) -> None:
    page.get_by_label(f"Add an {what}" if what == "action" else f"Add a {what}").select_option(
        label=title
    )
    page.get_by_role("button", name=f"Add {what}").click()


def test_a_rule_routes_a_message_about_an_invoice_to_billing_and_replies(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    arrange(hub)
    log_in(page, "owner@example.com")
    create_label(page, "Invoices", "Green")

    # The editor: when a message is received, if it matches a pattern, then three actions.
    page.goto("/admin/rules")
    expect(page.get_by_text("No rules yet.")).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    page.get_by_label("Name").fill("Billing routing")
    page.get_by_label("When").select_option(label="A message is received")
    expect(page.get_by_label("Minutes without a reply")).to_be_hidden()
    conditions = page.locator("#rule-conditions > li")
    actions = page.locator("#rule-actions > li")
    add(page, "condition", "Message text")
    conditions.nth(0).get_by_role("combobox", name=re.compile("^Test")).select_option(
        label="matches the regular expression"
    )
    conditions.nth(0).get_by_label("Text or pattern").fill(r"\binvoice(s")
    add(page, "action", "Assign")
    actions.nth(0).get_by_role("combobox", name=re.compile("^Team")).select_option(label="Billing")
    add(page, "action", "Add labels")
    actions.nth(1).get_by_label("Invoices").check()
    add(page, "action", "Reply with a snippet")
    actions.nth(2).get_by_role("combobox", name=re.compile("^Snippet")).select_option(
        label="Invoice help (/invoice)"
    )
    page.get_by_role("button", name="Save rule").click()
    summary = page.locator(".form-error")
    expect(summary).to_contain_text("Condition 1 (Message text): not a valid regular expression")
    expect(summary).to_be_focused()
    expect(conditions.nth(0)).to_have_class(re.compile("has-error"))
    snap("editor-error")
    conditions.nth(0).get_by_label("Text or pattern").fill(r"\binvoices?\b")
    snap("editor")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(re.compile(r"/admin/rules$"))
    rule = page.locator(".rule-item")
    expect(rule).to_have_count(1)
    expect(rule.locator(".rule-if")).to_have_text("If Message text matches “\\binvoices?\\b”")
    expect(rule.locator(".rule-then")).to_have_text(
        "Then Assign to team Billing, then Add labels Invoices, then Reply with snippet "
        "Invoice help"
    )
    snap("list")

    # Live in the inbox: the invoice message is routed, labelled and answered.
    page.goto("/inbox")
    rows = page.locator("#rows .row")
    expect(rows).to_have_count(0)
    world.customer_writes("grace-hopper", "Where is my parcel?")
    world.customer_writes("ada-lovelace", "Hello, my Invoice is wrong", name="Ada Lovelace")
    expect(rows).to_have_count(2)
    ada = rows.filter(has_text="Ada Lovelace")
    expect(ada.locator(".label-chip")).to_have_text(["Invoices"])
    expect(rows.filter(has_text="Grace Hopper").locator(".label-chip")).to_have_count(0)
    ada.locator(".row-link").click()
    head = page.locator("#pane-head")
    expect(head.locator(".label-chip")).to_have_text(["Invoices"])
    expect(head).to_contain_text("Billing")
    log = page.get_by_role("log")
    expect(log).to_contain_text(f"{BY_RULE} assigned this to the team Billing")
    expect(log).to_contain_text(f"{BY_RULE} added label Invoices")
    expect(log).to_contain_text("Hi Ada, our billing team has your invoice question.")
    snap("inbox")

    # The reply went out through the channel to the service, once.
    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    assert [r["text"] for r in world.replies()] == [
        "Hi Ada, our billing team has your invoice question."
    ]

    # The run log: one run, done, on Ada's conversation; Grace's did not match.
    page.goto("/admin/rules")
    page.get_by_role("link", name=re.compile("^Runs")).click()
    runs = page.get_by_role("table", name="Rule runs, newest first")
    expect(runs.locator("tbody tr")).to_have_count(1)
    expect(runs.locator("tbody tr")).to_contain_text("Billing routing")
    expect(runs.locator("tbody tr")).to_contain_text("Done")
    assert hub.count(RuleRun, RuleRun.outcome == "done") == 1
    snap("runs")

    # A second rule, on the no-reply timer: the minutes appear for that event only.
    page.goto("/admin/rules/new")
    page.get_by_label("Name").fill("Nudge")
    minutes = page.get_by_label("Minutes without a reply")
    expect(minutes).to_be_hidden()
    page.get_by_label("When").select_option(label="No reply after some minutes")
    expect(minutes).to_be_visible()
    minutes.fill("15")
    add(page, "action", "Set priority")
    page.locator("#rule-actions > li").nth(0).get_by_role(
        "combobox", name=re.compile("^Priority")
    ).select_option(label="High")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(re.compile(r"/admin/rules$"))
    expect(page.locator(".rule-item .rule-when")).to_have_text(
        [
            "When a message is received",
            "When a customer has waited 15 minutes for a reply",
        ]
    )
    nudge = page.locator(".rule-item").nth(1)
    nudge.get_by_role("button", name=re.compile("^Up")).click()
    expect(page.locator(".rule-name")).to_have_text(["Nudge", "Billing routing"])
    page.locator(".rule-item").nth(0).get_by_role("button", name=re.compile("^Turn off")).click()
    expect(page.locator(".rule-item").nth(0).locator(".badge").first).to_have_text("Off")
    page.locator(".rule-item").nth(0).get_by_role("link", name=re.compile("^Delete")).click()
    expect(page.get_by_role("heading", name="Delete the rule Nudge?")).to_be_visible()
    page.get_by_role("button", name="Delete rule").click()
    expect(page.locator(".flashes")).to_contain_text("Deleted rule Nudge.")
    expect(page.locator(".rule-name")).to_have_text(["Billing routing"])

    # On a phone: the list, the editor and the run log fit.
    page.set_viewport_size(PHONE)
    for path, step in (("/admin/rules", "phone-list"), ("/admin/rules/runs", "phone-runs")):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
        snap(step)
    page.goto("/admin/rules")
    page.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator("#rule-actions > li")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    snap("phone-editor")


def test_a_rule_replies_out_of_hours_and_not_during_them(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    viewer = hub.viewer()
    app = hub.app
    # Open one hour a day, away from now: closed while the test runs.
    hour = 12 if utcnow().hour in (23, 0, 1) else 0
    away = HoursSpec("UTC", [[(f"{hour:02}:00", f"{hour + 1:02}:00")]] * 7)

    async def arrange_hours(spec: HoursSpec | None) -> None:
        async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
            if spec is None:
                await business_hours.delete_hours(work, viewer, None)
            else:
                await business_hours.save_hours(work, viewer, None, spec)

    async def closed_snippet() -> None:
        async with app[appkeys.SESSIONS]() as db:
            await create_snippet(
                db,
                viewer,
                name="Closed",
                shortcut="closed",
                body="Thanks $contact.first_name, we are closed now and answer tomorrow.",
            )
            await db.commit()

    hub.run(arrange_hours(away))
    hub.run(closed_snippet())
    log_in(page, "owner@example.com")
    page.goto("/admin/rules/new")
    page.get_by_label("Name").fill("Out of hours")
    page.get_by_label("When").select_option(label="A message is received")
    add(page, "condition", "Business hours")
    condition = page.locator("#rule-conditions > li").nth(0)
    expect(condition.get_by_role("combobox", name=re.compile("^When"))).to_have_value("closed")
    add(page, "action", "Reply with a snippet")
    page.locator("#rule-actions > li").nth(0).get_by_role(
        "combobox", name=re.compile("^Snippet")
    ).select_option(label="Closed (/closed)")
    snap("editor")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url(re.compile(r"/admin/rules$"))
    expect(page.locator(".rule-item .rule-if")).to_have_text("If Outside business hours")

    # Closed now: the customer is answered at once.
    page.goto("/inbox")
    world.customer_writes("ada-lovelace", "Are you there?", name="Ada Lovelace")
    page.locator("#rows .row").filter(has_text="Ada Lovelace").locator(".row-link").click()
    log = page.get_by_role("log")
    expect(log).to_contain_text("Thanks Ada, we are closed now and answer tomorrow.")
    wait_for(lambda: len(world.replies()) == 1, "the service has the out-of-hours reply")
    snap("replied")

    # Open around the clock (no hours at all): the next customer gets no such reply.
    hub.run(arrange_hours(None))
    world.customer_writes("grace-hopper", "Hello?", name="Grace Hopper")
    expect(page.locator("#rows .row").filter(has_text="Grace Hopper")).to_have_count(1)
    wait_for(
        lambda: hub.count(RuleRun) == 1 and len(world.replies()) == 1,
        "one run only: the rule did not match during business hours",
    )
    page.set_viewport_size(PHONE)
    page.goto("/admin/rules")
    snap("phone-list")
