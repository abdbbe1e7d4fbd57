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

from sqlalchemy import ColumnElement, FromClause, Select, and_, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.inbox.report_counts import count_tallies, local_counts
from hub.inbox.report_period import Period
from hub.inbox.report_summary import (
    TIMED,
    Durations,
    LocalCounts,
    Summary,
    Tally,
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
) -> dict[int | None, Tally]:
    rating = case((F.metric == "csat", F.value), else_=None)
    query = _grouped(by, F.metric, F.tag, rating, func.count()).where(*where)
    found: dict[int | None, Tally] = defaultdict(Tally)
    for row in await db.execute(query):
        key, (metric, tag, value, n) = _split(by, row)
        found[key].add(metric, tag, int(value) if value is not None else 0, n)
    return dict(found)


def _wanted(size: int) -> tuple[int, ...]:
    # The two middle ranks (one of them the median when odd) and p90's nearest rank.
    return (size // 2, size // 2 + 1, (9 * size + 9) // 10)


async def _durations(
    db: AsyncSession,
    by: Breakdown,
    where: list[ColumnElement[bool]],
    business_hours: bool,
    sizes: dict[tuple[int | None, str], int],
) -> dict[int | None, dict[str, Durations]]:
    """Each group's median and p90 per duration metric, ``sizes`` the groups' counts:
    one numbering of the values per group, keeping only the ranks asked for."""
    if not sizes:
        return {}
    value = F.open_value if business_hours else F.value
    key = _KEYS[by] if by is not None else None
    part = [key, F.metric] if key is not None else [F.metric]
    ranked = (
        select(
            *([key.label("key")] if key is not None else []),
            F.metric.label("metric"),
            value.label("value"),
            func.row_number().over(partition_by=part, order_by=value).label("rank"),
        )
        .select_from(_source(by))
        .where(*where, F.metric.in_(TIMED), value.is_not(None))
        .subquery()
    )
    ranks = sorted({rank for size in sizes.values() for rank in _wanted(size)})
    columns = [ranked.c.key] if key is not None else []
    query = select(*columns, ranked.c.metric, ranked.c.rank, ranked.c.value).where(
        ranked.c.rank.in_(ranks)
    )
    picked: dict[tuple[int | None, str], dict[int, float]] = defaultdict(dict)
    for row in await db.execute(query):
        group, (metric, position, number) = _split(by, row)
        picked[(group, metric)][position] = number
    found: dict[int | None, dict[str, Durations]] = defaultdict(dict)
    for (group, metric), size in sizes.items():
        at = picked[(group, metric)]
        low, high, p90 = _wanted(size)
        middle = at[high] if size % 2 else (at[low] + at[high]) / 2
        found[group][metric] = Durations(size, middle, at[p90])
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
        tallies = await count_tallies(db, grain, key, by is not None, period.first, period.last)
    else:
        tallies = await _counts(db, by, where)
    sizes = {
        (group, metric): n
        for group, tally in tallies.items()
        for metric, n in tally.sizes.items()
        if n
    }
    timed = await _durations(db, by, where, period.hours is not None, sizes)
    return {group: tally.summary(timed.get(group, {})) for group, tally in tallies.items()}


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
