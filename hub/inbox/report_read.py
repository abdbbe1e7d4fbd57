"""Reports read from the pre-aggregate: the same summaries as hub.inbox.report_summary
makes from facts, counted and ranked in SQL.

Counts are sums of the running totals (report_counts) where they hold the report's
grouping and filter, else GROUP BYs over the facts. Medians and 90th percentiles need
every value: the period's durations are read in one pass over a covering index, joined
into a string per group and metric, and ranked in Python as the live path ranks them
(window functions ranking them in SQL were slower on SQLite, and so were rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    select,
)
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
    durations,
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
    query = _grouped(by, F.metric, F.tag, rating, func.count()).where(
        *where, F.metric.not_in(TIMED)
    )
    found: dict[int | None, Tally] = defaultdict(Tally)
    for row in await db.execute(query):
        key, (metric, tag, value, n) = _split(by, row)
        found[key].add(metric, tag, int(value) if value is not None else 0, n)
    return dict(found)


async def _values(
    db: AsyncSession, by: Breakdown, where: list[ColumnElement[bool]], business_hours: bool
) -> dict[int | None, dict[str, list[float]]]:
    """The period's durations per group of ``by`` (None: all under None) and metric."""
    value = F.open_value if business_hours else F.value
    if db.get_bind().dialect.name == "sqlite":
        joined = func.group_concat(value, ",")
    else:
        joined = func.string_agg(cast(value, Text), ",")
    keys = [_KEYS[by]] if by is not None else []
    query = (
        select(*keys, F.metric, joined)
        .select_from(_source(by))
        .where(*where, F.metric.in_(TIMED), value.is_not(None))
        .group_by(*keys, F.metric)
    )
    found: dict[int | None, dict[str, list[float]]] = defaultdict(dict)
    for row in await db.execute(query):
        key, (metric, text) = _split(by, row)
        found[key][metric] = list(map(float, text.split(",")))
    return found


async def _durations(
    db: AsyncSession, by: Breakdown, where: list[ColumnElement[bool]], business_hours: bool
) -> tuple[dict[str, Durations], dict[int | None, dict[str, Durations]]]:
    """The durations' medians and p90s overall and per group of ``by``, ranked as the
    live path ranks them. The values come joined in one string per group and metric:
    SQLite hands over a few long strings far faster than thousands of rows (a duration
    has at most 15 significant digits, hub.inbox.report_facts, so the text is exact)."""
    grouped = await _values(db, by, where, business_hours) if by is not None else {}
    if by is None or by == "labels":
        # A fact counts once overall, though it falls under each label of its conversation.
        overall = (await _values(db, None, where, business_hours)).get(None, {})
    else:
        overall = defaultdict(list)
        for metrics in grouped.values():
            for metric, values in metrics.items():
                overall[metric].extend(values)
    total = {metric: durations(values) for metric, values in overall.items()}
    groups = {
        key: {metric: durations(values) for metric, values in metrics.items()}
        for key, metrics in grouped.items()
    }
    return total, groups


async def _tallies(
    db: AsyncSession,
    by: Breakdown,
    where: list[ColumnElement[bool]],
    period: Period,
    totals: Totals,
) -> dict[int | None, Tally]:
    if totals is None:
        return await _counts(db, by, where)
    grain, key = totals
    return await count_tallies(db, grain, key, by is not None, period.first, period.last)


async def summaries(
    db: AsyncSession,
    by: Breakdown,
    where: list[ColumnElement[bool]],
    period: Period,
    totals: tuple[Totals, Totals],
) -> tuple[Summary, dict[int | None, Summary]]:
    """The period's summary overall, and per group of ``by`` (none when None): counts
    from the running totals where ``totals`` (overall, per group) name them, else from
    the facts; durations from the facts."""
    overall_totals, group_totals = totals
    counted = (await _tallies(db, None, where, period, overall_totals)).get(None, Tally())
    groups = await _tallies(db, by, where, period, group_totals) if by is not None else {}
    timed, timed_groups = await _durations(db, by, where, period.hours is not None)
    for key in timed_groups.keys() - groups.keys():
        groups[key] = Tally()
    return counted.summary(timed), {
        key: tally.summary(timed_groups.get(key, {})) for key, tally in groups.items()
    }


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
