"""What the routing hook sees and answers: a new conversation and who should get it."""

from __future__ import annotations

from typing import Literal

from hub.contract.models import Frozen

RoutingMode = Literal["unassigned", "round_robin", "crm_owner"]
"""A channel's routing rule, as the admin chose it."""


class Assignee(Frozen):
    """Who gets a conversation: an agent, and the team they were reached through (their
    team-restricted colleagues then see it too)."""

    user_id: int
    team_id: int | None = None


class NewConversation(Frozen):
    """A conversation just created by a contact's first message, not yet assigned.

    ``routing_mode`` is the channel's rule; ``last_user_id`` who the channel's round
    robin picked last (``None`` before its first pick).
    """

    conversation_id: int
    channel_id: int
    channel_type: str
    contact_id: int
    routing_mode: RoutingMode
    last_user_id: int | None = None
