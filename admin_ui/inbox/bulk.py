"""Fragments of bulk actions and merging: the bulk bar's assignee picker, and the
conversations an open one can be merged into. The actions themselves call the REST API
(``POST /api/v1/conversations/bulk``, ``…/merge``), like every inbox action."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.inbox.state import ListState
from admin_ui.rendering import render_fragment
from hub.api.context import path_id, work
from hub.errors import Invalid
from hub.inbox.bulk import MAX_TARGETS
from hub.inbox.conversation_merge import merge_candidates
from hub.inbox.labels import all_labels
from hub.inbox.views import matching_ids
from hub.people.directory import list_teams, list_users

routes = web.RouteTableDef()
# The assignee picker lists this many people and teams (by name), as the pane's does.
PICKER_LIMIT = 200
# The merge picker lists this many of the contact's conversations; past it, a filter box.
MERGE_SHOWN = 50
MAX_FILTER = 200


@routes.get("/inbox/bulk/assignees", name="inbox.bulk.assignees")
async def assignees(request: web.Request) -> web.StreamResponse:
    """The bulk bar's assignee picker: active people and teams, by name."""
    viewer = viewer_of(request)
    async with work(request) as w:
        users, _ = await list_users(w.db, q=None, active=True, cursor=None, limit=PICKER_LIMIT)
        teams, _ = await list_teams(w.db, cursor=None, limit=PICKER_LIMIT)
        context = {
            "pane": None,
            "users": users,
            "teams": teams,
            "viewer_id": viewer.id,
            "picker_id": "bulk-assign-to",
        }
        return await render_fragment(request, "inbox/_assignees.html", context)


@routes.get("/inbox/bulk/label-picker", name="inbox.bulk.label_picker")
async def label_picker(request: web.Request) -> web.StreamResponse:
    """The bulk bar's label picker: the pane's checkboxes, none ticked (a selection's
    conversations carry different labels; Add and Remove say what to do)."""
    async with work(request) as w:
        labels = await all_labels(w.db)
    context = {"labels": labels, "carried": set(), "picker_id": "bulk-label"}
    return await render_fragment(request, "inbox/_label_picker.html", context)


@routes.get("/inbox/bulk/matching", name="inbox.bulk.matching")
async def matching(request: web.Request) -> web.StreamResponse:
    """The bulk bar's "Select all N matching this view": how many conversations the
    list's view and tab hold for the viewer, up to the most one bulk job takes."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    async with work(request) as w:
        ids = await matching_ids(
            w.db,
            viewer,
            view=state.view,
            status=state.status,
            unanswered=True if state.unanswered else None,
            label_ids=[state.label] if state.label is not None else [],
            limit=MAX_TARGETS + 1,
        )
    context = {"total": len(ids), "limit": MAX_TARGETS}
    return await render_fragment(request, "inbox/_bulk_matching.html", context)


@routes.get("/inbox/conversations/{conversation_id}/merge-targets", name="inbox.merge_targets")
async def merge_targets(request: web.Request) -> web.StreamResponse:
    """The same contact's other conversations the viewer may merge this one into; past
    ``MERGE_SHOWN`` of them a filter box (``?q=``: number, subject or message text)."""
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    q = request.query.get("q", "").strip()
    if len(q) > MAX_FILTER:
        raise Invalid("q", f"at most {MAX_FILTER} characters")
    async with work(request) as w:
        # One more than shown: whether the contact has more than fit (the filter's cue).
        found = await merge_candidates(w, viewer, conversation_id, MERGE_SHOWN + 1, q or None)
        context = {
            "conversation_id": conversation_id,
            "targets": found[:MERGE_SHOWN],
            "more": len(found) > MERGE_SHOWN,
            "q": q,
        }
        return await render_fragment(request, "inbox/_merge_targets.html", context)
