"""The group committer: jobs waiting together share one transaction, each in its own
savepoint; nobody hears of success before the commit; a poison job fails alone; stopping
drains the queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.channels.group_commit import CommitterStopped, GroupCommitter
from hub.events.event import HubEvent
from hub.events.factory import create_bus
from hub.events.work import Work
from hub.store.models import Team
from tests.statements import recorded

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def committer(db: Sessions) -> Any:
    bus = create_bus("memory://")
    await bus.start()
    committer = GroupCommitter(db, bus, None, batch_max=50)
    committer.start()
    yield committer
    await committer.stop()
    await bus.stop()


def add_team(name: str) -> Callable[[Work], Any]:
    async def job(work: Work) -> str:
        work.db.add(Team(name=name))
        await work.db.flush()
        work.emit(HubEvent("team.added", {"name": name}))
        return name

    return job


async def teams(db: Sessions) -> list[str]:
    async with db() as session:
        return sorted(await session.scalars(select(Team.name)))


async def test_jobs_submitted_together_commit_in_one_transaction(
    committer: GroupCommitter, db: Sessions
) -> None:
    results = await asyncio.gather(*(committer.submit(add_team(f"t{i}")) for i in range(10)))

    assert results == [f"t{i}" for i in range(10)]
    assert committer.stats.batches == 1 and committer.stats.largest == 10
    assert await teams(db) == sorted(f"t{i}" for i in range(10))


async def test_the_batch_is_capped_at_batch_max(db: Sessions) -> None:
    bus = create_bus("memory://")
    committer = GroupCommitter(db, bus, None, batch_max=3)
    committer.start()

    await asyncio.gather(*(committer.submit(add_team(f"t{i}")) for i in range(7)))
    await committer.stop()

    assert committer.stats.sizes == [3, 3, 1]


async def test_a_job_hears_of_success_only_after_its_commit(
    committer: GroupCommitter, db: Sessions
) -> None:
    seen_before_answer: list[list[str]] = []

    async def job(work: Work) -> None:
        work.db.add(Team(name="late"))
        await work.db.flush()
        # Another connection must not see the row while the batch is still open.
        seen_before_answer.append(await teams(db))

    await committer.submit(job)

    assert seen_before_answer == [[]]
    assert await teams(db) == ["late"]


async def test_a_failing_job_rolls_back_alone(committer: GroupCommitter, db: Sessions) -> None:
    async def poison(work: Work) -> None:
        work.db.add(Team(name="poison"))
        await work.db.flush()
        raise ValueError("bad request")

    results = await asyncio.gather(
        committer.submit(add_team("a")),
        committer.submit(poison),
        committer.submit(add_team("b")),
        return_exceptions=True,
    )

    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], ValueError)
    assert await teams(db) == ["a", "b"]
    assert committer.stats.batches == 1


async def test_a_job_that_breaks_the_commit_does_not_fail_its_neighbours(
    committer: GroupCommitter, db: Sessions
) -> None:
    def refuse(session: Any) -> None:
        if not session.in_nested_transaction():  # the batch's commit, not a savepoint's
            raise RuntimeError("commit refused")

    async def poison(work: Work) -> None:
        # Fails its batch at commit time, not inside its savepoint: the hardest case.
        event.listen(work.db.sync_session, "before_commit", refuse)

    results = await asyncio.gather(
        committer.submit(add_team("a")),
        committer.submit(poison),
        committer.submit(add_team("b")),
        return_exceptions=True,
    )

    assert results[0] == "a" and results[2] == "b"
    assert isinstance(results[1], RuntimeError)
    assert await teams(db) == ["a", "b"]
    assert committer.stats.retried_alone == 3


async def test_events_of_a_failed_job_are_never_published(
    committer: GroupCommitter, db: Sessions
) -> None:
    bus = committer._bus
    subscription = bus.subscribe()

    async def poison(work: Work) -> None:
        work.emit(HubEvent("never", {}))
        raise ValueError("no")

    await asyncio.gather(
        committer.submit(add_team("a")), committer.submit(poison), return_exceptions=True
    )
    subscription.close()

    assert [e.type async for e in subscription] == ["team.added"]


async def test_stopping_drains_the_queue_and_then_refuses(db: Sessions) -> None:
    bus = create_bus("memory://")
    committer = GroupCommitter(db, bus, None, batch_max=2)
    committer.start()
    pending = [asyncio.ensure_future(committer.submit(add_team(f"t{i}"))) for i in range(5)]
    await asyncio.sleep(0)  # the jobs are queued

    await committer.stop()

    assert [p.result() for p in pending] == [f"t{i}" for i in range(5)]
    with pytest.raises(CommitterStopped):
        await committer.submit(add_team("late"))
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(Team)) == 5


async def test_a_fast_hook_takes_the_jobs_it_claims_and_the_others_run_one_by_one(
    committer: GroupCommitter, db: Sessions
) -> None:
    subscription = committer._bus.subscribe()
    claimed: list[list[Any]] = []

    async def fast(session: AsyncSession, hints: list[Any]) -> dict[int, tuple[Work, Any]]:
        claimed.append(hints)
        taken: dict[int, tuple[Work, Any]] = {}
        for position, hint in enumerate(hints):
            if hint is not None and hint.startswith("fast"):
                work = Work(session)
                session.add(Team(name=hint))
                work.emit(HubEvent("team.added", {"name": hint}))
                taken[position] = (work, f"{hint} (set-based)")
        return taken

    committer.fast = fast
    names = ["fast0", "slow0", "fast1", "slow1"]
    results = await asyncio.gather(
        *(committer.submit(add_team(n), hint=n if n.startswith("fast") else None) for n in names)
    )

    assert results == ["fast0 (set-based)", "slow0", "fast1 (set-based)", "slow1"]
    assert claimed == [["fast0", None, "fast1", None]]
    assert committer.stats.fast == 2 and committer.stats.batches == 1
    assert await teams(db) == sorted(names)
    subscription.close()
    announced = sorted(e.data["name"] for e in [e async for e in subscription])
    assert announced == sorted(names)


async def test_a_failing_fast_hook_leaves_the_batch_to_the_careful_way(
    committer: GroupCommitter, db: Sessions
) -> None:
    async def fast(session: AsyncSession, hints: list[Any]) -> dict[int, tuple[Work, Any]]:
        session.add(Team(name="half-done"))
        await session.flush()
        raise RuntimeError("a unique constraint, say")

    committer.fast = fast
    results = await asyncio.gather(*(committer.submit(add_team(f"t{i}"), hint=i) for i in range(3)))

    assert results == ["t0", "t1", "t2"]
    assert committer.stats.retried_careful == 1 and committer.stats.fast == 0
    assert await teams(db) == ["t0", "t1", "t2"]  # nothing of the failed attempt


async def test_a_job_alone_runs_the_optimistic_way_without_a_savepoint(
    committer: GroupCommitter, db: Sessions
) -> None:
    # At a low rate every job arrives alone: its batch of one must not pay a SAVEPOINT,
    # a RELEASE and their flushes (the careful way is only the fallback).
    with recorded(db.kw["bind"]) as seen:
        assert await committer.submit(add_team("alone")) == "alone"

    assert not [s for s in seen if "SAVEPOINT" in s]
    assert (committer.stats.batches, committer.stats.retried_careful) == (1, 0)
    assert await teams(db) == ["alone"]


async def test_a_job_alone_that_fails_is_run_again_in_its_savepoint(
    committer: GroupCommitter, db: Sessions
) -> None:
    tries: list[int] = []

    async def flaky(work: Work) -> str:
        # Fails once (as a unique-key race with another process would), then succeeds.
        tries.append(1)
        work.db.add(Team(name="flaky"))
        await work.db.flush()
        if len(tries) == 1:
            raise ValueError("first try")
        return "stored"

    async def poison(work: Work) -> None:
        work.db.add(Team(name="poison"))
        await work.db.flush()
        raise ValueError("bad request")

    assert await committer.submit(flaky) == "stored"
    with pytest.raises(ValueError, match="bad request"):
        await committer.submit(poison)

    assert len(tries) == 2
    assert committer.stats.retried_careful == 2
    assert await teams(db) == ["flaky"]  # stored once; the poison not at all
