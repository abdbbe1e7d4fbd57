"""What observer hooks receive: frozen facts about something that has just happened.

Observers run after the change is committed, so a notice describes a fact, never an
intention; an observer cannot undo it. Ids are the hub's own (usable with the REST API).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hub.contract.models import DeliveryStatus, Frozen, InboundMessage

ConversationChange = Literal[
    "created",
    "assigned",
    "unassigned",
    "closed",
    "reopened",
    "snoozed",
    "unsnoozed",
    "blocked",
    "unblocked",
    "merged",
    "merged_into",
    "merged_in",
    "label_added",
    "label_removed",
    "priority_changed",
    "csat_sent",
    "csat_skipped",
    "csat_rated",
    "sla_applied",
    "sla_removed",
    "sla_breached",
]
"""The timeline event kinds of a conversation, each a ``ConversationUpdated.change``."""


class MessageReceived(Frozen):
    """A contact's message was stored in the inbox (not on a duplicate or a held event)."""

    channel_id: int
    channel_type: str
    conversation_id: int
    message_id: int
    contact_id: int
    new_conversation: bool
    message: InboundMessage


class MessageSent(Frozen):
    """The provider accepted an agent's message; ``provider_id`` is its id there."""

    channel_id: int
    channel_type: str
    conversation_id: int
    message_id: int
    provider_id: str


class MessageFailed(Frozen):
    """An agent's message was marked failed: refused by the provider, or dead-lettered
    after its last attempt (``dead_lettered``)."""

    channel_id: int
    channel_type: str
    conversation_id: int
    message_id: int
    reason: str
    code: str | None = None
    dead_lettered: bool = False


class MessageStatusChanged(Frozen):
    """A provider reported a delivery status (sent, delivered, read, failed) of an agent's
    message; only a status that moves the message forward is reported."""

    channel_id: int
    conversation_id: int
    message_id: int
    status: DeliveryStatus
    reason: str | None = None


class ConversationUpdated(Frozen):
    """A conversation changed: ``change`` is its timeline event kind (see
    ``ConversationChange``) and ``data`` that event's data. ``rule_id`` is the
    automation rule whose action made the change (None for a person or the hub's own
    jobs); the rules never act on such a change again, which is how they cannot loop."""

    conversation_id: int
    change: ConversationChange
    actor_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    rule_id: int | None = None


Notice = MessageReceived | MessageSent | MessageFailed | MessageStatusChanged | ConversationUpdated
