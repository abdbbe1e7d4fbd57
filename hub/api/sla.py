"""SLA policies: list and read them (anyone), create, replace and delete them (owners
and managers); put one on a conversation or take it off (whoever sees the conversation)."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json
from hub.api.context import current_viewer, path_id, work
from hub.api.conversations import conversation_out
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.conversations import ConversationOut
from hub.api.schemas.sla import ApplySlaBody, SlaPolicyBody, SlaPolicyOut
from hub.inbox import sla, sla_policies
from hub.inbox.conversations import get_visible

api = ApiRoutes("sla")
ITEM = "/api/v1/sla-policies/{policy_id}"
CONVERSATION_SLA = "/api/v1/conversations/{conversation_id}/sla"


@api.get("/api/v1/sla-policies", response=Page[SlaPolicyOut])
async def list_(request: web.Request) -> web.Response:
    """Every SLA policy by name, with how many open or snoozed conversations it runs on."""
    await current_viewer(request)
    async with work(request) as w:
        rows = await sla_policies.all_policies(w.db)
        usage = await sla_policies.usage(w.db)
    return json_items([SlaPolicyOut.with_usage(row, usage.get(row.id, 0)) for row in rows], None)


@api.post(
    "/api/v1/sla-policies", body=SlaPolicyBody, response=SlaPolicyOut, status=201, errors=(403, 409)
)
async def create(request: web.Request) -> web.Response:
    """Create an SLA policy (owners and managers): at least one target, in minutes. 409
    when another policy has the name (whatever the case)."""
    viewer = await current_viewer(request)
    body = await read_json(request, SlaPolicyBody)
    async with work(request) as w:
        policy = await sla_policies.create_policy(w, viewer, body.fields())
        out = SlaPolicyOut.with_usage(policy, 0)
    return json_model(out, 201)


@api.get(ITEM, response=SlaPolicyOut)
async def get(request: web.Request) -> web.Response:
    """One SLA policy."""
    await current_viewer(request)
    policy_id = path_id(request, "policy_id", "sla_policy")
    async with work(request) as w:
        policy = await sla_policies.get_policy(w.db, policy_id)
        out = SlaPolicyOut.with_usage(policy, (await sla_policies.usage(w.db)).get(policy_id, 0))
    return json_model(out)


@api.put(ITEM, body=SlaPolicyBody, response=SlaPolicyOut, errors=(403, 409))
async def replace(request: web.Request) -> web.Response:
    """Replace an SLA policy's name and targets (owners and managers). Due times already
    running keep their time; the new targets count from the next clock that starts."""
    viewer = await current_viewer(request)
    policy_id = path_id(request, "policy_id", "sla_policy")
    body = await read_json(request, SlaPolicyBody)
    async with work(request) as w:
        policy = await sla_policies.update_policy(w, viewer, policy_id, body.fields())
        out = SlaPolicyOut.with_usage(policy, (await sla_policies.usage(w.db)).get(policy_id, 0))
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete an SLA policy (owners and managers): it comes off every conversation, with
    its due times and breaches."""
    viewer = await current_viewer(request)
    policy_id = path_id(request, "policy_id", "sla_policy")
    async with work(request) as w:
        await sla_policies.delete_policy(w, viewer, policy_id)
    return web.Response(status=204)


@api.put(CONVERSATION_SLA, body=ApplySlaBody, response=ConversationOut)
async def apply(request: web.Request) -> web.Response:
    """Put an SLA policy on the conversation (replacing its policy, if any) and start
    its clocks, counted from the contact's first message and the conversation's opening;
    the same policy again changes nothing. 404 for an unknown policy."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    body = await read_json(request, ApplySlaBody)
    async with work(request) as w:
        await sla.apply_policy(w, viewer, conversation_id, body.policy_id)
        out = await conversation_out(w, await get_visible(w, viewer, conversation_id))
    return json_model(out)


@api.delete(CONVERSATION_SLA, response=ConversationOut)
async def remove(request: web.Request) -> web.Response:
    """Take the SLA policy off the conversation, with its due times and breaches (none
    there: no change)."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        await sla.remove_policy(w, viewer, conversation_id)
        out = await conversation_out(w, await get_visible(w, viewer, conversation_id))
    return json_model(out)
