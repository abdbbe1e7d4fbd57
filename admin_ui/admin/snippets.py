"""Snippets: the team's canned replies (shared; owners and managers manage them)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import PAGE_SIZE, FormState, failed, text
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub.api.attachments import media_store, receive_file
from hub.api.context import path_id, work
from hub.api.schemas.snippets import SnippetCreateBody, SnippetPatchBody, SnippetQuery
from hub.errors import HubError
from hub.inbox import snippet_files, snippets
from hub.media.store import MediaLimits, human_size

routes = web.RouteTableDef()

# hub.inbox.snippets.VARIABLES' meanings, marked here: the hub knows no language.
VARIABLE_MEANINGS: dict[str, str] = {
    "contact.name": N_("The contact's full name"),
    "contact.first_name": N_("The contact's first name"),
    "contact.last_name": N_("The contact's last name"),
    "contact.email": N_("The contact's email address"),
    "contact.phone": N_("The contact's phone number (E.164)"),
    "agent.name": N_("The name of the agent using the snippet"),
    "agent.first_name": N_("The first word of the agent's name"),
    "agent.email": N_("The agent's email address"),
    "conversation.id": N_("The conversation's id"),
    "channel.name": N_("The name of the conversation's channel"),
}
SNIPPET = r"/admin/snippets/{snippet_id:\d+}"
FIELDS = ("name", "shortcut", "body")
PREVIEW_CHARS = 120


def preview(body: str) -> str:
    """The start of a snippet's body on one line, for the list."""
    line = " ".join(body.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1].rstrip() + "…"


@routes.get("/admin/snippets", name="admin.snippets")
async def list_snippets(request: web.Request) -> web.StreamResponse:
    """Snippets by name, searchable by name or shortcut, paged."""
    q = request.query.get("q", "").strip()
    cursor = request.query.get("cursor") or None
    query = validate_form(SnippetQuery, {"q": q or None, "cursor": cursor})
    async with work(request) as w:
        rows, next_cursor = await snippets.list_snippets(
            w.db, q=query.q, cursor=query.cursor, limit=PAGE_SIZE
        )
    context: dict[str, Any] = {
        "snippets": [(row, preview(row.body)) for row in rows],
        "q": q,
        **page_links(page_url(request, "admin.snippets"), {"q": q}, next_cursor, cursor),
    }
    return await render(request, "admin/snippets/list.html", context)


async def _form_page(
    request: web.Request,
    snippet_id: int | None,
    state: FormState | None = None,
    status: int = 200,
    file_error: str | None = None,
) -> web.Response:
    snippet = None
    files = []
    if snippet_id is not None:
        async with work(request) as w:
            snippet = await snippets.get_snippet(w.db, snippet_id)
            files = (await snippet_files.files_of(w.db, [snippet_id]))[snippet_id]
    if state is None:
        values = {name: getattr(snippet, name) for name in FIELDS} if snippet else {}
        state = FormState(values)
    context: dict[str, Any] = {
        "snippet": snippet,
        "values": state.values,
        "errors": state.errors,
        "message": state.message,
        "variables": [
            (f"${name}", _(VARIABLE_MEANINGS.get(name, meaning)))
            for name, meaning in snippets.VARIABLES.items()
        ],
        "files": [(f, human_size(f.size)) for f in files],
        "file_error": file_error,
        "file_help": _file_help(MediaLimits()),
    }
    return await render(request, "admin/snippets/form.html", context, status)


def _file_help(limits: MediaLimits) -> str:
    kinds = ", ".join(sorted(extension.upper() for extension, _ in limits.content_types))
    return _(
        "Up to %(size)s each, at most %(num)s files; "
        "types: %(kinds)s. The channel of a conversation may accept fewer."
    ) % {"size": human_size(limits.max_file_bytes), "num": limits.max_files, "kinds": kinds}


def _posted(form: Any) -> dict[str, object]:
    return {name: text(form, name) for name in FIELDS}


@routes.get("/admin/snippets/new", name="admin.snippets.new")
async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to create a snippet."""
    return await _form_page(request, None)


@routes.post("/admin/snippets/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the snippet; an unknown variable or a taken shortcut is shown beside it."""
    viewer = viewer_of(request)
    values = _posted(await request.post())
    try:
        body = validate_form(SnippetCreateBody, values)
        async with work(request) as w:
            snippet = await snippets.create_snippet(
                w.db, viewer, name=body.name, shortcut=body.shortcut, body=body.body
            )
            shortcut = snippet.shortcut
    except HubError as err:
        return await _form_page(request, None, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.snippets"),
        ("success", _("Created snippet /%(shortcut)s.") % {"shortcut": shortcut}),
    )


@routes.get(SNIPPET, name="admin.snippet")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """The form to change a snippet."""
    return await _form_page(request, path_id(request, "snippet_id", "snippet"))


@routes.post(SNIPPET)
async def update(request: web.Request) -> web.StreamResponse:
    """Save a snippet's name, shortcut and body."""
    viewer = viewer_of(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    values = _posted(await request.post())
    try:
        body = validate_form(SnippetPatchBody, values)
        async with work(request) as w:
            snippet = await snippets.update_snippet(w.db, viewer, snippet_id, body.changes())
            shortcut = snippet.shortcut
    except HubError as err:
        if err.status == 404:
            raise
        return await _form_page(request, snippet_id, failed(err, values, FIELDS), err.status)
    return redirect(
        request,
        page_url(request, "admin.snippets"),
        ("success", _("Saved snippet /%(shortcut)s.") % {"shortcut": shortcut}),
    )


@routes.get(SNIPPET + "/delete", name="admin.snippet.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a snippet, naming it."""
    snippet_id = path_id(request, "snippet_id", "snippet")
    async with work(request) as w:
        snippet = await snippets.get_snippet(w.db, snippet_id)
    context = {
        "heading": _("Delete the snippet /%(shortcut)s?") % {"shortcut": snippet.shortcut},
        "message": f"“{snippet.name}” (/{snippet.shortcut}) will be deleted for everyone.",
        "details": [
            _("Agents can no longer insert it; replies already sent with it are unchanged."),
        ],
        "action": page_url(request, "admin.snippet.delete", snippet_id=snippet_id),
        "confirm_label": _("Delete snippet"),
        "cancel_url": page_url(request, "admin.snippets"),
        "section": "snippets",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(SNIPPET + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the snippet (after the confirmation page)."""
    viewer = viewer_of(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    async with work(request) as w:
        shortcut = (await snippets.get_snippet(w.db, snippet_id)).shortcut
        await snippets.delete_snippet(w.db, viewer, snippet_id)
    return redirect(
        request,
        page_url(request, "admin.snippets"),
        ("success", _("Deleted snippet /%(shortcut)s.") % {"shortcut": shortcut}),
    )


@routes.post(SNIPPET + "/files", name="admin.snippet.files")
async def upload_file(request: web.Request) -> web.StreamResponse:
    """Add a file to the snippet (``multipart/form-data``, field ``file``), within the
    workspace's limits; a refused file is explained beside the field."""
    viewer = viewer_of(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    limits = MediaLimits()
    try:
        async with work(request) as w:
            # Before reading the body: a missing snippet is a 404 page, not a file error.
            await snippets.get_snippet(w.db, snippet_id)
        filename, data = await receive_file(request, limits)
        sha256 = await media_store(request).put(data)
        async with work(request) as w:
            await snippet_files.add_file(
                w.db,
                viewer,
                snippet_id,
                sha256=sha256,
                filename=filename,
                content_type=limits.content_type_of(filename),
                size=len(data),
                limits=limits,
            )
    except HubError as err:
        if err.status in (403, 404):
            raise
        reason = err.details[0]["message"] if err.details else err.message
        return await _form_page(request, snippet_id, status=err.status, file_error=reason)
    return redirect(
        request,
        page_url(request, "admin.snippet", snippet_id=snippet_id),
        ("success", _("Added %(name)s.") % {"name": filename}),
    )


@routes.post(SNIPPET + r"/files/{attachment_id:\d+}/delete", name="admin.snippet.file.delete")
async def remove_file(request: web.Request) -> web.StreamResponse:
    """Remove one of the snippet's files."""
    viewer = viewer_of(request)
    snippet_id = path_id(request, "snippet_id", "snippet")
    attachment_id = path_id(request, "attachment_id", "attachment")
    async with work(request) as w:
        filename = await snippet_files.remove_file(w.db, viewer, snippet_id, attachment_id)
    return redirect(
        request,
        page_url(request, "admin.snippet", snippet_id=snippet_id),
        ("success", _("Removed %(name)s.") % {"name": filename}),
    )
