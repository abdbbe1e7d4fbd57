"""Conversations: list a view, fetch one, change its state, and the sidebar counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.bulk import MergeBody
from hub.api.schemas.conversations import (
    AssignBody,
    CloseBody,
    ConversationOut,
    ConversationQuery,
    CountsOut,
    PriorityBody,
    SnoozeBody,
    ViewCountOut,
    ViewSeenBody,
)
from hub.api.schemas.labels import LabelsBody
from hub.auth.visibility import Viewer
from hub.channels.agent_signals import signals_of
from hub.events.work import Work
from hub.inbox import conversations, triage
from hub.inbox.conversation_merge import merge as merge_conversations
from hub.inbox.labels import labels_of
from hub.inbox.view_counts import inbox_counts, open_view
from hub.inbox.views import View, list_conversations
from hub.store.models import Contact, Conversation

api = ApiRoutes("conversations")
# A state change of hub.inbox.conversations: (work, viewer, conversation_id, **details).
Action = Callable[..., Awaitable[Conversation]]
ITEM = "/api/v1/conversations/{conversation_id}"


async def conversation_out(w: Work, conversation: Conversation) -> ConversationOut:
    """A conversation as the API answers it (with its contact's name and its labels)."""
    name = await w.db.scalar(select(Contact.name).where(Contact.id == conversation.contact_id))
    found = await labels_of(w.db, [conversation.id])
    return ConversationOut.of(conversation, name or "", found[conversation.id])


@api.get(
    "/api/v1/conversations", query=ConversationQuery, response=Page[ConversationOut], errors=(403,)
)
async def list_(request: web.Request) -> web.Response:
    """List the conversations of a view, one page at a time.

    Views a caller does not have answer 403; a team or custom inbox that does not exist
    (or is not shared with the caller) answers 404. `label` (repeatable) keeps the
    conversations carrying any of the labels (422 naming `label` for an unknown id),
    `priority` (repeatable) those with any of the priorities; `sort=priority` lists
    urgent first, then by newest message.
    """
    viewer = await current_viewer(request)
    query = read_query(request, ConversationQuery)
    view = View.parse(query.view)
    async with work(request) as w:
        rows, next_cursor = await list_conversations(
            w.db,
            viewer,
            view=view,
            status=query.status,
            sort=query.sort,
            unanswered=query.unanswered,
            contact_id=query.contact_id,
            label_ids=query.label,
            priorities=query.priority,
            cursor=query.cursor,
            limit=query.limit,
        )
        found = await labels_of(w.db, [row.conversation.id for row in rows])
    items = [ConversationOut.of_row(row, found[row.conversation.id]) for row in rows]
    return json_items(items, next_cursor)


@api.get(ITEM, response=ConversationOut)
async def get(request: web.Request) -> web.Response:
    """One conversation (404 when it does not exist or is hidden from the caller)."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        conversation = await conversations.get_visible(w, viewer, conversation_id)
        out = await conversation_out(w, conversation)
    return json_model(out)


async def _act(request: web.Request, action: Action, viewer: Viewer, **kwargs: Any) -> web.Response:
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        conversation = await action(w, viewer, conversation_id, **kwargs)
        out = await conversation_out(w, conversation)
    return json_model(out)


@api.post(f"{ITEM}/assign", body=AssignBody, response=ConversationOut)
async def assign(request: web.Request) -> web.Response:
    """Assign to a user and/or a team (the user must be in the team when both are given)."""
    viewer = await current_viewer(request)
    body = await read_json(request, AssignBody)
    return await _act(
        request, conversations.assign, viewer, user_id=body.user_id, team_id=body.team_id
    )


@api.post(f"{ITEM}/unassign", response=ConversationOut)
async def unassign(request: web.Request) -> web.Response:
    """Remove the assignee and team: the conversation goes to Unassigned."""
    return await _act(request, conversations.unassign, await current_viewer(request))


@api.post(f"{ITEM}/close", body=CloseBody, response=ConversationOut, errors=(409,))
async def close(request: web.Request) -> web.Response:
    """Close, with a note as the workspace's closing-notes setting asks (422 naming `note`)."""
    viewer = await current_viewer(request)
    body = await read_json(request, CloseBody)
    return await _act(request, conversations.close, viewer, note=body.note)


@api.post(f"{ITEM}/reopen", response=ConversationOut, errors=(409,))
async def reopen(request: web.Request) -> web.Response:
    """Reopen a closed or snoozed conversation."""
    return await _act(request, conversations.reopen, await current_viewer(request))


@api.post(f"{ITEM}/snooze", body=SnoozeBody, response=ConversationOut, errors=(409,))
async def snooze(request: web.Request) -> web.Response:
    """Snooze until a time; it comes back to Open by itself (not when closed: reopen it
    first; not for blocked contacts)."""
    viewer = await current_viewer(request)
    body = await read_json(request, SnoozeBody)
    return await _act(request, conversations.snooze, viewer, until=body.until)


@api.post(f"{ITEM}/unsnooze", response=ConversationOut, errors=(409,))
async def unsnooze(request: web.Request) -> web.Response:
    """Bring a snoozed conversation back now."""
    return await _act(request, conversations.unsnooze, await current_viewer(request))


@api.post(f"{ITEM}/merge", body=MergeBody, response=ConversationOut, errors=(409,))
async def merge(request: web.Request) -> web.Response:
    """Merge this conversation into `into`, another of the same contact; answers the target.

    The messages, comments and events move into the target, keeping their times; this
    one is closed and marked merged (its page points at the target), with an event in
    both timelines. 404 unless the caller sees both; 409 for another contact's
    conversation or one merged already; 422 for itself.
    """
    viewer = await current_viewer(request)
    source_id = path_id(request, "conversation_id", "conversation")
    body = await read_json(request, MergeBody)
    async with work(request) as w:
        target = await merge_conversations(w, viewer, source_id, body.into)
        out = await conversation_out(w, target)
    return json_model(out)


@api.post(f"{ITEM}/read", response=ConversationOut)
async def read(request: web.Request) -> web.Response:
    """Mark as read by the caller (clears the unread count when they are the assignee).
    On channels with read receipts the contact's latest message is then marked read
    with the provider too (in the background)."""
    response = await _act(request, conversations.mark_read, await current_viewer(request))
    signals_of(request.config_dict).read(path_id(request, "conversation_id", "conversation"))
    return response


@api.post(f"{ITEM}/labels", body=LabelsBody, response=ConversationOut)
async def add_labels(request: web.Request) -> web.Response:
    """Put labels on the conversation (those it carries stay; 422 naming `label_ids`
    for an id that is no label). Each new label is a timeline event."""
    viewer = await current_viewer(request)
    body = await read_json(request, LabelsBody)
    return await _act(request, triage.add_labels, viewer, label_ids=body.label_ids)


@api.delete(f"{ITEM}/labels/{{label_id}}", response=ConversationOut)
async def remove_label(request: web.Request) -> web.Response:
    """Take a label off the conversation (404 when it does not carry it)."""
    viewer = await current_viewer(request)
    label_id = path_id(request, "label_id", "label")
    return await _act(request, triage.remove_label, viewer, label_id=label_id)


@api.post(f"{ITEM}/priority", body=PriorityBody, response=ConversationOut)
async def priority(request: web.Request) -> web.Response:
    """Set the priority: none, low, medium, high or urgent (the same again changes
    nothing and records no event)."""
    viewer = await current_viewer(request)
    body = await read_json(request, PriorityBody)
    return await _act(request, triage.change_priority, viewer, priority=body.priority)


@api.get("/api/v1/inbox/counts", response=CountsOut)
async def counts(request: web.Request) -> web.Response:
    """Open counts and new-message dots of every standard and team inbox the caller has."""
    viewer = await current_viewer(request)
    async with work(request) as w:
        views = await inbox_counts(w.db, viewer, request.config_dict[appkeys.COUNTS_CACHE])
    return json_model(CountsOut(views=[ViewCountOut.of(v) for v in views]))


@api.post("/api/v1/inbox/seen", body=ViewSeenBody, status=204, errors=(403, 404))
async def seen(request: web.Request) -> web.Response:
    """The caller opened an inbox: its new-message dot goes out until a message arrives
    after now (403 or 404 for a view the caller does not have, as for listing it)."""
    viewer = await current_viewer(request)
    body = await read_json(request, ViewSeenBody)
    view = View.parse(body.view)
    async with work(request) as w:
        await open_view(w.db, viewer, view)
    return web.Response(status=204)
