"""Connecting a channel: type cards, the credentials form, the done page; editing credentials.

The flow is ``/admin/channels/new`` (cards) → ``/admin/channels/new/{type}`` (the form
generated from the type's Config) → the routing step (``/admin/channels/{id}/routing``,
in ``channel_routing``) → ``/admin/channels/{id}/connected``. Creating and editing go
through ``ChannelAdmin``, the service the REST API uses, so the plugin's ``connect`` checks
the credentials before anything is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from admin_ui.access import viewer_of
from admin_ui.admin import config_form, reveal
from admin_ui.admin.config_form import ConfigField, Mode
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.bodies import validate, validation_details
from hub.api.context import path_id
from hub.api.schemas.channels import ChannelCreateBody, ChannelPatchBody, ChannelTypeOut
from hub.channels.admin import ChannelAdmin
from hub.channels.channel_queries import live_channel
from hub.channels.registry import stored_config
from hub.contract.channel import ChannelType
from hub.errors import HubError, NotFound
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.store.models import Channel

routes = web.RouteTableDef()
CHANNEL = r"/admin/channels/{channel_id:\d+}"
# What to say above the form when the provider (through the plugin) says no.
PROBLEMS = {
    "bad_credentials": (
        N_("The provider refused these credentials"),
        N_("Nothing was saved. Correct the credentials below and connect again."),
    ),
    "connect_failed": (
        N_("The provider refused the setup"),
        N_("Nothing was saved. Correct the settings below and connect again."),
    ),
    "provider_unavailable": (
        N_("The provider could not be reached"),
        N_(
            "Nothing was saved. Try again in a moment; if it keeps failing, check that the hub "
            "can reach the provider (and the API address under Advanced settings, if any)."
        ),
    ),
    "plugin_error": (
        N_("The channel's plugin failed"),
        N_("Nothing was saved. The hub's log has the details; updating the plugin may help."),
    ),
    "type_not_available": (
        N_("This type is not available yet"),
        N_("Its plugin is not built yet, so it cannot connect. Nothing was saved."),
    ),
    "edit_conflict": (
        N_("Someone else changed this channel meanwhile"),
        N_("Reload the page and try again."),
    ),
}


def _channel_type(request: web.Request, name: str) -> type[ChannelType[Any]]:
    found = request.config_dict[appkeys.CHANNELS].types.get(name)
    if found is None:
        raise NotFound("channel type")
    return found


def _new_channel_type(request: web.Request, name: str) -> type[ChannelType[Any]]:
    """A type to connect a new channel of: 404 when unknown, 409 when its plugin is not
    built yet (its card has no link; this answers a typed or stale address)."""
    found = _channel_type(request, name)
    if not found.available:
        raise HubError(
            409,
            "type_not_available",
            f"{found.title} is not available yet: its plugin is not built yet, so a "
            "channel of this type cannot be connected. Choose another type.",
        )
    return found


def _fields(request: web.Request, channel_type: type[ChannelType[Any]]) -> list[ConfigField]:
    """The form of ``channel_type``: from the very schema the channel-types API serves."""
    declared = request.config_dict[appkeys.CHANNELS].types.is_declared(channel_type.name)
    return config_form.form_fields(ChannelTypeOut.of(channel_type, declared).config_schema)


def _problem(err: HubError, general: list[str]) -> dict[str, str] | None:
    """The notice above the form for an error that belongs to no single field."""
    if err.code in PROBLEMS:
        title, hint = PROBLEMS[err.code]
        return {"title": _(title), "message": err.message, "hint": _(hint)}
    if general or not err.details:
        message = "; ".join(general) or err.message
        return {"title": _("The settings were not accepted"), "message": message, "hint": ""}
    return None


async def _channel(request: web.Request) -> Channel:
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        return await live_channel(db, channel_id)


@routes.get("/admin/channels/new", name="admin.channels.new")
async def types_page(request: web.Request) -> web.Response:
    """A card for every channel type: the plugins' and the declared ones."""
    types = request.config_dict[appkeys.CHANNELS].types
    cards = [
        {
            "name": name,
            "title": kind.title,
            "description": kind.description,
            "declared": types.is_declared(name),
            "available": kind.available,
        }
        for name, kind in types.all().items()
    ]
    return await render(request, "admin/channels/new.html", {"cards": cards})


def type_phrase(channel_type: type[ChannelType[Any]]) -> str:
    """ "a Telegram channel", "a custom channel": the type's title read as a name, or,
    when it already says "channel", as the words it is (never "Custom channel channel")."""
    title = " ".join(channel_type.title.split()) or channel_type.name
    if title.lower() == "channel" or title.lower().endswith(" channel"):
        # "Custom channel" describes the type rather than naming it: plain words.
        phrase = title[:1].lower() + title[1:] if title[1:2].islower() else title
        if phrase[:1].lower() in "aeiou":
            return _("an %(phrase)s") % {"phrase": phrase}
        return _("a %(phrase)s") % {"phrase": phrase}
    # The article goes with the title's sound in English; other languages word it whole.
    if title[:1].lower() in "aeiou":
        return _("an %(title)s channel") % {"title": title}
    return _("a %(title)s channel") % {"title": title}


def connect_heading(channel_type: type[ChannelType[Any]]) -> str:
    """The connect page's heading: "Connect a Telegram channel"."""
    return _("Connect %(type)s") % {"type": type_phrase(channel_type)}


async def _configure_page(
    request: web.Request,
    channel_type: type[ChannelType[Any]],
    form: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The form, blank with defaults, or as ``form`` submitted it (never its secrets)."""
    fields = _fields(request, channel_type)
    values = (
        config_form.initial_values(fields, None)
        if form is None
        else config_form.typed_values(fields, form)
    )
    retype = config_form.typed_secrets(fields, form) if form is not None else set()
    mode: Mode = "new" if form is None else "retry"
    context = {
        "channel_type": channel_type,
        "heading": connect_heading(channel_type),
        "name": str(form.get("name", "")) if form is not None else "",
        "fields": config_form.views(fields, values, errors or {}, mode, retype),
        "errors": errors or {},
        "problem": problem,
    }
    return await render(request, "admin/channels/configure.html", context, status=status)


@routes.get("/admin/channels/new/{type_name}", name="admin.channels.new.type")
async def configure_page(request: web.Request) -> web.Response:
    """The credentials form of one type, defaults filled in."""
    return await _configure_page(
        request, _new_channel_type(request, request.match_info["type_name"])
    )


@routes.post("/admin/channels/new/{type_name}")
async def create(request: web.Request) -> web.Response:
    """Create the channel (the plugin's ``connect`` runs first) and go on to routing."""
    viewer = viewer_of(request)
    channel_type = _new_channel_type(request, request.match_info["type_name"])
    fields = _fields(request, channel_type)
    form = await request.post()
    config, errors = config_form.parse_new(fields, form)
    body: ChannelCreateBody | None = None
    try:
        data = {"type": channel_type.name, "name": form.get("name", ""), "config": config}
        body = validate(ChannelCreateBody, data)
    except HubError as err:
        errors = {**_body_errors(err), **errors}
    if body is None or errors:
        # The Config's own errors too, so every field says what is wrong in one go.
        errors = {**_config_errors(channel_type, config), **errors}
        return await _configure_page(request, channel_type, form, errors, status=422)
    try:
        saved = await ChannelAdmin.of(request.config_dict).create(viewer, body.new())
    except HubError as err:
        by_input, problem = _service_errors(err)
        return await _configure_page(request, channel_type, form, by_input, problem, err.status)
    channel = saved.channel
    response = redirect(
        request,
        page_url(request, "admin.channel.routing", {"setup": "1"}, channel_id=channel.id),
        flash=(
            "success",
            _("%(name)s is connected. Now choose who gets its conversations.")
            % {"name": channel.name},
        ),
    )
    # Secrets the hub generated (fields left empty) are news to the admin: carry them on.
    revealed = saved.config or {}
    generated = [
        reveal.RevealedSecret(field.key, field.label, str(revealed[field.key]))
        for field in fields
        if field.secret and field.key not in config and revealed.get(field.key)
    ]
    reveal.remember(request, response, channel.id, viewer.id, generated)
    return response


def _body_errors(err: HubError) -> dict[str, str]:
    """A form body's errors by input (``validate`` also refuses NUL characters, which
    PostgreSQL cannot store); one naming no input is shown beside the name."""
    by_input, general = config_form.field_errors(err.details or [{"message": err.message}])
    if general:
        by_input.setdefault("name", "; ".join(general))
    return by_input


def _service_errors(err: HubError) -> tuple[dict[str, str], dict[str, str] | None]:
    """A refusal of the channel service: errors by input, and the notice above the form.
    Errors that are not about the form (403, 404) are pages of their own."""
    if err.status not in (409, 422, 502):
        raise err
    by_input, general = config_form.field_errors(err.details or [])
    return by_input, _problem(err, general)


def _config_errors(channel_type: type[ChannelType[Any]], config: dict[str, Any]) -> dict[str, str]:
    """The Config's own errors, to show beside the name's in one go."""
    try:
        channel_type.Config.model_validate(config)
    except ValidationError as err:
        details = [{**d, "field": f"config.{d['field']}"} for d in validation_details(err)]
        return config_form.field_errors(details)[0]
    return {}


# The done page lives beside the cookie that carries its secrets.
routes.get(CHANNEL + "/connected", name="admin.channel.connected")(reveal.connected_page)


async def _edit_page(
    request: web.Request,
    channel: Channel,
    channel_type: type[ChannelType[Any]],
    form: Mapping[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    problem: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The stored values (secrets empty), or the ones ``form`` submitted."""
    fields = _fields(request, channel_type)
    config = ChannelAdmin.of(request.config_dict).visible_config(channel)
    values = (
        config_form.initial_values(fields, config)
        if form is None
        else config_form.typed_values(fields, form)
    )
    context = {
        "channel": channel,
        "channel_type": channel_type,
        "type_phrase": type_phrase(channel_type),
        "name": channel.name if form is None else str(form.get("name", "")),
        "fields": config_form.views(fields, values, errors or {}, "edit"),
        "errors": errors or {},
        "problem": problem,
        "unreadable": config is None,
    }
    return await render(request, "admin/channels/edit.html", context, status=status)


def _installed_type(request: web.Request, channel: Channel) -> type[ChannelType[Any]]:
    found = request.config_dict[appkeys.CHANNELS].types.get(channel.type)
    if found is None:
        raise HubError(
            409,
            "type_not_installed",
            f"This channel's type {channel.type!r} is not installed, so its settings cannot "
            "be edited: install the plugin that provides it, or delete the channel.",
        )
    return found


@routes.get(CHANNEL + "/edit", name="admin.channel.edit")
async def edit_page(request: web.Request) -> web.Response:
    """The channel's name and credentials; secrets as empty inputs."""
    channel = await _channel(request)
    return await _edit_page(request, channel, _installed_type(request, channel))


@routes.post(CHANNEL + "/edit")
async def edit(request: web.Request) -> web.Response:
    """Save the name and the credentials typed; a changed config is connected again."""
    viewer = viewer_of(request)
    channel = await _channel(request)
    channel_type = _installed_type(request, channel)
    form = await request.post()
    patch, errors = config_form.parse_edit(_fields(request, channel_type), form)
    changes: dict[str, Any] = {"name": form.get("name", "")}
    if not _unchanged(request, channel, channel_type, patch):
        changes["config"] = patch
    body: ChannelPatchBody | None = None
    try:
        body = validate(ChannelPatchBody, changes)
    except HubError as err:
        errors = {**_body_errors(err), **errors}
    if body is None or errors:
        return await _edit_page(request, channel, channel_type, form, errors, status=422)
    try:
        saved = await ChannelAdmin.of(request.config_dict).update(
            viewer, channel.id, body.changes()
        )
    except HubError as err:
        by_input, problem = _service_errors(err)
        return await _edit_page(request, channel, channel_type, form, by_input, problem, err.status)
    flash = _("Saved the changes to %(name)s.") % {"name": saved.channel.name}
    return redirect(
        request, page_url(request, "admin.channel", channel_id=channel.id), ("success", flash)
    )


def _unchanged(
    request: web.Request,
    channel: Channel,
    channel_type: type[ChannelType[Any]],
    patch: dict[str, Any],
) -> bool:
    """Whether ``patch`` leaves the stored config as it is: then it is not sent, so
    renaming a channel does not ask the provider to check its credentials again."""
    try:
        stored = stored_config(request.config_dict[appkeys.CHANNELS].config_of(channel))
        merged: BaseModel = channel_type.Config.model_validate({**stored, **patch})
    except (ChannelUnavailable, ValidationError):
        return False
    return stored_config(merged) == stored
