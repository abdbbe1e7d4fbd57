"""Merging two conversations of the same contact: the source's timeline moves into the
target, and the source stays behind, closed, pointing at the target.

What references a conversation, and what a merge does with each:

- messages, comments (with their attachments) and timeline events move, keeping their
  times, so the target's timeline is both in time order;
- email thread keys move, so the thread's later emails land in the target;
- drafts, notifications and CRM transcripts stay on the source: a draft is the agent's
  unsent text there, a notification links to the source (whose page now points at the
  target), and a transcript already written to the CRM is not taken back;
- outbox rows follow their messages (they reference the message, not the conversation);
- the inbox-seen marks are per view, not per conversation: nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update

from hub.auth.visibility import ConversationScope, Viewer, conversation_filter
from hub.errors import HubError, Invalid
from hub.events.work import Work
from hub.inbox.conversations import get_visible, record
from hub.store.models import (
    Channel,
    Comment,
    Conversation,
    ConversationEvent,
    ConversationThreadKey,
    Message,
)
from hub.store.paging import like_pattern
from hub.store.types import utcnow


async def merge(work: Work, viewer: Viewer, source_id: int, into_id: int) -> Conversation:
    """Merge conversation ``source_id`` into ``into_id``; returns the target.

    The viewer must see both (404 otherwise); both must be the same contact's and neither
    merged already (409). Each gets a timeline event and realtime updates.
    """
    # Visibility first: a hidden conversation is 404 whatever the body says.
    source = await get_visible(work, viewer, source_id)
    if source_id == into_id:
        raise Invalid("into", "a conversation cannot be merged into itself")
    target = await get_visible(work, viewer, into_id)
    if source.merged_into_id is not None:
        raise HubError(
            409, "already_merged", f"this conversation was merged into #{source.merged_into_id}"
        )
    if target.merged_into_id is not None:
        raise HubError(
            409,
            "target_merged",
            f"#{target.id} was merged into #{target.merged_into_id}: merge into that one",
        )
    if source.contact_id != target.contact_id:
        raise HubError(
            409,
            "different_contacts",
            "only conversations of the same contact can be merged",
        )
    for model in (Message, Comment, ConversationEvent, ConversationThreadKey):
        await work.db.execute(
            update(model)
            .where(model.conversation_id == source.id)
            .values(conversation_id=target.id)
        )
    _fold(target, source)
    previous = ConversationScope.of(source)
    now = utcnow()
    source.status = "closed"
    source.status_changed_at = now
    source.closed_at = now
    source.snoozed_until = None
    source.unread_count = 0
    source.merged_into_id = target.id
    record(work, source, "merged_into", viewer.id, previous, into=target.id)
    record(work, target, "merged_in", viewer.id, source=source.id)
    return target


def _fold(target: Conversation, source: Conversation) -> None:
    """The target's summary columns take the source's messages into account."""
    if source.last_message_at > target.last_message_at:
        target.last_message_at = source.last_message_at
        target.last_message_direction = source.last_message_direction
    if source.last_inbound_at is not None and (
        target.last_inbound_at is None or source.last_inbound_at > target.last_inbound_at
    ):
        target.last_inbound_at = source.last_inbound_at
    target.unread_count += source.unread_count


@dataclass(frozen=True)
class MergeTarget:
    """A conversation one can be merged into, with its channel's name (what a picker
    shows of one without a subject)."""

    conversation: Conversation
    channel_name: str


async def merge_candidates(
    work: Work, viewer: Viewer, conversation_id: int, limit: int = 50, q: str | None = None
) -> list[MergeTarget]:
    """The conversations ``conversation_id`` can be merged into: the same contact's
    others the viewer sees and that were not merged themselves, latest first.

    ``q`` narrows them (for a contact with many): its number ("#12" or "12"), or text
    in the subject or in one of the messages, case-folded.
    """
    conversation = await get_visible(work, viewer, conversation_id)
    query = (
        select(Conversation, Channel.name)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(
            Conversation.contact_id == conversation.contact_id,
            Conversation.id != conversation.id,
            Conversation.merged_into_id.is_(None),
            conversation_filter(viewer),
        )
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    text = (q or "").strip()
    if text:
        pattern = like_pattern(text)
        said = (
            select(Message.id)
            .where(
                Message.conversation_id == Conversation.id,
                func.lower(Message.text).like(pattern, escape="\\"),
            )
            .exists()
        )
        matches = [func.lower(Conversation.subject).like(pattern, escape="\\"), said]
        number = text.removeprefix("#")
        if number.isdigit() and len(number) < 18:  # a bigint's worth of digits
            matches.append(Conversation.id == int(number))
        query = query.where(or_(*matches))
    rows = await work.db.execute(query)
    return [MergeTarget(found, name) for found, name in rows.all()]
