"""Your availability schedule (``/me/schedule``): the weekly hours you are available in
your zone; outside them you are away. Your manual toggle wins until the next start or
end of a period (``hub.inbox.availability``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from babel.dates import format_datetime

from admin_ui.access import page_identity
from admin_ui.hours_form import WeekForm
from admin_ui.i18n import N_, current
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub.api.context import work
from hub.errors import Invalid, NotFound
from hub.inbox import availability, business_hours
from hub.store.types import utcnow

routes = web.RouteTableDef()
# A weekday, the day and month, and the time, in each language's own order (CLDR has no
# such skeleton for every locale, so the patterns are spelled out here).
_WEEKDAY_TIME = {"en": "EEE d MMM, HH:mm", "de": "EEE d. MMM, HH:mm"}
PATH = "/me/schedule"
ZONE_HELP = N_("Your own zone: the periods below are read in it, daylight saving included.")


def local_text(at: datetime | None, zone: str) -> str | None:
    """An instant as "Thu 3 Dec, 17:00" in ``zone``, in the page's language ("Do. 3. Dez.,
    17:00"); None stays None."""
    if at is None:
        return None
    locale = current().locale
    return format_datetime(
        at,
        _WEEKDAY_TIME.get(locale.language, _WEEKDAY_TIME["en"]),
        tzinfo=ZoneInfo(zone),
        locale=locale,
    )


async def _page(
    request: web.Request,
    form: WeekForm | None = None,
    enabled: bool | None = None,
    status: int = 200,
) -> web.Response:
    identity = await page_identity(request)
    async with work(request) as w:
        row = await availability.get_schedule(w.db, identity.user.id)
    now = utcnow()
    if form is None:
        form = WeekForm.of(row.time_zone, row.week) if row else WeekForm.of("UTC", None)
    context = {
        "section": "schedule",
        "stored": row,
        "form": form,
        "errors": form.errors,
        "enabled": row.enabled
        if enabled is None and row
        else (True if enabled is None else enabled),
        "zones": business_hours.zone_names(),
        "zone_help": _(ZONE_HELP),
        "scheduled_available": availability.scheduled_available(row, now) if row else None,
        "next_boundary": local_text(availability.next_boundary(row, now), row.time_zone)
        if row
        else None,
        "override_until": local_text(row.override_until, row.time_zone) if row else None,
    }
    return await render(request, "personal/schedule.html", context, status)


@routes.get(PATH, name="me.schedule")
async def schedule(request: web.Request) -> web.StreamResponse:
    """Your schedule's editor, and where it stands now."""
    return await _page(request)


@routes.post(PATH)
async def save(request: web.Request) -> web.StreamResponse:
    """Save your schedule; it applies at once while switched on."""
    identity = await page_identity(request)
    posted = await request.post()
    form = WeekForm.posted(posted)
    enabled = posted.get("enabled") == "on"
    try:
        week = form.week()
        async with work(request) as w:
            await availability.save_schedule(
                w, identity.user.id, time_zone=form.time_zone, week=week, enabled=enabled
            )
    except Invalid as err:
        form.fail(err)
        return await _page(request, form, enabled, 422)
    done = (
        _("Your schedule is saved: your availability follows it.")
        if enabled
        else _("Your schedule is saved, and switched off: you set your availability by hand.")
    )
    return redirect(request, page_url(request, "me.schedule"), ("success", done))


@routes.get(PATH + "/remove", name="me.schedule.remove")
async def confirm_remove(request: web.Request) -> web.StreamResponse:
    """Ask before deleting your schedule."""
    await page_identity(request)
    context = {
        "layout": "personal/layout.html",
        "section": "schedule",
        "heading": _("Remove your availability schedule?"),
        "message": _("Your availability stays as it is now; you set it by hand from then on."),
        "action": page_url(request, "me.schedule.remove"),
        "confirm_label": _("Remove my schedule"),
        "cancel_url": page_url(request, "me.schedule"),
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(PATH + "/remove")
async def remove(request: web.Request) -> web.StreamResponse:
    """Delete your schedule; your availability stays as it is now."""
    identity = await page_identity(request)
    try:
        async with work(request) as w:
            await availability.delete_schedule(w, identity.user.id)
    except NotFound:
        pass  # removed already (a second click): the page says so anyway
    return redirect(
        request,
        page_url(request, "me.schedule"),
        ("success", _("Your schedule is removed: you set your availability by hand.")),
    )
