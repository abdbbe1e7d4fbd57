"""What a conversation list row shows besides the conversation: the last message's
preview, the names of the channel, assignee and team, and its labels, read in a few set
queries for a whole page of rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.labels import labels_of
from hub.inbox.lookups import team_names
from hub.store.models import Attachment, Channel, Conversation, Label, Message, User

PREVIEW_CHARS = 140


@dataclass(frozen=True)
class Preview:
    """The last message of a conversation, as a list row shows it."""

    direction: str  # in | out
    text: str  # the first PREVIEW_CHARS characters, whitespace folded
    attachments: int  # how many files it carries
    status: str


@dataclass(frozen=True)
class RowFacts:
    """Everything a page of list rows needs besides the conversations themselves."""

    previews: dict[int, Preview]
    channels: dict[int, tuple[str, str]]  # id → (name, type)
    users: dict[int, str]  # id → name
    teams: dict[int, str]  # id → name
    labels: dict[int, list[Label]] = field(default_factory=dict)  # conversation id → labels


def _fold(text: str | None) -> str:
    folded = " ".join((text or "").split())
    return folded if len(folded) <= PREVIEW_CHARS else folded[: PREVIEW_CHARS - 1] + "…"


async def last_messages(db: AsyncSession, conversation_ids: Sequence[int]) -> dict[int, Preview]:
    """The newest message of each conversation (by id, the order they were stored in)."""
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    files = (
        select(func.count())
        .where(Attachment.message_id == Message.id)
        .correlate(Message)
        .scalar_subquery()
    )
    result = await db.execute(
        select(
            Message.conversation_id, Message.direction, Message.text, Message.status, files
        ).where(Message.id.in_(newest))
    )
    return {
        conversation_id: Preview(direction, _fold(text), int(count), status)
        for conversation_id, direction, text, status, count in result.all()
    }


async def _user_names(db: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await db.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row_id: name for row_id, name in rows.all()}


async def row_facts(db: AsyncSession, conversations: Sequence[Conversation]) -> RowFacts:
    """The previews and names a page of rows shows (a handful of queries, not one a row)."""
    ids = [c.id for c in conversations]
    channel_ids = {c.channel_id for c in conversations}
    channels: dict[int, tuple[str, str]] = {}
    if channel_ids:
        rows = await db.execute(
            select(Channel.id, Channel.name, Channel.type).where(Channel.id.in_(channel_ids))
        )
        channels = {row_id: (name, kind) for row_id, name, kind in rows.all()}
    return RowFacts(
        previews=await last_messages(db, ids),
        channels=channels,
        users=await _user_names(db, (c.assignee_id for c in conversations if c.assignee_id)),
        teams=await team_names(db),
        labels=await labels_of(db, ids),
    )
