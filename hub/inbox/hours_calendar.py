"""Opening-hours arithmetic, pure: a weekly pattern of intervals in an IANA time zone,
with holidays closed all day. No database, no clock: every function takes the instant.

The model, in the zone's wall time:

* ``week[0]`` is Monday … ``week[6]`` Sunday; each day holds intervals ``(start, end)`` in
  minutes after midnight. ``end`` may be 1440 ("24:00"). An interval whose ``end`` is not
  after its ``start`` runs overnight and ends on the next day (22:00-06:00), so it belongs
  to the day it *starts* on.
* A holiday closes its calendar date from 00:00 to 24:00: intervals that start on it do
  not happen, and the overnight tail of the day before stops at midnight.
* Wall times become instants through ``zoneinfo`` (fold 0): a 09:00-17:00 day is eight
  hours either side of a DST change, and the night of the change is an hour shorter or
  longer, as a clock on the wall says. A time that does not exist (02:30 on a
  spring-forward night in Europe) is read with the offset before the change, i.e. an
  hour later on the wall; an ambiguous one (autumn) is its first occurrence.
* Touching intervals are merged, so every boundary :func:`next_change` reports is a real
  change between open and closed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
# add_open_minutes and next_change give up (ValueError) rather than loop for ever; a week
# with at least one interval finds open time within a week plus the holidays it skips.
SEARCH_DAYS = 3 * 366

Interval = tuple[int, int]


@dataclass(frozen=True)
class WeeklyHours:
    """Opening hours: seven days of intervals (Monday first) in ``zone``, and holidays."""

    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days")
        for day in self.week:
            for start, end in day:
                if not (0 <= start < MINUTES_PER_DAY and 0 <= end <= MINUTES_PER_DAY):
                    raise ValueError(f"interval out of the day: {start}-{end}")
                if start == end:
                    raise ValueError("an interval cannot start where it ends")

    @property
    def never_open(self) -> bool:
        """True when no day has an interval."""
        return not any(self.week)


def parse_clock(value: str, *, end: bool = False) -> int:
    """``"HH:MM"`` as minutes after midnight; ``"24:00"`` only as an ``end``."""
    hours, sep, minutes = value.partition(":")
    if not sep or len(minutes) != 2 or not (1 <= len(hours) <= 2):
        raise ValueError(f"not a time of day: {value!r}")
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"not a time of day: {value!r}")
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return MINUTES_PER_DAY
    if h > 23 or m > 59:
        raise ValueError(f"not a time of day: {value!r}")
    return h * 60 + m


def format_clock(minutes: int) -> str:
    """Minutes after midnight as ``"HH:MM"`` (1440 is ``"24:00"``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _instant(zone: ZoneInfo, day: date, minute: int) -> datetime:
    # Minute 1440 is the next day's midnight, which is a wall time of its own.
    day_, minute_ = (day + timedelta(days=1), 0) if minute >= MINUTES_PER_DAY else (day, minute)
    wall = datetime.combine(day_, time(minute_ // 60, minute_ % 60), tzinfo=zone)
    return wall.astimezone(UTC)


def _day_spans(hours: WeeklyHours, day: date) -> Iterator[tuple[datetime, datetime]]:
    """The spans that start on local date ``day``, in UTC, clipped at a holiday."""
    if day in hours.holidays:
        return
    for start, end in hours.week[day.weekday()]:
        overnight = end <= start
        stop_day, stop_minute = (day + timedelta(days=1), end) if overnight else (day, end)
        if overnight and stop_day in hours.holidays:
            stop_day, stop_minute = day, MINUTES_PER_DAY
        begin = _instant(hours.zone, day, start)
        finish = _instant(hours.zone, stop_day, stop_minute)
        if finish > begin:
            yield begin, finish


def open_spans(hours: WeeklyHours, since: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open spans (UTC, merged, in order) that end after ``since``; the first may have
    begun before it. Endless for a week with intervals; stops after ``SEARCH_DAYS``."""
    since = since.astimezone(UTC)
    # The day before: its overnight interval may still be running.
    first = since.astimezone(hours.zone).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    for offset in range(SEARCH_DAYS):
        day_spans = sorted(_day_spans(hours, first + timedelta(days=offset)))
        for begin, finish in day_spans:
            if pending is None:
                pending = (begin, finish)
            elif begin <= pending[1]:
                pending = (pending[0], max(pending[1], finish))
            else:
                if pending[1] > since:
                    yield pending
                pending = (begin, finish)
    if pending is not None and pending[1] > since:
        yield pending


def is_open(hours: WeeklyHours, at: datetime) -> bool:
    """Whether ``at`` falls inside an open span (start included, end excluded).

    Only two days can hold it: a period starts on its day and ends before the next
    day's end, so this looks at the local date of ``at`` and the day before, without
    walking to the end of a long open stretch as :func:`open_spans` would."""
    day = at.astimezone(hours.zone).date()
    for start_day in (day - timedelta(days=1), day):
        for begin, finish in _day_spans(hours, start_day):
            if begin <= at < finish:
                return True
    return False


def next_change(hours: WeeklyHours, at: datetime) -> datetime | None:
    """The first instant after ``at`` where open turns closed or closed turns open; None
    when that never happens (no intervals at all)."""
    for begin, finish in open_spans(hours, at):
        return finish if begin <= at else begin
    return None


def add_open_minutes(hours: WeeklyHours, start: datetime, minutes: int) -> datetime:
    """The instant when ``minutes`` of open time have passed since ``start``. Zero minutes
    from a closed moment is ``start`` itself. ValueError when the hours never open."""
    if minutes < 0:
        raise ValueError("minutes cannot be negative")
    if minutes == 0:
        return start
    left = timedelta(minutes=minutes)
    for begin, finish in open_spans(hours, start):
        begin = max(begin, start)
        if finish - begin >= left:
            return begin + left
        left -= finish - begin
    raise ValueError("these hours are never open")


def local_date(hours: WeeklyHours, at: datetime) -> date:
    """The calendar date of ``at`` in the hours' zone."""
    return at.astimezone(hours.zone).date()


def week_from_clocks(days: Sequence[Sequence[tuple[str, str]]]) -> tuple[tuple[Interval, ...], ...]:
    """Seven days of ``("HH:MM", "HH:MM")`` pairs as minute intervals (ValueError if bad)."""
    return tuple(tuple((parse_clock(a), parse_clock(b, end=True)) for a, b in day) for day in days)
