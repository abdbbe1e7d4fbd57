"""Teams: list and read (everyone), create, rename, delete and set members (admins)."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.people import (
    MembersBody,
    NamePageQuery,
    TeamCreateBody,
    TeamOut,
    TeamPatchBody,
)
from hub.people import directory

api = ApiRoutes("teams")
ITEM = "/api/v1/teams/{team_id}"


@api.get("/api/v1/teams", query=NamePageQuery, response=Page[TeamOut])
async def list_(request: web.Request) -> web.Response:
    """List teams by name, with their members' ids and count."""
    await current_viewer(request)
    query = read_query(request, NamePageQuery)
    async with work(request) as w:
        teams, next_cursor = await directory.list_teams(
            w.db, cursor=query.cursor, limit=query.limit
        )
        items = [TeamOut.of(team) for team in teams]
    return json_items(items, next_cursor)


@api.post("/api/v1/teams", body=TeamCreateBody, response=TeamOut, status=201, errors=(403, 409))
async def create(request: web.Request) -> web.Response:
    """Create a team, optionally with members (owners and managers; names are unique)."""
    viewer = await current_viewer(request)
    body = await read_json(request, TeamCreateBody)
    async with work(request) as w:
        team = await directory.create_team(w, viewer, body.name, body.user_ids)
        out = TeamOut.of(team)
    return json_model(out, 201)


@api.get(ITEM, response=TeamOut)
async def get(request: web.Request) -> web.Response:
    """One team."""
    await current_viewer(request)
    team_id = path_id(request, "team_id", "team")
    async with work(request) as w:
        out = TeamOut.of(await directory.get_team(w.db, team_id))
    return json_model(out)


@api.patch(ITEM, body=TeamPatchBody, response=TeamOut, errors=(403, 409))
async def update(request: web.Request) -> web.Response:
    """Rename a team (owners and managers)."""
    viewer = await current_viewer(request)
    team_id = path_id(request, "team_id", "team")
    body = await read_json(request, TeamPatchBody)
    async with work(request) as w:
        out = TeamOut.of(await directory.update_team(w, viewer, team_id, body.name))
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a team: its conversations lose the team and keep their assignee."""
    viewer = await current_viewer(request)
    team_id = path_id(request, "team_id", "team")
    async with work(request) as w:
        await directory.delete_team(w, viewer, team_id)
    return web.Response(status=204)


@api.put(f"{ITEM}/members", body=MembersBody, response=TeamOut, errors=(403,))
async def set_members(request: web.Request) -> web.Response:
    """Replace the team's members with `user_ids` (422 naming unknown ids)."""
    viewer = await current_viewer(request)
    team_id = path_id(request, "team_id", "team")
    body = await read_json(request, MembersBody)
    async with work(request) as w:
        out = TeamOut.of(await directory.set_team_members(w, viewer, team_id, body.user_ids))
    return json_model(out)
