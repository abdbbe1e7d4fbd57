"""Agents' availability schedules: availability follows the week, a manual toggle wins
until the next boundary, others hear the change; over HTTP and through the job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.bus import MemoryBus
from hub.events.work import unit_of_work
from hub.inbox import availability
from hub.inbox.jobs import follow_availability_schedules
from hub.store.models import User

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
SCHEDULE = "/api/v1/me/availability-schedule"
# Weekdays 09:00-17:00 in Berlin (UTC+1 in December).
WEEK = [[("09:00", "17:00")]] * 5 + [[], []]
THURSDAY_10 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 10:00 in Berlin
THURSDAY_17 = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # 17:00 in Berlin
THURSDAY_18 = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
FRIDAY_09 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # 09:00 in Berlin


async def available(db: async_sessionmaker[AsyncSession], user_id: int) -> bool:
    async with db() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user.available


async def save(db: async_sessionmaker[AsyncSession], user_id: int, at: datetime, **kw: Any) -> None:
    async with unit_of_work(db, MemoryBus()) as work:
        await availability.save_schedule(
            work,
            user_id,
            time_zone="Europe/Berlin",
            week=WEEK,
            enabled=kw.get("enabled", True),
            now=at,
        )


async def apply(db: async_sessionmaker[AsyncSession], at: datetime) -> list[int]:
    async with unit_of_work(db, MemoryBus()) as work:
        return await availability.apply_schedules(work, at)


async def by_hand(
    db: async_sessionmaker[AsyncSession], user_id: int, value: bool, at: datetime
) -> None:
    async with unit_of_work(db, MemoryBus()) as work:
        await availability.set_by_hand(work, user_id, value, at)


async def test_availability_follows_the_week(
    db: async_sessionmaker[AsyncSession], make_user: Callable[..., Awaitable[User]]
) -> None:
    agent = await make_user("agent@example.com")
    other = await make_user("other@example.com")  # no schedule: never touched
    await save(db, agent.id, THURSDAY_18)
    assert not await available(db, agent.id)  # saved after hours: away at once
    assert await apply(db, THURSDAY_18 + timedelta(hours=1)) == []
    assert await apply(db, FRIDAY_09) == [agent.id]
    assert await available(db, agent.id)
    assert await apply(db, FRIDAY_09 + timedelta(hours=8)) == [agent.id]  # 17:00 Berlin
    assert not await available(db, agent.id)
    assert await available(db, other.id)
    # Switched off: the schedule is kept but no longer followed.
    await save(db, agent.id, THURSDAY_18, enabled=False)
    assert await apply(db, FRIDAY_09) == []
    assert not await available(db, agent.id)


async def test_a_manual_toggle_holds_until_the_next_boundary(
    db: async_sessionmaker[AsyncSession], make_user: Callable[..., Awaitable[User]]
) -> None:
    agent = await make_user("agent@example.com")
    await save(db, agent.id, THURSDAY_10)
    assert await available(db, agent.id)
    # A break at 10:00: away by hand, which holds until the period ends at 17:00 Berlin.
    await by_hand(db, agent.id, False, THURSDAY_10)
    async with db() as session:
        row = await availability.get_schedule(session, agent.id)
        assert row is not None and row.override_until == THURSDAY_17
    assert await apply(db, THURSDAY_17 - timedelta(minutes=1)) == []
    assert not await available(db, agent.id)
    # At the boundary the schedule applies again (away, as it says after 17:00)...
    assert await apply(db, THURSDAY_17) == []
    async with db() as session:
        row = await availability.get_schedule(session, agent.id)
        assert row is not None and row.override_until is None
    # ...and available again on Friday morning.
    assert await apply(db, FRIDAY_09) == [agent.id]
    # Working late by hand: holds through the evening until Monday 09:00's start.
    await by_hand(db, agent.id, True, THURSDAY_18 + timedelta(days=1))
    assert await apply(db, THURSDAY_18 + timedelta(days=1, hours=4)) == []
    assert await available(db, agent.id)
    monday_09 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    assert await apply(db, monday_09 - timedelta(minutes=1)) == []
    assert await apply(db, monday_09) == []  # the schedule says available: no change
    async with db() as session:
        row = await availability.get_schedule(session, agent.id)
        assert row is not None and row.override_until is None
    # Toggling to what the schedule says anyway holds nothing.
    await by_hand(db, agent.id, True, monday_09)
    async with db() as session:
        row = await availability.get_schedule(session, agent.id)
        assert row is not None and row.override_until is None


async def test_the_schedule_over_http_and_the_job_tells_everyone(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    agent, auth = await user_token("agent@example.com")
    assert (await client.get(SCHEDULE, headers=auth)).status == 404
    # A week with no period at all is refused, and a bad zone.
    empty = await client.put(SCHEDULE, json={"time_zone": "UTC", "week": {}}, headers=auth)
    assert empty.status == 422
    bad_zone = await client.put(
        SCHEDULE,
        json={
            "time_zone": "Nowhere/Land",
            "week": {"monday": [{"opens": "09:00", "closes": "17:00"}]},
        },
        headers=auth,
    )
    assert bad_zone.status == 422
    # Available around the clock, every day but today (UTC): away now.
    today = datetime.now(UTC).weekday()
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    week = {
        day: [{"opens": "00:00", "closes": "24:00"}] for i, day in enumerate(days) if i != today
    }
    subscription = client.app[appkeys.BUS].subscribe()
    response = await client.put(SCHEDULE, json={"time_zone": "UTC", "week": week}, headers=auth)
    assert response.status == 200, await response.text()
    saved = await response.json()
    assert saved["enabled"] and not saved["scheduled_available"] and saved["override_until"] is None
    assert not await available(db, agent.id)
    # By hand: available now, until the schedule's next boundary (midnight).
    toggled = await client.put("/api/v1/me/availability", json={"available": True}, headers=auth)
    assert (await toggled.json())["available"] is True
    read = await (await client.get(SCHEDULE, headers=auth)).json()
    assert read["override_until"] == read["next_boundary"]
    # The job leaves the toggle alone while it holds.
    sessions, bus, observers = db, client.app[appkeys.BUS], client.app[appkeys.OBSERVERS]
    await follow_availability_schedules(sessions, bus, observers)
    assert await available(db, agent.id)
    subscription.close()
    events = [e async for e in subscription if e.type == "user.updated"]
    assert [e.data["available"] for e in events] == [False, True]
    assert (await client.delete(SCHEDULE, headers=auth)).status == 204
    assert (await client.delete(SCHEDULE, headers=auth)).status == 404
    assert await available(db, agent.id)
