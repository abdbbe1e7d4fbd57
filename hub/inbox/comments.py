"""Internal comments: notes between agents on a conversation, with @mentions and files.

A comment never reaches the contact: it has no outbox row and is not a message. Each
mentioned user is notified, whether given by id or written as ``@name`` in the text
(``hub.inbox.mentions``); only users who may see the conversation can be mentioned,
so a mention never leaks a conversation to someone who could not open it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from hub.auth.visibility import ConversationScope, Viewer, can_see, conversation_filter
from hub.errors import Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.drafts import discard_draft
from hub.inbox.mentions import has_mentions, resolve_mentions
from hub.inbox.timeline import (
    Order,
    attachments_of,
    check_attachments,
    claim_attachments,
    page_of_conversation,
)
from hub.media.store import MediaLimits
from hub.store.models import Attachment, Comment, Conversation, User


@dataclass(frozen=True)
class NewComment:
    """What an agent writes: a body and/or attachments, and the users they mention by
    id (besides those the body mentions by ``@name``)."""

    body: str = ""
    mentions: list[int] = field(default_factory=list)
    attachments: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CommentRow:
    """A comment with its attachments."""

    comment: Comment
    attachments: list[Attachment]


async def _check_mentions(work: Work, conversation: Conversation, mentions: list[int]) -> None:
    """422 naming ``mentions`` unless each id is an active user who may see the
    conversation."""
    if len(set(mentions)) != len(mentions):
        raise Invalid("mentions", "a user is mentioned more than once")
    if not mentions:
        return
    users = {
        u.id: u
        for u in await work.db.scalars(
            select(User).where(User.id.in_(mentions)).options(selectinload(User.teams))
        )
    }
    scope = ConversationScope.of(conversation)
    bad = [
        i
        for i in mentions
        if i not in users or not users[i].is_active or not can_see(Viewer.of(users[i]), scope)
    ]
    if bad:
        raise Invalid("mentions", f"not active users who can see this conversation: {bad}")


async def _mentioned_in_text(
    work: Work, conversation: Conversation, body: str, chosen: list[int]
) -> list[int]:
    """The users ``body`` mentions by ``@name`` (``hub.inbox.mentions``), among the
    active users who may see the conversation."""
    if not has_mentions(body):
        return []
    scope = ConversationScope.of(conversation)
    users = [
        user
        for user in await work.db.scalars(
            select(User)
            .where(User.is_active.is_(True))
            .options(selectinload(User.teams))
            .order_by(User.id)
        )
        if can_see(Viewer.of(user), scope)
    ]
    return resolve_mentions(body, users, chosen)


async def add_comment(
    work: Work, viewer: Viewer, conversation_id: int, new: NewComment
) -> CommentRow:
    """Comment on a visible conversation (404 otherwise); notify each mentioned user
    except the author. The author's comment draft of the conversation is deleted."""
    conversation = await conversations.get_visible(work, viewer, conversation_id)
    MediaLimits().check_count(len(new.attachments))
    body = new.body.strip()
    if not body and not new.attachments:
        raise Invalid("body", "a comment needs a body or at least one attachment")
    await _check_mentions(work, conversation, new.mentions)
    in_text = await _mentioned_in_text(work, conversation, body, new.mentions)
    mentions = new.mentions + [i for i in in_text if i not in new.mentions]
    await check_attachments(work, viewer, new.attachments)

    comment = Comment(
        conversation_id=conversation.id, author_id=viewer.actor_id, body=body, mentions=mentions
    )
    work.db.add(comment)
    await work.db.flush()
    await claim_attachments(work, viewer, new.attachments, comment_id=comment.id)
    attachments = list(
        await work.db.scalars(
            select(Attachment).where(Attachment.comment_id == comment.id).order_by(Attachment.id)
        )
    )
    for user_id in mentions:
        if user_id != viewer.id:
            await conversations.notify(
                work,
                user_id,
                "mention",
                conversation,
                comment_id=comment.id,
                by=viewer.actor_id,
                excerpt=body[:200],
            )
    work.emit(
        HubEvent(
            "comment.created",
            {
                "id": comment.id,
                "conversation_id": conversation.id,
                "author_id": viewer.actor_id,
                "body": body,
                "mentions": mentions,
                "created_at": comment.created_at.isoformat(),
                "attachments": [a.id for a in attachments],
            },
            scope=ConversationScope.of(conversation),
        )
    )
    await discard_draft(work, viewer, conversation.id, "comment")
    return CommentRow(comment, attachments)


async def get_comment(work: Work, viewer: Viewer, comment_id: int) -> CommentRow:
    """One comment, if its conversation is visible to the caller; 404 otherwise."""
    comment = await work.db.scalar(
        select(Comment)
        .join(Conversation, Conversation.id == Comment.conversation_id)
        .where(Comment.id == comment_id, conversation_filter(viewer))
    )
    if comment is None:
        raise NotFound("comment")
    found = await attachments_of(work, comment_ids=[comment.id])
    return CommentRow(comment, found.get(("comment", comment.id), []))


async def list_comments(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
    order: Order = "asc",
) -> tuple[list[CommentRow], str | None]:
    """One page of a visible conversation's comments by id (oldest first unless
    ``order="desc"``) and the next page's cursor; 404 if the conversation is hidden."""
    await conversations.get_visible(work, viewer, conversation_id)
    comments, next_cursor = await page_of_conversation(
        work, Comment, conversation_id, cursor=cursor, limit=limit, order=order
    )
    found = await attachments_of(work, comment_ids=[c.id for c in comments])
    return [CommentRow(c, found.get(("comment", c.id), [])) for c in comments], next_cursor
