"""Reports read from the pre-aggregate: the same summaries as hub.inbox.report_summary
makes from facts, counted and ranked in SQL.

Counts are sums of the running totals (report_counts) where they hold the report's
grouping and filter, else GROUP BYs over the facts; medians and 90th percentiles are
found with window functions over the facts, which return only the two middle values and
the p90 value of each group, so no query brings back more than a few rows per group.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.inbox.report_counts import count_summaries, local_counts
from hub.inbox.report_period import Period
from hub.inbox.report_summary import (
    COUNTED,
    TIMED,
    Durations,
    LocalCounts,
    Summary,
    csat_summary,
    localize,
)
from hub.store.models import ConversationLabel, ReportFact

F = ReportFact
# Group by nothing (one summary, key None), or by one of the fact's columns.
Breakdown = str | None
# The running totals' grain and key that answer a report's counts (None: the facts do).
Totals = tuple[str, int | None] | None
_KEYS: dict[str, Any] = {
    "agents": F.agent_id,
    "teams": F.team_id,
    "channels": F.channel_id,
    "labels": ConversationLabel.label_id,
}


def conditions(
    period: Period,
    agent_id: int | None,
    team_id: int | None,
    channel_id: int | None,
    label_id: int | None,
) -> list[ColumnElement[bool]]:
    """The facts of the period that pass the filters."""
    found: list[ColumnElement[bool]] = [F.at >= period.start, F.at < period.end]
    if agent_id is not None:
        found.append(F.agent_id == agent_id)
    if team_id is not None:
        found.append(F.team_id == team_id)
    if channel_id is not None:
        found.append(F.channel_id == channel_id)
    if label_id is not None:
        # Its own alias: the labels breakdown joins conversation_labels too.
        carries = aliased(ConversationLabel)
        found.append(
            exists()
            .where(carries.conversation_id == F.conversation_id, carries.label_id == label_id)
            .correlate(F)
        )
    return found


def _source(by: Breakdown) -> FromClause:
    # A fact falls under each of its conversation's labels, and under none without one.
    table = F.__table__
    if by == "labels":
        return table.outerjoin(
            ConversationLabel.__table__, ConversationLabel.conversation_id == F.conversation_id
        )
    return table


def _grouped(by: Breakdown, *columns: Any) -> Select[Any]:
    key = _KEYS[by] if by is not None else None
    keys = [key] if key is not None else []
    return select(*keys, *columns).select_from(_source(by)).group_by(*keys, *columns[:-1])


def _split(by: Breakdown, row: Sequence[Any]) -> tuple[int | None, Sequence[Any]]:
    return (row[0], row[1:]) if by is not None else (None, row)


async def _counts(
    db: AsyncSession, by: Breakdown, where: list[ColumnElement[bool]]
) -> dict[int | None, Summary]:
    rating = case((F.metric == "csat", F.value), else_=None)
    query = _grouped(by, F.metric, F.tag, rating, func.count()).where(
        *where, F.metric.in_((*COUNTED, "csat"))
    )
    summaries: dict[int | None, Summary] = defaultdict(Summary)
    ratings: dict[int | None, dict[int, int]] = defaultdict(dict)
    for row in await db.execute(query):
        key, (metric, tag, value, n) = _split(by, row)
        summary = summaries[key]
        if metric in summary.counts:
            summary.counts[metric] += n
        if metric == "sla_breaches" and tag is not None:
            summary.sla_by_target[tag] = summary.sla_by_target.get(tag, 0) + n
        if metric == "csat" and value is not None:
            ratings[key][int(value)] = ratings[key].get(int(value), 0) + n
    for key, distribution in ratings.items():
        csat_summary(summaries[key], distribution)
    return dict(summaries)


async def _durations(
    db: AsyncSession, by: Breakdown, where: list[ColumnElement[bool]], business_hours: bool
) -> dict[int | None, dict[str, Durations]]:
    value = F.open_value if business_hours else F.value
    key = _KEYS[by] if by is not None else None
    part = [key, F.metric] if key is not None else [F.metric]
    ranked = (
        select(
            *([key.label("key")] if key is not None else []),
            F.metric.label("metric"),
            value.label("value"),
            func.row_number().over(partition_by=part, order_by=value).label("rank"),
            func.count().over(partition_by=part).label("n"),
        )
        .select_from(_source(by))
        .where(*where, F.metric.in_(TIMED), value.is_not(None))
        .subquery()
    )
    n, rank = ranked.c.n, ranked.c.rank
    # The two middle ranks (one of them the median when n is odd) and p90's nearest rank.
    wanted = or_(rank == n // 2, rank == n // 2 + 1, rank == (9 * n + 9) // 10)
    columns = [ranked.c.key] if key is not None else []
    query = select(*columns, ranked.c.metric, n, rank, ranked.c.value).where(wanted)
    picked: dict[tuple[int | None, str], dict[int, float]] = defaultdict(dict)
    sizes: dict[tuple[int | None, str], int] = {}
    for row in await db.execute(query):
        group, (metric, size, position, number) = _split(by, row)
        picked[(group, metric)][position] = number
        sizes[(group, metric)] = size
    found: dict[int | None, dict[str, Durations]] = defaultdict(dict)
    for (group, metric), size in sizes.items():
        at = picked[(group, metric)]
        middle = at[size // 2 + 1] if size % 2 else (at[size // 2] + at[size // 2 + 1]) / 2
        found[group][metric] = Durations(size, middle, at[(9 * size + 9) // 10])
    return found


async def summaries(
    db: AsyncSession,
    by: Breakdown,
    where: list[ColumnElement[bool]],
    period: Period,
    totals: Totals,
) -> dict[int | None, Summary]:
    """The summary of each group (``by`` None: one, under the key None): counts from
    the running totals when ``totals`` names them, else from the facts; durations
    ranked from the facts."""
    if totals is not None:
        grain, key = totals
        found = await count_summaries(db, grain, key, by is not None, period.first, period.last)
    else:
        found = await _counts(db, by, where)
    timed = await _durations(db, by, where, period.hours is not None)
    for key in timed.keys() - found.keys():
        found[key] = Summary()
    for key, summary in found.items():
        summary.durations = {name: Durations(0, None, None) for name in TIMED}
        summary.durations.update(timed.get(key, {}))
    return found


async def local_counts_of(
    db: AsyncSession,
    where: list[ColumnElement[bool]],
    metrics: Sequence[str],
    period: Period,
    totals: Totals,
) -> LocalCounts:
    """How many facts of each of ``metrics`` fell on each local day and hour: from the
    running totals when ``totals`` names them, else counted per quarter hour in the
    facts and placed on the wall clock."""
    if totals is not None:
        grain, key = totals
        return await local_counts(db, grain, key, metrics, period.first, period.last)
    query = (
        select(F.metric, F.slot, func.count())
        .where(and_(*where), F.metric.in_(metrics))
        .group_by(F.metric, F.slot)
    )
    slots = {(metric, slot): n for metric, slot, n in await db.execute(query)}
    return localize(slots, period.zone)
