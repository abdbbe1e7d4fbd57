"""CSAT in the browser: an admin turns the survey on, an agent closes a custom-channel
conversation in the inbox, the survey goes out to the service, the contact answers "4"
and the rating shows in the timeline and the header live; the public answer page an
email links, on a desktop and a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.csat import new_token
from hub.store.models import Conversation, CsatSurvey
from tests.browser.conftest import log_in
from tests.browser.harness import wait_for
from tests.browser.inbox_world import InboxWorld


def test_a_csat_answer_arriving_from_the_custom_channel(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "My parcel never came")
    log_in(page, "owner@example.com")

    # The admin turns the survey on.
    page.goto("/admin/csat")
    page.get_by_label("Ask for a rating after a conversation is closed").check()
    page.get_by_label("Question").fill("How did we do today?")
    page.get_by_role("button", name="Save survey").click()
    expect(page.locator(".flashes")).to_contain_text("Satisfaction survey saved.")
    snap("admin")

    # The agent closes the conversation.
    page.goto("/inbox")
    page.locator("#rows .row", has_text="Ada Lovelace").locator(".row-link").click()
    expect(page.locator("#conversation-heading")).to_have_text("Ada Lovelace")
    page.get_by_role("toolbar").get_by_role("button", name="Close").click()
    dialog = page.get_by_role("dialog", name="Close the conversation")
    dialog.get_by_role("button", name="Close conversation").click()
    expect(dialog).to_be_hidden()
    head = page.locator("#pane-head")
    expect(head).to_contain_text("closed")

    # The survey reaches the service, and the timeline says so, live.
    wait_for(
        lambda: any("How did we do today?" in (r or {}).get("text", "") for r in world.replies()),
        "the service has the survey",
    )
    survey = world.replies()[-1]
    assert survey["recipient"] == {"id": "ada-lovelace"}
    assert "Reply with a number from 1 to 5" in survey["text"]
    log = page.get_by_role("log")
    expect(log).to_contain_text("The hub asked the contact for a rating from 1 to 5")
    expect(log).to_contain_text("How did we do today?")
    expect(head).to_contain_text("CSAT asked")
    expect(page.locator("#contact-panel .contact-csat")).to_contain_text("no answer yet")

    # The contact answers 4: the rating shows without a reload, and the conversation
    # stays closed.
    world.customer_writes("ada-lovelace", "4")
    expect(log.locator(".csat-rating")).to_have_text("Customer rated 4/5")
    expect(head.locator(".csat-rating")).to_have_text("CSAT 4/5")
    expect(head).to_contain_text("closed")
    panel = page.locator("#contact-panel .contact-csat")
    expect(panel).to_contain_text("4/5 for this conversation")
    assert world.hub.count(Conversation, Conversation.status == "open") == 0
    assert world.hub.count(CsatSurvey, CsatSurvey.rating == 4) == 1
    snap("rated")

    page.set_viewport_size({"width": 390, "height": 844})
    log.locator(".csat-rating").scroll_into_view_if_needed()
    expect(log.locator(".csat-rating")).to_be_in_viewport()
    snap("phone-rated")

    # The admin page lists the rating.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/csat")
    expect(page.locator(".csat-latest")).to_contain_text("4/5")


def test_the_public_answer_page_on_a_desktop_and_a_phone(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("grace-hopper", "Can I change my address?")
    token = new_token()

    async def ask(db: AsyncSession) -> None:
        conversation = await db.scalar(select(Conversation))
        assert conversation is not None
        conversation.status = "closed"
        db.add(
            CsatSurvey(
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                channel_id=conversation.channel_id,
                status="sent",
                scale=5,
                token=token,
            )
        )
        await db.commit()

    world.hub.query(ask)
    page.goto(f"/csat/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "How would you rate the help you got from us?"
    )
    scale = page.get_by_role("group", name=re.compile("Your rating"))
    expect(scale.get_by_role("button")).to_have_count(5)
    snap("desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    # Every button fits the phone's width.
    for box in [b.bounding_box() for b in scale.get_by_role("button").all()]:
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    snap("phone")

    page.get_by_label(re.compile("Anything to add")).fill("Quick answer, thanks")
    scale.get_by_role("button", name=re.compile("4")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you!")
    expect(page.locator("main")).to_contain_text("4 out of 5")
    snap("phone-thanks")
    assert world.hub.count(CsatSurvey, CsatSurvey.rating == 4) == 1
    # The link works once.
    page.goto(f"/csat/{token}")
    expect(page.locator("main")).to_contain_text("answered already")
