"""Reports (docs/reports.md): one endpoint per breakdown, each as JSON or CSV. Anyone
may ask; an agent's report holds only the facts credited to them."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_query
from hub.api.context import current_viewer, work
from hub.api.report_csv import csv_filename, report_csv
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes
from hub.api.schemas.reports import ReportOut, ReportQuery
from hub.inbox.reports import Filters, Kind, build_report, report_period

CSV = "text/csv"

api = ApiRoutes("reports")


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


@api.get("/api/v1/reports/overview", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def overview(request: web.Request) -> web.Response:
    """Every metric over the period: conversations, messages, response and resolution
    times (median, p90), reopens, SLA breaches, CSAT."""
    return await _answer(request, "overview")


@api.get("/api/v1/reports/agents", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def agents(request: web.Request) -> web.Response:
    """The metrics by agent (credited as docs/reports.md says; `null`: nobody)."""
    return await _answer(request, "agents")


@api.get("/api/v1/reports/teams", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def teams(request: web.Request) -> web.Response:
    """The metrics by team (the conversation's team when each thing happened)."""
    return await _answer(request, "teams")


@api.get("/api/v1/reports/channels", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def channels(request: web.Request) -> web.Response:
    """The metrics by channel."""
    return await _answer(request, "channels")


@api.get("/api/v1/reports/labels", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def labels(request: web.Request) -> web.Response:
    """The metrics by label (a conversation counts under each of its labels)."""
    return await _answer(request, "labels")


@api.get("/api/v1/reports/heatmap", query=ReportQuery, response=ReportOut, alternates=(CSV,))
async def heatmap(request: web.Request) -> web.Response:
    """Inbound messages by weekday and hour in the workspace's time zone."""
    return await _answer(request, "heatmap")
