"""Agents' availability schedules: a user's weekly hours in their zone, which their
``available`` flag follows (in the week's periods: available; outside them: away).

A manual toggle (the top bar's switch, the /me page, ``PUT /api/v1/me/availability``)
wins until the next boundary of the schedule, the start or the end of a period; from
then on the schedule applies again. ``apply_schedules`` runs every half minute in every
hub process (``hub.wiring_jobs``); it writes ``users.available`` only when it must change,
through ``hub.people.directory.set_availability``, so routing keeps reading one column
and everyone's inbox hears the change (``user.updated``). Why a job and not a value
computed on read: docs/decisions.md, "Business hours".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.errors import NotFound
from hub.events.work import Work
from hub.inbox import business_hours, hours_calendar
from hub.inbox.hours_calendar import WeeklyHours
from hub.people import directory
from hub.store.models import AvailabilitySchedule, User
from hub.store.types import utcnow

NEVER_AVAILABLE = "give at least one period a week, or remove the schedule"
# How often every hub process brings availability in line with the schedules.
CHECK_SECONDS = 30.0


def weekly(row: AvailabilitySchedule) -> WeeklyHours:
    """A stored schedule as calendar arithmetic takes it (no holidays)."""
    return WeeklyHours(
        # Checked when saved: read as stored (a 422 has no place in the job).
        ZoneInfo(row.time_zone),
        hours_calendar.week_from_clocks([[(a, b) for a, b in day] for day in row.week]),
    )


async def get_schedule(db: AsyncSession, user_id: int) -> AvailabilitySchedule | None:
    """The user's schedule, if they have one."""
    return await db.get(AvailabilitySchedule, user_id)


def scheduled_available(row: AvailabilitySchedule, at: datetime) -> bool:
    """What the schedule alone says at ``at``."""
    return hours_calendar.is_open(weekly(row), at)


def next_boundary(row: AvailabilitySchedule, at: datetime) -> datetime | None:
    """The next start or end of a period after ``at`` (None: there is none)."""
    return hours_calendar.next_change(weekly(row), at)


async def save_schedule(
    work: Work,
    user_id: int,
    *,
    time_zone: str,
    week: Sequence[Sequence[tuple[str, str]]],
    enabled: bool,
    now: datetime | None = None,
) -> AvailabilitySchedule:
    """Create or replace the user's schedule; while enabled, it applies at once (a
    manual toggle held before is dropped: the new schedule is what the user wants)."""
    now = utcnow() if now is None else now
    user = await directory.get_user(work.db, user_id)
    business_hours.check_zone(time_zone)
    stored = business_hours.check_week(week, NEVER_AVAILABLE)
    row = await get_schedule(work.db, user.id)
    if row is None:
        row = AvailabilitySchedule(user_id=user.id)
        work.db.add(row)
    row.time_zone, row.week, row.enabled, row.override_until = time_zone, stored, enabled, None
    await work.db.flush()
    await work.db.refresh(row)
    if enabled:
        await directory.set_availability(work, user.id, scheduled_available(row, now))
    return row


async def delete_schedule(work: Work, user_id: int) -> None:
    """Remove the user's schedule (404 without one); their availability stays as it is."""
    result = await work.db.execute(
        delete(AvailabilitySchedule).where(AvailabilitySchedule.user_id == user_id)
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("availability schedule")


async def set_by_hand(
    work: Work, user_id: int, available: bool, now: datetime | None = None
) -> User:
    """The user's own toggle: set ``available`` now; with an enabled schedule, it holds
    until the schedule's next boundary (or for good when the week never changes)."""
    now = utcnow() if now is None else now
    user = await directory.set_availability(work, user_id, available)
    row = await get_schedule(work.db, user_id)
    if row is not None and row.enabled:
        # Toggling back to what the schedule says anyway holds nothing.
        held = available != scheduled_available(row, now)
        row.override_until = next_boundary(row, now) if held else None
        await work.db.flush()
    return user


async def apply_schedules(work: Work, now: datetime | None = None) -> list[int]:
    """Bring every scheduled user's availability in line with their schedule, except
    while their manual toggle holds; drop toggles whose time is up. The ids changed."""
    now = utcnow() if now is None else now
    rows = await work.db.scalars(
        select(AvailabilitySchedule)
        .join(User, User.id == AvailabilitySchedule.user_id)
        .where(
            AvailabilitySchedule.enabled.is_(True),
            User.is_active.is_(True),
            or_(
                AvailabilitySchedule.override_until.is_(None),
                AvailabilitySchedule.override_until <= now,
            ),
        )
        .order_by(AvailabilitySchedule.user_id)
    )
    changed: list[int] = []
    for row in list(rows):
        if row.override_until is not None:
            row.override_until = None
        user = await directory.get_user(work.db, row.user_id)
        wanted = scheduled_available(row, now)
        if user.available != wanted:
            await directory.set_availability(work, user.id, wanted)
            changed.append(user.id)
    await work.db.flush()
    return changed
