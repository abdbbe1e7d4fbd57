"""Parameters of the report endpoints, and a report as the API shows it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from hub.inbox.report_period import MAX_DAYS
from hub.inbox.report_summary import Durations, Summary
from hub.inbox.reports import Report, Row
from hub.store.types import MAX_ID


class ReportQuery(BaseModel):
    """``GET /api/v1/reports/{kind}`` parameters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date = Field(
        alias="from", description="the first day (YYYY-MM-DD, in the workspace's time zone)"
    )
    to: date = Field(description=f"the last day, included (at most {MAX_DAYS} days in all)")
    business_hours: bool = Field(
        False, description="count durations in the workspace's business hours only"
    )
    agent_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only facts credited to this agent"
    )
    team_id: int | None = Field(None, ge=1, le=MAX_ID, description="only facts of this team")
    channel_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only this channel's conversations"
    )
    label_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only conversations carrying this label"
    )
    format: Literal["json", "csv"] = Field(
        "json", description="`csv`: the same report as a CSV file (text/csv)"
    )

    @field_validator("to")
    @classmethod
    def _in_order(cls, to: date, info: ValidationInfo) -> date:
        first = info.data.get("from_")
        if first is not None and to < first:
            raise PydanticCustomError("date_order", "must not be before from")
        if first is not None and (to - first).days >= MAX_DAYS:
            raise PydanticCustomError("too_long", f"a report covers at most {MAX_DAYS} days")
        return to


class DurationsOut(BaseModel):
    """How many durations, their median and 90th percentile in minutes (null: none)."""

    count: int
    median_minutes: float | None
    p90_minutes: float | None

    @classmethod
    def of(cls, durations: Durations) -> DurationsOut:
        """The API form of a duration summary."""
        return cls(
            count=durations.count, median_minutes=durations.median, p90_minutes=durations.p90
        )


class CsatSummaryOut(BaseModel):
    """Answered surveys: how many, the average rating, how many of each rating."""

    count: int
    average: float | None
    distribution: dict[str, int] = Field(description="rating (as a string) to count")


class MetricsOut(BaseModel):
    """Every metric of a group (definitions: docs/reports.md)."""

    opened: int
    closed: int
    reopened: int
    messages_in: int
    messages_out: int
    first_response: DurationsOut
    next_response: DurationsOut
    resolution: DurationsOut
    sla_breaches: int
    sla_breaches_by_target: dict[str, int]
    csat: CsatSummaryOut

    @classmethod
    def of(cls, s: Summary) -> MetricsOut:
        """The API form of a summary."""
        return cls(
            opened=s.counts["opened"],
            closed=s.counts["closed"],
            reopened=s.counts["reopened"],
            messages_in=s.counts["messages_in"],
            messages_out=s.counts["messages_out"],
            first_response=DurationsOut.of(s.durations["first_response"]),
            next_response=DurationsOut.of(s.durations["next_response"]),
            resolution=DurationsOut.of(s.durations["resolution"]),
            sla_breaches=s.counts["sla_breaches"],
            sla_breaches_by_target=s.sla_by_target,
            csat=CsatSummaryOut(
                count=s.csat_count,
                average=s.csat_average,
                distribution={str(k): v for k, v in sorted(s.csat_distribution.items())},
            ),
        )


class RowOut(BaseModel):
    """One group of a breakdown (`id` null: nobody, no team, no label)."""

    id: int | None
    name: str
    metrics: MetricsOut

    @classmethod
    def of(cls, row: Row) -> RowOut:
        """The API form of a breakdown row."""
        return cls(id=row.key, name=row.name, metrics=MetricsOut.of(row.summary))


class DayOut(BaseModel):
    """One local day's counts (the overview's chart)."""

    day: date
    opened: int
    closed: int
    messages_in: int
    messages_out: int


class ReportOut(BaseModel):
    """A report: the period, the totals, and the breakdown's rows or the heatmap."""

    kind: Literal["overview", "agents", "teams", "channels", "labels", "heatmap"]
    first_day: date = Field(description="the period's first day (`from`)")
    last_day: date = Field(description="its last day, included (`to`)")
    time_zone: str
    business_hours: bool
    total: MetricsOut
    rows: list[RowOut] = Field(description="the breakdown's groups (empty for overview, heatmap)")
    heatmap: list[list[int]] | None = Field(
        description="heatmap only: inbound messages, 7 weekdays (Monday first) by 24 hours"
    )
    daily: list[DayOut] = Field(description="overview only: each day's counts")
    catching_up: int = Field(
        description="conversations the reports' pre-aggregate still had to build when this "
        "report was computed from the histories instead (exact, but slower); 0 normally"
    )

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        """The API form of a report."""
        return cls(
            kind=report.kind,
            first_day=report.period.first,
            last_day=report.period.last,
            time_zone=report.period.zone.key,
            business_hours=report.business_hours,
            total=MetricsOut.of(report.total),
            rows=[RowOut.of(row) for row in report.rows],
            heatmap=report.heatmap,
            daily=[DayOut(day=day, **counts) for day, counts in report.daily],
            catching_up=report.catching_up,
        )
