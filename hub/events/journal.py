"""The realtime event log: every domain event, kept a few minutes, so that a websocket
client that reconnects gets exactly what it missed (``/ws?after=<id>``).

Rules kept here, in this order of importance:
- ids become visible in increasing order: appends are serialized (on PostgreSQL by a
  transaction-scoped advisory lock, on SQLite by its single writer), so a reader that
  sees id ``n`` has already seen every logged id below it;
- one append per batch of events: one short transaction and one INSERT, never a round
  trip per event (the inbound pipe's group committer hands a whole batch at once);
- the newest row is never pruned, so the log's high-water mark survives an idle period
  and a restart, and an id is never handed out twice.

The caller (``hub.events.work.publish_events``) holds ``EventJournal.lock`` across the
append and the publishing, so one process publishes its events in id order. Between
processes (the Redis bus) two appends can still reach a client in the opposite order;
docs/decisions.md says what that means.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, TextClause, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events.event import HubEvent
from hub.store.models import RealtimeEvent
from hub.store.pruning import delete_in_batches
from hub.store.types import utcnow

log = logging.getLogger(__name__)

TABLE = cast(Table, RealtimeEvent.__table__)  # the Core table: no ORM per row
# Events that are news only at the moment they happen: never logged, never replayed,
# and sent without an id. Typing, and the Redis bus's own resync (events addressed to
# nobody, such as ``access.changed``, are left out by ``loggable`` anyway).
EPHEMERAL_TYPES = frozenset({"typing", "resync"})
# Any constant both hub versions agree on; it names the append lock among the
# database's advisory locks ("hub-rt" in ASCII).
APPEND_LOCK_KEY = 0x6875622D7274
# A reconnect replays at most this many events (of everyone's); more, and the client is
# told to resync, which is cheaper than a flood of patches.
REPLAY_MAX = 5000
# Rows per INSERT statement: 3 parameters each, well under SQLite's 32,766.
APPEND_CHUNK = 1000
PRUNE_BATCH = 5000  # rows deleted per transaction: short locks, other writers go between


def loggable(event: HubEvent) -> bool:
    """Whether ``event`` goes into the log: not ephemeral, and addressed to someone."""
    return event.type not in EPHEMERAL_TYPES and event.user_ids != frozenset()


@dataclass(frozen=True)
class Replay:
    """What a reconnecting client missed: the logged events after its ``after`` (every
    user's, in id order: the websocket filters them), or ``resync`` when the log no
    longer holds them all."""

    events: list[HubEvent]
    resync: bool
    # The newest id in the log when it was read.
    last_id: int
    # The id up to which the client is now served: the last event read, or ``after``.
    through: int


@functools.lru_cache(maxsize=32)
def _append_statement(count: int) -> TextClause:
    """``INSERT … VALUES (…), … RETURNING id`` of ``count`` rows, named ``created_at0``,
    ``type0``, ``event0``, …: a textual statement, so SQLAlchemy compiles it once per
    row count (a multi-row ``insert().values(rows)`` has no cache key: compiled on every
    append, about half a millisecond for the three events of a lone inbound message)."""
    columns = ("created_at", "type", "event")
    rows = ", ".join("(" + ", ".join(f":{name}{n}" for name in columns) + ")" for n in range(count))
    binds = [
        bindparam(f"{name}{n}", type_=TABLE.c[name].type) for n in range(count) for name in columns
    ]
    # Only the table's name and generated bind names go into the text; values are bound.
    sql = f"INSERT INTO {TABLE.name} (created_at, type, event) VALUES {rows} RETURNING id"  # noqa: S608
    return text(sql).bindparams(*binds)


class EventJournal:
    """Appends, replays and prunes the realtime event log of one database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, keep_seconds: float) -> None:
        self._sessions = sessions
        self.keep_seconds = keep_seconds
        # Most events one reconnect replays (public so a test can lower it).
        self.replay_max = REPLAY_MAX
        # Held by the publisher from the append until its events are on the bus.
        self.lock = asyncio.Lock()

    async def append(self, events: Sequence[HubEvent]) -> list[HubEvent]:
        """Log the loggable ``events`` in one transaction; all of them, in order, the
        logged ones with their ids. Raises the database's error if the append fails."""
        positions = [i for i, event in enumerate(events) if loggable(event)]
        stamped = list(events)
        if not positions:
            return stamped
        async with self._sessions() as db, db.begin():
            connection = await db.connection()
            if connection.dialect.name == "postgresql":
                # Held to the commit: a later append waits, so it gets higher ids AND
                # commits after this one (a sequence alone gives only the first).
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY}
                )
            now = utcnow()
            rows = [
                {"created_at": now, "type": events[i].type, "event": events[i].to_json()}
                for i in positions
            ]
            ids: list[int] = []
            for start in range(0, len(rows), APPEND_CHUNK):
                # One multi-row INSERT (executemany with RETURNING would be a statement
                # per row on SQLite). Both engines number the rows in VALUES order, and
                # nothing else appends meanwhile, so the sorted ids are the rows' ids.
                chunk = rows[start : start + APPEND_CHUNK]
                values = {f"{name}{n}": row[name] for n, row in enumerate(chunk) for name in row}
                result = await connection.execute(_append_statement(len(chunk)), values)
                ids.extend(sorted(result.scalars()))
        for position, event_id in zip(positions, ids, strict=True):
            stamped[position] = replace(events[position], id=event_id)
        return stamped

    async def last_id(self) -> int:
        """The newest id in the log (0 while it is empty)."""
        async with self._sessions() as db:
            newest = await db.scalar(select(func.max(TABLE.c.id)))
        return int(newest or 0)

    async def replay(self, after: int) -> Replay:
        """The logged events after ``after``, or ``resync`` if some are gone (pruned),
        too many (over ``replay_max``), or ``after`` is not an id of this log."""
        limit = self.replay_max
        async with self._sessions() as db:
            # The rows first, the bounds after: a prune in between then shows as a
            # raised lower bound (a needless resync at worst), never as a silent gap.
            rows = (
                await db.execute(
                    select(TABLE.c.id, TABLE.c.event)
                    .where(TABLE.c.id > after)
                    .order_by(TABLE.c.id)
                    .limit(limit + 1)
                )
            ).all()
            low, high = (await db.execute(select(func.min(TABLE.c.id), func.max(TABLE.c.id)))).one()
        newest = int(high or 0)
        gone = low is not None and after < low - 1
        if len(rows) > limit or after > newest or gone:
            return Replay([], resync=True, last_id=newest, through=newest)
        events = []
        for event_id, raw in rows:
            try:
                events.append(replace(HubEvent.from_json(raw), id=event_id))
            except (ValueError, KeyError, TypeError) as err:
                # Written by another version of the hub? Skip it rather than fail.
                log.warning("realtime log: unreadable event %s: %s", event_id, err)
        return Replay(events, resync=False, last_id=newest, through=rows[-1][0] if rows else after)

    async def prune(self, now: datetime | None = None) -> int:
        """Delete the events older than ``keep_seconds``, except the newest; how many."""
        cutoff = (now or utcnow()) - timedelta(seconds=self.keep_seconds)
        async with self._sessions() as db:
            newest = await db.scalar(select(func.max(TABLE.c.id)))
            old = await db.scalar(select(func.max(TABLE.c.id)).where(TABLE.c.created_at < cutoff))
        if newest is None or old is None:
            return 0
        upto = min(int(old), int(newest) - 1)  # the newest stays: it is the high-water mark
        deleted = await delete_in_batches(
            self._sessions, RealtimeEvent, TABLE.c.id <= upto, PRUNE_BATCH
        )
        if deleted:
            log.debug("realtime log: %s events past %ss deleted", deleted, self.keep_seconds)
        return deleted
