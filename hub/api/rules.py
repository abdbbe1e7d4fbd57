"""Automation rules (owners and managers): list, read, create, change, reorder and
delete them, and read their run log."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_admin, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.rules import (
    RuleCreateBody,
    RuleMoveBody,
    RuleOut,
    RulePatchBody,
    RuleQuery,
    RuleRunOut,
    RuleRunQuery,
)
from hub.automation import rules

api = ApiRoutes("rules")
ITEM = "/api/v1/rules/{rule_id}"


@api.get("/api/v1/rules", query=RuleQuery, response=Page[RuleOut], errors=(403,))
async def list_(request: web.Request) -> web.Response:
    """Every rule (or one event's) in the order they run."""
    await current_admin(request)
    query = read_query(request, RuleQuery)
    async with work(request) as w:
        items = [RuleOut.of(rule) for rule in await rules.list_rules(w, event=query.event)]
    return json_items(items)


@api.post("/api/v1/rules", body=RuleCreateBody, response=RuleOut, status=201, errors=(403,))
async def create(request: web.Request) -> web.Response:
    """Create a rule, run after the others. 422 naming the field for a bad condition
    (a regular expression that does not compile, an unknown type), an action naming a
    user, team, label or snippet that does not exist, or `no_reply` without `minutes`."""
    viewer = await current_admin(request)
    body = await read_json(request, RuleCreateBody)
    async with work(request) as w:
        out = RuleOut.of(await rules.create_rule(w, viewer, body.fields()))
    return json_model(out, 201)


@api.get(ITEM, response=RuleOut, errors=(403,))
async def get(request: web.Request) -> web.Response:
    """One rule."""
    await current_admin(request)
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        out = RuleOut.of(await rules.get_rule(w, rule_id))
    return json_model(out)


@api.patch(ITEM, body=RulePatchBody, response=RuleOut, errors=(403,))
async def update(request: web.Request) -> web.Response:
    """Change a rule: rename, enable or disable it, change its event, conditions or
    actions (each list replaced whole)."""
    viewer = await current_admin(request)
    rule_id = path_id(request, "rule_id", "rule")
    body = await read_json(request, RulePatchBody)
    async with work(request) as w:
        out = RuleOut.of(await rules.update_rule(w, viewer, rule_id, body.fields()))
    return json_model(out)


@api.post(f"{ITEM}/move", body=RuleMoveBody, response=RuleOut, errors=(403,))
async def move(request: web.Request) -> web.Response:
    """Move a rule one place earlier (`step` -1) or later (1) in the running order."""
    viewer = await current_admin(request)
    rule_id = path_id(request, "rule_id", "rule")
    body = await read_json(request, RuleMoveBody)
    async with work(request) as w:
        out = RuleOut.of(await rules.move_rule(w, viewer, rule_id, body.step))
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a rule and its run log."""
    viewer = await current_admin(request)
    rule_id = path_id(request, "rule_id", "rule")
    async with work(request) as w:
        await rules.delete_rule(w, viewer, rule_id)
    return web.Response(status=204)


@api.get(f"{ITEM}/runs", query=RuleRunQuery, response=Page[RuleRunOut], errors=(403,))
async def runs(request: web.Request) -> web.Response:
    """The rule's run log, newest first: each time its conditions held on a
    conversation, with the outcome (`done`, `skipped` when nothing needed changing,
    `failed` with the error)."""
    await current_admin(request)
    rule_id = path_id(request, "rule_id", "rule")
    query = read_query(request, RuleRunQuery)
    async with work(request) as w:
        await rules.get_rule(w, rule_id)
        rows, next_cursor = await rules.list_runs(
            w, rule_id=rule_id, cursor=query.cursor, limit=query.limit
        )
        items = [RuleRunOut.of(row) for row in rows]
    return json_items(items, next_cursor)
