"""The inbound log: filter, read a raw request (secrets redacted), replay."""

from __future__ import annotations

from aiohttp import web

from admin_ui.admin.logs_filters import (
    back_to,
    channel_label,
    channel_names,
    channel_options,
    read_filters,
)
from admin_ui.admin.logs_redact import entry_view
from admin_ui.admin.logs_replay import many_flash, one_flash, replay_entries, selected_ids
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub.api.context import path_id, work
from hub.api.schemas.inbound_log import InboundLogQuery
from hub.channels.inbound_log import get_entry, list_entries
from hub.store.models import Channel, InboundLogEntry

routes = web.RouteTableDef()
LIST = "/admin/inbound-log"
FILTERS = ("channel_id", "result", "since", "until", "cursor")
# Every value of hub.api.schemas.inbound_log.Result, with what it means.
RESULTS = {
    "stored": N_("Stored: something new reached the inbox"),
    "duplicate": N_("Duplicate: all of it was known"),
    "held": N_("Held: the channel was disabled"),
    "rejected": N_("Rejected: refused (4xx)"),
    "error": N_("Error: the plugin or the hub failed"),
}
# The results as the filter names them.
RESULT_NAMES = {
    "stored": N_("Stored"),
    "duplicate": N_("Duplicate"),
    "held": N_("Held"),
    "rejected": N_("Rejected"),
    "error": N_("Error"),
}


@routes.get(LIST, name="admin.inbound_log")
async def log_list(request: web.Request) -> web.StreamResponse:
    """Requests newest first, filtered by channel, result and time received; paged."""
    filters = read_filters(request.query, InboundLogQuery, FILTERS)
    entries: list[InboundLogEntry] = []
    next_cursor: str | None = None
    async with work(request) as w:
        channels = await channel_names(w)
        if filters.query is not None:
            query: InboundLogQuery = filters.query
            entries, next_cursor = await list_entries(
                w,
                channel_id=query.channel_id,
                result=query.result,
                since=query.since,
                until=query.until,
                cursor=query.cursor,
                limit=query.limit,
            )
    listed = page_url(request, "admin.inbound_log")
    here = filters.url(listed)
    context = {
        "filters": filters,
        "entries": entries,
        "labels": {
            e.id: channel_label(channels.get(e.channel_id or 0), e.channel_id) for e in entries
        },
        "channel_options": channel_options(channels),
        "result_options": [("", _("All results")), *((k, _(RESULT_NAMES[k])) for k in RESULTS)],
        "result_help": {k: _(v) for k, v in RESULTS.items()},
        "here": here,
        **page_links(listed, filters.values, next_cursor, filters.values["cursor"]),
    }
    return await render(
        request, "admin/inbound_log/list.html", context, 422 if filters.errors else 200
    )


@routes.get(LIST + "/{entry_id}", name="admin.inbound_log.entry")
async def entry_page(request: web.Request) -> web.StreamResponse:
    """One request: what was sent (secrets redacted), its events, the outcome; replay."""
    entry_id = path_id(request, "entry_id", "inbound log entry")
    async with work(request) as w:
        view = entry_view(await get_entry(w, entry_id))
        channel_id = view.entry.channel_id
        channel = await w.db.get(Channel, channel_id) if channel_id is not None else None
    context = {
        "view": view,
        "entry": view.entry,
        "channel": channel,
        "channel_label": channel_label(channel, channel_id),
        "back": back_to(request.query.get("back"), page_url(request, "admin.inbound_log")),
    }
    return await render(request, "admin/inbound_log/entry.html", context)


@routes.post(LIST + "/{entry_id}/replay", name="admin.inbound_log.entry.replay")
async def replay_one(request: web.Request) -> web.StreamResponse:
    """Replay one entry; a refusal (channel disabled, nothing to replay) is a notice."""
    entry_id = path_id(request, "entry_id", "inbound log entry")
    form = await request.post()
    listed = page_url(request, "admin.inbound_log")
    back = back_to(form.get("back"), listed)
    counts = await replay_entries(request.config_dict, [entry_id])
    query = {"back": back} if back != listed else None
    page = page_url(request, "admin.inbound_log.entry", query, entry_id=entry_id)
    return redirect(request, page, one_flash(entry_id, counts))


@routes.post(LIST + "/replay", name="admin.inbound_log.replay")
async def replay_many(request: web.Request) -> web.StreamResponse:
    """Replay the entries ticked on the list, then show the list again with its filters."""
    form = await request.post()
    back = back_to(form.get("back"), page_url(request, "admin.inbound_log"))
    ids = selected_ids([str(v) for v in form.getall("entry_id", [])])
    if not ids:
        return redirect(request, back, ("warning", _("Tick the entries to replay first.")))
    counts = await replay_entries(request.config_dict, ids)
    return redirect(request, back, many_flash(counts))
