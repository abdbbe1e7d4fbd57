"""Reports (docs/reports.md): one endpoint per breakdown, each as JSON or CSV. Anyone
may ask; an agent's report holds only the facts credited to them."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_query
from hub.api.context import current_viewer, work
from hub.api.report_csv import csv_filename, report_csv
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes, Handler
from hub.api.schemas.reports import ReportOut, ReportQuery
from hub.inbox.reports import KINDS, Filters, Kind, build_report, report_period

CSV = "text/csv"

api = ApiRoutes("reports")

# Each endpoint's OpenAPI summary (first line) and description, by kind.
DOCS: dict[Kind, str] = {
    "overview": "Every metric over the period: conversations, messages, response and resolution\n"
    "times (median, p90), reopens, SLA breaches, CSAT.",
    "agents": "The metrics by agent (credited as docs/reports.md says; `null`: nobody).",
    "teams": "The metrics by team (the conversation's team when each thing happened).",
    "channels": "The metrics by channel.",
    "labels": "The metrics by label (a conversation counts under each of its labels).",
    "heatmap": "Inbound messages by weekday and hour in the workspace's time zone.",
}


async def _answer(request: web.Request, kind: Kind) -> web.Response:
    viewer = await current_viewer(request)
    query = read_query(request, ReportQuery)
    filters = Filters(query.agent_id, query.team_id, query.channel_id, query.label_id)
    async with work(request) as w:
        period = await report_period(
            w.db, query.from_, query.to, business_hours=query.business_hours
        )
        report = await build_report(w.db, viewer, kind, period, filters)
    if query.format == "csv":
        return web.Response(
            text=report_csv(report),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{csv_filename(report)}"'},
        )
    return json_model(ReportOut.of(report))


def _handler(kind: Kind) -> Handler:
    """The endpoint of one kind, named and documented as OpenAPI shows it
    (``get_reports_<kind>``, its summary and description from ``DOCS``)."""

    async def handler(request: web.Request) -> web.Response:
        return await _answer(request, kind)

    handler.__name__ = handler.__qualname__ = kind
    handler.__doc__ = DOCS[kind]
    return handler


for _kind in KINDS:
    api.get(f"/api/v1/reports/{_kind}", query=ReportQuery, response=ReportOut, alternates=(CSV,))(
        _handler(_kind)
    )
