"""The open conversation: the page with it open, its pane, older timeline pages and
single timeline items, each a fragment the script swaps in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.inbox.contact import load_panel
from admin_ui.inbox.listing import page_context
from admin_ui.inbox.state import ListState
from admin_ui.rendering import render, render_fragment
from hub.api.context import path_id, work
from hub.auth.visibility import Viewer
from hub.errors import NotFound
from hub.events.work import Work
from hub.inbox.conversations import get_visible
from hub.inbox.timeline import TimelineEntry, TimelinePage, conversation_timeline
from hub.store.models import Attachment, Channel, Contact, Conversation, User

routes = web.RouteTableDef()
TIMELINE_PAGE = 50
ITEM = "/inbox/conversations/{conversation_id}"


@dataclass(frozen=True)
class Pane:
    """An open conversation with what its header and composer need."""

    conversation: Conversation
    contact: Contact
    channel: Channel
    assignee_name: str | None


@dataclass(frozen=True)
class Timeline:
    """A page of timeline items (oldest first, as shown) and the cursor of the page of
    older ones (None at the start of the conversation)."""

    entries: list[TimelineEntry]
    attachments: dict[tuple[str, int], list[Attachment]]
    users: dict[int, str]
    older_cursor: str | None

    def files_of(self, entry: TimelineEntry) -> list[Attachment]:
        """The attachments of a message or comment."""
        return self.attachments.get((entry.kind, entry.row.id), [])


async def load_pane(w: Work, viewer: Viewer, conversation_id: int) -> Pane:
    """The conversation if the viewer may see it (404 otherwise), with its contact and
    channel."""
    conversation = await get_visible(w, viewer, conversation_id)
    contact = await w.db.get(Contact, conversation.contact_id)
    channel = await w.db.get(Channel, conversation.channel_id)
    if contact is None or channel is None:  # deleted meanwhile: the cascade follows
        raise NotFound("conversation")
    assignee = await w.db.get(User, conversation.assignee_id) if conversation.assignee_id else None
    return Pane(conversation, contact, channel, assignee.name if assignee else None)


async def load_timeline(
    w: Work, viewer: Viewer, conversation_id: int, before: str | None = None
) -> Timeline:
    """The newest page of the timeline, or the page before ``before``, oldest first."""
    page: TimelinePage = await conversation_timeline(
        w, viewer, conversation_id, cursor=before, limit=TIMELINE_PAGE, order="desc"
    )
    entries = list(reversed(page.entries))
    return Timeline(entries, page.attachments, await _people(w, entries), page.next_cursor)


async def _people(w: Work, entries: list[TimelineEntry]) -> dict[int, str]:
    ids = {
        user_id
        for e in entries
        for user_id in (
            getattr(e.row, "sender_user_id", None),
            getattr(e.row, "author_id", None),
            getattr(e.row, "actor_id", None),
        )
        if user_id is not None
    }
    if not ids:
        return {}
    rows = await w.db.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows.all()}


async def pane_context(w: Work, viewer: Viewer, conversation_id: int) -> dict[str, Any]:
    """What the conversation pane shows."""
    pane = await load_pane(w, viewer, conversation_id)
    timeline = await load_timeline(w, viewer, conversation_id)
    panel = await load_panel(w, viewer, pane.contact, conversation_id)
    return {"pane": pane, "timeline": timeline, "panel": panel}


@routes.get(ITEM, name="inbox.conversation")
async def conversation_page(request: web.Request) -> web.StreamResponse:
    """The inbox with a conversation open (a link to it, or a reload)."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        context = await page_context(request, w, viewer, state)
        context.update(await pane_context(w, viewer, conversation_id))
    return await render(request, "inbox/page.html", context)


@routes.get(f"{ITEM}/pane", name="inbox.pane")
async def pane(request: web.Request) -> web.StreamResponse:
    """The conversation pane alone, to open a conversation without reloading the page."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        context = await pane_context(w, viewer, conversation_id)
    return await render_fragment(request, "inbox/_pane.html", {**context, "state": state})


@routes.get(f"{ITEM}/timeline", name="inbox.timeline")
async def older(request: web.Request) -> web.StreamResponse:
    """The timeline page before ``before`` (a cursor), as the user scrolls up."""
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    before = request.query.get("before") or None
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
        timeline = await load_timeline(w, viewer, conversation_id, before)
    return await render_fragment(
        request, "inbox/_timeline.html", {"pane": pane, "timeline": timeline}
    )


@routes.get(f"{ITEM}/latest", name="inbox.latest")
async def latest(request: web.Request) -> web.StreamResponse:
    """The newest page of the timeline, for the script to merge in what it lacks (new
    messages, comments and events) and what changed (a delivery status)."""
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
        timeline = await load_timeline(w, viewer, conversation_id)
    # Without the "earlier" link: the page already has it, or had it and loaded it.
    timeline = Timeline(timeline.entries, timeline.attachments, timeline.users, None)
    return await render_fragment(
        request, "inbox/_timeline.html", {"pane": pane, "timeline": timeline}
    )


@routes.get(f"{ITEM}/head", name="inbox.head")
async def head(request: web.Request) -> web.StreamResponse:
    """The conversation's header (status, assignee, actions), after a change."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
    return await render_fragment(
        request, "inbox/_conversation_header.html", {"pane": pane, "state": state}
    )
