"""Workspace settings (closing notes: off, optional, mandatory)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.admin.people_forms import FormState, failed, text
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import work
from hub.api.schemas.workspace import WorkspaceSettingsPatch
from hub.errors import HubError
from hub.events.event import HubEvent
from hub.inbox.workspace import WorkspaceSettings, load_workspace_settings, save_workspace_settings

routes = web.RouteTableDef()
FIELDS = tuple(WorkspaceSettings.model_fields)

# Marked English (N_): the page translates each when it renders (``_closing_notes``).
CLOSING_NOTES: list[tuple[str, str, str]] = [
    ("off", N_("Off"), N_("Agents close conversations without a note; the note box is not shown.")),
    (
        "optional",
        N_("Optional"),
        N_("Agents may add a note when closing a conversation (the default)."),
    ),
    (
        "mandatory",
        N_("Mandatory"),
        N_("Agents must write a note to close a conversation: closing without one is refused."),
    ),
]


def _closing_notes() -> list[tuple[str, str, str]]:
    return [(value, _(name), _(help_text)) for value, name, help_text in CLOSING_NOTES]


async def _page(request: web.Request, state: FormState, status: int = 200) -> web.Response:
    context: dict[str, Any] = {
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "closing_notes_options": _closing_notes(),
    }
    return await render(request, "admin/settings.html", context, status)


@routes.get("/admin/settings", name="admin.settings")
async def settings_form(request: web.Request) -> web.StreamResponse:
    """The workspace settings form, showing the current values."""
    async with work(request) as w:
        current = await load_workspace_settings(w.db)
    return await _page(request, FormState(current.model_dump(mode="json")))


@routes.post("/admin/settings")
async def save(request: web.Request) -> web.StreamResponse:
    """Save the settings; the agents' open pages hear of the change."""
    form = await request.post()
    values: dict[str, object] = {name: text(form, name) for name in FIELDS}
    try:
        body = validate_form(WorkspaceSettingsPatch, values)
        changes = body.model_dump(include=body.model_fields_set, mode="json")
        async with work(request) as w:
            saved = await save_workspace_settings(w.db, changes)
            # As the API does: clients show e.g. the closing-note box from these.
            w.emit(HubEvent("settings.updated", saved.model_dump(mode="json")))
    except HubError as err:
        return await _page(request, failed(err, values, FIELDS), err.status)
    return redirect(
        request, page_url(request, "admin.settings"), ("success", "Workspace settings saved.")
    )
