"""Macros, for every role (``/me/macros``): your own and the shared ones on one page,
and the editor of one macro with its list of actions.

The pages only read; the editor's ES module (``static/macro_editor.js``) saves and
deletes through the REST API (``/api/v1/macros``), so the UI and every API client go
through the same domain functions and permission checks. Owners and managers edit the
shared macros here too; agents see them, and run them from the inbox.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import page_identity
from admin_ui.action_wording import (
    Names,
    describe,
    priority_name,
    snooze_choices,
    title,
)
from admin_ui.rendering import render
from hub.api.context import work
from hub.auth.visibility import Viewer
from hub.automation import macros
from hub.automation.actions import ACTION_TYPES
from hub.errors import NotFound
from hub.events.work import Work
from hub.inbox.labels import all_labels
from hub.inbox.priority import PRIORITIES
from hub.inbox.sla_policies import all_policies
from hub.store.models import Macro, Snippet, Team, User

routes = web.RouteTableDef()
LIST_URL = "/me/macros"
# More than a workspace writes; the list is not paged.
SHOWN = 500


async def _pickers(w: Work) -> dict[str, Any]:
    """What the editor's pickers offer: active users, teams, labels, snippets, SLA
    policies."""
    users = await w.db.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name))
    teams = await w.db.scalars(select(Team).order_by(Team.name))
    snippets = await w.db.scalars(select(Snippet).order_by(Snippet.name))
    return {
        "users": list(users),
        "teams": list(teams),
        "labels": await all_labels(w.db),
        "snippets": list(snippets),
        "sla_policies": await all_policies(w.db),
    }


def _names(pickers: dict[str, Any]) -> Names:
    return Names(
        users={u.id: u.name for u in pickers["users"]},
        teams={t.id: t.name for t in pickers["teams"]},
        labels={label.id: label.name for label in pickers["labels"]},
        snippets={s.id: s.name for s in pickers["snippets"]},
        sla_policies={p.id: p.name for p in pickers["sla_policies"]},
    )


def _row(macro: Macro, names: Names, viewer: Viewer) -> dict[str, Any]:
    """A macro as the list shows it: its actions in words, and whether you may edit it."""
    return {
        "macro": macro,
        "steps": [describe(action, names) for action in macros.actions_of(macro)],
        "editable": macro.owner_id == viewer.id or viewer.is_admin,
    }


@routes.get(LIST_URL, name="me.macros")
async def macros_page(request: web.Request) -> web.Response:
    """Your macros and the shared ones, each with its actions in words."""
    identity = await page_identity(request)
    viewer = Viewer.of(identity.user)
    async with work(request) as w:
        rows, _ = await macros.list_macros(w, viewer, limit=SHOWN)
        names = _names(await _pickers(w))
        listed = [_row(macro, names, viewer) for macro in rows]
    context = {
        "section": "macros",
        "own": [row for row in listed if row["macro"].owner_id is not None],
        "shared": [row for row in listed if row["macro"].owner_id is None],
        "is_admin": viewer.is_admin,
    }
    return await render(request, "personal/macros/list.html", context)


async def _editor(request: web.Request, macro: Macro | None) -> web.Response:
    identity = await page_identity(request)
    viewer = Viewer.of(identity.user)
    async with work(request) as w:
        pickers = await _pickers(w)
    actions = (
        [a.model_dump(mode="json", exclude_none=True) for a in macros.actions_of(macro)]
        if macro
        else []
    )
    presets, durations = snooze_choices()
    context = {
        "section": "macros",
        "macro": macro,
        "actions": actions,
        "can_share": viewer.is_admin,
        "action_types": [(kind, title(kind)) for kind in ACTION_TYPES],
        "priorities": [(p, priority_name(p)) for p in PRIORITIES],
        "snooze_presets": presets,
        "snooze_minutes": durations,
        **pickers,
    }
    return await render(request, "personal/macros/edit.html", context)


@routes.get(f"{LIST_URL}/new", name="me.macros.new")
async def new_macro(request: web.Request) -> web.Response:
    """The editor for a new macro."""
    return await _editor(request, None)


@routes.get(LIST_URL + "/{macro_id}", name="me.macros.edit")
async def edit_macro(request: web.Request) -> web.Response:
    """The editor of a macro you may change (another's personal macro is not found; a
    shared one, for an agent, is not editable: 404 too, as there is nothing to show)."""
    identity = await page_identity(request)
    viewer = Viewer.of(identity.user)
    raw = request.match_info["macro_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("macro")
    async with work(request) as w:
        macro = await macros.get_macro(w, viewer, int(raw))
    if macro.owner_id is None and not viewer.is_admin:
        raise NotFound("macro")
    return await _editor(request, macro)
