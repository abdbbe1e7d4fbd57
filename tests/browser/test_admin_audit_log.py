"""The audit log in a real browser: an owner's changes on the admin pages are listed
with who, from where and what changed; the filter narrows the list and the "Export CSV"
link downloads the same entries; the page fits a phone."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.harness import LiveHub


def test_see_filter_and_export_the_audit_log(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    page.goto("/admin/labels/new")
    page.get_by_label("Name").fill("VIP")
    page.get_by_role("button", name="Create label").click()
    page.get_by_role("link", name="Edit VIP").click()
    page.get_by_label("Name").fill("Key accounts")
    page.get_by_role("button", name="Save label").click()
    page.goto("/admin/teams/new")
    page.get_by_label("Team name").fill("Support")
    page.get_by_role("button", name="Create team").click()

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    newest = rows.first
    expect(newest).to_contain_text("Team created")
    expect(newest).to_contain_text("Olive Owner <owner@example.com>")
    expect(newest).to_contain_text("from 127.0.0.1")
    renamed = rows.nth(1)
    expect(renamed).to_contain_text("Label updated")
    expect(renamed).to_contain_text("Name: VIP → Key accounts")
    # The time is rewritten in the browser's zone; the UTC one stays in its datetime.
    expect(newest.locator("time")).not_to_contain_text("UTC")
    snap("desktop")

    page.get_by_label("What").select_option("label")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    expect(page.get_by_label("What")).to_have_value("label")
    export = page.get_by_role("link", name="Export CSV")
    href = export.get_attribute("href")
    assert href == "/api/v1/audit-log?target_type=label&format=csv"
    answer = page.request.get(href)
    assert answer.status == 200
    exported = list(csv.DictReader(io.StringIO(answer.text())))
    assert [row["action"] for row in exported] == ["label.updated", "label.created"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(rows).to_have_count(2)
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the audit log is wider than a phone"
    snap("phone")
    page.set_viewport_size({"width": 1280, "height": 900})
