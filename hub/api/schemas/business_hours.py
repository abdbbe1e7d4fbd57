"""Bodies and answers of the business-hours endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.inbox.business_hours import (
    DAY_KEYS,
    HOLIDAY_NAME_MAX,
    HOLIDAYS_MAX,
    INTERVALS_PER_DAY_MAX,
    Holiday,
    HoursSpec,
)
from hub.store.models import BusinessHours
from hub.store.types import MAX_ID

CLOCK = r"^\d{2}:\d{2}$"


class Period(BaseModel):
    """An opening period of a day in the schedule's zone. ``closes`` may be `24:00`;
    a period that closes at or before it opens runs overnight into the next day."""

    model_config = ConfigDict(extra="forbid")

    opens: str = Field(pattern=CLOCK, description="HH:MM", examples=["09:00"])
    closes: str = Field(pattern=CLOCK, description="HH:MM, up to 24:00", examples=["17:00"])


DayPeriods = list[Period]


class Week(BaseModel):
    """The opening periods of each weekday; a day left out or empty is closed."""

    model_config = ConfigDict(extra="forbid")

    monday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    tuesday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    wednesday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    thursday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    friday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    saturday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)
    sunday: DayPeriods = Field(default_factory=list, max_length=INTERVALS_PER_DAY_MAX)

    def pairs(self) -> list[list[tuple[str, str]]]:
        """Monday first, as the domain takes them."""
        return [[(p.opens, p.closes) for p in getattr(self, key)] for key in DAY_KEYS]

    @classmethod
    def of(cls, stored: list[list[list[str]]]) -> Week:
        """A stored week (seven lists of pairs)."""
        return cls(
            **{
                key: [Period(opens=a, closes=b) for a, b in day]
                for key, day in zip(DAY_KEYS, stored, strict=True)
            }
        )


class HolidayItem(BaseModel):
    """A date closed all day."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: date
    name: str = Field("", max_length=HOLIDAY_NAME_MAX)


class BusinessHoursBody(BaseModel):
    """``PUT /api/v1/business-hours/workspace`` and ``…/teams/{team_id}``: the whole
    schedule (it replaces the stored one)."""

    model_config = ConfigDict(extra="forbid")

    time_zone: str = Field(max_length=64, description="an IANA zone", examples=["Europe/Berlin"])
    week: Week
    holidays: list[HolidayItem] = Field(default_factory=list, max_length=HOLIDAYS_MAX)

    def spec(self) -> HoursSpec:
        """The schedule as the domain takes it."""
        return HoursSpec(
            time_zone=self.time_zone,
            week=self.week.pairs(),
            holidays=[Holiday(h.date, h.name) for h in self.holidays],
        )


class BusinessHoursOut(BaseModel):
    """A stored schedule, with whether it is open now and when that changes."""

    team_id: int | None = Field(description="null: the workspace default")
    time_zone: str
    week: Week
    holidays: list[HolidayItem]
    open_now: bool
    next_change: datetime | None = Field(description="when open turns closed or back")
    updated_at: datetime

    @classmethod
    def of(
        cls, row: BusinessHours, open_now: bool, next_change: datetime | None
    ) -> BusinessHoursOut:
        """Serialize a stored schedule."""
        return cls(
            team_id=row.team_id,
            time_zone=row.time_zone,
            week=Week.of(row.week),
            holidays=[HolidayItem(date=h["date"], name=h.get("name") or "") for h in row.holidays],
            open_now=open_now,
            next_change=next_change,
            updated_at=row.updated_at,
        )


class StatusQuery(BaseModel):
    """``GET /api/v1/business-hours/status`` parameters."""

    model_config = ConfigDict(extra="forbid")

    team_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="the team; left out: the workspace"
    )


class StatusOut(BaseModel):
    """Whether a team (or the workspace) is open now, and by which schedule."""

    open: bool
    applies: Literal["team", "workspace", "always_open"] = Field(
        description="the team's own hours, the workspace default, or none at all"
    )
    next_change: datetime | None


class TimeZoneOut(BaseModel):
    """An IANA time zone a schedule may use."""

    name: str


class AvailabilityScheduleBody(BaseModel):
    """``PUT /api/v1/me/availability-schedule``: the whole schedule."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="false keeps the schedule but stops following it")
    time_zone: str = Field(max_length=64, description="an IANA zone", examples=["Europe/Berlin"])
    week: Week = Field(description="the periods you are available; outside them you are away")


class AvailabilityScheduleOut(BaseModel):
    """Your availability schedule and where it stands now."""

    enabled: bool
    time_zone: str
    week: Week
    scheduled_available: bool = Field(description="what the schedule alone says now")
    override_until: datetime | None = Field(
        description="your manual toggle holds until then; null: the schedule applies"
    )
    next_boundary: datetime | None = Field(description="the next start or end of a period")
