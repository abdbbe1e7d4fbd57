"""A conversation's timeline: messages, internal comments and events in time order, and
what they share — attachments and paging cursors.

Attachments are uploaded first (owned by their uploader, attached to nothing), then
claimed by the message or comment that carries them. From then on they are visible to
whoever may see that conversation, through ``conversation_filter`` like everything else.
A snippet's files are claimed the same way, and are visible to every user, like the
snippet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer, conversation_filter
from hub.errors import Invalid, NotFound
from hub.events.work import Work
from hub.inbox.conversations import get_visible
from hub.store.models import Attachment, Comment, Conversation, ConversationEvent, Message
from hub.store.paging import bad_cursor, pack, unpack

Order = Literal["asc", "desc"]
Kind = Literal["comment", "event", "message"]
# At equal times, items sort by kind in this (alphabetical) order, then by id.
KINDS: tuple[Kind, ...] = ("comment", "event", "message")


# --- cursors ---------------------------------------------------------------------------


def encode_id_cursor(row_id: int) -> str:
    """An opaque cursor for lists paged by id: the id of the last row of a page."""
    return pack(row_id)


def decode_id_cursor(cursor: str) -> int:
    """The id a cursor points after; 422 naming ``cursor`` when it is not one of ours."""
    (row_id,) = unpack(cursor, int)
    return int(row_id)


def after_id(column: Any, cursor: str | None, order: Order) -> ColumnElement[bool] | None:
    """The keyset condition of the page after ``cursor`` (None on the first page)."""
    if cursor is None:
        return None
    last = decode_id_cursor(cursor)
    return cast(ColumnElement[bool], column > last if order == "asc" else column < last)


RowT = TypeVar("RowT", Message, Comment)


async def page_of_conversation(
    work: Work,
    model: type[RowT],
    conversation_id: int,
    *,
    cursor: str | None,
    limit: int,
    order: Order,
) -> tuple[list[RowT], str | None]:
    """One page of a conversation's messages or comments by id, and the next cursor."""
    query = select(model).where(model.conversation_id == conversation_id)
    condition = after_id(model.id, cursor, order)
    if condition is not None:
        query = query.where(condition)
    query = query.order_by(model.id if order == "asc" else model.id.desc())
    rows = list(await work.db.scalars(query.limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_id_cursor(rows[-1].id)


# --- attachments -------------------------------------------------------------------------


async def record_upload(
    work: Work, viewer: Viewer, *, sha256: str, filename: str, content_type: str, size: int
) -> Attachment:
    """An uploaded file, stored already, owned by its uploader until a message or a
    comment claims it."""
    attachment = Attachment(
        uploaded_by=viewer.id,
        sha256=sha256,
        filename=filename,
        content_type=content_type,
        size=size,
    )
    work.db.add(attachment)
    await work.db.flush()
    return attachment


def _unattached() -> ColumnElement[bool]:
    return and_(
        Attachment.message_id.is_(None),
        Attachment.comment_id.is_(None),
        Attachment.snippet_id.is_(None),
    )


async def get_visible_attachment(work: Work, viewer: Viewer, attachment_id: int) -> Attachment:
    """The attachment if the caller may see it: its message's or comment's conversation
    is visible to them, it is a snippet's (every user may use snippets), or, while
    attached to nothing, they uploaded it. 404 otherwise."""
    owner_conversation = func.coalesce(Message.conversation_id, Comment.conversation_id)
    attachment = await work.db.scalar(
        select(Attachment)
        .outerjoin(Message, Message.id == Attachment.message_id)
        .outerjoin(Comment, Comment.id == Attachment.comment_id)
        .outerjoin(Conversation, Conversation.id == owner_conversation)
        .where(
            Attachment.id == attachment_id,
            or_(
                and_(_unattached(), Attachment.uploaded_by == viewer.id),
                Attachment.snippet_id.is_not(None),
                and_(Conversation.id.is_not(None), conversation_filter(viewer)),
            ),
        )
    )
    if attachment is None:
        raise NotFound("attachment")
    return attachment


async def check_uploads(db: AsyncSession, viewer: Viewer, ids: Sequence[int]) -> None:
    """422 naming ``attachments`` unless every id is one of the caller's own uploads
    not yet attached to anything (and none is given twice)."""
    if len(set(ids)) != len(ids):
        raise Invalid("attachments", "an attachment is given more than once")
    if not ids:
        return
    rows = {a.id: a for a in await db.scalars(select(Attachment).where(Attachment.id.in_(ids)))}
    bad = [
        i
        for i in ids
        if i not in rows
        or rows[i].uploaded_by != viewer.id
        or rows[i].message_id is not None
        or rows[i].comment_id is not None
        or rows[i].snippet_id is not None
    ]
    if bad:
        raise Invalid("attachments", f"not uploads of yours waiting to be attached: {bad}")


async def check_attachments(work: Work, viewer: Viewer, ids: list[int]) -> None:
    """``check_uploads`` in a unit of work."""
    await check_uploads(work.db, viewer, ids)


async def claim_uploads(
    db: AsyncSession,
    viewer: Viewer,
    ids: Sequence[int],
    *,
    message_id: int | None = None,
    comment_id: int | None = None,
    snippet_id: int | None = None,
) -> None:
    """Attach the caller's uploads ``ids`` to a message, a comment or a snippet.

    Run ``check_uploads`` first for a precise error; this conditional update is what
    makes it safe when two requests race to claim the same upload: the loser's update
    misses a row, and its whole transaction is refused.
    """
    if not ids:
        return
    result = cast(
        CursorResult[Any],
        await db.execute(
            update(Attachment)
            .where(Attachment.id.in_(ids), Attachment.uploaded_by == viewer.id, _unattached())
            .values(message_id=message_id, comment_id=comment_id, snippet_id=snippet_id)
        ),
    )
    if result.rowcount != len(ids):
        raise Invalid("attachments", "an attachment was attached elsewhere meanwhile")


async def claim_attachments(
    work: Work,
    viewer: Viewer,
    ids: list[int],
    *,
    message_id: int | None = None,
    comment_id: int | None = None,
) -> None:
    """``claim_uploads`` for a message or a comment, in a unit of work."""
    await claim_uploads(work.db, viewer, ids, message_id=message_id, comment_id=comment_id)


async def attachments_of(
    work: Work, *, message_ids: Sequence[int] = (), comment_ids: Sequence[int] = ()
) -> dict[tuple[str, int], list[Attachment]]:
    """The attachments of the given messages and comments, keyed by ``("message", id)``
    or ``("comment", id)``, each list in upload order."""
    found: dict[tuple[str, int], list[Attachment]] = {}
    conditions = []
    if message_ids:
        conditions.append(Attachment.message_id.in_(message_ids))
    if comment_ids:
        conditions.append(Attachment.comment_id.in_(comment_ids))
    if not conditions:
        return found
    rows = await work.db.scalars(select(Attachment).where(or_(*conditions)).order_by(Attachment.id))
    for a in rows:
        key = ("message", a.message_id) if a.message_id is not None else ("comment", a.comment_id)
        found.setdefault(key, []).append(a)  # type: ignore[arg-type]
    return found


# --- the merged timeline -------------------------------------------------------------------


TimelineRow = Message | Comment | ConversationEvent


@dataclass(frozen=True)
class TimelineEntry:
    """One item of a timeline: a message, a comment or an event, with its time."""

    kind: Kind
    at: datetime
    row: TimelineRow

    @property
    def key(self) -> tuple[datetime, str, int]:
        """The position of the item: time, kind, id."""
        return (self.at, self.kind, self.row.id)


@dataclass(frozen=True)
class TimelinePage:
    """One page of a timeline, the attachments of its messages and comments, and the
    cursor of the next page (None at the end)."""

    entries: list[TimelineEntry]
    attachments: dict[tuple[str, int], list[Attachment]]
    next_cursor: str | None


_MODELS: dict[Kind, type[Message] | type[Comment] | type[ConversationEvent]] = {
    "comment": Comment,
    "event": ConversationEvent,
    "message": Message,
}


def encode_timeline_cursor(entry: TimelineEntry) -> str:
    """The cursor after ``entry``."""
    return pack(entry.at, entry.kind, entry.row.id)


def decode_timeline_cursor(cursor: str) -> tuple[datetime, Kind, int]:
    """The position after which a page starts; 422 naming ``cursor`` for a bad one."""
    at, kind, row_id = unpack(cursor, datetime, str, int)
    if kind not in KINDS:
        raise bad_cursor()
    return at, kind, row_id


def _after(
    kind: Kind, model: Any, position: tuple[datetime, Kind, int], order: Order
) -> ColumnElement[bool]:
    """Keyset condition on one kind's table for "(at, kind, id) after ``position``".

    The kind is a constant within a table, so the three-part comparison folds into a
    condition on (created_at, id) that its index can serve.
    """
    at, last_kind, last_id = position
    column, row_id = model.created_at, model.id
    if order == "asc":
        if kind > last_kind:
            return cast(ColumnElement[bool], column >= at)
        if kind < last_kind:
            return cast(ColumnElement[bool], column > at)
        return cast(ColumnElement[bool], (column > at) | ((column == at) & (row_id > last_id)))
    if kind < last_kind:
        return cast(ColumnElement[bool], column <= at)
    if kind > last_kind:
        return cast(ColumnElement[bool], column < at)
    return cast(ColumnElement[bool], (column < at) | ((column == at) & (row_id < last_id)))


async def conversation_timeline(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    order: Order = "asc",
) -> TimelinePage:
    """One page of a visible conversation's messages, comments and events, merged in
    time order (oldest first, or newest first with ``order="desc"``); 404 if hidden."""
    await get_visible(work, viewer, conversation_id)
    position = decode_timeline_cursor(cursor) if cursor else None
    entries: list[TimelineEntry] = []
    # Each table gives at most a page (plus one) past the cursor; merging those and
    # keeping the first page-plus-one is the same as a UNION ordered over all three.
    for kind, model in _MODELS.items():
        query = select(model).where(model.conversation_id == conversation_id)
        if position is not None:
            query = query.where(_after(kind, model, position, order))
        if order == "asc":
            query = query.order_by(model.created_at, model.id)
        else:
            query = query.order_by(model.created_at.desc(), model.id.desc())
        rows = cast(list[TimelineRow], list(await work.db.scalars(query.limit(limit + 1))))
        entries.extend(TimelineEntry(kind, row.created_at, row) for row in rows)
    entries.sort(key=lambda e: e.key, reverse=order == "desc")
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        next_cursor = encode_timeline_cursor(entries[-1])
    attachments = await attachments_of(
        work,
        message_ids=[e.row.id for e in entries if e.kind == "message"],
        comment_ids=[e.row.id for e in entries if e.kind == "comment"],
    )
    return TimelinePage(entries, attachments, next_cursor)
