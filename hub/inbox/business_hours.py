"""Business hours: a workspace default and at most one schedule per team, each a week of
opening intervals in an IANA zone with holidays. The arithmetic is
``hub.inbox.hours_calendar``; this module stores, checks and answers.

What other code calls: :func:`is_open` and :func:`add_open_minutes` (SLA targets in
business hours, rule conditions), both falling back from a team's own hours to the
workspace default, and "no hours set at all" meaning always open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import hours_calendar
from hub.inbox.hours_calendar import WeeklyHours
from hub.store.models import BusinessHours, Team

WORKSPACE = "workspace"
HOLIDAYS_MAX = 400
INTERVALS_PER_DAY_MAX = 6
HOLIDAY_NAME_MAX = 100
DAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = tuple(key.capitalize() for key in DAY_KEYS)


@dataclass(frozen=True)
class Holiday:
    """A date closed all day, with an optional name."""

    day: date
    name: str = ""


@dataclass(frozen=True)
class HoursSpec:
    """Business hours as given: a zone, seven days of ``("HH:MM", "HH:MM")`` pairs
    (Monday first) and holidays."""

    time_zone: str
    week: Sequence[Sequence[tuple[str, str]]]
    holidays: Sequence[Holiday] = ()


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (the editor's picker)."""
    return tuple(sorted(available_timezones()))


def check_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    """The zone named ``name``; 422 naming ``field`` when it is not an IANA zone."""
    if name not in zone_names():
        raise Invalid(field, "must be an IANA time zone such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(field, "must be an IANA time zone such as Europe/Berlin") from None


NEVER_OPEN = "open at least one period a week (delete the hours to be always open)"


def check_week(
    days: Sequence[Sequence[tuple[str, str]]], never: str = NEVER_OPEN
) -> list[list[list[str]]]:
    """A week as stored: seven days of sorted, non-overlapping ``["HH:MM", "HH:MM"]``
    pairs; 422 naming the day (``week.monday``…) otherwise."""
    if len(days) != 7:
        raise Invalid("week", "give seven days, Monday first")
    stored: list[list[list[str]]] = []
    for index, day in enumerate(days):
        field = f"week.{DAY_KEYS[index]}"
        if len(day) > INTERVALS_PER_DAY_MAX:
            raise Invalid(field, f"at most {INTERVALS_PER_DAY_MAX} periods a day")
        try:
            minutes = sorted(
                (hours_calendar.parse_clock(a), hours_calendar.parse_clock(b, end=True))
                for a, b in day
            )
        except ValueError:
            raise Invalid(field, "times are HH:MM, from 00:00 to 24:00") from None
        for position, (start, end) in enumerate(minutes):
            following = minutes[position + 1] if position + 1 < len(minutes) else None
            if start == end:
                raise Invalid(field, f"{DAY_NAMES[index]}: a period cannot end when it starts")
            overnight = end < start
            if following is not None and (overnight or following[0] < end):
                raise Invalid(field, f"{DAY_NAMES[index]}: the periods overlap")
        stored.append(
            [[hours_calendar.format_clock(a), hours_calendar.format_clock(b)] for a, b in minutes]
        )
    if not any(stored):
        raise Invalid("week", never)
    return stored


def check_holidays(holidays: Sequence[Holiday]) -> list[dict[str, str]]:
    """Holidays as stored: by date, one per date, names trimmed."""
    if len(holidays) > HOLIDAYS_MAX:
        raise Invalid("holidays", f"at most {HOLIDAYS_MAX} holidays")
    by_day: dict[date, str] = {}
    for holiday in holidays:
        name = " ".join(holiday.name.split())
        if len(name) > HOLIDAY_NAME_MAX:
            raise Invalid("holidays", f"a holiday's name has at most {HOLIDAY_NAME_MAX} characters")
        if holiday.day in by_day:
            raise Invalid("holidays", f"{holiday.day.isoformat()} is listed twice")
        by_day[holiday.day] = name
    return [{"date": day.isoformat(), "name": by_day[day]} for day in sorted(by_day)]


def weekly(row: BusinessHours) -> WeeklyHours:
    """A stored schedule as calendar arithmetic takes it."""
    return WeeklyHours(
        ZoneInfo(row.time_zone),
        hours_calendar.week_from_clocks([[(a, b) for a, b in day] for day in row.week]),
        frozenset(date.fromisoformat(h["date"]) for h in row.holidays),
    )


def holidays_of(row: BusinessHours) -> list[Holiday]:
    """A stored schedule's holidays, by date."""
    return [Holiday(date.fromisoformat(h["date"]), h.get("name") or "") for h in row.holidays]


def _scope(team_id: int | None) -> str:
    return WORKSPACE if team_id is None else f"team:{team_id}"


async def get_hours(db: AsyncSession, team_id: int | None) -> BusinessHours | None:
    """The schedule stored for ``team_id`` (None: the workspace default), if any; no
    fallback."""
    return await db.scalar(select(BusinessHours).where(BusinessHours.scope == _scope(team_id)))


async def hours_for(db: AsyncSession, team_id: int | None) -> BusinessHours | None:
    """The schedule that applies to ``team_id``: its own, else the workspace default,
    else None (always open)."""
    if team_id is not None:
        own = await get_hours(db, team_id)
        if own is not None:
            return own
    return await get_hours(db, None)


async def is_open(db: AsyncSession, team_id: int | None, at: datetime) -> bool:
    """Whether ``team_id`` (None: the workspace) is open at ``at``: the team's own hours
    if it has them, else the workspace default; no hours set at all = always open."""
    row = await hours_for(db, team_id)
    return True if row is None else hours_calendar.is_open(weekly(row), at)


async def add_open_minutes(
    db: AsyncSession, team_id: int | None, start: datetime, minutes: int
) -> datetime:
    """The time when ``minutes`` of open time have passed after ``start``, in the hours
    that apply to ``team_id`` (always open without any: ``start`` + ``minutes``)."""
    row = await hours_for(db, team_id)
    if row is None:
        if minutes < 0:
            raise ValueError("minutes cannot be negative")
        return start + timedelta(minutes=minutes)
    return hours_calendar.add_open_minutes(weekly(row), start, minutes)


async def list_hours(db: AsyncSession) -> list[BusinessHours]:
    """Every stored schedule: the workspace default first, then teams by id."""
    rows = (await db.scalars(select(BusinessHours))).all()
    return sorted(rows, key=lambda r: (r.team_id is not None, r.team_id or 0))


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or a manager: only they set business hours."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers set business hours")


async def team_exists(db: AsyncSession, team_id: int) -> bool:
    """Whether the team ``team_id`` exists."""
    return await db.get(Team, team_id) is not None


async def _check_team(db: AsyncSession, team_id: int | None) -> None:
    if team_id is not None and not await team_exists(db, team_id):
        raise NotFound("team")


def _facts(row: BusinessHours) -> dict[str, Any]:
    return audit.snapshot(row, ("time_zone", "week", "holidays"))


def _target(team_id: int | None) -> tuple[str, str, str]:
    scope = _scope(team_id)
    label = "Workspace hours" if team_id is None else f"Hours of team {team_id}"
    return "business_hours", scope, label


def _announce(work: Work, team_id: int | None, change: str) -> None:
    work.emit(HubEvent("business_hours.updated", {"team_id": team_id, "change": change}))


async def save_hours(
    work: Work, actor: Viewer, team_id: int | None, spec: HoursSpec
) -> BusinessHours:
    """Create or replace the schedule of ``team_id`` (None: the workspace default)."""
    require_admin(actor)
    await _check_team(work.db, team_id)
    check_zone(spec.time_zone)
    week = check_week(spec.week)
    holidays = check_holidays(spec.holidays)
    row = await get_hours(work.db, team_id)
    created = row is None
    before = {} if row is None else _facts(row)
    if row is None:
        row = BusinessHours(scope=_scope(team_id), team_id=team_id)
        work.db.add(row)
    row.time_zone, row.week, row.holidays = spec.time_zone, week, holidays
    try:
        await work.db.flush()
    except IntegrityError:
        # Another admin created the same schedule a moment ago: say so, do not 500.
        raise HubError(
            409, "business_hours_conflict", "these hours were just saved elsewhere; reload"
        ) from None
    await work.db.refresh(row)
    verb = "created" if created else "updated"
    await audit.record_diff(work.db, actor, _target(team_id), verb, before, _facts(row))
    _announce(work, team_id, verb)
    return row


async def delete_hours(work: Work, actor: Viewer, team_id: int | None) -> None:
    """Remove the schedule of ``team_id`` (None: the workspace default); 404 without one.
    A team then follows the workspace default; without that, always open."""
    require_admin(actor)
    row = await get_hours(work.db, team_id)
    if row is None:
        raise NotFound("business hours")
    await audit.record_diff(work.db, actor, _target(team_id), "deleted", _facts(row), {})
    await work.db.execute(delete(BusinessHours).where(BusinessHours.scope == _scope(team_id)))
    _announce(work, team_id, "deleted")


def state(row: BusinessHours, at: datetime) -> tuple[bool, datetime | None]:
    """Whether ``row`` is open at ``at``, and when that next changes."""
    hours = weekly(row)
    return hours_calendar.is_open(hours, at), hours_calendar.next_change(hours, at)
