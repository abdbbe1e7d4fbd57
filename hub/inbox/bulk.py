"""Bulk jobs: one action (``hub.inbox.bulk_actions``) on many conversations.

A job's targets are resolved when it starts — the ids given, or every conversation a
view's tab lists for the actor then — and stored on the job. It then runs in batches of
``BATCH``, one transaction each, through the single-conversation domain functions: each
conversation gets its own visibility check, timeline event and realtime events, and is
counted done, skipped (already so, or a state the action cannot take) or refused (hidden
from the actor, gone, or refused by a rule). A batch's changes and the job's progress
commit together, so a job never counts a conversation twice; a job left ``running`` by a
stopped process is taken up again from its position (each step is idempotent anyway:
assigning to the same person twice is skipped).

Small jobs (``INLINE_MAX`` at most) run in the request; larger ones are ``queued`` for
the background runner (``run_due_jobs``, started by ``hub.wiring_jobs``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.errors import HubError, NotFound
from hub.events.bus import EventBus
from hub.events.work import Work, unit_of_work
from hub.inbox.bulk_actions import ACTIONS, BulkAction, Outcome
from hub.inbox.conversations import get_visible
from hub.inbox.priority import Priority
from hub.inbox.views import StatusTab, View, matching_ids
from hub.observers import Observers
from hub.store.models import BulkJob, User
from hub.store.types import utcnow

log = logging.getLogger(__name__)

BATCH = 50  # conversations per transaction: short enough not to hold SQLite's writer long
INLINE_MAX = 25  # run in the request up to this many; more go to the background
MAX_TARGETS = 5000  # per job, given as ids or matched by a filter
# A running job whose progress has not moved for this long lost its process.
STALE_AFTER = timedelta(seconds=60)
POLL_SECONDS = 1.0  # how often each process looks for a queued job


@dataclass(frozen=True)
class ListFilter:
    """ "Every conversation matching": a view's tab, as the list endpoint takes it."""

    view: View
    status: StatusTab = "open"
    unanswered: bool | None = None
    contact_id: int | None = None
    label_ids: tuple[int, ...] = ()
    priorities: tuple[Priority, ...] = ()


def _params(action: BulkAction, raw: dict[str, object]) -> dict[str, object]:
    """The action's parameters, validated (422 naming ``params.<field>``), as stored."""
    try:
        params = action.params.model_validate(raw)
    except ValidationError as err:
        details = [
            {
                "field": ".".join(["params", *(str(p) for p in e["loc"])]),
                "message": e["msg"],
            }
            for e in err.errors()
        ]
        raise HubError(422, "validation_error", "invalid params", details) from None
    return params.model_dump(mode="json")


async def start(
    work: Work,
    viewer: Viewer,
    action_name: str,
    raw_params: dict[str, object],
    *,
    ids: list[int] | None = None,
    matching: ListFilter | None = None,
    actions: Mapping[str, BulkAction] = ACTIONS,
) -> BulkJob:
    """Store a job for ``action_name`` (of ``actions``) on ``ids`` or on what
    ``matching`` lists now.

    422 for an unknown action, bad parameters, no target or too many; 403/404 for a view
    the actor does not have, as listing it would. The job is ``running`` when small
    enough to run at once in the caller (see ``INLINE_MAX``), else ``queued``.
    """
    action = actions.get(action_name)
    if action is None:
        raise HubError(
            422,
            "validation_error",
            f"unknown action {action_name!r}",
            [{"field": "action", "message": f"one of {', '.join(actions)}"}],
        )
    params = _params(action, raw_params)
    try:
        if action.check is not None:
            await action.check(work, action.params.model_validate(params))
        if action.prepare is not None:
            prepared = await action.prepare(work, viewer, action.params.model_validate(params))
            params = prepared.model_dump(mode="json", exclude_none=True)
    except HubError as err:
        # The checks are the single actions' own (``user_id``); here they are params.
        if err.status == 422 and isinstance(err.details, list):
            for detail in err.details:
                detail["field"] = f"params.{detail['field']}"
        raise
    if (ids is None) == (matching is None):
        raise HubError(
            422,
            "validation_error",
            "give conversation_ids or filter, not both",
            [{"field": "conversation_ids", "message": "give conversation_ids or filter"}],
        )
    if matching is not None:
        targets = await matching_ids(
            work.db,
            viewer,
            view=matching.view,
            status=matching.status,
            unanswered=matching.unanswered,
            contact_id=matching.contact_id,
            label_ids=matching.label_ids,
            priorities=matching.priorities,
            limit=MAX_TARGETS + 1,
        )
        if len(targets) > MAX_TARGETS:
            raise HubError(
                422,
                "too_many_conversations",
                f"the filter matches more than {MAX_TARGETS} conversations; narrow it",
                [{"field": "filter", "message": f"matches more than {MAX_TARGETS}"}],
            )
    else:
        assert ids is not None
        targets = list(dict.fromkeys(ids))  # once each, in the order given
    if not targets and ids is not None:
        raise HubError(
            422,
            "validation_error",
            "no conversations given",
            [{"field": "conversation_ids", "message": "give at least one id"}],
        )
    job = BulkJob(
        actor_id=viewer.id,
        action=action.name,
        params=params,
        targets=targets,
        total=len(targets),
        status="running" if len(targets) <= INLINE_MAX else "queued",
    )
    work.db.add(job)
    await work.db.flush()
    return job


def summary(job: BulkJob, actions: Mapping[str, BulkAction] = ACTIONS) -> str:
    """The job's counts in words: "198 assigned, 2 skipped" (zero counts left out)."""
    action = actions.get(job.action)
    parts = [
        f"{job.done} {action.done_word if action else 'done'}",
        *([f"{job.skipped} skipped"] if job.skipped else []),
        *([f"{job.refused} refused"] if job.refused else []),
    ]
    return ", ".join(parts)


async def get_job(db: AsyncSession, viewer: Viewer, job_id: int) -> BulkJob:
    """A job, for its actor and admins only (404 for anyone else: not theirs to know)."""
    job = await db.get(BulkJob, job_id)
    if job is None or (job.actor_id != viewer.id and not viewer.is_admin):
        raise NotFound("bulk job")
    return job


async def _apply_one(
    work: Work, viewer: Viewer, action: BulkAction, params: object, conversation_id: int
) -> Outcome:
    """One conversation, through the single-conversation domain function."""
    try:
        conversation = await get_visible(work, viewer, conversation_id)
    except NotFound:
        return "refused"  # hidden or gone: the same answer, so nothing leaks
    if action.step is not None:
        return await action.step(work, viewer, conversation.id, params)
    if await action.is_done(work, conversation, params):
        return "skipped"
    assert action.apply is not None  # an entry gives either ``step`` or ``apply``
    try:
        await action.apply(work, viewer, conversation_id, params)
    except HubError as err:
        # 409: a state the action does not apply to (snoozing a closed one); anything
        # else is a rule refusing this conversation. The domain functions raise before
        # they change anything, so nothing half-done stays in the batch.
        return "skipped" if err.status == 409 else "refused"
    return "done"


async def run_batch(
    work: Work, job_id: int, actions: Mapping[str, BulkAction] = ACTIONS
) -> BulkJob | None:
    """Run the job's next batch in ``work`` and move its position; finish it when no
    target is left. None when the job is gone."""
    job = await work.db.get(BulkJob, job_id)
    if job is None or job.status != "running":
        return job
    actor = await work.db.get(User, job.actor_id)
    if actor is None or not actor.is_active:
        _finish(job, "failed", "the user who started this job is no longer active")
        return job
    batch = job.targets[job.position : job.position + BATCH]
    if not batch:
        _finish(job, "finished", None)
        return job
    action = actions.get(job.action)
    if action is None:  # stored by a hub that knew it (a plugin since removed)
        _finish(job, "failed", f"this hub cannot run {job.action!r} jobs")
        return job
    viewer = Viewer.of(actor)
    params = action.params.model_validate(job.params)
    counts = {"done": 0, "skipped": 0, "refused": 0}
    for conversation_id in batch:
        counts[await _apply_one(work, viewer, action, params, conversation_id)] += 1
    job.position += len(batch)
    job.done += counts["done"]
    job.skipped += counts["skipped"]
    job.refused += counts["refused"]
    job.updated_at = utcnow()  # the heartbeat that says this job's process is alive
    if job.position >= len(job.targets):
        _finish(job, "finished", None)
    return job


def _finish(job: BulkJob, status: str, error: str | None) -> None:
    job.status = status
    job.error = error
    job.finished_at = utcnow()


async def run_job(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None,
    job_id: int,
    stopping: Callable[[], bool] | None = None,
    actions: Mapping[str, BulkAction] = ACTIONS,
) -> BulkJob | None:
    """Run a claimed job to its end, a batch per transaction; an unexpected error fails
    the job (logged) rather than retrying it forever. When ``stopping()`` turns true (the
    process shuts down), the job goes back to ``queued`` after the batch in progress, for
    another process, or this one restarted, to take at once."""
    while True:
        if stopping is not None and stopping():
            return await _requeue(sessions, job_id)
        try:
            async with unit_of_work(sessions, bus, observers) as work:
                job = await run_batch(work, job_id, actions)
        except Exception as err:
            log.exception("bulk job %s failed", job_id)
            async with sessions() as db:
                failed = await db.get(BulkJob, job_id)
                if failed is not None:
                    _finish(failed, "failed", f"stopped by an error: {type(err).__name__}")
                    await db.commit()
                return failed
        if job is None or job.status != "running":
            return job


async def _requeue(sessions: async_sessionmaker[AsyncSession], job_id: int) -> BulkJob | None:
    async with sessions() as db:
        job = await db.get(BulkJob, job_id)
        if job is not None and job.status == "running":
            job.status = "queued"
            await db.commit()
        return job


async def claim(sessions: async_sessionmaker[AsyncSession]) -> int | None:
    """Take a queued job, or one whose process stopped (``running`` and not moved for
    ``STALE_AFTER``), for this process. An atomic compare-and-set, so two processes
    never take the same one."""
    now = utcnow()
    stale = now - STALE_AFTER
    takeable = or_(
        BulkJob.status == "queued",
        (BulkJob.status == "running") & (BulkJob.updated_at < stale),
    )
    async with sessions() as db:
        candidates = list(
            await db.scalars(select(BulkJob.id).where(takeable).order_by(BulkJob.id).limit(5))
        )
        for job_id in candidates:
            result = await db.execute(
                update(BulkJob)
                .where(BulkJob.id == job_id, takeable)
                .values(status="running", updated_at=now)
            )
            await db.commit()
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return job_id
    return None


async def run_due_jobs(
    sessions: async_sessionmaker[AsyncSession],
    bus: EventBus,
    observers: Observers | None,
    stopping: Callable[[], bool] | None = None,
    actions: Mapping[str, BulkAction] = ACTIONS,
) -> None:
    """Run every job there is to take, one after another (the background runner), until
    ``stopping()`` says the process shuts down."""
    while not (stopping is not None and stopping()):
        job_id = await claim(sessions)
        if job_id is None:
            return
        log.info("running bulk job %s", job_id)
        await run_job(sessions, bus, observers, job_id, stopping, actions)
