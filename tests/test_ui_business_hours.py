"""The business-hours admin pages, the availability schedule on /me and the channel's
out-of-hours reply on its routing page, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox import availability, business_hours
from hub.store.models import BusinessHours, Channel, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_form(csrf: str, zone: str = "Europe/Berlin", **days: tuple[str, str]) -> dict[str, str]:
    """A posted week editor: the days given open with one period."""
    form = {"csrf_token": csrf, "time_zone": zone}
    for day, (opens, closes) in days.items():
        form |= {f"{day}_open": "on", f"{day}_opens_0": opens, f"{day}_closes_0": closes}
    return form


def error_beside(html: str, element_id: str) -> str:
    match = re.search(rf'id="{re.escape(element_id)}-error">([^<]*)<', html)
    assert match, f"no error beside {element_id}"
    return match.group(1)


async def stored(
    db: async_sessionmaker[AsyncSession], team_id: int | None = None
) -> BusinessHours | None:
    async with db() as session:
        return await business_hours.get_hours(session, team_id)


async def test_setting_the_workspace_hours_with_holidays(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="owner")
    csrf = await log_in_page(client, "owner@example.com")
    overview = await (await client.get("/admin/business-hours", headers=HTML)).text()
    assert "always open" in overview and "Set business hours" in overview
    editor = await (await client.get("/admin/business-hours/workspace", headers=HTML)).text()
    assert '<option value="Europe/Berlin"' in editor and 'id="monday_opens_0"' in editor
    # Nine to five on weekdays, a lunch break on Friday, midnight closing on Saturday.
    form = week_form(csrf, **{d: ("09:00", "17:00") for d in DAYS[:4]}, saturday=("18:00", "00:00"))
    form |= {
        "friday_open": "on",
        "friday_opens_0": "09:00",
        "friday_closes_0": "12:00",
        "friday_opens_1": "13:00",
        "friday_closes_1": "16:00",
        "new_holiday_date": "2026-12-25",
        "new_holiday_name": "Christmas",
    }
    saved = await client.post("/admin/business-hours/workspace", data=form, allow_redirects=False)
    assert saved.status == 303, await saved.text()
    row = await stored(db)
    assert row is not None and row.time_zone == "Europe/Berlin"
    assert row.week[4] == [["09:00", "12:00"], ["13:00", "16:00"]]
    assert row.week[5] == [["18:00", "24:00"]] and row.week[6] == []
    assert row.holidays == [{"date": "2026-12-25", "name": "Christmas"}]
    overview = await (await client.get("/admin/business-hours", headers=HTML)).text()
    assert "are saved" in overview and "Christmas" in overview and "09:00\u201317:00" in overview
    # The editor shows it again; midnight as 00:00. Add a second holiday, remove the first.
    editor = await (await client.get("/admin/business-hours/workspace", headers=HTML)).text()
    assert 'name="saturday_closes_0" value="00:00"' in editor
    assert 'value="2026-12-25|Christmas"' in editor
    again = form | {
        "holiday": "2026-12-25|Christmas",
        "holiday_remove": "2026-12-25",
        "new_holiday_date": "2026-12-31",
        "new_holiday_name": "",
    }
    await client.post("/admin/business-hours/workspace", data=again)
    row = await stored(db)
    assert row is not None and row.holidays == [{"date": "2026-12-31", "name": ""}]
    confirm = await (
        await client.get("/admin/business-hours/workspace/remove", headers=HTML)
    ).text()
    assert "Remove the workspace&#39;s business hours?" in confirm and "always open" in confirm
    removed = await client.post(
        "/admin/business-hours/workspace/remove", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert removed.status == 303 and await stored(db) is None


async def test_mistakes_are_shown_beside_the_day_and_nothing_is_saved(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="owner")
    csrf = await log_in_page(client, "owner@example.com")
    overlap = week_form(csrf, monday=("09:00", "13:00")) | {
        "monday_opens_1": "12:00",
        "monday_closes_1": "17:00",
    }
    response = await client.post("/admin/business-hours/workspace", data=overlap)
    html = await response.text()
    assert response.status == 422
    assert "overlap" in error_beside(html, "week.monday")
    assert 'href="#week.monday"' in html
    assert 'name="monday_opens_1" value="12:00"' in html  # the input is kept
    half = week_form(csrf) | {"tuesday_open": "on", "tuesday_opens_0": "09:00"}
    html = await (await client.post("/admin/business-hours/workspace", data=half)).text()
    assert "both the opening and closing" in error_beside(html, "week.tuesday")
    nothing = await client.post("/admin/business-hours/workspace", data=week_form(csrf))
    assert nothing.status == 422 and "at least one period" in error_beside(
        await nothing.text(), "week"
    )
    bad_zone = week_form(csrf, "Atlantis/Capital", monday=("09:00", "17:00"))
    html = await (await client.post("/admin/business-hours/workspace", data=bad_zone)).text()
    assert "IANA" in error_beside(html, "time_zone")
    bad_day = week_form(csrf, monday=("09:00", "17:00")) | {"new_holiday_date": "soon"}
    html = await (await client.post("/admin/business-hours/workspace", data=bad_day)).text()
    assert "date" in error_beside(html, "new_holiday_date")
    assert await stored(db) is None


async def test_a_teams_own_hours_start_from_the_default(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="manager")
    csrf = await log_in_page(client, "owner@example.com")
    team = await factory.team("Night <owls>")
    await client.post(
        "/admin/business-hours/workspace", data=week_form(csrf, "UTC", monday=("08:00", "16:00"))
    )
    editor = await (await client.get(f"/admin/business-hours/teams/{team.id}", headers=HTML)).text()
    assert "Night &lt;owls&gt; follows the workspace default" in editor
    assert 'name="monday_opens_0" value="08:00"' in editor  # a copy of the default
    nights = week_form(csrf, "UTC", **{d: ("22:00", "06:00") for d in DAYS[:5]})
    saved = await client.post(
        f"/admin/business-hours/teams/{team.id}", data=nights, allow_redirects=False
    )
    assert saved.status == 303
    row = await stored(db, team.id)
    assert row is not None and row.week[0] == [["22:00", "06:00"]]
    overview = await (await client.get("/admin/business-hours", headers=HTML)).text()
    assert "Its own, in UTC" in overview
    assert (await client.get("/admin/business-hours/teams/999999", headers=HTML)).status == 404
    confirm = await client.get(f"/admin/business-hours/teams/{team.id}/remove", headers=HTML)
    assert "follow the workspace" in await confirm.text()
    await client.post(f"/admin/business-hours/teams/{team.id}/remove", data={"csrf_token": csrf})
    gone = await client.get(f"/admin/business-hours/teams/{team.id}/remove", headers=HTML)
    assert gone.status == 404
    assert await stored(db, team.id) is None


async def test_agents_cannot_open_the_admin_pages(client: Client, make_user: MakeUser) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    response = await client.get("/admin/business-hours", headers=HTML, allow_redirects=False)
    assert response.status == 403


async def test_an_agent_sets_their_schedule_on_me(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    agent = await make_user("agent@example.com")
    csrf = await log_in_page(client, "agent@example.com")
    page = await (await client.get("/me/schedule", headers=HTML)).text()
    assert "No schedule" in page and 'id="enabled"' in page
    # Available all day every day but today: away at once. In the editor a whole day is
    # 00:00 to 00:00 (closing at midnight), stored as 00:00-24:00.
    today = datetime.now(UTC).weekday()
    days = {d: ("00:00", "00:00") for i, d in enumerate(DAYS) if i != today}
    form = week_form(csrf, "UTC", **days) | {"enabled": "on"}
    saved = await client.post("/me/schedule", data=form, allow_redirects=False)
    assert saved.status == 303, await saved.text()
    async with db() as session:
        row = await availability.get_schedule(session, agent.id)
        user = await session.get(User, agent.id)
    assert row is not None and row.enabled and row.week[(today + 1) % 7] == [["00:00", "24:00"]]
    assert user is not None and not user.available
    page = await (await client.get("/me/schedule", headers=HTML)).text()
    assert "Following your schedule" in page and "available from" in page
    # The toggle on the profile holds until the next boundary, and both pages say so.
    await client.post("/me/availability", data={"csrf_token": csrf, "available": "true"})
    profile = await (await client.get("/me", headers=HTML)).text()
    assert "set by hand until" in profile
    page = await (await client.get("/me/schedule", headers=HTML)).text()
    assert "Set by hand until" in page
    bad = await client.post("/me/schedule", data=week_form(csrf, "UTC") | {"enabled": "on"})
    assert bad.status == 422 and "remove the schedule" in error_beside(await bad.text(), "week")
    confirm = await (await client.get("/me/schedule/remove", headers=HTML)).text()
    assert "Remove your availability schedule?" in confirm
    await client.post("/me/schedule/remove", data={"csrf_token": csrf})
    async with db() as session:
        assert await availability.get_schedule(session, agent.id) is None


async def test_the_out_of_hours_reply_on_the_routing_page(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="owner")
    csrf = await log_in_page(client, "owner@example.com")
    channel = await factory.channel(name="Help desk")
    url = f"/admin/channels/{channel.id}/routing"
    base = {"csrf_token": csrf, "mode": "unassigned", "closed_conversation": "reopen"}
    empty = await client.post(
        url, data=base | {"out_of_hours_reply": "on", "out_of_hours_text": " "}
    )
    assert empty.status == 422
    assert "Write the reply" in error_beside(await empty.text(), "out_of_hours_text")
    text = "Closed now <3, back at 9."
    saved = await client.post(
        url,
        data=base | {"out_of_hours_reply": "on", "out_of_hours_text": text},
        allow_redirects=False,
    )
    assert saved.status == 303
    async with db() as session:
        row = await session.scalar(select(Channel).where(Channel.id == channel.id))
    assert row is not None
    assert (row.settings["out_of_hours_reply"], row.settings["out_of_hours_text"]) == (True, text)
    page = await (await client.get(url, headers=HTML)).text()
    assert "Closed now &lt;3, back at 9." in page
    shown = await (await client.get(f"/admin/channels/{channel.id}", headers=HTML)).text()
    assert "Answers with the out-of-hours reply" in shown
    assert re.search(r'<input[^>]*id="out_of_hours_reply"[^>]*checked', page)


async def test_a_day_with_more_periods_than_the_editor_shows_keeps_them(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("owner@example.com", role="owner")
    csrf = await log_in_page(client, "owner@example.com")
    three = [["08:00", "10:00"], ["11:00", "12:00"], ["14:00", "18:00"]]
    async with db() as session:
        session.add(
            BusinessHours(scope="workspace", time_zone="UTC", week=[three] + [[]] * 6, holidays=[])
        )
        await session.commit()
    editor = await (await client.get("/admin/business-hours/workspace", headers=HTML)).text()
    assert 'name="monday_opens_2" value="14:00"' in editor
    assert 'name="tuesday_opens_2"' not in editor  # two slots on an ordinary day
    form = week_form(csrf, "UTC") | {"monday_open": "on"}
    for index, (opens, closes) in enumerate(three):
        form |= {f"monday_opens_{index}": opens, f"monday_closes_{index}": closes}
    assert (
        await client.post("/admin/business-hours/workspace", data=form, allow_redirects=False)
    ).status == 303
    row = await stored(db)
    assert row is not None and row.week[0] == three
