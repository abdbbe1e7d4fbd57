"""Automation rules: the list in running order (enable / disable, move up / down), the
editor of one rule (event, conditions, actions), deleting after a confirmation, and the
run log.

The editor's ES module (``static/rule_editor.js``) saves through the REST API
(``/api/v1/rules``), so the page and every API client meet the same checks; the list's
buttons are plain forms.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.action_wording import PRIORITY_NAMES, SNOOZE_MINUTES, SNOOZE_PRESETS, Names
from admin_ui.admin.people_forms import PAGE_SIZE
from admin_ui.admin.rule_wording import (
    CONDITION_TITLES,
    EVENT_TITLES,
    RULE_ACTION_TITLES,
    RuleNames,
    describe_action,
    describe_condition,
    event_when,
    titles,
)
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.context import path_id, work
from hub.api.schemas.rules import RuleRunQuery
from hub.automation import rules
from hub.automation.rule_actions import RULE_ACTION_TYPES
from hub.automation.rule_conditions import CONTACT_FIELDS
from hub.errors import HubError
from hub.events.work import Work
from hub.inbox.labels import all_labels
from hub.inbox.sla_policies import all_policies
from hub.store.models import Channel, Rule, Snippet, Team, User

routes = web.RouteTableDef()
RULE = r"/admin/rules/{rule_id:\d+}"


async def _pickers(w: Work) -> dict[str, Any]:
    """What the editor's pickers offer."""
    users = await w.db.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name))
    teams = await w.db.scalars(select(Team).order_by(Team.name))
    snippets = await w.db.scalars(select(Snippet).order_by(Snippet.name))
    channels = await w.db.scalars(select(Channel).order_by(Channel.name))
    return {
        "users": list(users),
        "teams": list(teams),
        "labels": await all_labels(w.db),
        "snippets": list(snippets),
        "channels": list(channels),
        "sla_policies": await all_policies(w.db),
    }


def _names(pickers: dict[str, Any]) -> RuleNames:
    return RuleNames(
        Names(
            users={u.id: u.name for u in pickers["users"]},
            teams={t.id: t.name for t in pickers["teams"]},
            labels={label.id: label.name for label in pickers["labels"]},
            snippets={s.id: s.name for s in pickers["snippets"]},
            sla_policies={p.id: p.name for p in pickers["sla_policies"]},
        ),
        channels={c.id: c.name for c in pickers["channels"]},
    )


def _row(rule: Rule, names: RuleNames) -> dict[str, Any]:
    """A rule as the list shows it, in words (a rule this hub no longer reads says so)."""
    try:
        conditions = [describe_condition(c, names) for c in rules.conditions_of(rule)]
        actions = [describe_action(a, names) for a in rules.actions_of(rule)]
    except HubError as error:
        conditions, actions = [], [error.message]
    when = event_when(rule.event, rule.minutes)
    return {"rule": rule, "when": when, "conditions": conditions, "actions": actions}


@routes.get("/admin/rules", name="admin.rules")
async def list_rules(request: web.Request) -> web.StreamResponse:
    """The rules in the order they run, each in words."""
    async with work(request) as w:
        names = _names(await _pickers(w))
        rows = [_row(rule, names) for rule in await rules.list_rules(w)]
    return await render(request, "admin/rules/list.html", {"rows": rows, "section": "rules"})


async def _editor(request: web.Request, rule: Rule | None) -> web.Response:
    async with work(request) as w:
        pickers = await _pickers(w)
    context = {
        "section": "rules",
        "rule": rule,
        "conditions": [c.model_dump(mode="json") for c in rules.conditions_of(rule)]
        if rule
        else [],
        "actions": [a.model_dump(mode="json", exclude_none=True) for a in rules.actions_of(rule)]
        if rule
        else [],
        "events": titles({key: EVENT_TITLES.get(key, key) for key in rules.EVENT_TITLES}),
        "condition_types": titles(CONDITION_TITLES),
        "action_types": [(kind, _(RULE_ACTION_TITLES[kind])) for kind in RULE_ACTION_TYPES],
        "contact_fields": CONTACT_FIELDS,
        "priorities": list(PRIORITY_NAMES.items()),
        "snooze_presets": list(SNOOZE_PRESETS.items()),
        "snooze_minutes": list(SNOOZE_MINUTES.items()),
        **pickers,
    }
    return await render(request, "admin/rules/edit.html", context)


@routes.get("/admin/rules/new", name="admin.rules.new")
async def new_rule(request: web.Request) -> web.StreamResponse:
    """The editor for a new rule."""
    return await _editor(request, None)


@routes.get(RULE, name="admin.rule")
async def edit_rule(request: web.Request) -> web.StreamResponse:
    """The editor of one rule."""
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        rule = await rules.get_rule(w, rule_id)
    return await _editor(request, rule)


@routes.post(RULE + "/toggle", name="admin.rule.toggle")
async def toggle(request: web.Request) -> web.StreamResponse:
    """Turn a rule on or off."""
    viewer = viewer_of(request)
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        rule = await rules.get_rule(w, rule_id)
        changed = await rules.update_rule(
            w, viewer, rule_id, rules.RuleFields(enabled=not rule.enabled)
        )
        said = (_("Rule %(name)s is on.") if changed.enabled else _("Rule %(name)s is off.")) % {
            "name": changed.name
        }
    return redirect(request, page_url(request, "admin.rules"), ("success", said))


@routes.post(RULE + "/move", name="admin.rule.move")
async def move(request: web.Request) -> web.StreamResponse:
    """Move a rule one place earlier or later."""
    viewer = viewer_of(request)
    rule_id = path_id(request, "rule_id", "rule")
    step = -1 if (await request.post()).get("step") == "-1" else 1
    async with work(request) as w:
        rule = await rules.move_rule(w, viewer, rule_id, step)
        said = (_("Moved rule %(name)s up.") if step == -1 else _("Moved rule %(name)s down.")) % {
            "name": rule.name
        }
    return redirect(request, page_url(request, "admin.rules"), ("success", said))


@routes.get(RULE + "/delete", name="admin.rule.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a rule."""
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        rule = await rules.get_rule(w, rule_id)
    context = {
        "heading": _("Delete the rule %(name)s?") % {"name": rule.name},
        "message": _("The rule %(name)s will stop running and be deleted with its run log.")
        % {"name": rule.name},
        "details": [_("What it already did to conversations stays, in their timelines.")],
        "action": page_url(request, "admin.rule.delete", rule_id=rule_id),
        "confirm_label": _("Delete rule"),
        "cancel_url": page_url(request, "admin.rule", rule_id=rule_id),
        "section": "rules",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(RULE + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the rule (after the confirmation page)."""
    viewer = viewer_of(request)
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        name = (await rules.get_rule(w, rule_id)).name
        await rules.delete_rule(w, viewer, rule_id)
    return redirect(
        request,
        page_url(request, "admin.rules"),
        ("success", _("Deleted rule %(name)s.") % {"name": name}),
    )


@routes.get("/admin/rules/runs", name="admin.rules.runs")
async def run_log(request: web.Request) -> web.StreamResponse:
    """The run log, newest first: every rule's, or one rule's (``?rule=``)."""
    raw_rule = request.query.get("rule", "")
    rule_id = int(raw_rule) if raw_rule.isdigit() and len(raw_rule) < 18 else None
    cursor = request.query.get("cursor") or None
    query = validate_form(RuleRunQuery, {"cursor": cursor, "limit": PAGE_SIZE})
    async with work(request) as w:
        all_rules = await rules.list_rules(w)
        runs, next_cursor = await rules.list_runs(
            w, rule_id=rule_id, cursor=query.cursor, limit=query.limit
        )
    names = {rule.id: rule.name for rule in all_rules}
    params = {"rule": str(rule_id) if rule_id else None}
    context = {
        "section": "rules",
        "runs": runs,
        "rule_names": names,
        "rule_id": rule_id,
        "all_rules": all_rules,
        **page_links(page_url(request, "admin.rules.runs"), params, next_cursor, cursor),
    }
    return await render(request, "admin/rules/runs.html", context)
