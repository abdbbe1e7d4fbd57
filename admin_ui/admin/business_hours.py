"""Business hours: the workspace default and each team's own (a week of periods in a
time zone, and holidays), set through the same domain functions as the API."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.hours_form import WeekForm
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub.api.context import path_id, work
from hub.errors import Invalid, NotFound
from hub.inbox import business_hours
from hub.inbox.business_hours import DAY_NAMES, HoursSpec
from hub.store.models import BusinessHours, Team
from hub.store.types import utcnow

routes = web.RouteTableDef()
WORKSPACE = "/admin/business-hours/workspace"
TEAM = r"/admin/business-hours/teams/{team_id:\d+}"
ZONE_HELP = N_("The hours and holidays below are read in this zone, daylight saving included.")


def summary(week: list[list[list[str]]]) -> list[tuple[str, list[str]]]:
    """Each day's periods as "09:00-17:00" texts, for the overview."""
    return [
        (name, [f"{a}\u2013{b}" for a, b in day]) for name, day in zip(DAY_NAMES, week, strict=True)
    ]


def _state(row: BusinessHours) -> dict[str, Any]:
    open_now, next_change = business_hours.state(row, utcnow())
    zone = ZoneInfo(row.time_zone)
    local = next_change.astimezone(zone) if next_change else None
    holidays = business_hours.holidays_of(row)
    today = utcnow().astimezone(zone).date()
    return {
        "row": row,
        "week": summary(row.week),
        "open_now": open_now,
        # "Mon 3 Dec, 09:00" in the schedule's own zone.
        "next_change": local.strftime("%a %-d %b, %H:%M") if local else None,
        "holidays": holidays,
        "upcoming": [h for h in holidays if h.day >= today],
    }


@routes.get("/admin/business-hours", name="admin.business_hours")
async def overview(request: web.Request) -> web.StreamResponse:
    """The workspace default and every team: its own hours, or the default it follows."""
    async with work(request) as w:
        rows = {row.team_id: row for row in await business_hours.list_hours(w.db)}
        teams = list(await w.db.scalars(select(Team).order_by(Team.name)))
        default = rows.get(None)
        context = {
            "section": "business-hours",
            "default": _state(default) if default else None,
            "teams": [(team, _state(rows[team.id]) if team.id in rows else None) for team in teams],
        }
    return await render(request, "admin/business_hours/overview.html", context)


async def _team(request: web.Request) -> Team:
    team_id = path_id(request, "team_id", "team")
    async with work(request) as w:
        team = await w.db.get(Team, team_id)
    if team is None:
        raise NotFound("team")
    return team


async def _form_page(
    request: web.Request, team: Team | None, form: WeekForm | None = None, status: int = 200
) -> web.Response:
    async with work(request) as w:
        row = await business_hours.get_hours(w.db, team.id if team else None)
        default = await business_hours.get_hours(w.db, None) if team else None
    if form is None:
        if row is not None:
            form = WeekForm.of(row.time_zone, row.week, business_hours.holidays_of(row))
        elif default is not None:  # a team's own hours start as a copy of the default
            form = WeekForm.of(default.time_zone, default.week, business_hours.holidays_of(default))
        else:
            form = WeekForm.of("UTC", None)
    context = {
        "section": "business-hours",
        "team": team,
        "stored": row,
        "has_default": default is not None,
        "form": form,
        "errors": form.errors,
        "zones": business_hours.zone_names(),
        "zone_help": _(ZONE_HELP),
        "action": (
            page_url(request, "admin.business_hours.team", team_id=team.id)
            if team
            else page_url(request, "admin.business_hours.workspace")
        ),
    }
    return await render(request, "admin/business_hours/form.html", context, status)


async def _save(request: web.Request, team: Team | None) -> web.StreamResponse:
    viewer = viewer_of(request)
    form = WeekForm.posted(await request.post(), with_holidays=True)
    try:
        spec = HoursSpec(form.time_zone, form.week(), form.all_holidays())
        async with work(request) as w:
            await business_hours.save_hours(w, viewer, team.id if team else None, spec)
    except Invalid as err:
        form.fail(err)
        return await _form_page(request, team, form, 422)
    said = (
        _("%(name)s's business hours are saved.") % {"name": team.name}
        if team
        else _("The workspace's business hours are saved.")
    )
    return redirect(request, page_url(request, "admin.business_hours"), ("success", said))


async def _remove(request: web.Request, team: Team | None) -> web.StreamResponse:
    viewer = viewer_of(request)
    async with work(request) as w:
        await business_hours.delete_hours(w, viewer, team.id if team else None)
    done = (
        _("%(name)s now follows the workspace's business hours.") % {"name": team.name}
        if team
        else _("The workspace has no business hours now: teams without their own are always open.")
    )
    return redirect(request, page_url(request, "admin.business_hours"), ("success", done))


@routes.get(WORKSPACE, name="admin.business_hours.workspace")
async def workspace_form(request: web.Request) -> web.StreamResponse:
    """The workspace default's editor."""
    return await _form_page(request, None)


@routes.post(WORKSPACE)
async def save_workspace(request: web.Request) -> web.StreamResponse:
    """Save the workspace default; the editor again, errors marked, when refused."""
    return await _save(request, None)


async def _confirm(request: web.Request, team: Team | None) -> web.Response:
    async with work(request) as w:
        if await business_hours.get_hours(w.db, team.id if team else None) is None:
            raise NotFound("business hours")
    if team:
        heading = _("Remove %(name)s's own business hours?") % {"name": team.name}
        message = _("%(name)s will follow the workspace's business hours again.") % {
            "name": team.name
        }
        action = page_url(request, "admin.business_hours.team.remove", team_id=team.id)
        back = page_url(request, "admin.business_hours.team", team_id=team.id)
    else:
        heading = _("Remove the workspace's business hours?")
        message = _(
            "Teams without hours of their own will be always open, and no out-of-hours "
            "reply will be sent for their conversations."
        )
        action = page_url(request, "admin.business_hours.workspace.remove")
        back = page_url(request, "admin.business_hours.workspace")
    context = {
        "heading": heading,
        "message": message,
        "details": [_("The week and the holidays are deleted; you can set them again any time.")],
        "action": action,
        "confirm_label": _("Remove the hours"),
        "cancel_url": back,
        "section": "business-hours",
    }
    return await render(request, "admin/confirm.html", context)


@routes.get(WORKSPACE + "/remove", name="admin.business_hours.workspace.remove")
async def confirm_remove_workspace(request: web.Request) -> web.StreamResponse:
    """Ask before removing the workspace default."""
    return await _confirm(request, None)


@routes.get(TEAM + "/remove", name="admin.business_hours.team.remove")
async def confirm_remove_team(request: web.Request) -> web.StreamResponse:
    """Ask before removing a team's own hours."""
    return await _confirm(request, await _team(request))


@routes.post(WORKSPACE + "/remove")
async def remove_workspace(request: web.Request) -> web.StreamResponse:
    """Remove the workspace default (always open where no team hours apply)."""
    return await _remove(request, None)


@routes.get(TEAM, name="admin.business_hours.team")
async def team_form(request: web.Request) -> web.StreamResponse:
    """A team's own hours' editor (a copy of the default to start from)."""
    return await _form_page(request, await _team(request))


@routes.post(TEAM)
async def save_team(request: web.Request) -> web.StreamResponse:
    """Save a team's own hours."""
    return await _save(request, await _team(request))


@routes.post(TEAM + "/remove")
async def remove_team(request: web.Request) -> web.StreamResponse:
    """Remove a team's own hours: it follows the workspace default again."""
    return await _remove(request, await _team(request))
