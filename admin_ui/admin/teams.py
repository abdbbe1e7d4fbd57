"""Teams and their members: list, create, rename and set members, delete."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import (
    PAGE_SIZE,
    FormState,
    active_users,
    failed,
    id_list,
    text,
)
from admin_ui.i18n import gettext as _
from admin_ui.i18n import ngettext
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import path_id, work
from hub.api.schemas.people import MembersBody, NamePageQuery, TeamCreateBody, TeamPatchBody
from hub.errors import HubError
from hub.people import directory
from hub.store.models import Team, User

routes = web.RouteTableDef()
TEAM = r"/admin/teams/{team_id:\d+}"
FIELDS = ("name", "user_ids")


@routes.get("/admin/teams", name="admin.teams")
async def list_teams(request: web.Request) -> web.StreamResponse:
    """Teams by name with their member counts, paged."""
    cursor = request.query.get("cursor") or None
    query = validate_form(NamePageQuery, {"cursor": cursor})
    async with work(request) as w:
        teams, next_cursor = await directory.list_teams(w.db, cursor=query.cursor, limit=PAGE_SIZE)
    context = {
        "teams": teams,
        **page_links(page_url(request, "admin.teams"), {}, next_cursor, cursor),
    }
    return await render(request, "admin/teams/list.html", context)


def _member_options(users: list[User], team: Team | None) -> list[tuple[int, str, str | None]]:
    # Active users can be picked; a deactivated member stays listed (ticked) so that
    # saving the form does not silently drop them.
    people_by_id = {user.id: user for user in users}
    for member in team.members if team is not None else []:
        people_by_id.setdefault(member.id, member)
    ordered = sorted(people_by_id.values(), key=lambda user: (user.name.lower(), user.id))
    return [
        (user.id, f"{user.name} · {user.email}", None if user.is_active else "deactivated")
        for user in ordered
    ]


async def _team_page(
    request: web.Request, team_id: int | None, state: FormState | None = None, status: int = 200
) -> web.Response:
    async with work(request) as w:
        team = await directory.get_team(w.db, team_id) if team_id is not None else None
        users = await active_users(w.db)
        if state is None:
            members = [str(member.id) for member in team.members] if team is not None else []
            state = FormState({"name": team.name if team else "", "user_ids": members})
        options = _member_options(users, team)
    context: dict[str, Any] = {
        "team": team,
        "member_options": options,
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
    }
    return await render(request, "admin/teams/form.html", context, status)


def _posted(form: Any) -> dict[str, object]:
    return {"name": text(form, "name"), "user_ids": id_list(form, "user_ids")}


@routes.get("/admin/teams/new", name="admin.teams.new")
async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to create a team."""
    return await _team_page(request, None)


@routes.post("/admin/teams/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the team with its members."""
    viewer = viewer_of(request)
    values = _posted(await request.post())
    try:
        body = validate_form(TeamCreateBody, values)
        async with work(request) as w:
            team = await directory.create_team(w, viewer, body.name, body.user_ids)
            team_id, name = team.id, team.name
    except HubError as err:
        return await _team_page(request, None, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.team", team_id=team_id),
        ("success", _("Created team %(name)s.") % {"name": name}),
    )


@routes.get(TEAM, name="admin.team")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A team's page: rename it and choose its members."""
    return await _team_page(request, path_id(request, "team_id", "team"))


@routes.post(TEAM)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the name and the member list together (one transaction)."""
    viewer = viewer_of(request)
    team_id = path_id(request, "team_id", "team")
    values = _posted(await request.post())
    try:
        renamed = validate_form(TeamPatchBody, {"name": values["name"]})
        members = validate_form(MembersBody, {"user_ids": values["user_ids"]})
        async with work(request) as w:
            await directory.update_team(w, viewer, team_id, renamed.name)
            team = await directory.set_team_members(w, viewer, team_id, members.user_ids)
            name = team.name
    except HubError as err:
        if err.status == 404:
            raise
        return await _team_page(request, team_id, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.team", team_id=team_id),
        ("success", _("Saved team %(name)s.") % {"name": name}),
    )


@routes.get(TEAM + "/delete", name="admin.team.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a team, naming it and saying what happens."""
    team_id = path_id(request, "team_id", "team")
    async with work(request) as w:
        team = await directory.get_team(w.db, team_id)
        count = len(team.members)
    context = {
        "heading": _("Delete the team %(name)s?") % {"name": team.name},
        "message": ngettext(
            "The team %(name)s and its %(num)d membership will be deleted. "
            "The users themselves stay.",
            "The team %(name)s and its %(num)d memberships will be deleted. "
            "The users themselves stay.",
            count,
        )
        % {"name": team.name, "num": count},
        "details": [
            _("Its conversations keep their assignee; they just no longer belong to a team."),
            _(
                "Agents who see conversations by team no longer see this team's ones "
                "(unless they are assigned to them)."
            ),
            _(
                "Channels that route to this team stop giving conversations through it; a "
                "channel that routes only to this team leaves new conversations unassigned."
            ),
            _("Custom inboxes shared with the team are no longer shared with it."),
        ],
        "action": page_url(request, "admin.team.delete", team_id=team_id),
        "confirm_label": _("Delete team"),
        "cancel_url": page_url(request, "admin.team", team_id=team_id),
        "section": "teams",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(TEAM + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the team (after the confirmation page)."""
    viewer = viewer_of(request)
    team_id = path_id(request, "team_id", "team")
    async with work(request) as w:
        name = (await directory.get_team(w.db, team_id)).name
        await directory.delete_team(w, viewer, team_id)
    return redirect(
        request,
        page_url(request, "admin.teams"),
        ("success", _("Deleted team %(name)s.") % {"name": name}),
    )
