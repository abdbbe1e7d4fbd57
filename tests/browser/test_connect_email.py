"""The email channel's connect form in a real browser: the fields an admin fills in,
the advanced options folded away, and a server that cannot be reached told in words
above the form, nothing saved."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Channel
from tests.browser.harness import LiveHub


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_email_form_asks_for_the_servers_and_folds_the_rest(
    owner_page: Page, snap: Callable[[str], None]
) -> None:
    page = owner_page
    page.goto("/admin/channels/new")
    page.get_by_role("link", name=re.compile("^Email")).click()
    expect(page.get_by_role("heading", name="Step 1 of 3: name and credentials")).to_be_visible()
    for label in (
        "IMAP server",
        "IMAP username",
        "IMAP password",
        "SMTP server",
        "SMTP username",
        "SMTP password",
        "From address",
        "From name",
        "Sent folder",
    ):
        expect(page.get_by_label(label)).to_be_visible()
    expect(page.get_by_label("IMAP port")).to_have_value("993")
    expect(page.get_by_label("SMTP port")).to_have_value("587")
    security = page.get_by_label("IMAP security")
    expect(security.locator("option:checked")).to_have_text("TLS (encrypted from the start)")
    expect(page.get_by_text("need an app password")).to_be_visible()
    # The rarely changed options wait under "Advanced settings".
    expect(page.get_by_label("Folder to read")).to_be_hidden()
    snap("form")
    page.get_by_text("Advanced settings").click()
    expect(page.get_by_label("Folder to read")).to_have_value("INBOX")
    expect(page.get_by_label("Thread by subject within (hours)")).to_have_value("72")
    expect(page.get_by_label("Mark imported mail as read")).not_to_be_checked()
    snap("advanced")


def test_servers_that_cannot_be_reached_are_named_above_the_form(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    imap_port, smtp_port = closed_port(), closed_port()
    page = owner_page
    page.goto("/admin/channels/new/email")
    page.get_by_label("Channel name").fill("Support mail")
    page.get_by_label("IMAP server").fill("127.0.0.1")
    page.get_by_label("IMAP port").fill(str(imap_port))
    page.get_by_label("IMAP security").select_option("none")
    page.get_by_label("IMAP username").fill("support@acme.example.com")
    page.get_by_label("IMAP password").fill("app-password")
    page.get_by_label("SMTP server").fill("127.0.0.1")
    page.get_by_label("SMTP port").fill(str(smtp_port))
    page.get_by_label("SMTP security").select_option("none")
    page.get_by_label("From address").fill("support@acme.example.com")
    page.get_by_role("button", name="Connect").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("could not be reached")
    expect(alert).to_contain_text(
        f"IMAP server 127.0.0.1:{imap_port}: TCP connection failed: Connection refused"
    )
    expect(alert).to_contain_text(
        f"SMTP server 127.0.0.1:{smtp_port}: TCP connection failed: Connection refused"
    )
    expect(page.get_by_label("IMAP port")).to_have_value(str(imap_port))
    expect(page.get_by_label("IMAP password")).to_have_value("")  # typed again, for safety

    async def count(db: AsyncSession) -> int:
        return int(await db.scalar(select(func.count()).select_from(Channel)) or 0)

    assert hub.query(count) == 0
    snap("unreachable")
