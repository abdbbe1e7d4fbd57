"""Connecting a CRM: type cards, the credentials form generated from the type's Config,
the OAuth flow (start, and the callback that lands back on the connection's page), and
editing the credentials (how a connection in error is reconnected).

Creating and editing go through ``CrmAdmin`` and ``hub.crm.oauth``, the code the REST API
runs, so the plugin checks typed credentials with the CRM before anything is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic.errors import PydanticUserError

from admin_ui.access import viewer_of
from admin_ui.admin import config_form
from admin_ui.admin.config_form import ConfigField, Mode
from admin_ui.admin.crm_rows import SECTION, connection_of, crm_admin
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.bodies import validate
from hub.api.schemas.crm import (
    CrmConnectionCreateBody,
    CrmConnectionPatchBody,
    OAuthCallbackQuery,
)
from hub.contract.crm import CrmType
from hub.crm import oauth
from hub.errors import HubError, NotFound
from hub.store.models import CrmConnection

routes = web.RouteTableDef()
ITEM = r"/admin/crm/{connection_id:\d+}"
CALLBACK = "/admin/crm/oauth/callback"
# What to say above the form when the CRM (through the plugin) says no.
PROBLEMS = {
    "bad_credentials": (
        N_("The CRM refused these credentials"),
        N_("Nothing was saved. Correct the credentials below and connect again."),
    ),
    "connect_failed": (
        N_("The CRM refused the setup"),
        N_("Nothing was saved. Correct the settings below and connect again."),
    ),
    "crm_unavailable": (
        N_("The CRM could not be reached"),
        N_(
            "Nothing was saved. Try again in a moment; if it keeps failing, check that the hub "
            "can reach the CRM (and the API address under Advanced settings)."
        ),
    ),
    "plugin_error": (
        N_("The CRM's plugin failed"),
        N_("Nothing was saved. The hub's log has the details; updating the plugin may help."),
    ),
    "type_not_available": (
        N_("This CRM is not available yet"),
        N_("Its plugin is not built yet, so it cannot connect. Nothing was saved."),
    ),
}


def _types(request: web.Request) -> Mapping[str, type[CrmType[Any]]]:
    return crm_admin(request).env.instances.types


def _crm_type(request: web.Request, name: str) -> type[CrmType[Any]]:
    """A type to connect: 404 when unknown, 409 when its plugin is not built yet."""
    found = _types(request).get(name)
    if found is None:
        raise NotFound("CRM type")
    if not found.available:
        raise HubError(
            409,
            "type_not_available",
            f"{found.title} is not available yet: its plugin is not built yet. Choose another CRM.",
        )
    return found


def _fields(crm_type: type[CrmType[Any]]) -> list[ConfigField]:
    try:
        schema = crm_type.Config.model_json_schema()
    except PydanticUserError:  # a Config pydantic cannot describe: no form, no 500
        schema = {}
    return config_form.form_fields(schema)


def redirect_uri(request: web.Request) -> str:
    """Where the CRM sends the admin back to from the admin pages (register it in the
    CRM's app beside, or instead of, the API's)."""
    return f"{request.config_dict[appkeys.SETTINGS].base_url}{CALLBACK}"


def _problem(err: HubError, general: list[str]) -> dict[str, str] | None:
    """The notice above the form for an error that belongs to no single field."""
    if err.code in PROBLEMS:
        title, hint = PROBLEMS[err.code]
        return {"title": _(title), "message": err.message, "hint": _(hint)}
    if general or not err.details:
        message = "; ".join(general) or err.message
        return {"title": _("The settings were not accepted"), "message": message, "hint": ""}
    return None


def _refusal(err: HubError) -> tuple[dict[str, str], dict[str, str] | None]:
    """A refusal of the service as errors by input and a notice; other errors (403,
    404) are pages of their own."""
    if err.status not in (409, 422, 502):
        raise err
    by_input, general = config_form.field_errors(err.details or [])
    return by_input, _problem(err, general)


@routes.get("/admin/crm/new", name="admin.crm.new")
async def types_page(request: web.Request) -> web.Response:
    """A card for every installed CRM type."""
    cards = [
        {
            "name": name,
            "title": kind.title,
            "description": kind.description,
            "available": kind.available,
        }
        for name, kind in sorted(_types(request).items())
    ]
    return await render(request, "admin/crm/new.html", {"section": SECTION, "cards": cards})


async def _configure_page(
    request: web.Request,
    crm_type: type[CrmType[Any]],
    form: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The form, blank with defaults, or as ``form`` submitted it (never its secrets)."""
    fields = _fields(crm_type)
    values = (
        config_form.initial_values(fields, None)
        if form is None
        else config_form.typed_values(fields, form)
    )
    retype = config_form.typed_secrets(fields, form) if form is not None else set()
    mode: Mode = "new" if form is None else "retry"
    context = {
        "section": SECTION,
        "crm_type": crm_type,
        "name": str(form.get("name", "")) if form is not None else crm_type.title,
        "fields": config_form.views(fields, values, errors or {}, mode, retype),
        "errors": errors or {},
        "problem": problem,
        "redirect_uri": redirect_uri(request),
    }
    return await render(request, "admin/crm/configure.html", context, status=status)


@routes.get("/admin/crm/new/{type_name}", name="admin.crm.new.type")
async def configure_page(request: web.Request) -> web.Response:
    """The credentials form of one CRM type."""
    return await _configure_page(request, _crm_type(request, request.match_info["type_name"]))


@routes.post("/admin/crm/new/{type_name}")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the connection: typed credentials are checked with the CRM first; an
    OAuth connection goes on to the CRM's authorization page at once."""
    crm_type = _crm_type(request, request.match_info["type_name"])
    form = await request.post()
    config, errors = config_form.parse_new(_fields(crm_type), form)
    try:
        data = {"type": crm_type.name, "name": form.get("name", ""), "config": config}
        body = validate(CrmConnectionCreateBody, data)
        if errors:
            return await _configure_page(request, crm_type, form, errors, status=422)
        connection = await crm_admin(request).create(viewer_of(request), body.new())
    except HubError as err:
        by_input, problem = _refusal(err)
        by_input = {**by_input, **errors}
        return await _configure_page(request, crm_type, form, by_input, problem, err.status)
    if connection.status == "connecting":
        authorize = page_url(request, "admin.crm.authorize", connection_id=connection.id)
        return redirect(request, authorize)
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    text = _("%(name)s is connected. Now choose the fields your agents see.") % {
        "name": connection.name
    }
    return redirect(request, page + "#fields-heading", ("success", text))


@routes.get(f"{ITEM}/authorize", name="admin.crm.authorize")
async def authorize_page(request: web.Request) -> web.StreamResponse:
    """A fresh authorization URL behind a link to follow: the pages' CSP allows forms to
    post only to the hub (``form-action 'self'``), which a redirect from a form to the CRM
    would break, while a link may go anywhere. Starting over is how an OAuth connection
    is reconnected."""
    connection = await connection_of(request)
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    try:
        url = await oauth.start(
            crm_admin(request), viewer_of(request), connection.id, redirect_uri(request)
        )
    except HubError as err:
        if err.status not in (409, 422):
            raise
        return redirect(
            request, page, ("error", _("Could not start: %(reason)s.") % {"reason": err.message})
        )
    context = {
        "section": SECTION,
        "connection": connection,
        "title": _types(request)[connection.type].title,
        "authorization_url": url,
        "redirect_uri": redirect_uri(request),
    }
    return await render(request, "admin/crm/authorize.html", context)


@routes.get(CALLBACK, name="admin.crm.callback")
async def oauth_callback(request: web.Request) -> web.StreamResponse:
    """Where the CRM sends the admin back: finish the flow like the API's callback
    does, then show the connection's page with what happened."""
    try:
        query = validate(OAuthCallbackQuery, dict(request.query))
        connection = await oauth.finish(
            crm_admin(request),
            viewer_of(request),
            state=query.state,
            code=query.code,
            error=query.error_description or query.error,
        )
    except HubError as err:
        if err.status not in (400, 422, 502):
            raise
        text = _("The CRM was not connected: %(reason)s.") % {"reason": err.message}
        return redirect(request, page_url(request, "admin.crm"), ("error", text))
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    text = _("%(name)s is connected. Now choose the fields your agents see.") % {
        "name": connection.name
    }
    return redirect(request, page + "#fields-heading", ("success", text))


def _installed(request: web.Request, connection: CrmConnection) -> type[CrmType[Any]]:
    """The connection's type: a 409 page when its plugin is no longer installed."""
    crm_type = _types(request).get(connection.type)
    if crm_type is None:
        raise HubError(
            409,
            "type_not_installed",
            f"This connection's type {connection.type!r} is not installed, so its settings "
            "cannot be edited: install its plugin again, or delete the connection.",
        )
    return crm_type


async def _edit_page(
    request: web.Request,
    connection: CrmConnection,
    form: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The stored values (secrets empty), or the ones ``form`` submitted."""
    crm_type = _installed(request, connection)
    fields = _fields(crm_type)
    config = crm_admin(request).visible_config(connection)
    values = (
        config_form.initial_values(fields, config)
        if form is None
        else config_form.typed_values(fields, form)
    )
    context = {
        "section": SECTION,
        "connection": connection,
        "crm_type": crm_type,
        "name": connection.name if form is None else str(form.get("name", "")),
        "fields": config_form.views(fields, values, errors or {}, "edit"),
        "errors": errors or {},
        "problem": problem,
        "unreadable": config is None,
    }
    return await render(request, "admin/crm/edit.html", context, status=status)


@routes.get(f"{ITEM}/edit", name="admin.crm.edit")
async def edit_page(request: web.Request) -> web.Response:
    """The connection's name and credentials; secrets as empty inputs."""
    return await _edit_page(request, await connection_of(request))


@routes.post(f"{ITEM}/edit")
async def edit(request: web.Request) -> web.StreamResponse:
    """Save the name and credentials; changed credentials are checked with the CRM
    again, and a connection in error is ``ok`` again once they are accepted."""
    connection = await connection_of(request)
    form = await request.post()
    crm_type = _installed(request, connection)
    patch, errors = config_form.parse_edit(_fields(crm_type), form)
    try:
        body = validate(CrmConnectionPatchBody, {"name": form.get("name", ""), "config": patch})
        if errors:
            return await _edit_page(request, connection, form, errors, status=422)
        saved = await crm_admin(request).update(viewer_of(request), connection.id, body.changes())
    except HubError as err:
        by_input, problem = _refusal(err)
        return await _edit_page(
            request, connection, form, {**by_input, **errors}, problem, err.status
        )
    page = page_url(request, "admin.crm.connection", connection_id=connection.id)
    return redirect(
        request, page, ("success", _("Saved the changes to %(name)s.") % {"name": saved.name})
    )
