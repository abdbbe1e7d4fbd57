"""report_counts, the reports' running totals: how many facts of each counted metric
(not the durations) fell on each local day, overall and per agent, team, channel and
label. The builder adds a rebuilt conversation's new counts and takes away its old ones
in the same transaction as its facts, so the totals always equal a count of the facts.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.report_summary import TIMED, LocalCounts, Tally
from hub.store.models import ReportCount

# The columns of a stored fact that say what it added to the totals.
COUNT_COLUMNS = (
    "metric",
    "day",
    "hour",
    "agent_id",
    "team_id",
    "channel_id",
    "tag",
    "value",
    "labels",
)
# A breakdown's grain (report kind → grain), and the filters' (filter → grain).
GRAIN_OF = {"agents": "agent", "teams": "team", "channels": "channel", "labels": "label"}
# (grain, day, key, metric, hour, tag, rating): report_counts' unique key.
CountKey = tuple[str, date, int, str, int, str, int]
_UNIQUE = ("grain", "day", "key", "metric", "hour", "tag", "rating")


def contributions(facts: Iterable[Mapping[str, Any]]) -> Counter[CountKey]:
    """What stored facts (rows of ``COUNT_COLUMNS``) add to each total."""
    found: Counter[CountKey] = Counter()
    for f in facts:
        metric = f["metric"]
        if metric in TIMED:
            continue  # their medians need the values: report_facts has them
        day, tag = f["day"], f["tag"] or ""
        rating = int(f["value"]) if metric == "csat" and f["value"] is not None else 0
        found[("all", day, 0, metric, f["hour"], tag, rating)] += 1
        for grain, key in (
            ("agent", f["agent_id"]),
            ("team", f["team_id"]),
            ("channel", f["channel_id"]),
        ):
            found[(grain, day, key or 0, metric, -1, tag, rating)] += 1
        for label in f["labels"].split(",") if f["labels"] else ("0",):
            found[("label", day, int(label), metric, -1, tag, rating)] += 1
    return found


async def apply_counts(
    db: AsyncSession, old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]
) -> None:
    """Replace what the ``old`` facts added to the totals by what the ``new`` ones add."""
    delta = contributions(new)
    delta.subtract(contributions(old))
    # In key order: two builders on PostgreSQL then lock shared rows in the same order.
    rows = [
        dict(zip(_UNIQUE, key, strict=True)) | {"n": n} for key, n in sorted(delta.items()) if n
    ]
    if not rows:
        return
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else pg_insert
    statement = insert(ReportCount)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=list(_UNIQUE), set_={"n": ReportCount.n + statement.excluded.n}
        ),
        rows,
    )


def grain_for(
    by: str | None, hourly: bool, filters: Mapping[str, int]
) -> tuple[str, int | None] | None:
    """The totals that answer a report grouped ``by`` a breakdown (None: not grouped),
    ``hourly`` or by day, under ``filters`` (grain → id): the grain and the one key to
    keep; None when only the facts can (two filters, or a filter across a breakdown)."""
    if len(filters) > 1 or (hourly and filters):
        return None
    grain = GRAIN_OF[by] if by is not None else "all"
    if not filters:
        return grain, None
    ((filtered, key),) = filters.items()
    # A fact has one agent, team and channel but any number of labels: a label filter
    # keeps the other labels of the conversations it keeps, which the totals cannot say.
    if by is not None and (filtered != grain or grain == "label"):
        return None
    return filtered, key


def _where(grain: str, key: int | None, first: date, last: date) -> list[ColumnElement[bool]]:
    found = [ReportCount.grain == grain, ReportCount.day.between(first, last)]
    return found if key is None else [*found, ReportCount.key == key]


async def count_tallies(
    db: AsyncSession, grain: str, key: int | None, grouped: bool, first: date, last: date
) -> dict[int | None, Tally]:
    """The counts of the days ``first`` … ``last``: one tally per key when ``grouped``
    (0, nobody, as None), else one under None."""
    c = ReportCount
    columns = [c.metric, c.tag, c.rating]
    keys = [c.key] if grouped else []
    query = (
        select(*keys, *columns, func.sum(c.n))
        .where(*_where(grain, key, first, last))
        .group_by(*keys, *columns)
        .having(func.sum(c.n) != 0)
    )
    found: dict[int | None, Tally] = defaultdict(Tally)
    for row in await db.execute(query):
        values: tuple[Any, ...] = tuple(row)
        group = (values[0] or None) if grouped else None
        metric, tag, rating, n = values[1:] if grouped else values
        found[group].add(metric, tag or None, rating, int(n))
    return dict(found)


async def local_counts(
    db: AsyncSession, grain: str, key: int | None, metrics: Iterable[str], first: date, last: date
) -> LocalCounts:
    """How many facts of each of ``metrics`` fell on each local day (and hour, for grain
    "all"; -1 for the others)."""
    c = ReportCount
    query = (
        select(c.metric, c.day, c.hour, func.sum(c.n))
        .where(*_where(grain, key, first, last), c.metric.in_(list(metrics)))
        .group_by(c.metric, c.day, c.hour)
    )
    return {(metric, day, hour): int(n) for metric, day, hour, n in await db.execute(query)}
