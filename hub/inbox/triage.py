"""Triage of a conversation: the labels agents put on it and its priority.

Each change is a timeline event (``label_added``, ``label_removed``,
``priority_changed``) and a ``conversation.updated`` event, through
``conversations.record`` like assigning or closing. The event keeps the label's name as
it was, so the timeline still reads "Ana added label Billing" after a rename or delete.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from hub.auth.visibility import Viewer
from hub.errors import HubError, Invalid
from hub.events.work import Work
from hub.inbox.conversations import get_visible, record
from hub.inbox.priority import Priority, level, name_of
from hub.store.models import Conversation, ConversationLabel, Label

# More labels than any triage needs; a cap keeps one request's work bounded.
LABELS_PER_CONVERSATION = 50


async def _labels_by_id(work: Work, label_ids: Sequence[int]) -> list[Label]:
    """The labels with these ids, in the order given; 422 naming every unknown id."""
    wanted = list(dict.fromkeys(label_ids))
    found = {
        label.id: label
        for label in await work.db.scalars(select(Label).where(Label.id.in_(wanted)))
    }
    unknown = [str(i) for i in wanted if i not in found]
    if unknown:
        raise Invalid("label_ids", f"no label with id {', '.join(unknown)}")
    return [found[i] for i in wanted]


async def add_labels(
    work: Work, viewer: Viewer, conversation_id: int, label_ids: Sequence[int]
) -> Conversation:
    """Put labels on a conversation the viewer may see (404 otherwise). Labels it
    carries already are left as they are; each new one is a timeline event."""
    conversation = await get_visible(work, viewer, conversation_id)
    if not label_ids:
        raise Invalid("label_ids", "give at least one label id")
    labels = await _labels_by_id(work, label_ids)
    present = set(
        await work.db.scalars(
            select(ConversationLabel.label_id).where(
                ConversationLabel.conversation_id == conversation.id
            )
        )
    )
    new = [label for label in labels if label.id not in present]
    if len(present) + len(new) > LABELS_PER_CONVERSATION:
        raise Invalid("label_ids", f"a conversation carries at most {LABELS_PER_CONVERSATION}")
    for label in new:
        work.db.add(
            ConversationLabel(
                conversation_id=conversation.id, label_id=label.id, added_by=viewer.actor_id
            )
        )
        record(
            work, conversation, "label_added", viewer.actor_id, label_id=label.id, name=label.name
        )
    return conversation


async def remove_label(
    work: Work, viewer: Viewer, conversation_id: int, label_id: int
) -> Conversation:
    """Take a label off a conversation the viewer may see; 404 naming the label when
    the conversation does not carry it."""
    conversation = await get_visible(work, viewer, conversation_id)
    label = await work.db.get(Label, label_id)
    result = await work.db.execute(
        delete(ConversationLabel).where(
            ConversationLabel.conversation_id == conversation.id,
            ConversationLabel.label_id == label_id,
        )
    )
    if label is None or not result.rowcount:  # type: ignore[attr-defined]
        raise HubError(404, "not_found", "label not found on this conversation")
    record(work, conversation, "label_removed", viewer.actor_id, label_id=label.id, name=label.name)
    return conversation


def set_priority(
    work: Work, conversation: Conversation, priority: Priority, actor_id: int | None
) -> bool:
    """Give a conversation a priority; ``actor_id`` None when the hub does it (a rule).

    The caller has decided the conversation may be changed (``change_priority`` checks
    the agent may see it). Returns whether anything changed: the same priority again is
    no event.
    """
    if conversation.priority == level(priority):
        return False
    previous = name_of(conversation.priority)
    conversation.priority = level(priority)
    record(work, conversation, "priority_changed", actor_id, priority=priority, was=previous)
    return True


async def change_priority(
    work: Work, viewer: Viewer, conversation_id: int, priority: Priority
) -> Conversation:
    """An agent sets the priority of a conversation they may see (404 otherwise)."""
    conversation = await get_visible(work, viewer, conversation_id)
    set_priority(work, conversation, priority, viewer.actor_id)
    return conversation
