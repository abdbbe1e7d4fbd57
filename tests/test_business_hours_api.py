"""Business hours over HTTP and through hub.inbox.business_hours, on both engines: the
workspace default, a team's own hours, the fallback between them, checks and rights."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.inbox import business_hours
from hub.store.models import User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
ROOT = "/api/v1/business-hours"
WORKSPACE = f"{ROOT}/workspace"
NINE_TO_FIVE = [{"opens": "09:00", "closes": "17:00"}]
WEEKDAYS = {day: NINE_TO_FIVE for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def body(zone: str = "Europe/Berlin", **extra: Any) -> dict[str, Any]:
    return {"time_zone": zone, "week": WEEKDAYS, **extra}


async def error_of(response: Any) -> tuple[int, str]:
    data = await response.json()
    details = data["error"].get("details") or [{"field": ""}]
    return response.status, details[0]["field"]


async def test_without_hours_it_is_always_open(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, agent = await user_token("agent@example.com")
    assert (await (await client.get(ROOT, headers=agent)).json())["items"] == []
    assert (await client.get(WORKSPACE, headers=agent)).status == 404
    status = await (await client.get(f"{ROOT}/status", headers=agent)).json()
    assert status == {"open": True, "applies": "always_open", "next_change": None}
    sunday_night = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    async with db() as session:
        assert await business_hours.is_open(session, None, sunday_night)
        assert await business_hours.add_open_minutes(session, None, sunday_night, 90) == datetime(
            2026, 12, 7, 0, 30, tzinfo=UTC
        )


async def test_admins_set_the_workspace_default_and_agents_read_it(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    _, agent = await user_token("agent@example.com")
    holidays = [{"date": "2026-12-25", "name": " Christmas "}, {"date": "2026-12-24"}]
    assert (await client.put(WORKSPACE, json=body(), headers=agent)).status == 403
    response = await client.put(WORKSPACE, json=body(holidays=holidays), headers=admin)
    assert response.status == 200, await response.text()
    saved = await response.json()
    assert saved["team_id"] is None
    assert saved["time_zone"] == "Europe/Berlin"
    assert saved["week"]["monday"] == NINE_TO_FIVE
    assert saved["week"]["saturday"] == []
    # Sorted by date, names trimmed.
    assert saved["holidays"] == [
        {"date": "2026-12-24", "name": ""},
        {"date": "2026-12-25", "name": "Christmas"},
    ]
    assert isinstance(saved["open_now"], bool) and saved["next_change"] is not None
    read = await (await client.get(WORKSPACE, headers=agent)).json()
    assert read["holidays"] == saved["holidays"]
    async with db() as session:
        thursday = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
        assert await business_hours.is_open(session, None, thursday)
        assert not await business_hours.is_open(
            session, None, datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
        )
        assert not await business_hours.is_open(
            session, None, datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
        )
        # Thursday 17:00 UTC is 18:00 in Berlin: closed; an hour of open time from
        # then ends Friday 10:00 Berlin, 09:00 UTC.
        assert await business_hours.add_open_minutes(
            session, None, datetime(2026, 12, 3, 17, 0, tzinfo=UTC), 60
        ) == datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
    # Replacing keeps one row; deleting makes it always open again.
    again = await client.put(WORKSPACE, json=body("America/New_York"), headers=admin)
    assert (await again.json())["time_zone"] == "America/New_York"
    assert len((await (await client.get(ROOT, headers=agent)).json())["items"]) == 1
    assert (await client.delete(WORKSPACE, headers=agent)).status == 403
    assert (await client.delete(WORKSPACE, headers=admin)).status == 204
    assert (await client.delete(WORKSPACE, headers=admin)).status == 404
    assert (await client.get(WORKSPACE, headers=agent)).status == 404


async def test_a_team_uses_its_own_hours_else_the_default(
    client: Client, user_token: UserToken, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    _, agent = await user_token("agent@example.com")
    team = await factory.team("Night shift")
    other = await factory.team("Day shift")
    nights = {
        "time_zone": "UTC",
        "week": {day: [{"opens": "22:00", "closes": "06:00"}] for day in WEEKDAYS},
    }
    url = f"{ROOT}/teams/{team.id}"
    assert (await client.put(url, json=nights, headers=agent)).status == 403
    assert (await client.put(f"{ROOT}/teams/999999", json=nights, headers=admin)).status == 404
    assert (await client.put(url, json=nights, headers=admin)).status == 200
    assert (await client.put(WORKSPACE, json=body("UTC"), headers=admin)).status == 200
    listed = await (await client.get(ROOT, headers=agent)).json()
    assert [item["team_id"] for item in listed["items"]] == [None, team.id]
    tuesday_23 = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    tuesday_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    async with db() as session:
        assert await business_hours.is_open(session, team.id, tuesday_23)
        assert not await business_hours.is_open(session, team.id, tuesday_10)
        # The other team has none of its own: the workspace's nine to five.
        assert await business_hours.is_open(session, other.id, tuesday_10)
        assert not await business_hours.is_open(session, other.id, tuesday_23)
    status = await (
        await client.get(f"{ROOT}/status", params={"team_id": str(other.id)}, headers=agent)
    ).json()
    assert status["applies"] == "workspace"
    status = await (
        await client.get(f"{ROOT}/status", params={"team_id": str(team.id)}, headers=agent)
    ).json()
    assert status["applies"] == "team"
    missing = await client.get(f"{ROOT}/status", params={"team_id": "999999"}, headers=agent)
    assert missing.status == 404
    assert (await client.delete(url, headers=admin)).status == 204
    async with db() as session:
        assert not await business_hours.is_open(session, team.id, tuesday_23)


async def test_bad_schedules_are_refused_naming_the_field(
    client: Client, user_token: UserToken
) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    overlap = {
        "monday": [{"opens": "09:00", "closes": "13:00"}, {"opens": "12:00", "closes": "17:00"}]
    }
    cases = [
        (body("Mars/Olympus"), "time_zone"),
        ({"time_zone": "UTC", "week": overlap}, "week.monday"),
        (
            {"time_zone": "UTC", "week": {"friday": [{"opens": "09:00", "closes": "09:00"}]}},
            "week.friday",
        ),
        (
            {"time_zone": "UTC", "week": {"tuesday": [{"opens": "25:00", "closes": "26:00"}]}},
            "week.tuesday",
        ),
        (
            {"time_zone": "UTC", "week": {"monday": [{"opens": "9am", "closes": "5pm"}]}},
            "week.monday.0.opens",
        ),
        ({"time_zone": "UTC", "week": {}}, "week"),
        ({"time_zone": "UTC", "week": {"funday": []}}, "week.funday"),
        (body(holidays=[{"date": "2026-12-25"}, {"date": "2026-12-25"}]), "holidays"),
        (body(holidays=[{"date": "2026-02-30"}]), "holidays.0.date"),
    ]
    for payload, field in cases:
        response = await client.put(WORKSPACE, json=payload, headers=admin)
        assert await error_of(response) == (422, field), payload
    # An overnight period followed by another the same day overlaps too.
    late = {
        "saturday": [{"opens": "20:00", "closes": "02:00"}, {"opens": "22:00", "closes": "23:00"}]
    }
    response = await client.put(WORKSPACE, json={"time_zone": "UTC", "week": late}, headers=admin)
    assert await error_of(response) == (422, "week.saturday")
    assert (await client.get(WORKSPACE, headers=admin)).status == 404


async def test_saving_hours_is_announced(client: Client, user_token: UserToken) -> None:
    _, admin = await user_token("admin@example.com", role="manager")
    subscription = client.app[appkeys.BUS].subscribe()
    await client.put(WORKSPACE, json=body(), headers=admin)
    await client.delete(WORKSPACE, headers=admin)
    subscription.close()
    events = [e async for e in subscription if e.type == "business_hours.updated"]
    assert [e.data["change"] for e in events] == ["created", "deleted"]


async def test_time_zones_are_listed(client: Client, user_token: UserToken) -> None:
    _, agent = await user_token("agent@example.com")
    names = [
        z["name"]
        for z in (await (await client.get(f"{ROOT}/time-zones", headers=agent)).json())["items"]
    ]
    assert "Europe/Berlin" in names and "America/New_York" in names
    assert names == sorted(names)


async def test_deleting_a_team_deletes_its_hours(
    client: Client, user_token: UserToken, factory: Factory
) -> None:
    _, admin = await user_token("admin@example.com", role="owner")
    team = await factory.team("Gone soon")
    assert (await client.put(f"{ROOT}/teams/{team.id}", json=body(), headers=admin)).status == 200
    assert (await client.delete(f"/api/v1/teams/{team.id}", headers=admin)).status == 204
    assert (await (await client.get(ROOT, headers=admin)).json())["items"] == []
