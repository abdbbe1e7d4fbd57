"""The reports page in a real browser: an owner reads the overview's chart and totals,
the by-agent tab (chart and table), the heatmap, downloads a CSV, fixes a bad period,
filters by channel, and the page at a phone's width; an agent sees only their own
figures."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub
from tests.factories import Factory
from tests.test_reports import Timeline


@pytest.fixture
def seeded(hub: LiveHub, owner_page: Page) -> Page:
    """Two agents who answered conversations yesterday (UTC, the zone of a hub without
    business hours): Ana three web chats, Bo one WhatsApp; the owner's page."""
    ana = hub.add_user("ana@example.com", role="agent", name="Ana Agent")
    bo = hub.add_user("bo@example.com", role="agent", name="Bo Agent")
    channel = hub.add_channel("custom_channel", "Web chat", {"outbound_url": "http://127.0.0.1:9/"})
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    timeline = Timeline(Factory(hub.sessions), channel.channel.id, midnight - timedelta(days=1))
    for n in range(3):
        hub.run(
            timeline.write(
                ("assigned", 9 * 60, ana, None),
                ("in", 9 * 60 + n),
                ("out", 9 * 60 + 5 + n * 3, ana),
                ("closed", 10 * 60 + n * 20),
                opened=9 * 60,
            )
        )
    chat = hub.add_channel("custom_channel", "WhatsApp", {"outbound_url": "http://127.0.0.1:9/"})
    whatsapp = Timeline(timeline.factory, chat.channel.id, timeline.base)
    hub.run(
        whatsapp.write(
            ("assigned", 14 * 60, bo, None),
            ("in", 14 * 60),
            ("out", 15 * 60, bo),
            ("sla_breached", 14 * 60 + 30, "first_response"),
            opened=14 * 60,
        )
    )
    return owner_page


def figure(page: Page, name: str) -> Locator:
    """The value of one headline figure (``Opened``, ``Closed``…)."""
    term = page.locator("dt", has_text=re.compile(f"^{re.escape(name)}$"))
    return page.locator(".report-totals div").filter(has=term).locator("dd")


def test_an_owner_reads_every_tab_and_downloads_csv(
    seeded: Page, snap: Callable[[str], None]
) -> None:
    page = seeded
    page.goto("/")
    # From the inbox's account menu, as every user reaches it.
    page.get_by_label("Account menu for Olive Owner").click()
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(figure(page, "Opened")).to_have_text("4")
    expect(figure(page, "Closed")).to_have_text("3")
    expect(figure(page, "SLA breaches")).to_have_text("1")
    expect(page.locator("figure[data-chart][data-drawn=true] canvas")).to_be_visible()
    snap("overview")

    page.get_by_role("link", name="By agent").click()
    expect(page.get_by_role("link", name="By agent")).to_have_attribute("aria-current", "page")
    rows = page.locator(".report-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ana Agent")
    expect(rows.nth(0)).to_contain_text("7 min / 9 min")  # first responses 5, 7, 9
    expect(rows.nth(1)).to_contain_text("Bo Agent")
    expect(page.locator("figure[data-chart][data-drawn=true] canvas")).to_be_visible()
    snap("agents")

    csv = page.get_by_role("link", name="Download CSV")
    href = csv.get_attribute("href")
    assert href is not None and "/api/v1/reports/agents" in href and "format=csv" in href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "Ana Agent" in response.text()

    page.get_by_role("link", name="Heatmap").click()
    expect(page.locator("table.heatmap td.heat-4")).to_have_count(1)  # Ana's 09:00
    snap("heatmap")


def test_a_bad_period_is_explained(seeded: Page, snap: Callable[[str], None]) -> None:
    page = seeded
    page.goto("/reports")
    page.get_by_label("From").fill("2026-05-10")
    page.get_by_label("To").fill("2026-05-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be before")
    expect(page.get_by_label("To")).to_have_attribute("aria-invalid", "true")
    snap("error")


def test_a_filter_narrows_every_tab_until_cleared(
    seeded: Page, snap: Callable[[str], None]
) -> None:
    page = seeded
    page.goto("/reports?tab=agents")
    rows = page.locator(".report-table tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Channel").select_option(label="Web chat")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".report-filtered")).to_contain_text("Filtered: Channel Web chat")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Ana Agent")
    expect(page.get_by_label("Channel")).to_have_value(re.compile(r"^\d+$"))
    assert "channel_id=" in page.url
    csv = page.get_by_role("link", name="Download CSV").get_attribute("href")
    assert csv is not None and "channel_id=" in csv
    assert "Bo Agent" not in page.request.get(csv).text()
    snap("filtered")

    # Another tab keeps the filter: Bo's WhatsApp is not in the channels' table.
    page.get_by_role("link", name="By channel").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Web chat")
    page.reload()  # the URL alone holds the filter
    expect(rows).to_have_count(1)
    page.set_viewport_size({"width": 375, "height": 812})
    expect(page.locator("figure[data-chart][data-drawn=true] canvas")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width}px"
    snap("filtered-phone")

    page.get_by_role("link", name="Clear filters").click()
    expect(rows).to_have_count(2)
    expect(page.locator(".report-filtered")).to_have_count(0)
    expect(page.get_by_label("Channel")).to_have_value("")


def test_the_page_fits_a_phone(seeded: Page, snap: Callable[[str], None]) -> None:
    page = seeded
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/reports")
    expect(page.locator("figure[data-chart][data-drawn=true] canvas")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    snap("phone")
    page.goto("/reports?tab=agents")
    expect(page.locator("figure[data-chart][data-drawn=true] canvas")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snap("phone-agents")


def test_an_agent_sees_only_their_own(hub: LiveHub, seeded: Page, page: Page) -> None:
    page.context.clear_cookies()
    log_in(page, "bo@example.com")
    page.get_by_label("Account menu for Bo Agent").click()
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_text("Your own figures")).to_be_visible()
    expect(figure(page, "Opened")).to_have_text("1")
    page.get_by_role("link", name="By agent").click()
    expect(page.locator(".report-table tbody tr")).to_have_count(1)
    expect(page.locator(".report-table tbody tr")).to_contain_text("Bo Agent")
