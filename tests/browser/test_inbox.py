"""The agents' inbox in the browser: the list, opening a conversation, replying, and
what arrives meanwhile showing up live."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import wait_for
from tests.browser.inbox_world import InboxWorld


def test_an_agent_reads_and_answers_a_conversation_while_another_arrives(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "Hello, my order #1042 has not arrived")
    log_in(page, "owner@example.com")
    expect(page).to_have_url(re.compile(r"/inbox$"))

    rows = page.get_by_role("list", name="All")
    expect(rows.get_by_role("listitem")).to_have_count(1)
    expect(rows).to_contain_text("Ada Lovelace")
    expect(rows).to_contain_text("my order #1042")
    snap("list")

    rows.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=2)).to_be_visible()
    thread = page.get_by_role("log")
    expect(thread).to_contain_text("Hello, my order #1042 has not arrived")

    page.get_by_role("textbox", name="Message").fill("Sorry about that, Ada: it ships today.")
    page.get_by_role("button", name="Send").click()
    expect(thread).to_contain_text("Sorry about that, Ada: it ships today.")
    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    assert world.replies()[0]["text"] == "Sorry about that, Ada: it ships today."

    # Another customer writes while the page is open: a new row, no reload.
    world.customer_writes("grace-hopper", "Do you ship to Lisbon?")
    expect(rows.get_by_role("listitem")).to_have_count(2)
    expect(rows.get_by_role("listitem").first).to_contain_text("Grace Hopper")
    # And Ada answers in the open conversation.
    world.customer_writes("ada-lovelace", "Thank you!")
    expect(thread).to_contain_text("Thank you!")
    snap("live")
