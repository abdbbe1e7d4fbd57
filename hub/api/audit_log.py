"""The audit log: who changed which piece of the workspace's set-up, when and from
where (owners and managers only), as JSON pages or one CSV file."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.api import audit_csv
from hub.api.bodies import read_query
from hub.api.context import current_admin
from hub.api.responses import json_items
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.audit import AuditEntryOut, AuditQuery
from hub.auth.audit_log import AuditFilter, all_entries, list_entries
from hub.store.types import utcnow

api = ApiRoutes("audit_log")
CSV = "text/csv"


def _wants_csv(request: web.Request, query: AuditQuery) -> bool:
    if query.format is not None:
        return query.format == "csv"
    accept = request.headers.get("Accept", "")
    return any(part.split(";")[0].strip().lower() == CSV for part in accept.split(","))


@api.get(
    "/api/v1/audit-log",
    query=AuditQuery,
    response=Page[AuditEntryOut],
    errors=(403,),
    alternates=(CSV,),
)
async def list_(request: web.Request) -> web.StreamResponse:
    """List recorded changes, newest first; filter by `actor_id`, `action`, `target_type`,
    `target_id` and time (`since`, inclusive; `until`, exclusive).

    With `format=csv` or `Accept: text/csv` the answer is a CSV file of every matching
    entry (streamed, not paged); cells a spreadsheet would take for a formula start with
    an apostrophe.
    """
    await current_admin(request)
    query = read_query(request, AuditQuery)
    if _wants_csv(request, query):
        return await _export(request, query.filter())
    async with request.config_dict[appkeys.SESSIONS]() as db:
        rows, next_cursor = await list_entries(
            db, query.filter(), cursor=query.cursor, limit=query.limit
        )
        items = [AuditEntryOut.of(row) for row in rows]
    return json_items(items, next_cursor)


async def _export(request: web.Request, which: AuditFilter) -> web.StreamResponse:
    name = f"audit-log-{utcnow():%Y%m%d-%H%M%S}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{CSV}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    await response.write(audit_csv.header().encode())
    async for batch in all_entries(request.config_dict[appkeys.SESSIONS], which):
        await response.write(audit_csv.rows_text(batch, with_header=False).encode())
    await response.write_eof()
    return response
