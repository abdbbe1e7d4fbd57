"""SLA in the browser: an admin creates a policy on /admin/sla and puts it on a
conversation from the command bar, which shows its due time in the header; when the due time passes, the SLA job marks the breach
and the open inbox shows it live, without a reload: the row's badge, the header, the
timeline, the "SLA at risk" view's count and the bell; desktop and phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Conversation
from hub.store.types import utcnow
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.browser.inbox_world import InboxWorld


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """The SLA job runs every 0.3 s: a breach shows within a moment."""
    return {"sla_check_seconds": 0.3}


def _move_due_time(hub: LiveHub, conversation_id: int, minutes_ago: int) -> None:
    """Move the first reply's due time into the past, behind the hub's back."""

    async def move(db: AsyncSession) -> None:
        await db.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(first_response_due_at=utcnow() - timedelta(minutes=minutes_ago))
        )
        await db.commit()

    hub.query(move)


def test_an_sla_breach_appears_live(
    page: Page, world: InboxWorld, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "My invoice is wrong")
    world.customer_writes("grace-hopper", "Where is my parcel?")
    log_in(page, "owner@example.com")

    # The admin creates a policy.
    page.goto("/admin/sla/new")
    page.get_by_label("Name").fill("Gold")
    page.get_by_label("First reply within").fill("45")
    page.get_by_label("Resolved within").fill("1440")
    page.get_by_role("button", name="Create SLA policy").click()
    expect(page.locator(".flashes")).to_contain_text("Created SLA policy Gold.")
    table = page.get_by_role("table", name="SLA policies, by name")
    expect(table.get_by_role("row", name=re.compile("Gold"))).to_contain_text("45 min")
    expect(table.get_by_role("row", name=re.compile("Gold"))).to_contain_text("1 day")
    snap("admin-sla")
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Gold", exact=True).click()
    expect(page.get_by_label("First reply within")).to_have_value("45")
    snap("admin-sla-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/inbox")
    rows = page.locator("#rows .row")
    expect(rows).to_have_count(2)
    ada_row = rows.filter(has_text="Ada Lovelace")
    ada_id = int(ada_row.get_attribute("data-conversation-id") or 0)
    ada_row.locator(".row-link").click()
    expect(page.locator("#conversation-heading")).to_have_text("Ada Lovelace")
    # The sidebar shows the view once a policy exists (after the page's next redraw).
    sla_view = page.locator('#inbox-sidebar a[data-view="sla"]')

    # The agent applies the policy from the command bar (macros and rules can too).
    page.locator("body").press("Escape")
    page.keyboard.press("Control+k")
    bar = page.get_by_role("dialog", name="Command bar")
    expect(bar).to_be_visible()
    page.keyboard.type("apply sla gold")
    expect(bar.get_by_role("option").first).to_contain_text("Apply SLA policy Gold")
    page.keyboard.press("Enter")
    head = page.locator("#pane-head")
    expect(head.locator(".pane-sla")).to_contain_text(re.compile(r"First reply due in (44|45) min"))
    expect(head.locator(".pane-sla")).to_contain_text("Resolution due in 24 h")
    expect(ada_row.locator(".sla-tag")).to_have_count(0)  # not due soon: no badge
    expect(page.get_by_role("log")).to_contain_text("Olive Owner applied SLA policy Gold")
    expect(sla_view).to_contain_text("0")

    # Nothing reloads from here on: a marker on the window would be gone.
    page.evaluate("window.__stillHere = true")

    # The due time passes; the job marks the breach and every open inbox shows it.
    _move_due_time(hub, ada_id, minutes_ago=5)
    expect(ada_row.locator(".sla-tag")).to_have_text(re.compile("SLA breached"))
    expect(head.locator(".sla-breached")).to_have_text("First reply breached 5 min ago")
    expect(page.get_by_role("log")).to_contain_text("SLA breached: first reply was due")
    expect(sla_view.locator("[data-count]")).to_have_text(re.compile(r"^1"))
    expect(page.locator("[data-bell-count]")).to_have_text(re.compile(r"^1"))
    assert page.evaluate("window.__stillHere") is True
    snap("breached")

    # The "SLA at risk" view lists it, and only it.
    sla_view.click()
    page.wait_for_url(re.compile(r"view=sla"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Lovelace")

    # On a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    expect(rows.first.locator(".sla-tag")).to_be_visible()
    snap("phone-list")
    rows.first.locator(".row-link").click()
    expect(head.locator(".sla-breached")).to_be_visible()
    snap("phone-conversation")

    # The late reply: the first reply is missed (red), the badge goes, the view empties.
    page.locator("#composer textarea").first.fill("Sorry for the wait, here it is.")
    page.get_by_role("button", name="Send").click()
    expect(head.locator(".sla-missed")).to_have_text("First reply missed")
    expect(head.locator(".sla-running")).to_contain_text("Resolution due in 24 h")
    expect(page.locator(f"#row-{ada_id} .sla-tag")).to_have_count(0)
    snap("phone-replied")
