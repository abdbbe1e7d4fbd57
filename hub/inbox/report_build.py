"""Building the reports' pre-aggregate: the facts of every conversation whose history
changed since its facts were last written (docs/reports.md, "How reports stay fast and
exact").

The database marks a conversation stale (``report_versions.version`` moves past
``built``) in the same transaction as any change a report reads. A build reads the
stale conversations' versions, their whole histories, computes their facts, and then
claims each conversation only if its version is still the one it read: a change made
meanwhile keeps it stale for the next build, so no change is ever lost, and two hub
processes building at once never both write one conversation's facts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.business_hours import hours_for, weekly
from hub.inbox.report_counts import COUNT_COLUMNS, apply_counts
from hub.inbox.report_facts import Fact, history_facts
from hub.inbox.report_load import histories_of
from hub.inbox.report_summary import slot_of
from hub.store.models import ReportFact, ReportVersion

# Conversations built per transaction when a report catches up before it reads.
BATCH = 500
# The background job's batches are smaller, and it rests twice as long as each batch
# took before the next: catching up on many stale conversations (after an upgrade, or
# a change of business hours: minutes of work on a large workspace) then takes at most
# a third of the process's time, one short writer transaction and one short stretch of
# Python at a time, instead of holding the event loop and SQLite's writer from the
# inbox's requests and webhooks (docs/performance.md, "Reports built beside the inbox").
JOB_BATCH = 100
JOB_BATCHES = 100
JOB_REST = 2.0

_STALE = ReportVersion.version > ReportVersion.built


async def stale_count(db: AsyncSession) -> int:
    """How many conversations' facts wait to be built."""
    return int(await db.scalar(select(func.count()).select_from(ReportVersion).where(_STALE)) or 0)


def _row(f: Fact, zone: ZoneInfo) -> dict[str, Any]:
    local = f.at.astimezone(zone)
    return {
        "conversation_id": f.conversation_id,
        "metric": f.metric,
        "at": f.at,
        "slot": slot_of(f.at),
        "agent_id": f.agent_id,
        "team_id": f.team_id,
        "channel_id": f.channel_id,
        "value": f.value,
        "open_value": f.open_value,
        "tag": f.tag,
        "day": local.date(),
        "hour": local.hour,
        "labels": ",".join(str(label) for label in f.label_ids),
    }


async def _claim(db: AsyncSession, read: Sequence[tuple[int, int]]) -> set[int]:
    """Mark built the conversations whose version is still the one read; their ids."""
    claimed = await db.scalars(
        update(ReportVersion)
        .where(tuple_(ReportVersion.conversation_id, ReportVersion.version).in_(read), _STALE)
        .values(built=ReportVersion.version)
        .returning(ReportVersion.conversation_id)
        .execution_options(synchronize_session=False)
    )
    return set(claimed)


async def build_batch(db: AsyncSession, limit: int = BATCH) -> int:
    """Build the facts of up to ``limit`` stale conversations in the session's
    transaction (the caller commits); how many stale conversations were read."""
    read = [
        (conversation_id, version)
        for conversation_id, version in await db.execute(
            select(ReportVersion.conversation_id, ReportVersion.version)
            .where(_STALE)
            .order_by(ReportVersion.conversation_id)
            .limit(limit)
        )
    ]
    if not read:
        return 0
    row = await hours_for(db, None)
    hours = weekly(row) if row is not None else None
    zone = ZoneInfo(row.time_zone) if row is not None else ZoneInfo("UTC")
    histories = await histories_of(db, [conversation_id for conversation_id, _ in read])
    facts = [f for history in histories for f in history_facts(history, hours)]
    claimed = await _claim(db, read)
    if claimed:
        rows = [_row(f, zone) for f in facts if f.conversation_id in claimed]
        await apply_counts(db, await _old_counts(db, claimed), rows)
        await db.execute(delete(ReportFact).where(ReportFact.conversation_id.in_(claimed)))
        if rows:
            await db.execute(insert(ReportFact), rows)
    return len(read)


async def _old_counts(db: AsyncSession, claimed: set[int]) -> list[dict[str, Any]]:
    """The facts the claimed conversations have now (what they added before)."""
    columns = [ReportFact.__table__.c[name] for name in COUNT_COLUMNS]
    found = await db.execute(select(*columns).where(ReportFact.conversation_id.in_(claimed)))
    return [dict(row._mapping) for row in found]


async def build_stale(
    sessions: async_sessionmaker[AsyncSession],
    limit: int = JOB_BATCH,
    max_batches: int = JOB_BATCHES,
    *,
    rest: float = 0.0,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Build the stale conversations' facts, a batch per transaction, until none is left,
    ``max_batches`` were built or ``stopping()`` (bounded, so stopping the hub never
    waits long); how many were read. After each full batch it sleeps ``rest`` times as
    long as the batch took, leaving the rest of the process's time to others."""
    total = 0
    for _ in range(max_batches):
        started = time.perf_counter()
        async with sessions() as db:
            read = await build_batch(db, limit)
            await db.commit()
        total += read
        if read < limit or stopping():
            break
        if rest:
            await asyncio.sleep((time.perf_counter() - started) * rest)
    return total
