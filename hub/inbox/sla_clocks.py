"""What stops an SLA clock at once: an agent's reply meets the first and next response
targets, closing meets the resolution target. Plain functions on the loaded
conversation, called by ``hub.inbox.messages`` and ``hub.inbox.conversations``;
starting clocks needs the policy and the "add minutes" clock, so ``hub.inbox.sla`` does it."""

from __future__ import annotations

from hub.store.models import Conversation


def reply_sent(conversation: Conversation) -> None:
    """An agent replied: the first or next response the contact waited for is met."""
    if conversation.sla_policy_id is not None:
        conversation.first_response_due_at = None
        conversation.next_response_due_at = None


def closed(conversation: Conversation) -> None:
    """Closed: the resolution is met and no reply is awaited any more (breach markers
    stay, as the record of a target missed)."""
    if conversation.sla_policy_id is not None:
        conversation.first_response_due_at = None
        conversation.next_response_due_at = None
        conversation.resolution_due_at = None
