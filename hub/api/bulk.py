"""Bulk actions on conversations and their jobs."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json
from hub.api.context import current_viewer, path_id, work
from hub.api.idempotency import keyed_request, marked, once
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes
from hub.api.schemas.bulk import BulkBody, BulkJobOut
from hub.events.work import Work
from hub.inbox import bulk
from hub.inbox.views import View
from hub.store.models import BulkJob

api = ApiRoutes("conversations")


@api.post(
    "/api/v1/conversations/bulk",
    body=BulkBody,
    response=BulkJobOut,
    status=202,
    errors=(403, 404),
    idempotent=True,
)
async def start(request: web.Request) -> web.Response:
    """Run an action on many conversations; answers the job (always 202, one shape).

    Up to 25 conversations run in the request: the job comes back `finished` with its
    counts. More run in the background: the job comes back `queued`; follow it at
    `GET /api/v1/bulk-jobs/{id}` (the `Location` header). Each conversation is checked
    against the caller's visibility on its own: hidden or missing ones are counted
    `refused`, never named. At most 5000 conversations per job, as ids or as a filter's
    matches (422 past that). With an `Idempotency-Key`, a repeat answers the first
    job again (as it stands now) and starts nothing.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, BulkBody)
    matching = None
    if body.filter is not None:
        f = body.filter
        matching = bulk.ListFilter(
            View.parse(f.view),
            f.status,
            f.unanswered,
            f.contact_id,
            tuple(f.label),
            tuple(f.priority),
        )
    app = request.config_dict
    actions = app[appkeys.BULK_ACTIONS]
    keyed = keyed_request(request, viewer, "bulk", None, body)

    async def act(w: Work) -> BulkJob:
        return await bulk.start(
            w,
            viewer,
            body.action,
            body.params,
            ids=body.conversation_ids,
            matching=matching,
            actions=actions,
        )

    async def load(w: Work, job_id: int) -> BulkJob:
        return await bulk.get_job(w.db, viewer, job_id)

    job, replayed = await once(request, keyed, act, lambda j: j.id, load)
    if job.status == "running" and not replayed:
        ran = await bulk.run_job(
            app[appkeys.SESSIONS],
            app[appkeys.BUS],
            app[appkeys.OBSERVERS],
            job.id,
            actions=actions,
        )
        job = ran or job
    response = json_model(BulkJobOut.of(job, actions), status=202)
    response.headers["Location"] = f"/api/v1/bulk-jobs/{job.id}"
    return marked(response, replayed)


@api.get("/api/v1/bulk-jobs/{job_id}", response=BulkJobOut)
async def get(request: web.Request) -> web.Response:
    """A bulk job's progress: for the user who started it, and owners and managers (404
    for anyone else)."""
    viewer = await current_viewer(request)
    job_id = path_id(request, "job_id", "bulk job")
    async with work(request) as w:
        job = await bulk.get_job(w.db, viewer, job_id)
        out = BulkJobOut.of(job, request.config_dict[appkeys.BULK_ACTIONS])
    return json_model(out)
