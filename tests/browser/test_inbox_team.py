"""Two agents working the inbox at once, in two browsers: what one does shows in the
other's page live, and a page whose connection was cut catches up on everything that
happened meanwhile when it comes back, without a reload."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hub import appkeys
from tests.browser.conftest import log_in
from tests.browser.harness import wait_for
from tests.browser.inbox_world import InboxWorld


@pytest.fixture
def ben_page(browser: Browser, world: InboxWorld) -> Iterator[Page]:
    """A second browser, logged in as Ben, an agent who sees every conversation."""
    world.hub.add_user("ben@example.com", role="agent", name="Ben Agent")
    context = browser.new_context(base_url=world.hub.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, "ben@example.com")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on Ben's page: {errors}"


def test_two_agents_see_each_others_work_live(
    page: Page, ben_page: Page, world: InboxWorld, artifacts: Path, snap: Callable[[str], None]
) -> None:
    log_in(page, "owner@example.com")
    ben = ben_page
    ben.goto("/inbox?view=mine")

    # A customer writes: the row and the counts appear in both pages.
    world.customer_writes("ada-lovelace", "Is anyone there?")
    expect(page.locator("#rows")).to_contain_text("Is anyone there?")
    expect(page.locator('#inbox-sidebar a[data-view="unassigned"] .count')).to_have_text("1 open")
    expect(ben.locator('#inbox-sidebar a[data-view="unassigned"] .count')).to_have_text("1 open")
    expect(ben.locator('#inbox-sidebar a[data-view="mine"] .count')).to_have_text("0 open")

    # Olive assigns it to Ben: his Mine fills without a reload.
    page.locator("#rows .row-link", has_text="Ada Lovelace").click()
    page.get_by_role("toolbar").get_by_role("button", name="Assign").click()
    dialog = page.get_by_role("dialog", name="Assign the conversation")
    dialog.get_by_label("Assign to").select_option(label="Ben Agent")
    dialog.get_by_role("button", name="Assign", exact=True).click()
    expect(ben.locator('#inbox-sidebar a[data-view="mine"] .count')).to_have_text("1 open")
    expect(ben.locator("#rows")).to_contain_text("Ada Lovelace")

    # Ben answers (a double click sends once); Olive sees the reply in her open thread.
    ben.locator("#rows .row-link", has_text="Ada Lovelace").click()
    ben.get_by_role("textbox", name="Message").fill("Yes, Ben here. How can I help?")
    ben.get_by_role("button", name="Send").dblclick()
    expect(page.get_by_role("log")).to_contain_text("Yes, Ben here. How can I help?")
    wait_for(lambda: len(world.replies()) >= 1, "the service has Ben's reply")
    snap("olive")
    ben.screenshot(path=str(artifacts / "test_two_agents-ben.png"), full_page=True)
    assert [r["text"] for r in world.replies()] == ["Yes, Ben here. How can I help?"]


def test_a_cut_connection_catches_up_on_everything_it_missed(
    page: Page, ben_page: Page, world: InboxWorld, artifacts: Path, snap: Callable[[str], None]
) -> None:
    world.customer_writes("ada-lovelace", "First question")
    world.customer_writes("grace-hopper", "Second question")
    log_in(page, "owner@example.com")
    ben = ben_page
    ben.goto("/inbox?view=all")
    ben.locator("#rows .row-link", has_text="Ada Lovelace").click()
    expect(ben.get_by_role("log")).to_contain_text("First question")
    expect(ben.locator("body")).to_have_attribute("data-socket", "live")

    # Ben's connection drops (his network goes away; the hub sees the socket close).
    ben.context.set_offline(True)

    def cut() -> bool:
        # Again until it holds: the page can show "live" a moment before the hub has
        # listed the socket as open (its handshake is written first), and a busy hub may
        # not have listed it yet when the first close goes out.
        world.hub.run(_close_sockets(world))
        return ben.locator("body").get_attribute("data-socket") != "live"

    wait_for(cut, "Ben's page has lost its connection")
    expect(ben.get_by_role("status").filter(has_text="offline")).to_be_visible()

    # Meanwhile Olive works: a comment in Ada's conversation, Grace's conversation
    # closed, and a new customer writes in.
    page.goto("/inbox?view=all")
    page.locator("#rows .row-link", has_text="Ada Lovelace").click()
    expect(page.locator("#conversation-heading")).to_have_text("Ada Lovelace")
    page.get_by_role("radio", name="Internal comment").check()
    page.get_by_role("textbox", name="Message").fill("Ben, this one is a VIP")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log")).to_contain_text("Ben, this one is a VIP")
    page.locator("#rows .row-link", has_text="Grace Hopper").click()
    expect(page.locator("#conversation-heading")).to_have_text("Grace Hopper")
    page.get_by_role("toolbar").get_by_role("button", name="Close").click()
    page.get_by_role("dialog", name="Close the conversation").get_by_role(
        "button", name="Close conversation"
    ).click()
    expect(page.locator("#rows")).not_to_contain_text("Grace Hopper")
    world.customer_writes("linus-pauling", "Third question")
    # Nothing reached Ben while he was cut off.
    expect(ben.locator("#rows")).not_to_contain_text("Linus Pauling")
    snap("while-cut")

    # His network comes back: the page reconnects, replays what it missed, and shows
    # every change without a reload.
    ben.evaluate("window.notReloaded = true")
    ben.context.set_offline(False)
    expect(ben.locator("body")).to_have_attribute("data-socket", "live")
    expect(ben.locator("#socket-banner")).to_be_hidden()
    expect(ben.get_by_role("log")).to_contain_text("Ben, this one is a VIP")
    expect(ben.locator("#rows")).to_contain_text("Linus Pauling")
    expect(ben.locator("#rows")).not_to_contain_text("Grace Hopper")
    assert ben.evaluate("window.notReloaded") is True
    ben.screenshot(path=str(artifacts / "test_a_cut_connection-ben.png"), full_page=True)


async def _close_sockets(world: InboxWorld) -> None:
    # All at once: an offline page never answers the close, so each close waits out its
    # handshake timeout, and one at a time they could outlast the test's wait on a busy
    # machine (seen in CI).
    sockets = list(world.hub.app[appkeys.OPEN_SOCKETS])
    await asyncio.gather(*(s.close(code=1012, message=b"test: connection cut") for s in sockets))
