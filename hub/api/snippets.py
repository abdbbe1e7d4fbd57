"""Snippets: canned replies with a /shortcut and $variables, rendered server-side."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.messages import AttachmentOut
from hub.api.schemas.snippets import (
    RenderBody,
    RenderedOut,
    SnippetCreateBody,
    SnippetOut,
    SnippetPatchBody,
    SnippetQuery,
    VariableOut,
)
from hub.inbox import snippet_files, snippets

api = ApiRoutes("snippets")
ITEM = "/api/v1/snippets/{snippet_id}"


# Declared before ITEM so that "variables" is not taken for a snippet id.
@api.get("/api/v1/snippets/variables", response=Page[VariableOut])
async def variables(request: web.Request) -> web.Response:
    """The variables a snippet body may use, with what each becomes."""
    await current_viewer(request)
    items = [
        VariableOut(name=f"${name}", description=text) for name, text in snippets.VARIABLES.items()
    ]
    return json_items(items)


@api.get("/api/v1/snippets", query=SnippetQuery, response=Page[SnippetOut])
async def list_(request: web.Request) -> web.Response:
    """List snippets by name; `q` matches part of the name or the start of the shortcut."""
    await current_viewer(request)
    query = read_query(request, SnippetQuery)
    async with work(request) as w:
        rows, next_cursor = await snippets.list_snippets(
            w.db, q=query.q, cursor=query.cursor, limit=query.limit
        )
        files = await snippet_files.files_of(w.db, [row.id for row in rows])
        items = [SnippetOut.of(row, files[row.id]) for row in rows]
    return json_items(items, next_cursor)


@api.post(
    "/api/v1/snippets", body=SnippetCreateBody, response=SnippetOut, status=201, errors=(403, 409)
)
async def create(request: web.Request) -> web.Response:
    """Create a snippet (owners and managers); an unknown `$variable` answers 422 on `body`.

    `attachments` are ids of the caller's uploads (`POST /api/v1/attachments`), claimed
    by the snippet as a message claims them.
    """
    viewer = await current_viewer(request)
    body = await read_json(request, SnippetCreateBody)
    async with work(request) as w:
        snippet = await snippets.create_snippet(
            w.db, viewer, name=body.name, shortcut=body.shortcut, body=body.body
        )
        files = await snippet_files.set_files(w.db, viewer, snippet.id, body.attachments)
        out = SnippetOut.of(snippet, files)
    return json_model(out, 201)


@api.get(ITEM, response=SnippetOut)
async def get(request: web.Request) -> web.Response:
    """One snippet."""
    await current_viewer(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    async with work(request) as w:
        snippet = await snippets.get_snippet(w.db, snippet_id)
        files = await snippet_files.files_of(w.db, [snippet_id])
        out = SnippetOut.of(snippet, files[snippet_id])
    return json_model(out)


@api.patch(ITEM, body=SnippetPatchBody, response=SnippetOut, errors=(403, 409))
async def update(request: web.Request) -> web.Response:
    """Change a snippet's name, shortcut, body or files (owners and managers).

    `attachments`, when given, is the snippet's list of files from now on: its files
    listed stay, the caller's uploads listed are added, the others are removed.
    """
    viewer = await current_viewer(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    body = await read_json(request, SnippetPatchBody)
    async with work(request) as w:
        snippet = await snippets.update_snippet(w.db, viewer, snippet_id, body.changes())
        if body.attachments is not None:
            files = await snippet_files.set_files(w.db, viewer, snippet_id, body.attachments)
        else:
            files = (await snippet_files.files_of(w.db, [snippet_id]))[snippet_id]
        out = SnippetOut.of(snippet, files)
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a snippet (owners and managers)."""
    viewer = await current_viewer(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    async with work(request) as w:
        await snippets.delete_snippet(w.db, viewer, snippet_id)
    return web.Response(status=204)


@api.post(f"{ITEM}/render", body=RenderBody, response=RenderedOut)
async def render(request: web.Request) -> web.Response:
    """Render a snippet for a conversation the caller may see, with the caller as agent.

    A variable without a value (a contact with no first name) becomes the fallback the
    snippet gives (`$contact.first_name|there`); without one, 422 `missing_value` names it.

    Each of the snippet's files comes back as a fresh upload of the caller's (the same
    stored bytes): attach their ids to the message like any upload.
    """
    viewer = await current_viewer(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    body = await read_json(request, RenderBody)
    async with work(request) as w:
        text = await snippets.render_snippet(w.db, viewer, snippet_id, body.conversation_id)
        copies = await snippet_files.copies_for(w.db, viewer, snippet_id)
        out = RenderedOut(text=text, attachments=[AttachmentOut.of(a) for a in copies])
    return json_model(out)
