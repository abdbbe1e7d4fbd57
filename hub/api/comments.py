"""Internal comments on a conversation: list and write them."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.idempotency import keyed_request, marked, once
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.comments import CommentBody, CommentOut
from hub.api.schemas.messages import PageQuery
from hub.events.work import Work
from hub.inbox import comments

api = ApiRoutes("comments")
PATH = "/api/v1/conversations/{conversation_id}/comments"


@api.get(PATH, query=PageQuery, response=Page[CommentOut])
async def list_(request: web.Request) -> web.Response:
    """List a conversation's internal comments, oldest first (``order=desc`` reverses)."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    query = read_query(request, PageQuery)
    async with work(request) as w:
        rows, next_cursor = await comments.list_comments(
            w, viewer, conversation_id, cursor=query.cursor, limit=query.limit, order=query.order
        )
    return json_items([CommentOut.of(row) for row in rows], next_cursor)


@api.post(PATH, body=CommentBody, response=CommentOut, status=201, errors=(409,), idempotent=True)
async def add(request: web.Request) -> web.Response:
    """Write an internal comment; it never reaches the contact.

    Each mentioned user must be active and able to see the conversation (422 naming
    ``mentions`` otherwise), and is notified. `@name` mentions in the body are resolved
    to such users too; one that names no one, or several people, is 422 naming ``body``.
    With an ``Idempotency-Key``, a repeat answers the first comment again.
    """
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    body = await read_json(request, CommentBody)
    keyed = keyed_request(request, viewer, "comment", conversation_id, body)

    async def act(w: Work) -> comments.CommentRow:
        return await comments.add_comment(w, viewer, conversation_id, body.new())

    async def load(w: Work, comment_id: int) -> comments.CommentRow:
        return await comments.get_comment(w, viewer, comment_id)

    row, replayed = await once(request, keyed, act, lambda r: r.comment.id, load)
    return marked(json_model(CommentOut.of(row), status=201), replayed)
