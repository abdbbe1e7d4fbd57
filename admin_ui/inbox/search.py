"""Search from the inbox's sidebar: the hits, shown in the list pane, each a link to its
conversation (a message or comment hit opens it scrolled to that item).

The hits are those of ``GET /api/v1/search`` (the same domain function, so the same
visibility); this module only turns them into rows that link somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from admin_ui.access import viewer_of
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.inbox.listing import page_context
from admin_ui.inbox.state import ListState
from admin_ui.rendering import render, render_fragment
from admin_ui.urls import page_url
from hub.api.context import work
from hub.auth.visibility import Viewer, conversation_filter
from hub.events.work import Work
from hub.inbox.search import MAX_QUERY_LENGTH, SearchHit, search
from hub.store.models import Contact, Conversation

routes = web.RouteTableDef()
HITS_PAGE = 25
KIND_NAMES = {"contact": N_("Contact"), "message": N_("Message"), "comment": N_("Comment")}


@dataclass(frozen=True)
class HitRow:
    """One search hit as the list pane shows it."""

    kind: str
    kind_name: str
    contact_name: str
    snippet: str
    at: datetime
    href: str | None  # None: a contact with no conversation the user may see


@dataclass(frozen=True)
class Results:
    """A page of hits for ``q`` and the URL of the next page."""

    q: str
    hits: list[HitRow]
    more_url: str | None


async def _contact_names(w: Work, hits: list[SearchHit]) -> dict[int, str]:
    ids = {hit.contact_id for hit in hits}
    if not ids:
        return {}
    rows = await w.db.execute(select(Contact.id, Contact.name).where(Contact.id.in_(ids)))
    return {contact_id: name or "" for contact_id, name in rows.all()}


async def _latest_conversations(w: Work, viewer: Viewer, contact_ids: set[int]) -> dict[int, int]:
    """Each contact's newest conversation the viewer may see (a contact hit opens it)."""
    if not contact_ids:
        return {}
    rows = await w.db.execute(
        select(Conversation.contact_id, func.max(Conversation.id))
        .where(Conversation.contact_id.in_(contact_ids), conversation_filter(viewer))
        .group_by(Conversation.contact_id)
    )
    return {contact_id: conversation_id for contact_id, conversation_id in rows.all()}


def _href(
    request: web.Request, state: ListState, conversation_id: int | None, item: str | None
) -> str | None:
    if conversation_id is None:
        return None
    query: dict[str, str | int | None] = {**state.query(), "item": item}
    return page_url(request, "inbox.conversation", query, conversation_id=conversation_id)


async def find(
    request: web.Request, w: Work, viewer: Viewer, state: ListState, q: str, cursor: str | None
) -> Results:
    """A page of hits for ``q`` as rows with their links; 422 for an empty or too long
    query (as the API)."""
    hits, next_cursor = await search(w.db, viewer, q, cursor=cursor, limit=HITS_PAGE)
    names = await _contact_names(w, hits)
    latest = await _latest_conversations(
        w, viewer, {h.contact_id for h in hits if h.type == "contact"}
    )
    rows = []
    for hit in hits:
        if hit.type == "contact":
            href = _href(request, state, latest.get(hit.contact_id), None)
        else:
            href = _href(request, state, hit.conversation_id, f"{hit.type}:{hit.id}")
        rows.append(
            HitRow(
                hit.type,
                _(KIND_NAMES[hit.type]),
                names.get(hit.contact_id, ""),
                hit.snippet,
                hit.at,
                href,
            )
        )
    more_url = None
    if next_cursor:
        query = {"q": q, "view": str(state.view), "cursor": next_cursor}
        more_url = page_url(request, "inbox.search.results", query)
    return Results(q, rows, more_url)


def _query(request: web.Request) -> str:
    return request.query.get("q", "")[: MAX_QUERY_LENGTH * 2]


@routes.get("/inbox/search", name="inbox.search")
async def search_page(request: web.Request) -> web.StreamResponse:
    """The inbox with search hits in the list pane (the search box without script, or a
    reload); an empty query shows the inbox."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    q = _query(request)
    if not q.strip():
        raise web.HTTPSeeOther(page_url(request, "inbox", state.query()))
    async with work(request) as w:
        context: dict[str, Any] = await page_context(request, w, viewer, state)
        context["search"] = await find(request, w, viewer, state, q, None)
    return await render(request, "inbox/page.html", {**context, "pane": None})


@routes.get("/inbox/search/results", name="inbox.search.results")
async def results(request: web.Request) -> web.StreamResponse:
    """The hits alone: the whole results panel, or with ``cursor`` the next page of hits."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    cursor = request.query.get("cursor") or None
    async with work(request) as w:
        found = await find(request, w, viewer, state, _query(request), cursor)
    name = "inbox/_search_hits.html" if cursor else "inbox/_search_results.html"
    return await render_fragment(request, name, {"search": found, "state": state})
