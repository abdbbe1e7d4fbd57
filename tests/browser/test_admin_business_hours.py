"""Business hours in a real browser: an owner sets the workspace hours with a holiday and
a team's own; an agent sets their availability schedule on /me; at desktop width and at
a phone's (390 px)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from hub import appkeys
from hub.events.work import unit_of_work
from hub.inbox import availability, business_hours
from hub.store.models import Team, User
from tests.browser.conftest import log_in
from tests.browser.harness import LiveHub

FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.mark.parametrize("width", [1280, 390])
def test_an_owner_sets_business_hours_and_a_holiday(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None], width: int
) -> None:
    page = owner_page
    page.set_viewport_size({"width": width, "height": 900})

    async def add_team(db: AsyncSession) -> int:
        team = Team(name="Night shift")
        db.add(team)
        await db.commit()
        return team.id

    team_id = hub.query(add_team)
    page.goto("/admin/business-hours")
    expect(page.get_by_role("heading", level=1, name="Business hours")).to_be_visible()
    expect(page.get_by_text("No business hours set")).to_be_visible()
    page.get_by_role("link", name="Set business hours").click()

    page.get_by_label("Time zone").select_option("Europe/Berlin")
    # The editor starts at nine to five on weekdays: give Friday a lunch break, open
    # Saturday morning, and make a mistake on Wednesday first.
    page.locator("#wednesday_closes_0").fill("08:00")
    page.locator("#wednesday_opens_1").fill("07:00")
    page.locator("#wednesday_closes_1").fill("10:00")
    page.locator("#friday_closes_0").fill("12:00")
    page.locator("#friday_opens_1").fill("13:00")
    page.locator("#friday_closes_1").fill("17:00")
    page.get_by_label("Saturday: open").check()
    page.locator("#saturday_opens_0").fill("10:00")
    page.locator("#saturday_closes_0").fill("14:00")
    page.get_by_label("Add a holiday").fill("2026-12-25")
    page.get_by_label("Its name (optional)").fill("Christmas Day")
    page.get_by_role("button", name="Save business hours").click()

    # Wednesday's 09:00-08:00 runs overnight into 07:00-10:00: refused beside the day.
    expect(page.locator("#week\\.wednesday-error")).to_contain_text("overlap")
    expect(page.locator("#saturday_opens_0")).to_have_value("10:00")  # the input is kept
    assert page.evaluate(FITS), "the editor with an error is wider than the screen"
    snap("error")
    page.locator("#wednesday_closes_0").fill("17:00")
    page.locator("#wednesday_opens_1").fill("")
    page.locator("#wednesday_closes_1").fill("")
    page.get_by_role("button", name="Save business hours").click()

    expect(page.get_by_text("The workspace's business hours are saved.")).to_be_visible()
    expect(page.get_by_text("Christmas Day")).to_be_visible()
    expect(page.get_by_text("09:00\u201312:00, 13:00\u201317:00")).to_be_visible()
    assert page.evaluate(FITS), "the overview is wider than the screen"
    snap("overview")

    async def stored(db: AsyncSession) -> tuple[str, list[list[list[str]]], list[dict[str, str]]]:
        row = await business_hours.get_hours(db, None)
        assert row is not None
        return row.time_zone, row.week, row.holidays

    zone, week, holidays = hub.query(stored)
    assert zone == "Europe/Berlin"
    assert week[4] == [["09:00", "12:00"], ["13:00", "17:00"]] and week[5] == [["10:00", "14:00"]]
    assert holidays == [{"date": "2026-12-25", "name": "Christmas Day"}]
    christmas_noon = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)

    async def open_at(db: AsyncSession) -> bool:
        return await business_hours.is_open(db, team_id, christmas_noon)

    assert not hub.query(open_at)  # the team follows the default, closed on the holiday

    # The team gets hours of its own, starting from a copy of the default.
    row = page.get_by_role("row").filter(has_text="Night shift")
    row.get_by_role("link", name="Set own hours").click()
    expect(page.get_by_text("Night shift follows the workspace default")).to_be_visible()
    expect(page.locator("#monday_opens_0")).to_have_value("09:00")
    page.locator("input[name=holiday_remove]").check()  # open on Christmas Day
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        page.locator(f"#{day}_opens_0").fill("22:00")
        page.locator(f"#{day}_closes_0").fill("06:00")
        page.locator(f"#{day}_opens_1").fill("")
        page.locator(f"#{day}_closes_1").fill("")
    page.get_by_label("Saturday: open").uncheck()
    assert page.evaluate(FITS), "the team's editor is wider than the screen"
    snap("team-editor")
    page.get_by_role("button", name="Save business hours").click()
    expect(page.get_by_text("Night shift's business hours are saved.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Night shift")).to_contain_text("Its own")
    late_friday = datetime(2026, 12, 25, 23, 0, tzinfo=UTC)  # 00:00 Saturday in Berlin

    async def team_open_late(db: AsyncSession) -> bool:
        return await business_hours.is_open(db, team_id, late_friday)

    assert hub.query(team_open_late)  # Friday night's shift, Christmas no longer a holiday
    snap("team")


@pytest.mark.parametrize("width", [1280, 390])
def test_an_agent_follows_a_weekly_schedule(
    page: Page, hub: LiveHub, snap: Callable[[str], None], width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    agent = hub.add_user("alex@example.com", role="agent", name="Alex Agent")
    log_in(page, "alex@example.com")
    page.goto("/me")
    page.get_by_role("link", name="a weekly schedule").click()
    expect(page.get_by_role("heading", level=1, name="Availability schedule")).to_be_visible()
    expect(page.get_by_text("No schedule")).to_be_visible()

    # Available all day on every day but today: saving makes Alex away at once.
    today = datetime.now(UTC).weekday()
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    page.get_by_label("Time zone").select_option("UTC")
    for index, day in enumerate(days):
        box = page.get_by_label(f"{day.capitalize()}: available")
        if index == today:
            box.uncheck()
            continue
        box.check()
        page.locator(f"#{day}_opens_0").fill("00:00")
        page.locator(f"#{day}_closes_0").fill("00:00")
    page.get_by_role("button", name="Save schedule").click()
    expect(page.get_by_text("Your schedule is saved")).to_be_visible()
    expect(page.locator(".badge", has_text="away")).to_be_visible()
    expect(page.get_by_text("Following your schedule: available from")).to_be_visible()
    assert page.evaluate(FITS), "the schedule page is wider than the screen"
    snap("schedule")

    async def state(db: AsyncSession) -> tuple[bool, object]:
        user = await db.get(User, agent.id)
        row = await availability.get_schedule(db, agent.id)
        assert user is not None and row is not None
        return user.available, row.override_until

    assert hub.query(state) == (False, None)

    # The profile's toggle wins until the next boundary (midnight), and says so.
    page.goto("/me")
    page.get_by_role("button", name="Mark me available").click()
    expect(page.get_by_text("You are available")).to_be_visible()
    expect(page.get_by_text("set by hand until")).to_be_visible()
    available, held_until = hub.query(state)
    assert available and held_until is not None
    assert page.evaluate(FITS), "the profile is wider than the screen"
    snap("profile")

    # In the inbox, the top bar's switch follows the schedule live: saving the schedule
    # again (as from another tab) drops the manual choice, and Alex is away at once.
    page.goto("/inbox")
    switch = page.get_by_role("switch")
    expect(switch).to_have_attribute("aria-checked", "true")
    week = [[] if i == today else [("00:00", "24:00")] for i in range(7)]

    async def save_again() -> None:
        app = hub.app
        async with unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS]) as work:
            await availability.save_schedule(
                work, agent.id, time_zone="UTC", week=week, enabled=True
            )

    expect(page.locator("body")).to_have_attribute("data-socket", "live")
    hub.run(save_again())
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(switch).to_contain_text("Away")
    snap("inbox-away")
