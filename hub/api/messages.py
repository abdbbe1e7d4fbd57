"""Messages and the timeline: list, send, fetch one, start a conversation."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.idempotency import keyed_request, marked, once
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.conversations import ConversationOut
from hub.api.schemas.messages import (
    MessageOut,
    PageQuery,
    SendMessageBody,
    StartConversationBody,
    StartedConversationOut,
    TimelineItem,
    timeline_item,
)
from hub.channels.message_retry import retry_message
from hub.events.work import Work
from hub.inbox import conversations, messages
from hub.inbox.timeline import conversation_timeline
from hub.store.models import Contact, Conversation

api = ApiRoutes("messages")
ITEM = "/api/v1/conversations/{conversation_id}"


@api.get(f"{ITEM}/messages", query=PageQuery, response=Page[MessageOut])
async def list_(request: web.Request) -> web.Response:
    """List a conversation's messages, oldest first (``order=desc`` for newest first)."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    query = read_query(request, PageQuery)
    async with work(request) as w:
        rows, next_cursor = await messages.list_messages(
            w, viewer, conversation_id, cursor=query.cursor, limit=query.limit, order=query.order
        )
    return json_items([MessageOut.of(row) for row in rows], next_cursor)


@api.post(
    f"{ITEM}/messages",
    body=SendMessageBody,
    response=MessageOut,
    status=201,
    errors=(409, 413, 415),
    idempotent=True,
)
async def send(request: web.Request) -> web.Response:
    """Send a message: stored as ``pending`` and queued for delivery in one transaction.

    Needs text or attachments. Sending to a closed conversation reopens it. A blocked
    contact or a deleted channel answers 409. With an ``Idempotency-Key``, a repeat
    answers the first message again and sends nothing.
    """
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    body = await read_json(request, SendMessageBody)
    keyed = keyed_request(request, viewer, "message", conversation_id, body)
    channels = request.config_dict[appkeys.CHANNELS]

    async def act(w: Work) -> messages.MessageRow:
        return await messages.send_message(
            w, viewer, conversation_id, body.outgoing(), channels=channels
        )

    async def load(w: Work, message_id: int) -> messages.MessageRow:
        return await messages.get_message(w, viewer, message_id)

    row, replayed = await once(request, keyed, act, lambda r: r.message.id, load)
    return marked(json_model(MessageOut.of(row), status=201), replayed)


@api.get("/api/v1/messages/{message_id}", response=MessageOut)
async def get(request: web.Request) -> web.Response:
    """One message (404 when it does not exist or its conversation is hidden)."""
    viewer = await current_viewer(request)
    message_id = path_id(request, "message_id", "message")
    async with work(request) as w:
        row = await messages.get_message(w, viewer, message_id)
    return json_model(MessageOut.of(row))


@api.post("/api/v1/messages/{message_id}/retry", response=MessageOut, errors=(409,))
async def retry(request: web.Request) -> web.Response:
    """Queue a failed outgoing message again (any caller who may see it).

    The message becomes `pending` and the outbox worker tries it at once. `409
    not_retryable` for a message that is not a failed outgoing one; `contact_blocked`
    and `channel_deleted` as for a new reply.
    """
    viewer = await current_viewer(request)
    message_id = path_id(request, "message_id", "message")
    async with work(request) as w:
        row = await retry_message(w, viewer, message_id)
    return json_model(MessageOut.of(row))


@api.post(
    "/api/v1/conversations",
    body=StartConversationBody,
    response=StartedConversationOut,
    status=201,
    errors=(404, 409, 413, 415),
    idempotent=True,
)
async def start(request: web.Request) -> web.Response:
    """Start a conversation with a contact on a channel, assigned to the caller.

    The first message is queued like any other. The contact must be visible to the
    caller and have an identity on the channel; the channel must be enabled. With an
    ``Idempotency-Key``, a repeat answers the conversation started first.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, StartConversationBody)
    keyed = keyed_request(request, viewer, "conversation", None, body)
    channels = request.config_dict[appkeys.CHANNELS]

    async def act(w: Work) -> StartedConversationOut:
        conversation, row = await messages.start_conversation(
            w, viewer, body.contact_id, body.channel_id, body.outgoing(), channels=channels
        )
        return await _started(w, conversation, row)

    async def load(w: Work, message_id: int) -> StartedConversationOut:
        row = await messages.get_message(w, viewer, message_id)
        conversation = await conversations.get_visible(w, viewer, row.message.conversation_id)
        return await _started(w, conversation, row)

    out, replayed = await once(request, keyed, act, lambda o: o.message.id, load)
    return marked(json_model(out, status=201), replayed)


async def _started(
    w: Work, conversation: Conversation, row: messages.MessageRow
) -> StartedConversationOut:
    name = await w.db.scalar(select(Contact.name).where(Contact.id == conversation.contact_id))
    return StartedConversationOut(
        **ConversationOut.of(conversation, name or "").model_dump(), message=MessageOut.of(row)
    )


@api.get(f"{ITEM}/timeline", query=PageQuery, response=Page[TimelineItem])
async def timeline(request: web.Request) -> web.Response:
    """A conversation's messages, internal comments and events, in time order.

    Each item has ``type`` (``message``, ``comment`` or ``event``) and ``at``.
    """
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    query = read_query(request, PageQuery)
    async with work(request) as w:
        page = await conversation_timeline(
            w, viewer, conversation_id, cursor=query.cursor, limit=query.limit, order=query.order
        )
    items = [timeline_item(entry, page.attachments) for entry in page.entries]
    return json_items(items, page.next_cursor)
