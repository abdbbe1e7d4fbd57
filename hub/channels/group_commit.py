"""Group commit: the inbound jobs that arrive together share one transaction.

A webhook is acknowledged only after what it caused is committed. One commit per
request caps SQLite at a few hundred requests a second (each commit is a write-lock
round trip); committing the jobs waiting in the queue together, each in its own
SAVEPOINT, lifts that to thousands while keeping every answer after its commit.

Rules kept here, in this order of importance:
- a job's caller hears its result only after the batch holding it committed;
- one failing job rolls back to its savepoint and fails alone;
- if the batch commit itself fails, every job that had succeeded is run again alone,
  so one poison job cannot fail its neighbours;
- stopping drains the queue: a job accepted is a job answered.

A ``fast`` hook may take the common jobs of an optimistic batch together in a few
set-based statements (``hub.inbox.intake_fast``); the careful way never uses it.

A batch is first tried optimistically, every job straight in the one transaction with
no savepoints: a SAVEPOINT and its RELEASE are two statements, and each forces a flush,
so per job they cost more than a typical job's own writes. Jobs almost never fail; when
one does, the whole attempt is rolled back and the batch is run again the careful way,
one savepoint per job. Jobs must therefore be safe to run again, which they already had
to be for the run-alone path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pluggy
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.events.bus import EventBus
from hub.events.work import Work, announce_all, before_commit
from hub.observers import Observers

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[Work], Awaitable[T]]
# Called once per optimistic batch, before its jobs, with the hints they were submitted
# with: loads what they will look up, in a few statements instead of a few per job.
Prepare = Callable[[AsyncSession, list[Any]], Awaitable[None]]
# Called once per optimistic batch, after ``prepare``, with every job's hint (None where
# it has none): runs the jobs it can handle together, set-based, and returns their Work
# and value by position in the batch; the other jobs then run one by one as usual.
Fast = Callable[[AsyncSession, list[Any]], Awaitable[dict[int, tuple[Work, Any]]]]


class CommitterStopped(Exception):
    """The committer is stopped (the hub is shutting down): no new job is accepted."""


@dataclass
class _Pending(Generic[T]):
    run: Job[T]
    future: asyncio.Future[T]
    hint: Any = None
    work: Work | None = None
    value: Any = None
    error: BaseException | None = None


@dataclass
class BatchStats:
    """What the committer did, for tests and metrics: transactions and their sizes."""

    batches: int = 0
    jobs: int = 0
    largest: int = 0
    retried_alone: int = 0
    # Batches whose optimistic attempt failed and were run again with savepoints.
    retried_careful: int = 0
    # Committed jobs that the set-based ``fast`` hook took.
    fast: int = 0
    sizes: list[int] = field(default_factory=list)

    def record(self, size: int) -> None:
        """Count one committed transaction of ``size`` jobs."""
        self.batches += 1
        self.jobs += size
        self.largest = max(self.largest, size)
        # Only the recent sizes: a long-running hub must not grow this list forever.
        self.sizes = [*self.sizes[-99:], size]


class GroupCommitter:
    """Runs submitted jobs in shared transactions, one batch at a time.

    ``submit(job)`` returns the job's value once its batch has committed (or raises the
    job's exception). A job gets a ``Work`` whose session is the batch's session; its
    realtime events and observer notices go out after the commit, as with
    ``unit_of_work``.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        observers: Observers | None,
        *,
        batch_max: int,
        prepare: Prepare | None = None,
        fast: Fast | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._observers = observers
        self._hooks = observers.hooks if observers is not None else None
        self._batch_max = batch_max
        # Public so a test can wrap or turn off either hook (None: not used).
        self.prepare = prepare
        self.fast = fast
        # None is the stop mark: every job queued before it is still run.
        self._queue: asyncio.Queue[_Pending[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self.stats = BatchStats()

    def start(self) -> None:
        """Start taking jobs."""
        self._accepting = True
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Refuse new jobs, finish every queued one, then stop."""
        self._accepting = False
        if self._task is None:
            return
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    @property
    def backlog(self) -> int:
        """How many submitted jobs wait for a batch (for tests and metrics)."""
        return self._queue.qsize()

    async def submit(self, run: Job[T], hint: Any = None) -> T:
        """Run ``run`` in the next batch; its value once committed, or its exception.

        ``hint`` (if not None) is handed to ``prepare`` with the batch's other hints.
        """
        if not self._accepting:
            raise CommitterStopped("the inbound pipe is stopping")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(run, future, hint))
        return await future

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._batch_max and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            try:
                await self._run_batch(batch)
            except Exception as err:  # never let the loop die: fail the batch's callers
                log.exception("inbound batch failed unexpectedly")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(err)

    async def _run_batch(self, batch: list[_Pending[Any]]) -> None:
        # A batch of one too: at a low rate every message arrives alone, and its savepoint
        # (two statements and a flush) and per-message lookups cost more than the batch's
        # few set-based ones. Its careful run below is only the fallback.
        if await self._run_together(batch):
            await self._committed(batch)
            return
        self.stats.retried_careful += 1
        try:
            async with self._sessions() as db:
                await _begin(db)
                for pending in batch:
                    await _run_in_savepoint(db, pending, self._hooks)
                await before_commit(db, _works_of(batch))
                await db.commit()
        except Exception:
            if len(batch) == 1:
                raise
            log.warning("committing a batch of %d failed; running each alone", len(batch))
            self.stats.retried_alone += len(batch)
            for pending in batch:
                if pending.error is None:
                    await self._run_alone(pending)
                else:
                    _settle(pending)
            return
        await self._committed(batch)

    async def _run_together(self, batch: list[_Pending[Any]]) -> bool:
        """The optimistic attempt: every job in one transaction, no savepoints. True once
        committed; False, with everything rolled back, if any job or the commit failed."""
        done: list[tuple[Work, Any]] = []
        handled: dict[int, tuple[Work, Any]] = {}
        try:
            async with self._sessions() as db:
                await _begin(db)
                hints = [p.hint for p in batch]
                given = [hint for hint in hints if hint is not None]
                if self.prepare is not None and given:
                    await self.prepare(db, given)
                handled = await self.fast(db, hints) if self.fast is not None and given else {}
                for position, pending in enumerate(batch):
                    if position in handled:
                        done.append(handled[position])
                        continue
                    work = Work(db, hooks=self._hooks)
                    done.append((work, await pending.run(work)))
                await before_commit(db, [work for work, _ in done])
                await db.commit()
        except Exception as err:  # any failure means: run the batch the careful way
            log.debug(
                "optimistic batch of %d failed (%s); running it with savepoints",
                len(batch),
                type(err).__name__,
            )
            return False
        self.stats.fast += len(handled)
        for pending, (work, value) in zip(batch, done, strict=True):
            pending.work, pending.value, pending.error = work, value, None
        return True

    async def _committed(self, batch: list[_Pending[Any]]) -> None:
        self.stats.record(len(batch))
        log.debug("committed an inbound batch of %d", len(batch))
        await self._announce(batch)
        for pending in batch:
            _settle(pending)

    async def _run_alone(self, pending: _Pending[Any]) -> None:
        pending.work, pending.value, pending.error = None, None, None
        try:
            async with self._sessions() as db:
                await _begin(db)
                await _run_in_savepoint(db, pending, self._hooks)
                await before_commit(db, _works_of([pending]))
                await db.commit()
        except Exception as err:
            pending.error = err
        else:
            self.stats.record(1)
            await self._announce([pending])
        _settle(pending)

    async def _announce(self, batch: list[_Pending[Any]]) -> None:
        """Announce the committed jobs of ``batch`` together: their events go into the
        realtime event log in one append, not one per job."""
        works = [p.work for p in batch if p.work is not None and p.error is None]
        if not works:
            return
        try:
            await announce_all(works, self._bus, self._observers)
        except Exception:
            # Committed is committed: a bus hiccup must not turn into a provider retry.
            log.exception("announcing an inbound batch's events failed")


def _works_of(batch: list[_Pending[Any]]) -> list[Work]:
    """The units of work of the jobs that succeeded (a failed savepoint's are dropped)."""
    return [p.work for p in batch if p.work is not None and p.error is None]


async def _begin(db: AsyncSession) -> None:
    """Open the batch's transaction. On SQLite, explicitly and IMMEDIATE: the driver
    starts transactions lazily at the first write, so a SAVEPOINT coming first would
    start (and its RELEASE commit) a transaction of its own; IMMEDIATE also takes the
    write lock up front (waiting busy_timeout) instead of failing on upgrade."""
    connection = await db.connection()
    if connection.dialect.name == "sqlite":
        # Straight to the driver: no ORM execution machinery for a fixed statement.
        await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _run_in_savepoint(
    db: AsyncSession, pending: _Pending[Any], hooks: pluggy.HookRelay | None
) -> None:
    """Run one job in its savepoint. A unique-constraint race with another process
    (PostgreSQL) is retried once: the retry's checks then see the other's row."""
    for attempt in (1, 2):
        work = Work(db, hooks=hooks)
        try:
            async with db.begin_nested():
                value = await pending.run(work)
        except IntegrityError as err:
            if attempt == 2:
                pending.error = err
            continue
        except Exception as err:
            pending.error = err
            return
        pending.work, pending.value, pending.error = work, value, None
        return


def _settle(pending: _Pending[Any]) -> None:
    if pending.future.done():  # the caller went away (cancelled): nothing to tell
        return
    if pending.error is not None:
        pending.future.set_exception(pending.error)
    else:
        pending.future.set_result(pending.value)
