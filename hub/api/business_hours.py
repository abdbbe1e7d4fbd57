"""Business hours: everyone reads them (and whether a team is open now); owners and
managers set the workspace default and each team's own."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.business_hours import (
    AvailabilityScheduleBody,
    AvailabilityScheduleOut,
    BusinessHoursBody,
    BusinessHoursOut,
    StatusOut,
    StatusQuery,
    TimeZoneOut,
    Week,
)
from hub.errors import NotFound
from hub.inbox import availability, business_hours
from hub.store.models import AvailabilitySchedule, BusinessHours
from hub.store.types import utcnow

api = ApiRoutes("business hours")
WORKSPACE = "/api/v1/business-hours/workspace"
TEAM = "/api/v1/business-hours/teams/{team_id}"
MY_SCHEDULE = "/api/v1/me/availability-schedule"


def _out(row: BusinessHours) -> BusinessHoursOut:
    return BusinessHoursOut.of(row, *business_hours.state(row, utcnow()))


@api.get("/api/v1/business-hours", response=Page[BusinessHoursOut])
async def list_(request: web.Request) -> web.Response:
    """Every stored schedule: the workspace default (`team_id` null) first, then the
    teams that have their own."""
    await current_viewer(request)
    async with work(request) as w:
        rows = await business_hours.list_hours(w.db)
        items = [_out(row) for row in rows]
    return json_items(items)


@api.get("/api/v1/business-hours/time-zones", response=Page[TimeZoneOut])
async def time_zones(request: web.Request) -> web.Response:
    """The IANA time zones a schedule may use."""
    await current_viewer(request)
    return json_items([TimeZoneOut(name=name) for name in business_hours.zone_names()])


@api.get("/api/v1/business-hours/status", query=StatusQuery, response=StatusOut)
async def status(request: web.Request) -> web.Response:
    """Whether a team (or, without `team_id`, the workspace) is open now: the team's own
    hours, else the workspace default; no hours at all is always open."""
    await current_viewer(request)
    query = read_query(request, StatusQuery)
    now = utcnow()
    async with work(request) as w:
        if query.team_id is not None and not await business_hours.team_exists(w.db, query.team_id):
            raise NotFound("team")
        row = await business_hours.hours_for(w.db, query.team_id)
    if row is None:
        return json_model(StatusOut(open=True, applies="always_open", next_change=None))
    open_now, next_change = business_hours.state(row, now)
    applies = "workspace" if row.team_id is None else "team"
    return json_model(StatusOut(open=open_now, applies=applies, next_change=next_change))


async def _get(request: web.Request, team_id: int | None) -> web.Response:
    await current_viewer(request)
    async with work(request) as w:
        row = await business_hours.get_hours(w.db, team_id)
        if row is None:
            raise NotFound("business hours")
        out = _out(row)
    return json_model(out)


async def _put(request: web.Request, team_id: int | None) -> web.Response:
    viewer = await current_viewer(request)
    body = await read_json(request, BusinessHoursBody)
    async with work(request) as w:
        row = await business_hours.save_hours(w, viewer, team_id, body.spec())
        out = _out(row)
    return json_model(out)


async def _delete(request: web.Request, team_id: int | None) -> web.Response:
    viewer = await current_viewer(request)
    async with work(request) as w:
        await business_hours.delete_hours(w, viewer, team_id)
    return web.Response(status=204)


@api.get(WORKSPACE, response=BusinessHoursOut)
async def get_workspace(request: web.Request) -> web.Response:
    """The workspace default hours (404 when none are set: always open)."""
    return await _get(request, None)


@api.put(WORKSPACE, body=BusinessHoursBody, response=BusinessHoursOut, errors=(403, 409))
async def put_workspace(request: web.Request) -> web.Response:
    """Set the workspace default hours (owners and managers): teams without hours of
    their own follow them. 422 names the field: `time_zone` (not an IANA zone),
    `week.<day>` (a bad time, periods that overlap), `holidays` (a date twice)."""
    return await _put(request, None)


@api.delete(WORKSPACE, status=204, errors=(403,))
async def delete_workspace(request: web.Request) -> web.Response:
    """Remove the workspace default (owners and managers): without hours, always open."""
    return await _delete(request, None)


@api.get(TEAM, response=BusinessHoursOut)
async def get_team(request: web.Request) -> web.Response:
    """A team's own hours (404 when it has none and follows the workspace default)."""
    return await _get(request, path_id(request, "team_id", "team"))


@api.put(TEAM, body=BusinessHoursBody, response=BusinessHoursOut, errors=(403, 409))
async def put_team(request: web.Request) -> web.Response:
    """Give a team hours of its own (owners and managers); 404 for an unknown team."""
    return await _put(request, path_id(request, "team_id", "team"))


@api.delete(TEAM, status=204, errors=(403,))
async def delete_team(request: web.Request) -> web.Response:
    """Remove a team's own hours (owners and managers): it follows the workspace default."""
    return await _delete(request, path_id(request, "team_id", "team"))


def _schedule_out(row: AvailabilitySchedule) -> AvailabilityScheduleOut:
    now = utcnow()
    return AvailabilityScheduleOut(
        enabled=row.enabled,
        time_zone=row.time_zone,
        week=Week.of(row.week),
        scheduled_available=availability.scheduled_available(row, now),
        override_until=row.override_until,
        next_boundary=availability.next_boundary(row, now),
    )


@api.get(MY_SCHEDULE, response=AvailabilityScheduleOut)
async def get_my_schedule(request: web.Request) -> web.Response:
    """Your availability schedule (404 when you have none)."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        row = await availability.get_schedule(w.db, viewer.id)
        if row is None:
            raise NotFound("availability schedule")
        out = _schedule_out(row)
    return json_model(out)


@api.put(MY_SCHEDULE, body=AvailabilityScheduleBody, response=AvailabilityScheduleOut)
async def put_my_schedule(request: web.Request) -> web.Response:
    """Set your weekly availability (any role, for yourself): while `enabled`, you are
    available in its periods and away outside them, and it applies at once. Your manual
    toggle (`PUT /api/v1/me/availability`) then holds until the next start or end of a
    period. 422 names `time_zone` or `week.<day>`."""
    viewer = await current_viewer(request)
    body = await read_json(request, AvailabilityScheduleBody)
    async with work(request) as w:
        row = await availability.save_schedule(
            w, viewer.id, time_zone=body.time_zone, week=body.week.pairs(), enabled=body.enabled
        )
        out = _schedule_out(row)
    return json_model(out)


@api.delete(MY_SCHEDULE, status=204)
async def delete_my_schedule(request: web.Request) -> web.Response:
    """Remove your availability schedule; your availability stays as it is now."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        await availability.delete_schedule(w, viewer.id)
    return web.Response(status=204)
