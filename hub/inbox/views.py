"""The sidebar's views: which conversations each shows, in what order, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer, conversation_filter
from hub.errors import Forbidden, HubError, NotFound
from hub.inbox.custom_inboxes import get_accessible_inbox
from hub.inbox.filters import (
    CustomInboxFilters,
    InboxClause,
    inbox_clause,
    labels_clause,
    priorities_clause,
    unanswered_clause,
)
from hub.inbox.labels import check_label_ids
from hub.inbox.priority import Priority
from hub.inbox.sla_status import at_risk_clause
from hub.store.models import Contact, Conversation, Team
from hub.store.paging import pack, unpack
from hub.store.types import utcnow

StatusTab = Literal["open", "closed", "snoozed", "all"]
Sort = Literal["newest", "oldest", "longest", "shortest", "priority"]


@dataclass(frozen=True)
class View:
    """A parsed view name: ``all``, ``mine``, ``unassigned``, ``blocked``, ``sla`` (SLA
    at risk), ``team:<id>``, ``custom:<id>``."""

    kind: Literal["all", "mine", "unassigned", "blocked", "sla", "team", "custom"]
    ref: int | None = None

    @classmethod
    def parse(cls, text: str) -> View:
        """Parse a view name; 422 naming the parameter when it is not one."""
        if text in ("all", "mine", "unassigned", "blocked", "sla"):
            return cls(text)  # type: ignore[arg-type]
        kind, _, ref = text.partition(":")
        if kind in ("team", "custom") and ref.isdigit() and len(ref) < 19:
            return cls(kind, int(ref))  # type: ignore[arg-type]
        raise HubError(
            422,
            "validation_error",
            "view: must be all, mine, unassigned, blocked, sla, team:<id> or custom:<id>",
            [{"field": "view", "message": "unknown view"}],
        )

    def __str__(self) -> str:
        return self.kind if self.ref is None else f"{self.kind}:{self.ref}"


def allowed_standard_views(viewer: Viewer) -> tuple[str, ...]:
    """The standard views a viewer has in the sidebar (before teams and custom inboxes)."""
    return ("all", "mine", "unassigned") if viewer.sees_everything else ("mine",)


def allowed_team_ids(viewer: Viewer, all_team_ids: list[int]) -> list[int]:
    """Team inboxes a viewer has: every team when they see everything, else their own
    teams if restricted to their team, none if restricted to what is assigned to them."""
    if viewer.sees_everything:
        return all_team_ids
    if viewer.visibility == "team":
        return [t for t in all_team_ids if t in viewer.team_ids]
    return []


async def view_clause(db: AsyncSession, viewer: Viewer, view: View) -> ColumnElement[bool]:
    """SQL condition for the conversations a view shows to this viewer.

    403 for a view the viewer does not have; 404 for a team or custom inbox that does not
    exist (or, for a custom inbox, is not shared with them).
    """
    return (await _view_condition(db, viewer, view)).clause


async def _view_condition(db: AsyncSession, viewer: Viewer, view: View) -> InboxClause:
    """``view_clause``, and whether it keeps a few contacts' conversations only."""
    # Written "IS NOT true" (the same rows: the flag is never NULL) so that SQLite, which
    # keeps no statistics, walks the view's own index (assignee, team, status) instead
    # of ix_conversations_blocked_last: an "IS false" equality on it ties with theirs,
    # and it then walked every conversation of every status in time order (mine, All
    # tab: 7 ms against 0.2 ms over 100k conversations). The All view keeps the
    # equality: that index is its All tab's only ordered path.
    not_blocked = Conversation.contact_blocked.is_not(True)
    if view.kind == "mine":
        return InboxClause(and_(Conversation.assignee_id == viewer.id, not_blocked))
    if view.kind == "sla":  # what the viewer sees of it, like a custom inbox
        at_risk = and_(at_risk_clause(utcnow()), not_blocked, conversation_filter(viewer))
        return InboxClause(at_risk)
    if view.kind in ("all", "unassigned", "blocked"):
        if not viewer.sees_everything:
            raise Forbidden(f"the {view.kind} view is not available to you")
        if view.kind == "all":
            return InboxClause(Conversation.contact_blocked.is_(False))
        if view.kind == "unassigned":
            return InboxClause(and_(Conversation.assignee_id.is_(None), not_blocked))
        return InboxClause(Conversation.contact_blocked.is_(True))
    assert view.ref is not None
    if view.kind == "team":
        if await db.scalar(select(Team.id).where(Team.id == view.ref)) is None:
            raise NotFound("team")
        if view.ref not in allowed_team_ids(viewer, [view.ref]):
            raise Forbidden("this team inbox is not available to you")
        return InboxClause(and_(Conversation.team_id == view.ref, not_blocked))
    inbox = await get_accessible_inbox(db, viewer, view.ref)
    custom = await inbox_clause(db, CustomInboxFilters.model_validate(inbox.filters))
    clause = and_(custom.clause, not_blocked, conversation_filter(viewer))
    return InboxClause(clause, custom.few)


# --- listing with keyset paging ------------------------------------------------------


def _sort_column(sort: Sort) -> ColumnElement[datetime]:
    if sort in ("newest", "oldest", "priority"):
        return Conversation.last_message_at  # type: ignore[return-value]
    # Time in the current status: open for how long, closed or snoozed since when.
    return Conversation.status_changed_at  # type: ignore[return-value]


def _descending(sort: Sort) -> bool:
    return sort in ("newest", "shortest", "priority")


def _by_expression(sort: Sort, column: ColumnElement[datetime], descending: bool) -> list[Any]:
    """The list's order written so no index serves it: ``coalesce(x, x)`` is ``x``."""
    keys: list[Any] = [func.coalesce(column, column), Conversation.id]
    if sort == "priority":
        keys.insert(0, func.coalesce(Conversation.priority, Conversation.priority))
    return [key.desc() for key in keys] if descending else keys


def encode_cursor(value: datetime, row_id: int) -> str:
    """An opaque cursor: the sort value and id of the last row of a page."""
    return pack(value, row_id)


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a cursor points at; 422 when it was not made by ``encode_cursor``."""
    position, row_id = unpack(cursor, datetime, int)
    return position, row_id


@dataclass(frozen=True)
class ConversationRow:
    """A conversation as listed, with its contact's name."""

    conversation: Conversation
    contact_name: str


async def _matching(
    db: AsyncSession,
    viewer: Viewer,
    view: View,
    status: StatusTab,
    unanswered: bool | None,
    contact_id: int | None,
    label_ids: Sequence[int] = (),
    priorities: Sequence[Priority] = (),
) -> tuple[list[ColumnElement[bool]], bool]:
    """The conditions of a view's tab as listed: one definition for the list and for
    "every conversation matching" of a bulk action; and whether they keep a few
    contacts' conversations only (``InboxClause.few``)."""
    condition = await _view_condition(db, viewer, view)
    where = [condition.clause]
    if status != "all":
        where.append(Conversation.status == status)
    if contact_id is not None:
        where.append(Conversation.contact_id == contact_id)
    if unanswered is not None:
        where.append(unanswered_clause(unanswered))
    if label_ids:
        await check_label_ids(db, label_ids, "label")
        where.append(labels_clause(label_ids))
    if priorities:
        where.append(priorities_clause(priorities))
    return where, condition.few


async def matching_ids(
    db: AsyncSession,
    viewer: Viewer,
    *,
    view: View,
    status: StatusTab = "open",
    unanswered: bool | None = None,
    contact_id: int | None = None,
    label_ids: Sequence[int] = (),
    priorities: Sequence[Priority] = (),
    limit: int,
) -> list[int]:
    """The ids of every conversation a view's tab lists (newest first), ``limit`` at most."""
    where, _ = await _matching(
        db, viewer, view, status, unanswered, contact_id, label_ids, priorities
    )
    query = (
        select(Conversation.id)
        .where(*where)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return list(await db.scalars(query))


async def list_conversations(
    db: AsyncSession,
    viewer: Viewer,
    *,
    view: View,
    status: StatusTab = "open",
    sort: Sort = "newest",
    unanswered: bool | None = None,
    cursor: str | None = None,
    limit: int = 25,
    only_id: int | None = None,
    contact_id: int | None = None,
    label_ids: Sequence[int] = (),
    priorities: Sequence[Priority] = (),
) -> tuple[list[ConversationRow], str | None]:
    """One page of a view's conversations and the cursor of the next page (or None).

    ``only_id`` narrows the list to one conversation: whether, and as what, it shows in
    the list (a live update of one row). ``contact_id`` narrows it to one contact's
    conversations (the command bar opens a contact's latest). ``label_ids`` keeps those
    carrying any of the labels (422 naming ``label`` for an unknown one), ``priorities``
    those with any of the priorities. The ``priority`` sort lists urgent first, and
    within a priority the newest activity first."""
    column = _sort_column(sort)
    descending = _descending(sort)
    where, few = await _matching(
        db, viewer, view, status, unanswered, contact_id, label_ids, priorities
    )
    if only_id is not None:
        where.append(Conversation.id == only_id)
    if cursor and sort == "priority":
        level, position, last_id = unpack(cursor, int, datetime, int)
        where.append(
            (Conversation.priority < level)
            | (
                (Conversation.priority == level)
                & ((column < position) | ((column == position) & (Conversation.id < last_id)))
            )
        )
    elif cursor:
        position, last_id = decode_cursor(cursor)
        if descending:
            where.append((column < position) | ((column == position) & (Conversation.id < last_id)))
        else:
            where.append((column > position) | ((column == position) & (Conversation.id > last_id)))
    order: tuple[Any, ...] = (
        (column.desc(), Conversation.id.desc()) if descending else (column, Conversation.id)
    )
    if sort == "priority":
        order = (Conversation.priority.desc(), *order)
    query = select(Conversation, Contact.name).join(Contact, Contact.id == Conversation.contact_id)
    if few:
        # A few contacts' conversations (``InboxClause.few``): their ids sorted first,
        # by an expression no index has (the same order), so they are read and
        # sorted instead of found by walking the view's index; then the page's rows.
        page = (
            select(Conversation.id)
            .where(*where)
            .order_by(*_by_expression(sort, column, descending))
            .limit(limit + 1)
            .correlate(None)
        )
        query = query.where(Conversation.id.in_(page))
    else:
        query = query.where(*where)
    result = await db.execute(query.order_by(*order).limit(limit + 1))
    rows = [ConversationRow(conversation, name) for conversation, name in result.all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1].conversation
        if sort == "priority":
            next_cursor = pack(last.priority, last.last_message_at, last.id)
        else:
            next_cursor = encode_cursor(
                last.last_message_at if sort in ("newest", "oldest") else last.status_changed_at,
                last.id,
            )
    return rows, next_cursor


# --- counts --------------------------------------------------------------------------
