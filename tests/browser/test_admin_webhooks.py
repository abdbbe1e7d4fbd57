"""Outgoing webhooks in a real browser: an owner subscribes a local receiver to new
messages, copies the secret shown once, a contact's message arrives, its delivery shows
in the log with the receiver's answer, and the owner redelivers it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from hub.channels.webhook_subscriptions import sign
from tests.browser.fake_service import FakeService
from tests.browser.harness import BackgroundLoop, LiveHub, serve, wait_for


@pytest.fixture
def hub_overrides() -> dict[str, Any]:
    """Retries in seconds rather than minutes, so the test sees one."""
    return {"webhook_poll_seconds": 0.1, "webhook_backoff_seconds": 0.5}


@pytest.fixture
def receiver(background_loop: BackgroundLoop) -> Iterator[tuple[FakeService, str]]:
    """A real HTTP receiver on 127.0.0.1 and its URL."""
    fake = FakeService()
    server = serve(background_loop, fake.app())
    yield fake, f"{server.url}/hub-events"
    server.stop()


def logged_answer(page: Page, code: str, event: str = "message.created") -> Callable[[], bool]:
    """A check for wait_for: the delivery log, read again, shows the ``event`` delivery's
    last answer as ``code``."""

    def check() -> bool:
        page.reload()
        row = page.locator(".deliveries-table tbody tr").filter(has_text=event)
        return row.count() == 1 and row.locator(".response-code").inner_text() == code

    return check


def test_subscribe_receive_see_the_log_and_redeliver(
    owner_page: Page,
    hub: LiveHub,
    receiver: tuple[FakeService, str],
    snap: Callable[[str], None],
) -> None:
    page = owner_page
    fake, url = receiver
    saved = hub.add_channel("custom_channel", "Acme app chat", {"outbound_url": url})
    assert saved.config is not None

    page.goto("/admin")
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    page.get_by_role("link", name="New webhook").click()
    page.get_by_label("URL").fill(url)
    page.get_by_label("Description (optional)").fill("Data warehouse")
    expect(page.get_by_label("message.created")).to_be_checked()
    page.get_by_label("conversation.created").check()
    # A local receiver: refused until private addresses are allowed.
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#url-error")).to_contain_text("private")
    snap("refused")
    page.get_by_label("Allow private addresses").check()
    page.get_by_role("button", name="Create webhook").click()

    expect(page.get_by_role("heading", name="The webhook's signing secret")).to_be_visible()
    secret = page.get_by_role("textbox", name="Signing secret").input_value()
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Copy Signing secret").click()
    snap("secret")
    page.reload()
    expect(page.get_by_text("The secret is no longer shown")).to_be_visible()

    response = hub.post_event(
        saved.channel.id,
        str(saved.config["signing_secret"]),
        {
            "type": "message",
            "id": "m-1",
            "timestamp": "2026-05-01T12:00:00Z",
            "sender": {"id": "u-42", "name": "Ada Lovelace"},
            "text": "Where is my order?",
        },
    )
    assert response.status_code == 200
    wait_for(lambda: len(fake.requests) == 2, "the two events delivered")
    types = sorted(r.body["type"] for r in fake.requests)
    assert types == ["conversation.created", "message.created"]
    first = fake.requests[0]
    ts = int(first.headers["X-Hub-Timestamp"])
    body = json.dumps(first.body, separators=(",", ":")).encode()
    assert first.headers["X-Hub-Signature-256"] == sign(secret, body, ts)["X-Hub-Signature-256"]

    page.goto("/admin/webhooks")
    page.get_by_role("link", name="Deliveries").click()
    rows = page.locator(".deliveries-table tbody tr")
    # The receiver has the request a moment before the worker writes down its answer.
    wait_for(logged_answer(page, "200"), "the delivery's answer logged")
    expect(rows).to_have_count(2)
    message_row = rows.filter(has_text="message.created")
    expect(message_row).to_contain_text("delivered")

    # The receiver breaks; a redelivery fails, is retried, and goes through once it is back.
    fake.status = 500
    message_row.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("is being sent again")).to_be_visible()
    wait_for(lambda: len(fake.requests) >= 3, "the redelivery attempted")
    wait_for(logged_answer(page, "500"), "the failed redelivery logged")
    message_row = page.locator(".deliveries-table tbody tr").filter(has_text="message.created")
    expect(message_row).to_contain_text("pending")
    expect(message_row).to_contain_text("Next try")
    snap("retrying")
    fake.status = 200
    wait_for(logged_answer(page, "200"), "the retry's answer logged")
    message_row = page.locator(".deliveries-table tbody tr").filter(has_text="message.created")
    expect(message_row).to_contain_text("delivered")
    # Every attempt (however many failed while the receiver was down) carried the same
    # event id, so a receiver keeps exactly one.
    attempts = [r.body["id"] for r in fake.requests if r.body["type"] == "message.created"]
    assert len(attempts) >= 3 and len(set(attempts)) == 1
    snap("log")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".deliveries-table")).to_be_visible()
    snap("log-phone")
    page.goto("/admin/webhooks")
    snap("list-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # The webhook's page sends a test event, which the log then shows delivered.
    page.get_by_role("link", name="Edit").first.click()
    page.get_by_role("button", name="Send a test event").click()
    expect(page.get_by_text("Sent a test event.")).to_be_visible()
    wait_for(
        lambda: any(r.body["type"] == "webhook.test" for r in fake.requests),
        "the test event delivered",
    )
    wait_for(logged_answer(page, "200", "webhook.test"), "the test event's answer logged")

    page.goto("/admin/webhooks")
    page.get_by_role("link", name="Delete").first.click()
    expect(page.get_by_role("heading", name="Delete this webhook?")).to_be_visible()
    page.get_by_role("button", name="Delete webhook").click()
    expect(page.get_by_text("Deleted the webhook.")).to_be_visible()
    expect(page.get_by_text("No webhooks yet")).to_be_visible()
