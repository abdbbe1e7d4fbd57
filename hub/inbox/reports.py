"""Reports (issue 17): a period's metrics overall or by agent, team, channel or label,
and the inbound heatmap, computed from the stored history (docs/reports.md).

Owners and managers see every fact; an agent sees only the facts credited to them
(their replies, the conversations they owned when a thing happened)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer
from hub.inbox.business_hours import hours_for, weekly
from hub.inbox.report_build import BATCH, build_batch, stale_count
from hub.inbox.report_counts import GRAIN_OF, grain_for
from hub.inbox.report_facts import Fact, facts_of
from hub.inbox.report_load import load_histories
from hub.inbox.report_period import Period, period_of
from hub.inbox.report_read import conditions, local_counts_of, summaries
from hub.inbox.report_summary import (
    DAILY,
    Summary,
    daily,
    group,
    heatmap,
    localize,
    slot_counts,
    summarize,
)
from hub.store.busy import is_busy
from hub.store.models import Channel, Label, Team, User

Kind = Literal["overview", "agents", "teams", "channels", "labels", "heatmap"]
KINDS: tuple[Kind, ...] = ("overview", "agents", "teams", "channels", "labels", "heatmap")


@dataclass(frozen=True)
class Filters:
    """Narrow the facts to one agent, team, channel or label (None: any)."""

    agent_id: int | None = None
    team_id: int | None = None
    channel_id: int | None = None
    label_id: int | None = None

    def by_grain(self) -> dict[str, int]:
        """The filters set, by the running totals' grain they narrow."""
        chosen = {
            "agent": self.agent_id,
            "team": self.team_id,
            "channel": self.channel_id,
            "label": self.label_id,
        }
        return {grain: key for grain, key in chosen.items() if key is not None}

    def keeps(self, f: Fact) -> bool:
        """Whether the fact passes every filter."""
        return (
            (self.agent_id is None or f.agent_id == self.agent_id)
            and (self.team_id is None or f.team_id == self.team_id)
            and (self.channel_id is None or f.channel_id == self.channel_id)
            and (self.label_id is None or self.label_id in f.label_ids)
        )


@dataclass(frozen=True)
class Row:
    """One group of a breakdown: its id (None: nobody, no team, no label) and name."""

    key: int | None
    name: str
    summary: Summary


@dataclass
class Report:
    """A report as the API and the page show it."""

    kind: Kind
    period: Period
    business_hours: bool
    total: Summary
    rows: list[Row] = field(default_factory=list)
    heatmap: list[list[int]] | None = None
    # The overview's day-by-day counts (local days).
    daily: list[tuple[date, dict[str, int]]] = field(default_factory=list)
    # Conversations the pre-aggregate still had to build when this report was computed
    # from the histories instead (0: read from the pre-aggregate, or asked ``live``).
    catching_up: int = 0


async def workspace_zone(db: AsyncSession) -> ZoneInfo:
    """The workspace's time zone: its default business hours' zone, else UTC."""
    row = await hours_for(db, None)
    return ZoneInfo(row.time_zone) if row is not None else ZoneInfo("UTC")


async def report_period(
    db: AsyncSession, first: date, last: date, *, business_hours: bool
) -> Period:
    """The period in the workspace's zone (its default business hours' zone, else UTC),
    carrying those hours when ``business_hours`` (none set: always open, so wall time)."""
    row = await hours_for(db, None)
    zone = ZoneInfo(row.time_zone) if row is not None else ZoneInfo("UTC")
    hours = weekly(row) if business_hours and row is not None else None
    return period_of(first, last, zone, hours)


def _keys(kind: Kind) -> Callable[[Fact], Iterable[int | None]]:
    if kind == "agents":
        return lambda f: (f.agent_id,)
    if kind == "teams":
        return lambda f: (f.team_id,)
    if kind == "channels":
        return lambda f: (f.channel_id,)
    return lambda f: f.label_ids or (None,)


async def _names(db: AsyncSession, kind: Kind) -> dict[int, str]:
    if kind == "agents":
        query = select(User.id, User.name)
    elif kind == "teams":
        query = select(Team.id, Team.name)
    elif kind == "channels":
        query = select(Channel.id, Channel.name)
    else:
        query = select(Label.id, Label.name)
    return {key: name for key, name in await db.execute(query)}


NOBODY = {"agents": "Unassigned", "teams": "No team", "channels": "—", "labels": "No label"}


# At most this many stale conversations are built before a report is read from the
# pre-aggregate; more (just after an upgrade, or a change of the business hours) and the
# report is computed from the raw histories while the background job catches up.
CATCH_UP_LIMIT = 1000


async def build_report(
    db: AsyncSession,
    viewer: Viewer,
    kind: Kind,
    period: Period,
    filters: Filters,
    *,
    live: bool = False,
) -> Report:
    """The report of ``kind`` over the period, with the viewer's reach applied (an
    agent's filters always name them).

    Read from the pre-aggregate after building what is stale (committed in its own
    transaction first); computed from the histories when too much is stale, when
    another writer holds the database past its bounded wait (a report never fails for
    being asked at a busy moment: the background job builds later), or when ``live``."""
    if not viewer.is_admin:
        filters = Filters(viewer.id, filters.team_id, filters.channel_id, filters.label_id)
    stale = 0 if live else await stale_count(db)
    if not live and stale <= CATCH_UP_LIMIT:
        try:
            while await build_batch(db) == BATCH:
                pass
            await db.commit()
        except DBAPIError as err:
            if not is_busy(err):
                raise
            await db.rollback()
        else:
            return await _from_facts(db, kind, period, filters)
    report = await _from_histories(db, kind, period, filters)
    report.catching_up = stale
    return report


def _report(kind: Kind, period: Period, total: Summary) -> Report:
    return Report(kind, period, period.hours is not None, total)


async def _from_facts(db: AsyncSession, kind: Kind, period: Period, filters: Filters) -> Report:
    where = conditions(
        period, filters.agent_id, filters.team_id, filters.channel_id, filters.label_id
    )
    chosen = filters.by_grain()
    overall = grain_for(None, False, chosen)
    by = kind if kind in GRAIN_OF else None
    grouped = grain_for(by, False, chosen) if by is not None else None
    total, groups = await summaries(db, by, where, period, (overall, grouped))
    report = _report(kind, period, total)
    if kind == "overview":
        counts = await local_counts_of(db, where, DAILY, period, overall)
        report.daily = daily(counts, period.first, period.last)
    elif kind == "heatmap":
        counts = await local_counts_of(
            db, where, ("messages_in",), period, grain_for(None, True, chosen)
        )
        report.heatmap = heatmap(counts)
    else:
        report.rows = await _rows(db, kind, groups)
    return report


async def _from_histories(db: AsyncSession, kind: Kind, period: Period, filters: Filters) -> Report:
    histories = await load_histories(db, period, filters.channel_id)
    facts = [f for h in histories for f in facts_of(h, period) if filters.keeps(f)]
    business = period.hours is not None
    report = _report(kind, period, summarize(facts, business))
    if kind == "overview":
        counts = localize(slot_counts(facts, DAILY), period.zone)
        report.daily = daily(counts, period.first, period.last)
    elif kind == "heatmap":
        report.heatmap = heatmap(localize(slot_counts(facts, ("messages_in",)), period.zone))
    else:
        report.rows = await _rows(db, kind, group(facts, _keys(kind), business))
    return report


async def _rows(db: AsyncSession, kind: Kind, groups: dict[int | None, Summary]) -> list[Row]:
    names = await _names(db, kind)
    return sorted(
        (
            Row(key, names.get(key, f"#{key}") if key is not None else NOBODY[kind], s)
            for key, s in groups.items()
        ),
        key=lambda row: (row.key is None, row.name.lower()),
    )
