"""The agents' inbox meets the accessibility floor of the admin pages, at phone and
laptop width, with hostile names, texts and file names that must stay text.

Pages are discovered from the inbox itself: the sidebar's inboxes, the status tabs and
every conversation of the list, so a view added later is swept too.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from tests.browser.conftest import log_in
from tests.browser.inbox_world import InboxWorld
from tests.browser.test_accessibility import PAGE_PROBLEMS, XSS

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 800}


def arrange(world: InboxWorld, page: Page) -> None:
    """Customers named with markup writing markup; a reply with a hostile file name and
    an internal comment, sent through the API as the logged-in owner."""
    world.customer_writes("mallory", f"Hello {XSS}", name=XSS)
    world.customer_writes("ada-lovelace", "<script>window.__xss=2</script> plain")
    log_in(page, "owner@example.com")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(
        base_url=world.hub.url, cookies=cookies, headers={"X-CSRF-Token": csrf}, timeout=30
    ) as api:
        conversation = api.get("/api/v1/conversations", params={"view": "all"}).json()["items"][0]
        upload = api.post(
            "/api/v1/attachments",
            files={"file": (f"{XSS}.txt", b"hello", "text/plain")},
        )
        assert upload.status_code == 201, upload.text
        sent = api.post(
            f"/api/v1/conversations/{conversation['id']}/messages",
            json={"text": XSS, "attachments": [upload.json()["id"]]},
        )
        assert sent.status_code == 201, sent.text
        comment = api.post(
            f"/api/v1/conversations/{conversation['id']}/comments", json={"body": XSS}
        )
        assert comment.status_code == 201, comment.text


def inbox_paths(page: Page) -> list[str]:
    """The inbox's own links: sidebar inboxes, status tabs, conversations."""
    hrefs: list[str] = page.locator("#inbox-sidebar a, .tabs a, #rows .row-link").evaluate_all(
        "els => els.map(a => a.getAttribute('href'))"
    )
    return [h for h in hrefs if h and h.startswith("/inbox")]


def test_every_inbox_page_has_labels_one_h1_unique_ids_and_fits(
    page: Page, world: InboxWorld
) -> None:
    arrange(world, page)
    page.goto("/inbox")
    paths = list(dict.fromkeys(["/inbox", *inbox_paths(page)]))
    assert any("/inbox/conversations/" in p for p in paths), paths
    problems: dict[str, list[str]] = {}
    for size in (PHONE, LAPTOP):
        page.set_viewport_size(size)
        for path in paths:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            found: list[str] = page.evaluate(PAGE_PROBLEMS)
            if found:
                problems[f"{path} at {size['width']} px"] = found
    report = "\n".join(f"{where}: {'; '.join(found)}" for where, found in problems.items())
    assert not problems, f"{len(problems)} pages have problems:\n{report}"
