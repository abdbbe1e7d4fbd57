"""The bulk first link of a connection's existing contacts: a background job that
stores its progress after every batch, so it resumes where it stopped after a restart.

Contacts are taken in id order after ``last_contact_id``; each is linked per the
connection's rule (``link_contact``). A rate limit makes the whole job wait and retry
the contact (backoff in ``CrmCalls``, then ``retry_after``); any other failure counts the
contact as failed and moves on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy import ColumnElement, func, select

from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv
from hub.crm.links import link_contact
from hub.errors import HubError
from hub.store.models import Contact, CrmBulkJob, CrmConnection, CrmContactLink
from hub.store.types import utcnow

log = logging.getLogger(__name__)
BATCH = 50
CONCURRENCY = 4  # contacts linked at once: the CRMs' rate limits allow a few in flight
MAX_RETRY_WAIT = 120.0


def _unlinked(connection_id: int, after: int) -> tuple[ColumnElement[bool], ...]:
    linked = select(CrmContactLink.contact_id).where(CrmContactLink.connection_id == connection_id)
    return (
        Contact.id > after,
        Contact.merged_into_id.is_(None),
        Contact.id.not_in(linked),
    )


async def start_job(env: CrmEnv, connection_id: int) -> CrmBulkJob:
    """Start a bulk link of every unlinked contact (409 while one runs)."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        if connection is None:
            raise HubError(404, "not_found", "CRM connection not found")
        if not connection.enabled or connection.status != "ok":
            raise HubError(409, "crm_not_connected", "the CRM connection is not connected")
        running = await db.scalar(
            select(CrmBulkJob.id).where(
                CrmBulkJob.connection_id == connection_id, CrmBulkJob.status == "running"
            )
        )
        if running is not None:
            raise HubError(409, "job_running", f"bulk link job {running} is running already")
        total = await db.scalar(
            select(func.count()).select_from(Contact).where(*_unlinked(connection_id, 0))
        )
        job = CrmBulkJob(connection_id=connection_id, status="running", total=total or 0)
        db.add(job)
        await db.commit()
        return job


async def latest_job(env: CrmEnv, connection_id: int) -> CrmBulkJob | None:
    """The connection's most recent bulk link job."""
    async with env.sessions() as db:
        job: CrmBulkJob | None = await db.scalar(
            select(CrmBulkJob)
            .where(CrmBulkJob.connection_id == connection_id)
            .order_by(CrmBulkJob.id.desc())
            .limit(1)
        )
        return job


async def running_jobs(env: CrmEnv) -> list[int]:
    """Ids of jobs left ``running`` (to resume after a restart)."""
    async with env.sessions() as db:
        return list(await db.scalars(select(CrmBulkJob.id).where(CrmBulkJob.status == "running")))


async def run_job(
    env: CrmEnv, job_id: int, *, on_batch: Callable[[CrmBulkJob], None] | None = None
) -> CrmBulkJob | None:
    """Run (or resume) a job to its end; progress is committed after every batch."""
    while True:
        async with env.sessions() as db:
            job = await db.get(CrmBulkJob, job_id)
            if job is None or job.status != "running":
                return job
            ids = list(
                await db.scalars(
                    select(Contact.id)
                    .where(*_unlinked(job.connection_id, job.last_contact_id))
                    .order_by(Contact.id)
                    .limit(BATCH)
                )
            )
        if not ids:
            return await _finish(env, job_id, "done", None)
        counts = {"linked": 0, "created": 0, "not_found": 0, "failed": 0}
        stopped: str | None = None
        gate = asyncio.Semaphore(CONCURRENCY)

        try:
            outcomes = await asyncio.gather(
                *(_link_one(env, job.connection_id, i, gate) for i in ids)
            )
        except CrmCallFailed as err:
            stopped = err.message
            outcomes = []
        if stopped is not None:
            return await _finish(env, job_id, "failed", stopped)
        for outcome in outcomes:
            # A contact deleted meanwhile, or whose record another contact has, is not linked.
            counts["not_found" if outcome in ("gone", "taken") else outcome] += 1
        async with env.sessions() as db:
            job = await db.get(CrmBulkJob, job_id)
            if job is None:
                return None
            job.processed += len(ids)
            job.linked += counts["linked"]
            job.created += counts["created"]
            job.not_found += counts["not_found"]
            job.failed += counts["failed"]
            job.last_contact_id = ids[-1]
            job.total = max(job.total, job.processed)
            await db.commit()
            if on_batch is not None:
                on_batch(job)


async def _link_one(
    env: CrmEnv, connection_id: int, contact_id: int, gate: asyncio.Semaphore
) -> str:
    async with gate:
        for _ in range(3):
            try:
                return (await link_contact(env, connection_id, contact_id)).outcome
            except CrmCallFailed as err:
                if err.kind == "credentials":
                    raise
                if err.kind != "retry":
                    log.info("bulk link: contact %s failed: %s", contact_id, err.message)
                    return "failed"
                # Rate limited past the call's own backoff: wait as asked, then again.
                await env.calls.sleep(min(err.retry_after or 1.0, MAX_RETRY_WAIT))
        return "failed"


async def _finish(env: CrmEnv, job_id: int, status: str, error: str | None) -> CrmBulkJob | None:
    async with env.sessions() as db:
        job = await db.get(CrmBulkJob, job_id)
        if job is None:
            return None
        job.status = status
        job.error = error
        job.finished_at = utcnow()
        job.total = job.processed if status == "done" else job.total
        await db.commit()
        return job
