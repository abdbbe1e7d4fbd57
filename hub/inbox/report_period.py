"""A report's period: local calendar days in the workspace's zone, as UTC instants,
and the business hours' open time between two instants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.inbox.hours_calendar import WeeklyHours, open_spans

# The longest period a report covers: a year and a day (a leap year from any date).
MAX_DAYS = 367


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC: from midnight of the first day to midnight after the last,
    on the wall clock of ``zone``. ``hours`` set: durations count open time only."""

    first: date
    last: date
    zone: ZoneInfo
    start: datetime
    end: datetime
    hours: WeeklyHours | None = None

    def holds(self, at: datetime) -> bool:
        """Whether ``at`` falls in the period."""
        return self.start <= at < self.end


def period_of(first: date, last: date, zone: ZoneInfo, hours: WeeklyHours | None = None) -> Period:
    """The period of the days ``first`` … ``last`` (both included) in ``zone``."""
    if last < first:
        raise ValueError("the last day is before the first")
    if (last - first).days >= MAX_DAYS:
        raise ValueError(f"a report covers at most {MAX_DAYS} days")
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    return Period(first, last, zone, start, end, hours)


def open_minutes_between(hours: WeeklyHours, start: datetime, end: datetime) -> float:
    """The minutes of open time between two instants (0 when ``end`` is not later)."""
    if end <= start or hours.never_open:
        return 0.0
    total = timedelta()
    for begin, finish in open_spans(hours, start):
        if begin >= end:
            break
        total += min(finish, end) - max(begin, start)
    return total.total_seconds() / 60
