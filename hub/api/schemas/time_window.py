"""The query every time-filtered list shares (the inbound log, the audit log, CSAT
surveys): a window of time (``since`` inclusive, ``until`` exclusive) and the cursor of
the page; each list adds its own filters and page size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError


def _utc(value: datetime) -> datetime:
    # A time without a zone (an HTML datetime-local input sends one) is read as UTC.
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00, before the first UTC instant
        raise PydanticCustomError("time_range", "the time is out of range") from None


UtcTime = Annotated[datetime, AfterValidator(_utc)]


class TimeWindowQuery(BaseModel):
    """A page of a list filtered by time: what happened at or after ``since`` and before
    ``until`` (each optional; ``until`` must be later), from ``cursor`` on."""

    model_config = ConfigDict(extra="forbid")

    since: UtcTime | None = Field(
        None, description="only those at or after this time (ISO 8601; no zone: UTC)"
    )
    until: UtcTime | None = Field(
        None, description="only those before this time (ISO 8601; no zone: UTC)"
    )
    cursor: str | None = Field(None, max_length=200)

    @field_validator("until")
    @classmethod
    def _after_since(cls, until: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if until is not None and since is not None and until <= since:
            raise PydanticCustomError("time_order", "must be later than since")
        return until
