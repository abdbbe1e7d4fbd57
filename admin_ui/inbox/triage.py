"""The label picker's choices for the open conversation: every label, those it carries
ticked; fetched when the picker opens, so it always lists the labels as they are now."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.inbox.thread_data import load_pane
from admin_ui.rendering import render_fragment
from hub.api.context import path_id, work
from hub.inbox.labels import all_labels

routes = web.RouteTableDef()


@routes.get("/inbox/conversations/{conversation_id}/label-picker", name="inbox.label_picker")
async def label_picker(request: web.Request) -> web.StreamResponse:
    """Checkboxes for every label (404 for a conversation the user cannot see)."""
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
        labels = await all_labels(w.db)
    context = {"pane": pane, "labels": labels, "carried": {label.id for label in pane.labels}}
    return await render_fragment(request, "inbox/_label_picker.html", context)
