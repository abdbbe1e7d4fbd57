"""The inbox page and its list: the sidebar with its counts, the conversation list and
its rows, each also served alone as a fragment for live updates and paging."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import ADMIN_ROLES, viewer_of
from admin_ui.i18n import gettext as _
from admin_ui.inbox.custom import custom_view, form_options, new_form
from admin_ui.inbox.js_strings import js_strings
from admin_ui.inbox.new_conversation import dialog_channels, live_channels
from admin_ui.inbox.notifications import bell_context
from admin_ui.inbox.state import SORTS, STATUS_TABS, ListState, view_count_name
from admin_ui.rendering import render, render_fragment
from hub import appkeys
from hub.api.context import path_id, work
from hub.auth.visibility import Viewer
from hub.events.work import Work
from hub.inbox.custom_inboxes import list_custom_inboxes
from hub.inbox.labels import all_labels
from hub.inbox.previews import Preview, RowFacts, row_facts
from hub.inbox.priority import Priority, name_of
from hub.inbox.view_counts import ViewCount, inbox_counts
from hub.inbox.views import list_conversations
from hub.inbox.workspace import load_workspace_settings
from hub.store.models import Channel, Conversation, Label
from hub.store.types import utcnow

routes = web.RouteTableDef()
PAGE_SIZE = 25
CUSTOM_INBOXES_SHOWN = 100


@dataclass(frozen=True)
class Row:
    """One conversation as its list row shows it."""

    conversation: Conversation
    contact_name: str
    preview: Preview | None
    channel_name: str
    channel_type: str
    assignee_name: str | None
    team_name: str | None
    labels: tuple[Label, ...] = ()

    @property
    def priority(self) -> Priority:
        """The conversation's priority by name."""
        return name_of(self.conversation.priority)

    def sort_key(self, state: ListState) -> int:
        """The row's place in the list (microseconds of the sorted column), so a row that
        changed is put back where the server would list it."""
        c = self.conversation
        at: datetime = (
            c.last_message_at
            if state.sort in ("newest", "oldest", "priority")
            else c.status_changed_at
        )
        micros = int(at.timestamp() * 1_000_000)
        # By priority, then time: the priority weighs more than any time can (1e16 µs is
        # three centuries), so one number still orders the rows.
        return c.priority * 10**16 + micros if state.sort == "priority" else micros

    @property
    def initials(self) -> str:
        """Up to two initials of the contact's name, for the avatar."""
        words = [w for w in self.contact_name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper() or "?"


def rows_of(pairs: list[tuple[Conversation, str]], facts: RowFacts) -> list[Row]:
    """Rows from listed conversations (with their contacts' names) and their facts."""
    rows = []
    for conversation, contact_name in pairs:
        channel_name, channel_type = facts.channels.get(conversation.channel_id, ("", ""))
        rows.append(
            Row(
                conversation,
                contact_name,
                facts.previews.get(conversation.id),
                channel_name,
                channel_type,
                facts.users.get(conversation.assignee_id or 0),
                facts.teams.get(conversation.team_id or 0),
                tuple(facts.labels.get(conversation.id, ())),
            )
        )
    return rows


async def list_page(
    w: Work,
    viewer: Viewer,
    state: ListState,
    cursor: str | None = None,
    *,
    only_id: int | None = None,
) -> tuple[list[Row], str | None]:
    """One page of the list the state names, as rows; with ``only_id``, the one row of
    that conversation if the list shows it (the list's own query, narrowed to one id, so
    a row shows exactly when it would)."""
    listed, next_cursor = await list_conversations(
        w.db,
        viewer,
        view=state.view,
        status=state.status,
        sort=state.sort,
        unanswered=True if state.unanswered else None,
        label_ids=[state.label] if state.label is not None else [],
        cursor=cursor,
        limit=PAGE_SIZE if only_id is None else 1,
        only_id=only_id,
    )
    pairs = [(r.conversation, r.contact_name) for r in listed]
    facts = await row_facts(w.db, [c for c, _ in pairs])
    return rows_of(pairs, facts), next_cursor


async def sidebar_context(request: web.Request, w: Work, viewer: Viewer) -> dict[str, Any]:
    """What the sidebar shows: the standard and team inboxes with their counts, and the
    custom inboxes the user has."""
    counts: list[ViewCount] = await inbox_counts(
        w.db, viewer, request.config_dict[appkeys.COUNTS_CACHE]
    )
    custom, _ = await list_custom_inboxes(
        w.db, viewer, scope="all", cursor=None, limit=CUSTOM_INBOXES_SHOWN
    )
    return {
        "counts": counts,
        "team_views": [c.view for c in counts if c.view.startswith("team:")],
        "custom_inboxes": [shared.inbox for shared in custom],
    }


async def page_context(
    request: web.Request, w: Work, viewer: Viewer, state: ListState, *, with_rows: bool = True
) -> dict[str, Any]:
    """Everything the inbox page shows around the open conversation, and the realtime
    log's position before any of it was read: the page's socket asks for the events
    after it, so nothing that changes while the page loads is missed.

    ``with_rows=False`` leaves the list's rows for ``list.js`` to fetch (the page with a
    conversation open, whose first concern is the conversation)."""
    journal = request.config_dict[appkeys.BUS].journal
    last_event_id = await journal.last_id() if journal is not None else None
    rows, next_cursor = await list_page(w, viewer, state) if with_rows else ([], None)
    sidebar = await sidebar_context(request, w, viewer)
    live = await live_channels(w)
    custom = await custom_view(w.db, viewer, state, None)
    return {
        **sidebar,
        **empty_context(viewer, has_channel=bool(live)),
        "view_name": _view_name(state, sidebar),
        "state": state,
        "rows": rows,
        "rows_deferred": not with_rows,
        "next_cursor": next_cursor,
        "status_tabs": STATUS_TABS,
        "sorts": SORTS,
        "all_labels": await all_labels(w.db),
        # The bulk bar asks for a closing note as the single close does.
        "closing_notes": (await load_workspace_settings(w.db)).closing_notes,
        "viewer": viewer,
        "custom": custom,
        "listed_at": utcnow(),
        "last_event_id": last_event_id,
        "dialog_channels": dialog_channels(live, request.config_dict[appkeys.CHANNELS]),
        **await bell_context(w, viewer),
        # The scripts' own words in the viewer's language (page.html's JSON block).
        "inbox_strings": js_strings(),
    }


def empty_context(viewer: Viewer, *, has_channel: bool) -> dict[str, Any]:
    """What an empty list needs to say something useful: whether any channel brings
    conversations in, and whether this user may connect one."""
    return {"has_channel": has_channel, "may_connect": viewer.role in ADMIN_ROLES}


async def any_channel(w: Work) -> bool:
    """Whether any channel (not deleted) is connected."""
    found = await w.db.scalar(select(Channel.id).where(Channel.deleted_at.is_(None)).limit(1))
    return found is not None


def _view_name(state: ListState, sidebar: dict[str, Any]) -> str:
    view = str(state.view)
    for count in sidebar["counts"]:
        if count.view == view:
            return view_count_name(count.view, str(count.name))
    for inbox in sidebar["custom_inboxes"]:
        if f"custom:{inbox.id}" == view:
            return str(inbox.name)
    return _("Blocked contacts") if view == "blocked" else view


@routes.get("/inbox", name="inbox")
async def inbox(request: web.Request) -> web.StreamResponse:
    """The agents' inbox with no conversation open."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    async with work(request) as w:
        context = await page_context(request, w, viewer, state)
    return await render(request, "inbox/page.html", {**context, "pane": None})


@routes.get("/inbox/rows", name="inbox.rows")
async def rows(request: web.Request) -> web.StreamResponse:
    """A page of list rows (``cursor`` from the previous page), for scrolling."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    cursor = request.query.get("cursor") or None
    async with work(request) as w:
        page, next_cursor = await list_page(w, viewer, state, cursor)
        empty = (
            empty_context(viewer, has_channel=await any_channel(w))
            if not page and not cursor
            else {}
        )
    context = {
        **empty,
        "state": state,
        "rows": page,
        "next_cursor": next_cursor,
        "cursor_page": cursor is not None,
    }
    return await render_fragment(request, "inbox/_rows.html", context)


@routes.get("/inbox/rows/{conversation_id}", name="inbox.row")
async def row(request: web.Request) -> web.StreamResponse:
    """One conversation's row as the list shows it; 204 when it is not (or no longer) in
    the list, so the script removes it."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        found, _ = await list_page(w, viewer, state, only_id=conversation_id)
    if not found:
        return web.Response(status=204)
    return await render_fragment(request, "inbox/_row.html", {"state": state, "row": found[0]})


@routes.get("/inbox/custom-inbox-dialogs", name="inbox.custom_dialogs")
async def custom_dialogs(request: web.Request) -> web.StreamResponse:
    """The custom inbox dialogs of the list the state names: a new inbox from its
    filters, and editing (or, for others, what it shows) the custom inbox listed.
    ``custom_inboxes.js`` fetches them when one is first opened: their every person,
    team, label and channel, twice over, were a fifth of rendering each inbox page."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    async with work(request) as w:
        options = await form_options(w.db, await live_channels(w))
        custom = await custom_view(w.db, viewer, state, options)
    context = {
        "options": options,
        "custom": custom,
        "new_inbox": new_form(state, viewer, custom),
        "viewer": viewer,
        "state": state,
    }
    return await render_fragment(request, "inbox/_custom_inbox_dialogs.html", context)


@routes.get("/inbox/sidebar", name="inbox.sidebar")
async def sidebar(request: web.Request) -> web.StreamResponse:
    """The sidebar with fresh counts."""
    viewer = viewer_of(request)
    state = ListState.of(request, viewer)
    async with work(request) as w:
        context = await sidebar_context(request, w, viewer)
    return await render_fragment(
        request, "inbox/_sidebar.html", {**context, "state": state, "viewer": viewer}
    )
