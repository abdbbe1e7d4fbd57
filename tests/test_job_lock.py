"""Jobs that several hub processes would only repeat run in one process at a time
(``hub.store.job_lock``), and the wiring puts exactly those under the lock."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from sqlalchemy import text

from hub import appkeys
from hub.settings import Settings
from hub.store.engine import create_engine
from hub.store.job_lock import LOCK_NAMESPACE, lock_key, run_exclusively
from hub.wiring_jobs import periodic_jobs

EXCLUSIVE = {
    "report_facts",
    "prune_inbound_log",
    "prune_audit_log",
    "prune_idempotency_keys",
    "prune_realtime_log",
}


async def test_a_job_runs_once_while_another_process_runs_it(db_url: str) -> None:
    first, second = create_engine(db_url), create_engine(db_url)  # two processes' pools
    started, release = asyncio.Event(), asyncio.Event()
    runs: list[str] = []

    async def slow() -> None:
        runs.append("first")
        started.set()
        await release.wait()

    async def quick() -> None:
        runs.append("second")

    try:
        holder = asyncio.create_task(run_exclusively(first, "prune", slow))
        await started.wait()
        ran = await run_exclusively(second, "prune", quick)
        other = await run_exclusively(second, "another job", quick)
        release.set()
        assert await holder is True
        after = await run_exclusively(second, "prune", quick)
    finally:
        await first.dispose()
        await second.dispose()
    if db_url.startswith("sqlite"):
        # One hub process on SQLite: no lock, every call runs.
        assert (ran, other, after) == (True, True, True)
        assert runs == ["first", "second", "second", "second"]
    else:
        assert (ran, other, after) == (False, True, True)
        assert runs == ["first", "second", "second"]


async def test_a_failing_job_gives_the_lock_back(db_url: str) -> None:
    engine = create_engine(db_url)

    async def fails() -> None:
        raise RuntimeError("boom")

    async def works() -> None:
        return None

    try:
        with pytest.raises(RuntimeError):
            await run_exclusively(engine, "flaky", fails)
        assert await run_exclusively(engine, "flaky", works) is True
    finally:
        await engine.dispose()


async def test_the_wired_jobs_under_the_lock_skip_while_it_is_held(
    settings: Settings, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the lock exists on PostgreSQL only")
    app = web.Application()
    app[appkeys.SETTINGS] = settings
    engine = create_engine(db_url)
    app[appkeys.ENGINE] = engine
    # periodic_jobs only builds closures; what they would reach is never called here.
    for key in (appkeys.SESSIONS, appkeys.BUS, appkeys.OBSERVERS):
        app[key] = None  # type: ignore[assignment]
    jobs = {job.__name__: job for job, _ in periodic_jobs(app, asyncio.Event())}
    assert set(jobs) >= EXCLUSIVE
    # Every other periodic job still runs in every process (it claims its rows).
    assert "write_token_uses_job" in jobs and "wake_snoozes_job" in jobs
    try:
        async with engine.connect() as other_process:
            for name in EXCLUSIVE:
                key = {"ns": LOCK_NAMESPACE, "id": lock_key(name)}
                assert await other_process.scalar(
                    text("SELECT pg_try_advisory_lock(:ns, :id)"), key
                )
            # Held elsewhere: each job returns at once without touching the (absent)
            # sessions, where running would fail on ``None``.
            for name in EXCLUSIVE:
                await jobs[name]()
            await other_process.execute(text("SELECT pg_advisory_unlock_all()"))
        with pytest.raises(TypeError):
            await jobs["prune_audit_log"]()  # free again: it runs (and calls None)
    finally:
        await engine.dispose()
