"""The audit log page: who changed what in the workspace's set-up, filtered and paged,
with a link to the same entries as CSV (the REST API's export)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from admin_ui.admin.logs_filters import read_filters
from admin_ui.audit_wording import TARGET_TYPES, action_text, change_lines
from admin_ui.paging import list_url, page_links
from admin_ui.rendering import render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.schemas.audit import AuditQuery
from hub.auth.audit_log import list_entries
from hub.store.models import AuditEntry, User

routes = web.RouteTableDef()
FILTERS = ("actor_id", "target_type", "action", "target_id", "since", "until", "cursor")
EXPORT = "/api/v1/audit-log"
PEOPLE_MAX = 500  # the actor picker lists this many people at most (by name)


async def _people(request: web.Request) -> list[tuple[str, str]]:
    async with request.config_dict[appkeys.SESSIONS]() as db:
        rows = await db.execute(
            select(User.id, User.name, User.email).order_by(User.name, User.id).limit(PEOPLE_MAX)
        )
        return [(str(i), f"{name} ({email})") for i, name, email in rows.all()]


@routes.get("/admin/audit-log", name="admin.audit_log")
async def log_list(request: web.Request) -> web.StreamResponse:
    """Changes newest first, filtered by who, what kind of thing, action and time; paged."""
    filters = read_filters(request.query, AuditQuery, FILTERS)
    entries: list[AuditEntry] = []
    next_cursor: str | None = None
    if filters.query is not None:
        query: AuditQuery = filters.query
        async with request.config_dict[appkeys.SESSIONS]() as db:
            entries, next_cursor = await list_entries(
                db, query.filter(), cursor=query.cursor, limit=query.limit
            )
    listed = page_url(request, "admin.audit_log")
    shown = {k: v for k, v in filters.values.items() if k != "cursor"}
    context = {
        "filters": filters,
        "entries": entries,
        "changes": {e.id: change_lines(e.changes or {}) for e in entries},
        "actions": {e.id: action_text(e.action) for e in entries},
        "actor_options": [("", "Everyone"), *await _people(request)],
        "type_options": [("", "Everything"), *TARGET_TYPES.items()],
        "export_url": list_url(EXPORT, {**shown, "format": "csv"}),
        **page_links(listed, filters.values, next_cursor, filters.values["cursor"]),
    }
    return await render(
        request, "admin/audit_log/list.html", context, 422 if filters.errors else 200
    )
