"""Who gets a new inbound conversation: the channel's routing rule.

- ``unassigned``: nobody; it waits in the Unassigned view.
- ``round_robin``: the next of the chosen users and the members of the chosen teams who
  are active and available, in id order, after the one picked last
  (``channels.routing_cursor``). The channel row is locked while picking, so two hub
  processes on PostgreSQL never hand out the same turn.
- ``crm_owner``: the contact's owner in the linked CRM; CRMs are not connected yet, so
  it falls back to unassigned.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from hub.auth.visibility import ConversationScope
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.channel_settings import ChannelRouting
from hub.store.models import Channel, Conversation, TeamMembership, User


@dataclass(frozen=True)
class Pick:
    """The agent a rule chose, and the routing team they were reached through (if any)."""

    user_id: int
    team_id: int | None


async def candidates(work: Work, routing: ChannelRouting) -> list[Pick]:
    """The active, available users a round robin may pick, in id order.

    A user chosen directly gets no team; one reached through a routing team gets the
    first such team (lowest id), so team-restricted agents of that team see it too.
    """
    if not routing.user_ids and not routing.team_ids:
        return []
    query = (
        select(User.id, TeamMembership.team_id)
        .outerjoin(
            TeamMembership,
            (TeamMembership.user_id == User.id) & TeamMembership.team_id.in_(routing.team_ids),
        )
        .where(
            User.is_active.is_(True),
            User.available.is_(True),
            or_(User.id.in_(routing.user_ids), TeamMembership.team_id.is_not(None)),
        )
        .order_by(User.id, TeamMembership.team_id)
    )
    picks: dict[int, Pick] = {}
    for user_id, team_id in (await work.db.execute(query)).all():
        if user_id not in picks:
            # Chosen directly: no team, even if also a member of a routing team.
            direct = user_id in routing.user_ids
            picks[user_id] = Pick(user_id, None if direct else team_id)
    return list(picks.values())


def next_pick(picks: list[Pick], cursor: int | None) -> Pick | None:
    """The first pick after the user picked last (by id), wrapping around."""
    if not picks:
        return None
    if cursor is not None:
        for pick in picks:
            if pick.user_id > cursor:
                return pick
    return picks[0]


async def _locked_cursor(work: Work, channel: Channel) -> int | None:
    # FOR UPDATE on PostgreSQL (SQLite has one writer anyway and ignores it): the read
    # waits for, and then sees, the cursor another process is committing.
    return await work.db.scalar(
        select(Channel.routing_cursor).where(Channel.id == channel.id).with_for_update()
    )


async def route_new_conversation(
    work: Work, channel: Channel, conversation: Conversation
) -> Pick | None:
    """Apply the channel's rule to a conversation just created; return who got it.

    Records an ``assigned`` timeline event and notifies the assignee, as a manual
    assignment does (the actor is the hub: ``actor_id`` None).
    """
    routing = ChannelRouting.of(channel)
    if routing.mode != "round_robin":
        # unassigned, and crm_owner until CRMs exist: it waits in Unassigned.
        return None
    cursor = await _locked_cursor(work, channel)
    pick = next_pick(await candidates(work, routing), cursor)
    if pick is None:
        return None
    channel.routing_cursor = pick.user_id
    previous = ConversationScope.of(conversation)
    conversation.assignee_id = pick.user_id
    conversation.team_id = pick.team_id
    conversations.record(
        work,
        conversation,
        "assigned",
        None,
        previous,
        user_id=pick.user_id,
        team_id=pick.team_id,
        by="routing",
    )
    conversations.notify(work, pick.user_id, "assigned", conversation, by=None)
    return pick
