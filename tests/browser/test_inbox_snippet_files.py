"""A snippet with a file, end to end: the owner adds a PNG on the snippet's admin page,
picks the snippet with "/" in a reply, and the channel's service receives the file once."""

from __future__ import annotations

import struct
import urllib.request
import zlib
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import wait_for
from tests.browser.inbox_world import InboxWorld
from tests.browser.test_inbox_composer import composer_text, open_first_conversation


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour, made here so that its bytes are known."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_a_snippets_file_is_sent_with_the_reply(
    page: Page, world: InboxWorld, snap: Callable[[str], None]
) -> None:
    logo = png(8, 8, (36, 87, 214))
    world.customer_writes("ada-lovelace", "Could you send me your logo?")
    log_in(page, "owner@example.com")

    page.goto(f"{world.hub.url}/admin/snippets/new")
    page.get_by_label("Name").fill("Logo")
    page.get_by_label("Shortcut").fill("logo")
    page.get_by_label("Text").fill("Here is our logo, $contact.first_name|there.")
    page.get_by_role("button", name="Create snippet").click()
    page.get_by_role("link", name="Logo", exact=True).click()
    page.get_by_label("Add a file").set_input_files(
        [{"name": "logo.png", "mimeType": "image/png", "buffer": logo}]
    )
    page.get_by_role("button", name="Upload file").click()
    expect(page.locator(".flashes")).to_contain_text("Added logo.png.")
    expect(page.locator("ul.snippet-files li")).to_have_count(1)
    expect(page.locator("ul.snippet-files li")).to_contain_text("logo.png")
    snap("admin")
    page.set_viewport_size({"width": 375, "height": 800})
    snap("admin-375")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"{world.hub.url}/inbox")
    open_first_conversation(page, "Ada Lovelace")
    composer_text(page).press_sequentially("/lo")
    options = page.get_by_role("listbox", name="Suggestions").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("/logo — Logo · 1 file")
    composer_text(page).press("Enter")
    expect(composer_text(page)).to_have_value("Here is our logo, Ada.")
    chip = page.get_by_role("list", name="Files to send").get_by_role("listitem")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text("logo.png")
    expect(chip).to_contain_text(f"{len(logo)} bytes")
    snap("composer")
    page.get_by_role("button", name="Send").click()

    wait_for(lambda: len(world.replies()) == 1, "the service has the reply")
    reply = world.replies()[0]
    assert reply["text"] == "Here is our logo, Ada."
    [sent] = reply["attachments"]
    assert (sent["filename"], sent["content_type"], sent["size"]) == (
        "logo.png",
        "image/png",
        len(logo),
    )
    with urllib.request.urlopen(sent["url"]) as response:  # the signed link the hub gave
        assert response.read() == logo
    expect(chip).to_have_count(0)
    page.set_viewport_size({"width": 375, "height": 800})
    snap("sent-375")
    assert len(world.replies()) == 1  # once, not once per chip or retry
