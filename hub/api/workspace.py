"""Workspace-wide settings: everyone reads them, owners and managers change them."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json
from hub.api.context import current_admin, current_viewer, work
from hub.api.responses import json_model
from hub.api.routing import ApiRoutes
from hub.api.schemas.workspace import WorkspaceSettingsPatch
from hub.events.event import HubEvent
from hub.inbox.workspace import WorkspaceSettings, load_workspace_settings, save_workspace_settings

api = ApiRoutes("settings")


@api.get("/api/v1/settings", response=WorkspaceSettings)
async def get(request: web.Request) -> web.Response:
    """The workspace settings (e.g. `closing_notes`), defaults filled in."""
    await current_viewer(request)
    async with work(request) as w:
        settings = await load_workspace_settings(w.db)
    return json_model(settings)


@api.patch(
    "/api/v1/settings", body=WorkspaceSettingsPatch, response=WorkspaceSettings, errors=(403,)
)
async def update(request: web.Request) -> web.Response:
    """Change some settings (owners and managers); unknown keys answer 422."""
    viewer = await current_admin(request)
    body = await read_json(request, WorkspaceSettingsPatch)
    changes = body.model_dump(include=body.model_fields_set, mode="json")
    async with work(request) as w:
        settings = await save_workspace_settings(w.db, changes, actor=viewer)
        # Clients show e.g. the closing-note box from these: let them refresh.
        w.emit(HubEvent("settings.updated", settings.model_dump(mode="json")))
    return json_model(settings)
