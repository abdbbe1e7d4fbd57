"""The bulk first link of a connection's existing contacts: a background job that
stores its progress after every batch, so it resumes where it stopped after a restart.

Contacts are taken in id order after ``last_contact_id``, a hundred at a time, and
linked per the connection's rule (``link_batch``: one batch lookup by email, then each
contact not found by its phone). A rate limit makes the batch wait and try again
(backoff in ``CrmCalls``, then as long as the CRM asked); refused credentials stop the
job; any other failure of one contact counts it as failed and moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv
from hub.crm.links import link_batch
from hub.errors import HubError
from hub.store.models import Contact, CrmBulkJob, CrmConnection, CrmContactLink
from hub.store.types import utcnow

log = logging.getLogger(__name__)
BATCH = 100  # the CRMs' batch APIs take 100 (HubSpot) or more (a SOQL IN)
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
        try:
            job = await _link_with_retries(env, job_id, job.connection_id, ids)
        except CrmCallFailed as err:
            return await _finish(env, job_id, "failed", err.message)
        if job is None:
            return None
        if on_batch is not None:
            on_batch(job)


async def _link_with_retries(
    env: CrmEnv, job_id: int, connection_id: int, ids: list[int]
) -> CrmBulkJob | None:
    """Link one batch, its progress committed with its links; a rate limit past the
    calls' own backoff waits as the CRM asked and tries the batch again."""
    saved: list[CrmBulkJob] = []

    async def record(db: AsyncSession, counts: dict[str, int]) -> None:
        job = await db.get(CrmBulkJob, job_id)
        if job is None:
            return
        job.processed += len(ids)
        job.linked += counts["linked"]
        job.created += counts["created"]
        job.not_found += counts["not_found"]
        job.failed += counts["failed"]
        job.last_contact_id = ids[-1]
        job.total = max(job.total, job.processed)
        saved.append(job)

    for attempt in range(1, 4):
        try:
            await link_batch(env, connection_id, ids, record_progress=record)
            return saved[0] if saved else None
        except CrmCallFailed as err:
            if err.kind != "retry" or attempt == 3:
                raise
            await env.calls.sleep(min(err.retry_after or 1.0, MAX_RETRY_WAIT))
    raise AssertionError("unreachable")


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
