"""Your profile, for every role: your name, your email, your language and time zone,
your availability, your notification settings, and your sessions (other browsers and devices), with "log out
everywhere else"."""

from __future__ import annotations

from aiohttp import web

from admin_ui.access import page_identity
from admin_ui.admin.people_forms import FormState, failed, text
from admin_ui.i18n import gettext as _
from admin_ui.i18n import ngettext
from admin_ui.locale_choice import use_user_locale
from admin_ui.personal.schedule import local_text
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub import appkeys
from hub.api.context import announce_access_changed, work
from hub.api.schemas.people import UserPatchBody
from hub.auth.sessions import end_other_sessions, list_sessions
from hub.auth.visibility import Viewer
from hub.errors import HubError
from hub.inbox import availability, business_hours
from hub.inbox.notification_settings import (
    NotificationSettings,
    save_settings,
    settings_of,
)
from hub.inbox.user_locale import LANGUAGES, save_locale
from hub.people import directory

routes = web.RouteTableDef()
PROFILE_URL = "/me"


async def _page(
    request: web.Request, state: FormState | None = None, status: int = 200
) -> web.Response:
    identity = await page_identity(request)
    user = identity.user
    state = state or FormState({})
    # What a failed form posted wins; the other form's fields show what is stored.
    stored = {"name": user.name, "language": user.language or "", "time_zone": user.time_zone or ""}
    values = {**stored, **state.values}
    async with request.config_dict[appkeys.SESSIONS]() as db:
        sessions = await list_sessions(db, identity.user.id)
        schedule = await availability.get_schedule(db, identity.user.id)
    held = schedule.override_until if schedule and schedule.enabled else None
    context = {
        "section": "profile",
        "values": values,
        "errors": state.errors,
        "message": state.message,
        "sessions": sessions,
        "notification_settings": settings_of(identity.user),
        "current_session_id": identity.session.id if identity.session else None,
        "schedule": schedule,
        "override_until": local_text(held, schedule.time_zone) if schedule and held else None,
        # Each language in itself ("Deutsch"), so a reader of either finds theirs.
        "languages": [("", _("Automatic (your browser's language)")), *LANGUAGES.items()],
        "zones": [
            ("", _("Automatic (the workspace's time zone)")),
            *((zone, zone.replace("_", " ")) for zone in business_hours.zone_names()),
        ],
    }
    return await render(request, "personal/profile.html", context, status)


@routes.get(PROFILE_URL, name="me")
async def profile(request: web.Request) -> web.StreamResponse:
    """Your name and email, your language and time zone, your availability, your
    sessions, and links to your password and tokens."""
    return await _page(request)


@routes.post(PROFILE_URL, name="me")
async def save_name(request: web.Request) -> web.StreamResponse:
    """Change your name (the one thing on your account every role may change)."""
    identity = await page_identity(request)
    form = await request.post()
    values: dict[str, object] = {"name": text(form, "name")}
    try:
        changes = validate_form(UserPatchBody, values).changes()
        async with work(request) as w:
            await directory.update_account(w, Viewer.of(identity.user), identity.user.id, changes)
    except HubError as err:
        return await _page(request, failed(err, values, ("name",)), err.status)
    return redirect(request, page_url(request, "me"), ("success", _("Your name is saved.")))


@routes.post(PROFILE_URL + "/locale", name="me.locale")
async def save_language(request: web.Request) -> web.StreamResponse:
    """Your language and time zone; empty is automatic (the browser's language, the
    workspace's zone). The same as ``PUT /api/v1/me/locale``."""
    identity = await page_identity(request)
    form = await request.post()
    values: dict[str, object] = {
        "language": text(form, "language"),
        "time_zone": text(form, "time_zone"),
    }
    try:
        async with work(request) as w:
            user = await save_locale(
                w,
                identity.user.id,
                str(values["language"]) or None,
                str(values["time_zone"]) or None,
            )
    except HubError as err:
        return await _page(request, failed(err, values, ("language", "time_zone")), err.status)
    # The notice reads in the language just chosen.
    use_user_locale(request, user)
    return redirect(
        request, page_url(request, "me"), ("success", _("Your language and time zone are saved."))
    )


@routes.post(PROFILE_URL + "/availability", name="me.availability")
async def set_availability(request: web.Request) -> web.StreamResponse:
    """Mark yourself available for new conversations, or not (routing reads it)."""
    identity = await page_identity(request)
    form = await request.post()
    available = text(form, "available") == "true"
    async with work(request) as w:
        await availability.set_by_hand(w, identity.user.id, available)
    done = (
        _("You are available: routing may give you new conversations.")
        if available
        else _("You are unavailable: routing gives you no new conversations.")
    )
    return redirect(request, page_url(request, "me"), ("success", done))


@routes.post(PROFILE_URL + "/notifications", name="me.notifications")
async def save_notification_settings(request: web.Request) -> web.StreamResponse:
    """Which notifications you get, and whether the inbox shows them on your desktop and
    plays a sound (the same settings as ``PUT /api/v1/me/notification-settings``)."""
    identity = await page_identity(request)
    form = await request.post()
    # A checkbox left unticked is simply absent from the form.
    chosen = NotificationSettings(
        **{name: form.get(name) == "on" for name in NotificationSettings.model_fields}
    )
    async with work(request) as w:
        await save_settings(w, identity.user.id, chosen)
    return redirect(
        request, page_url(request, "me"), ("success", _("Your notification settings are saved."))
    )


@routes.post(PROFILE_URL + "/sessions/end-others", name="me.sessions.end_others")
async def end_others(request: web.Request) -> web.StreamResponse:
    """Log out everywhere else: every session of yours but this one ends, and their open
    websockets close."""
    identity = await page_identity(request)
    keep = identity.session.id if identity.session else None
    async with request.config_dict[appkeys.SESSIONS]() as db:
        ended = await end_other_sessions(db, identity.user.id, keep)
        await db.commit()
    await announce_access_changed(request, identity.user.id)
    done = (
        _("You were logged in nowhere else.")
        if ended == 0
        else ngettext(
            "Logged out everywhere else: %(num)d other session ended.",
            "Logged out everywhere else: %(num)d other sessions ended.",
            ended,
        )
        % {"num": ended}
    )
    return redirect(request, page_url(request, "me"), ("success", done))
