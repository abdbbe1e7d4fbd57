"""The open conversation: the page with it open, its pane, older timeline pages, its
header, and the people and teams it can be assigned to, each a fragment the script
swaps in. What they show is loaded by ``admin_ui.inbox.thread_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.inbox.composer_facts import composer_facts
from admin_ui.inbox.contact import load_panel
from admin_ui.inbox.listing import page_context
from admin_ui.inbox.state import ListState
from admin_ui.inbox.thread_data import (
    Pane,
    Timeline,
    load_pane,
    load_timeline,
    parse_item,
)
from admin_ui.rendering import render, render_fragment
from hub import appkeys
from hub.api.context import path_id, work
from hub.auth.visibility import Viewer
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelPlugins
from hub.inbox.contacts import list_identities
from hub.inbox.conversations import get_visible
from hub.people.directory import list_teams, list_users
from hub.store.models import Contact

__all__ = ["Pane", "Timeline", "load_pane", "load_timeline", "pane_context", "routes"]

routes = web.RouteTableDef()
ITEM = "/inbox/conversations/{conversation_id}"
# The assignee picker lists this many people and teams (by name).
PICKER_LIMIT = 200


async def pane_context(
    w: Work,
    viewer: Viewer,
    conversation_id: int,
    channels: ChannelPlugins,
    item: tuple[str, int] | None = None,
    *,
    with_panel: bool,
) -> dict[str, Any]:
    """What the conversation pane shows: the header, the timeline and the composer; with
    ``item``, enough of the timeline to hold that item (a link to a message or comment).

    ``with_panel=False`` leaves the contact panel out (None): ``contact.js`` fetches it
    right after (``inbox.contact``), so the conversation itself shows sooner. Only the
    page asked with ``?full=1`` (the link a browser without the script shows in the
    panel's place) has it inline.
    """
    pane = await load_pane(w, viewer, conversation_id)
    timeline = await load_timeline(w, viewer, conversation_id, reaching=item)
    # Read once for the composer's channel switcher and the panel's channel list.
    identities = await list_identities(w.db, viewer, pane.contact.id)
    composer = await composer_facts(
        w, viewer, pane.conversation, pane.contact, pane.channel, channels, identities
    )
    panel = (
        await load_panel(w, viewer, pane.contact, conversation_id, identities)
        if with_panel
        else None
    )
    return {
        "pane": pane,
        "timeline": timeline,
        "composer": composer,
        "panel": panel,
        "item": f"{item[0]}:{item[1]}" if item else None,
    }


@dataclass(frozen=True)
class DeferredPane:
    """The conversation a page opens once its script has fetched the pane: its id, the
    contact's name (the page's title) and the item to scroll to, if any."""

    conversation_id: int
    contact_name: str | None
    item: str | None


@routes.get(ITEM, name="inbox.conversation")
async def conversation_page(request: web.Request) -> web.StreamResponse:
    """The inbox with a conversation open (a link to it, or a reload); ``?item=
    message:<id>`` (or ``comment:``, ``event:``) scrolls to that item and highlights it.
    The pane, the list's rows and the contact panel follow as fragments the scripts
    fetch, as after a click, unless ``?full=1``, the link a browser without the script
    gets in their places (docs/decisions.md, "Inbox speed"). A conversation the viewer
    may not see is a 404 either way."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    item = parse_item(request.query.get("item"))
    full = request.query.get("full") == "1"
    async with work(request) as w:
        context = await page_context(request, w, viewer, state, with_rows=full)
        if full:
            channels = request.config_dict[appkeys.CHANNELS]
            context.update(
                await pane_context(w, viewer, conversation_id, channels, item, with_panel=True)
            )
        else:
            conversation = await get_visible(w, viewer, conversation_id)
            name = await w.db.scalar(
                select(Contact.name).where(Contact.id == conversation.contact_id)
            )
            target = f"{item[0]}:{item[1]}" if item else None
            context.update(pane=None, pane_deferred=DeferredPane(conversation.id, name, target))
    return await render(request, "inbox/page.html", context)


@routes.get(f"{ITEM}/pane", name="inbox.pane")
async def pane(request: web.Request) -> web.StreamResponse:
    """The conversation pane alone, to open a conversation without reloading the page."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    item = parse_item(request.query.get("item"))
    async with work(request) as w:
        channels = request.config_dict[appkeys.CHANNELS]
        context = await pane_context(w, viewer, conversation_id, channels, item, with_panel=False)
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
    return await render_fragment(
        request, "inbox/_timeline.html", {"pane": pane, "timeline": timeline.without_older()}
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


@routes.get(f"{ITEM}/assignees", name="inbox.assignees")
async def assignees(request: web.Request) -> web.StreamResponse:
    """The assignee picker's choices: active people and teams, by name (any user may
    list them through the API too); fetched when the picker opens, not with every
    header."""
    viewer = viewer_of(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        pane = await load_pane(w, viewer, conversation_id)
        users, _ = await list_users(w.db, q=None, active=True, cursor=None, limit=PICKER_LIMIT)
        teams, _ = await list_teams(w.db, cursor=None, limit=PICKER_LIMIT)
        context = {"pane": pane, "users": users, "teams": teams, "viewer_id": viewer.id}
        return await render_fragment(request, "inbox/_assignees.html", context)
