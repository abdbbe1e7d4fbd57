"""What stops an SLA clock at once: an agent's reply meets the first and next response
targets, closing meets the resolution target. Plain functions on the loaded
conversation, called by ``hub.inbox.messages`` and ``hub.inbox.conversations``;
starting clocks needs the policy and the "add minutes" clock, so ``hub.inbox.sla`` does it."""

from __future__ import annotations

from hub.auth.visibility import ConversationScope
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.store.models import Conversation


def reply_sent(work: Work, conversation: Conversation) -> None:
    """An agent replied: the first or next response the contact waited for is met, and
    open inboxes redraw the header and row that showed it running (or breached)."""
    waited = conversation.first_response_due_at or conversation.next_response_due_at
    if conversation.sla_policy_id is None or waited is None:
        return
    conversation.first_response_due_at = None
    conversation.next_response_due_at = None
    data = {"conversation_id": conversation.id, "event": "sla_met", "actor_id": None}
    scope = ConversationScope.of(conversation)
    work.emit(HubEvent("conversation.updated", data, scope=scope))
    work.emit(HubEvent("counts.changed", {}, scope=scope))


def closed(conversation: Conversation) -> None:
    """Closed: the resolution is met and no reply is awaited any more (breach markers
    stay, as the record of a target missed)."""
    if conversation.sla_policy_id is not None:
        conversation.first_response_due_at = None
        conversation.next_response_due_at = None
        conversation.resolution_due_at = None
