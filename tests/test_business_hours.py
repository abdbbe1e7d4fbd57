"""The pure opening-hours arithmetic (hub.inbox.hours_calendar): weeks, overnight
intervals, holidays, DST changes in both directions, week wrap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.inbox.hours_calendar import (
    WeeklyHours,
    add_open_minutes,
    format_clock,
    is_open,
    local_date,
    next_change,
    open_spans,
    parse_clock,
    week_from_clocks,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_FIVE = ("09:00", "17:00")


def weekdays(*interval: tuple[str, str], weekend: bool = False) -> WeeklyHours:
    days = [list(interval)] * 5 + ([list(interval)] * 2 if weekend else [[], []])
    return WeeklyHours(BERLIN, week_from_clocks(days))


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_clock_parsing_and_formatting() -> None:
    assert parse_clock("09:30") == 570
    assert parse_clock("0:05") == 5
    assert parse_clock("24:00", end=True) == 1440
    assert format_clock(570) == "09:30"
    assert format_clock(1440) == "24:00"
    for bad in ("24:00", "9", "09:60", "25:00", "ab:cd", "09:5", "-1:00", ""):
        with pytest.raises(ValueError):
            parse_clock(bad)


def test_bad_weeks_are_refused() -> None:
    with pytest.raises(ValueError):
        WeeklyHours(BERLIN, ((),) * 6)
    with pytest.raises(ValueError):
        WeeklyHours(BERLIN, (((600, 600),),) + ((),) * 6)
    assert WeeklyHours(BERLIN, ((),) * 7).never_open


def test_open_inside_closed_outside_start_included_end_excluded() -> None:
    hours = weekdays(NINE_TO_FIVE)
    # Thursday 3 December 2026.
    assert not is_open(hours, berlin(2026, 12, 3, 8, 59))
    assert is_open(hours, berlin(2026, 12, 3, 9, 0))
    assert is_open(hours, berlin(2026, 12, 3, 16, 59))
    assert not is_open(hours, berlin(2026, 12, 3, 17, 0))
    # The same instant given in UTC: 08:30 UTC is 09:30 in Berlin.
    assert is_open(hours, datetime(2026, 12, 3, 8, 30, tzinfo=UTC))
    # Saturday is closed.
    assert not is_open(hours, berlin(2026, 12, 5, 12, 0))


def test_zone_matters() -> None:
    ny = WeeklyHours(NEW_YORK, weekdays(NINE_TO_FIVE).week)
    noon_berlin = berlin(2026, 12, 3, 12, 0)  # 06:00 in New York
    assert is_open(weekdays(NINE_TO_FIVE), noon_berlin)
    assert not is_open(ny, noon_berlin)


def test_week_wrap_friday_to_monday() -> None:
    hours = weekdays(NINE_TO_FIVE)
    friday_four = berlin(2026, 12, 4, 16, 0)
    # One open hour left on Friday, the second hour starts Monday 09:00.
    assert add_open_minutes(hours, friday_four, 120) == berlin(2026, 12, 7, 10, 0)
    assert next_change(hours, berlin(2026, 12, 5, 10, 0)) == berlin(2026, 12, 7, 9, 0)
    # A week of open time (5 x 8 h) from Monday 09:00 ends on Friday at 17:00...
    assert add_open_minutes(hours, berlin(2026, 12, 7, 9, 0), 5 * 8 * 60) == berlin(
        2026, 12, 11, 17, 0
    )
    # ...and Sunday wraps into Monday for a week that opens on Sunday.
    sunday = WeeklyHours(BERLIN, ((),) * 6 + (((1200, 1440),),))
    assert add_open_minutes(sunday, berlin(2026, 12, 6, 23, 0), 120) == berlin(2026, 12, 13, 21, 0)


def test_add_open_minutes_from_a_closed_moment_and_zero() -> None:
    hours = weekdays(NINE_TO_FIVE)
    early = berlin(2026, 12, 3, 6, 0)
    assert add_open_minutes(hours, early, 30) == berlin(2026, 12, 3, 9, 30)
    assert add_open_minutes(hours, early, 0) == early
    with pytest.raises(ValueError):
        add_open_minutes(hours, early, -1)
    with pytest.raises(ValueError):
        add_open_minutes(WeeklyHours(BERLIN, ((),) * 7), early, 10)
    assert next_change(WeeklyHours(BERLIN, ((),) * 7), early) is None


def test_split_days_and_touching_intervals_merge() -> None:
    split = weekdays(("09:00", "12:00"), ("13:00", "17:00"))
    assert not is_open(split, berlin(2026, 12, 3, 12, 30))
    assert add_open_minutes(split, berlin(2026, 12, 3, 11, 0), 120) == berlin(2026, 12, 3, 14, 0)
    assert next_change(split, berlin(2026, 12, 3, 10, 0)) == berlin(2026, 12, 3, 12, 0)
    touching = weekdays(("09:00", "12:00"), ("12:00", "17:00"))
    assert next_change(touching, berlin(2026, 12, 3, 10, 0)) == berlin(2026, 12, 3, 17, 0)
    # Whole days that touch at midnight are one span: the change is after the weekend.
    always = weekdays(("00:00", "24:00"), weekend=True)
    spans = open_spans(always, berlin(2026, 12, 3, 10, 0))
    begin, finish = next(spans)
    assert begin <= berlin(2026, 12, 3, 10, 0)
    assert finish - begin > timedelta(days=30)


def test_overnight_interval_belongs_to_the_day_it_starts() -> None:
    # Monday night only: 22:00 Monday to 06:00 Tuesday.
    hours = WeeklyHours(BERLIN, (((1320, 360),),) + ((),) * 6)
    assert is_open(hours, berlin(2026, 12, 7, 23, 0))
    assert is_open(hours, berlin(2026, 12, 8, 5, 59))
    assert not is_open(hours, berlin(2026, 12, 8, 6, 0))
    # Sunday night into Monday morning is closed: nothing starts on Sunday.
    assert not is_open(hours, berlin(2026, 12, 7, 2, 0))
    assert add_open_minutes(hours, berlin(2026, 12, 7, 21, 0), 8 * 60) == berlin(2026, 12, 8, 6, 0)
    # Sunday night wraps round the week into Monday.
    sunday_night = WeeklyHours(BERLIN, ((),) * 6 + (((1320, 360),),))
    assert is_open(sunday_night, berlin(2026, 12, 7, 3, 0))


def test_holidays_close_the_whole_date() -> None:
    hours = WeeklyHours(
        BERLIN, weekdays(NINE_TO_FIVE).week, frozenset({date(2026, 12, 24), date(2026, 12, 25)})
    )
    assert not is_open(hours, berlin(2026, 12, 24, 10, 0))
    assert is_open(hours, berlin(2026, 12, 23, 10, 0))
    # Wednesday 23 at 16:00: one hour, then the holidays and the weekend, then Monday 28.
    assert add_open_minutes(hours, berlin(2026, 12, 23, 16, 0), 120) == berlin(2026, 12, 28, 10, 0)
    assert next_change(hours, berlin(2026, 12, 23, 18, 0)) == berlin(2026, 12, 28, 9, 0)


def test_a_holiday_cuts_the_overnight_tail_at_midnight() -> None:
    nights = WeeklyHours(BERLIN, (((1320, 360),),) * 7, frozenset({date(2026, 12, 25)}))
    assert is_open(nights, berlin(2026, 12, 24, 23, 30))
    assert not is_open(nights, berlin(2026, 12, 25, 1, 0))
    assert next_change(nights, berlin(2026, 12, 24, 23, 30)) == berlin(2026, 12, 25, 0, 0)
    # The night that starts on the 25th does not happen either; the 26th's does.
    assert not is_open(nights, berlin(2026, 12, 25, 23, 0))
    assert is_open(nights, berlin(2026, 12, 26, 23, 0))


def test_dst_spring_forward_keeps_wall_clock_hours() -> None:
    # Sunday 29 March 2026: Berlin goes from 02:00 CET to 03:00 CEST.
    every_day = weekdays(NINE_TO_FIVE, weekend=True)
    assert is_open(every_day, berlin(2026, 3, 29, 9, 0))
    assert is_open(every_day, datetime(2026, 3, 29, 7, 0, tzinfo=UTC))  # 09:00 CEST
    assert not is_open(every_day, datetime(2026, 3, 29, 15, 0, tzinfo=UTC))  # 17:00 CEST
    # Still eight hours from opening to closing on the day of the change.
    open_at = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert add_open_minutes(every_day, open_at, 480) == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)
    # A whole-day schedule: the night of the change is an hour shorter in real time.
    nights = WeeklyHours(BERLIN, (((1320, 360),),) * 7)
    begin = datetime(2026, 3, 28, 21, 0, tzinfo=UTC)  # Saturday 22:00 CET
    assert is_open(nights, begin)
    assert next_change(nights, begin) == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)  # 06:00 CEST


def test_dst_fall_back_night_is_an_hour_longer() -> None:
    # Sunday 25 October 2026: Berlin goes from 03:00 CEST back to 02:00 CET.
    nights = WeeklyHours(BERLIN, (((1320, 360),),) * 7)
    begin = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)  # Saturday 22:00 CEST
    end = next_change(nights, begin)
    assert end == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET
    assert end - begin == timedelta(hours=9)
    assert add_open_minutes(nights, begin, 9 * 60) == end
    # The day after, nine-to-five is 08:00-16:00 UTC instead of 07:00-15:00.
    days = weekdays(NINE_TO_FIVE)
    monday = datetime(2026, 10, 26, 7, 30, tzinfo=UTC)
    assert not is_open(days, monday)
    assert next_change(days, monday) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_dst_in_new_york_shifts_utc_hours() -> None:
    ny = WeeklyHours(NEW_YORK, weekdays(NINE_TO_FIVE).week)
    # 14:00 UTC is 09:00 EST in winter, 10:00 EDT after 8 March 2026.
    assert is_open(ny, datetime(2026, 3, 6, 14, 0, tzinfo=UTC))
    assert not is_open(ny, datetime(2026, 3, 6, 13, 30, tzinfo=UTC))
    assert is_open(ny, datetime(2026, 3, 9, 13, 30, tzinfo=UTC))


def test_local_date_is_in_the_zone() -> None:
    hours = weekdays(NINE_TO_FIVE)
    assert local_date(hours, datetime(2026, 12, 3, 23, 30, tzinfo=UTC)) == date(2026, 12, 4)
    ny = WeeklyHours(NEW_YORK, hours.week)
    assert local_date(ny, datetime(2026, 12, 4, 3, 0, tzinfo=UTC)) == date(2026, 12, 3)


@pytest.mark.parametrize("minutes", [1, 59, 60, 479, 480, 481, 2000, 10_000])
def test_add_open_minutes_agrees_with_a_minute_by_minute_count(minutes: int) -> None:
    hours = WeeklyHours(
        BERLIN,
        week_from_clocks(
            [[("08:00", "12:00"), ("22:00", "02:00")]] * 5 + [[("10:00", "14:00")], []]
        ),
        frozenset({date(2026, 3, 31)}),
    )
    start = datetime(2026, 3, 27, 11, 17, tzinfo=UTC)  # spans the spring change
    got = add_open_minutes(hours, start, minutes)
    counted, at = 0, start
    while counted < minutes:
        if is_open(hours, at):
            counted += 1
        at += timedelta(minutes=1)
    # ``at`` is one minute past the last open minute counted.
    assert got == at


def test_open_around_the_clock_is_open_and_changes_only_far_away() -> None:
    always = weekdays(("00:00", "24:00"), weekend=True)
    at = berlin(2026, 12, 3, 12, 0)
    assert is_open(always, at)
    assert is_open(always, berlin(2026, 3, 29, 2, 30))  # the hour that does not exist
    change = next_change(always, at)
    assert change is not None and change - at > timedelta(days=365)
    assert add_open_minutes(always, at, 3 * 24 * 60) == at + timedelta(days=3)
