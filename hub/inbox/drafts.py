"""Drafts: what a user is writing in a conversation, kept on the server so it survives a
reload, a crash and a change of device.

One draft per user and conversation, holding its mode (a reply or an internal comment);
the last write wins. A user sees only their own drafts, and only while they may see the
conversation. Every change is announced to that user alone (``draft.updated``), so
their other tabs and devices can refresh; ``updated_at: null`` says the draft is gone.
Sending a reply or a comment deletes the sender's draft of the same mode, in the same
transaction as the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from hub.auth.visibility import Viewer, conversation_filter
from hub.errors import Invalid
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.timeline import after_id, check_attachments, encode_id_cursor
from hub.media.store import MediaLimits
from hub.store.models import Channel, Conversation, Draft, Message
from hub.store.types import utcnow

Mode = Literal["reply", "comment"]


@dataclass(frozen=True)
class DraftText:
    """What a draft holds: its mode, text and the composer's choices."""

    mode: Mode
    body: str = ""
    subject: str | None = None
    channel_id: int | None = None
    reply_to: int | None = None
    attachments: list[int] = field(default_factory=list)


def _announce(work: Work, viewer: Viewer, conversation_id: int, draft: Draft | None) -> None:
    work.emit(
        HubEvent(
            "draft.updated",
            {
                "conversation_id": conversation_id,
                "mode": draft.mode if draft else None,
                "updated_at": draft.updated_at.isoformat() if draft else None,
            },
            user_ids=frozenset({viewer.id}),
        )
    )


async def _own(work: Work, viewer: Viewer, conversation_id: int) -> Draft | None:
    return await work.db.scalar(
        select(Draft).where(Draft.user_id == viewer.id, Draft.conversation_id == conversation_id)
    )


async def get_draft(work: Work, viewer: Viewer, conversation_id: int) -> Draft | None:
    """The caller's draft in a visible conversation (404 when hidden), or None."""
    await conversations.get_visible(work, viewer, conversation_id)
    return await _own(work, viewer, conversation_id)


async def _check(work: Work, viewer: Viewer, conversation_id: int, text: DraftText) -> None:
    """422 naming the field that points at something the draft cannot use."""
    MediaLimits().check_count(len(text.attachments))
    await check_attachments(work, viewer, text.attachments)
    if text.channel_id is not None:
        channel = await work.db.get(Channel, text.channel_id)
        if channel is None or channel.deleted_at is not None:
            raise Invalid("channel_id", "no channel with this id")
    if text.reply_to is not None:
        replied = await work.db.scalar(
            select(Message.id).where(
                Message.id == text.reply_to, Message.conversation_id == conversation_id
            )
        )
        if replied is None:
            raise Invalid("reply_to", "no message with this id in this conversation")


async def save_draft(work: Work, viewer: Viewer, conversation_id: int, text: DraftText) -> Draft:
    """Create or replace the caller's draft in a visible conversation (404 when hidden).

    An upsert, so two devices saving at once cannot collide on the unique pair.
    """
    await conversations.get_visible(work, viewer, conversation_id)
    await _check(work, viewer, conversation_id, text)
    values = {
        "mode": text.mode,
        "body": text.body,
        "subject": text.subject,
        "channel_id": text.channel_id,
        "reply_to_message_id": text.reply_to,
        "attachment_ids": list(text.attachments),
        "updated_at": utcnow(),
    }
    dialect = work.db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(Draft).values(user_id=viewer.id, conversation_id=conversation_id, **values)
    await work.db.execute(
        statement.on_conflict_do_update(index_elements=["user_id", "conversation_id"], set_=values)
    )
    draft = await work.db.scalar(
        select(Draft)
        .where(Draft.user_id == viewer.id, Draft.conversation_id == conversation_id)
        .execution_options(populate_existing=True)
    )
    assert draft is not None  # just written in this transaction
    _announce(work, viewer, conversation_id, draft)
    return draft


async def delete_draft(work: Work, viewer: Viewer, conversation_id: int) -> None:
    """Delete the caller's draft in a visible conversation (404 when hidden); deleting
    none is not an error."""
    await conversations.get_visible(work, viewer, conversation_id)
    await discard_draft(work, viewer, conversation_id, None)


async def discard_draft(
    work: Work, viewer: Viewer, conversation_id: int, mode: Mode | None
) -> None:
    """Delete the caller's draft of ``conversation_id`` if it has ``mode`` (any when
    None): what sending does, in the sending transaction."""
    condition = [Draft.user_id == viewer.id, Draft.conversation_id == conversation_id]
    if mode is not None:
        condition.append(Draft.mode == mode)
    gone = await work.db.scalar(delete(Draft).where(*condition).returning(Draft.id))
    if gone is not None:
        _announce(work, viewer, conversation_id, None)


async def list_drafts(
    work: Work, viewer: Viewer, *, cursor: str | None = None, limit: int = 50
) -> tuple[list[Draft], str | None]:
    """One page of the caller's drafts in conversations they may see, newest
    conversation first, paged by conversation id; and the next page's cursor."""
    query = (
        select(Draft)
        .join(Conversation, Conversation.id == Draft.conversation_id)
        .where(Draft.user_id == viewer.id, conversation_filter(viewer))
    )
    condition = after_id(Draft.conversation_id, cursor, "desc")
    if condition is not None:
        query = query.where(condition)
    rows = list(
        await work.db.scalars(query.order_by(Draft.conversation_id.desc()).limit(limit + 1))
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_id_cursor(rows[-1].conversation_id)
    return rows, next_cursor
