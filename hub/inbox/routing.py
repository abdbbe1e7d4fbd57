"""Who gets a new inbound conversation: the channel's routing rule.

- ``unassigned``: nobody; it waits in the Unassigned view.
- ``round_robin``: the next of the chosen users and the members of the chosen teams who
  are active and available, in id order, after the one picked last
  (``channels.routing_cursor``). The channel row is locked while picking, so two hub
  processes on PostgreSQL never hand out the same turn.
- ``crm_owner``: the contact's owner in a linked CRM record (its owner's email, cached
  on the link by the CRM engine) when that email is an active hub user's; the first
  enabled connection (by id) that names one decides. Else nobody, as for
  ``unassigned``.

The rule itself is a built-in plugin (``DefaultRouting``): its ``hub_route_conversation``
is marked ``trylast``, so a plugin's implementation decides first. This module gathers
what the hook needs (the candidates, the locked cursor) and applies the answer.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, or_, select

from hub.auth.visibility import ConversationScope
from hub.contract.hookspecs import hookimpl
from hub.contract.routing import Assignee, NewConversation
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.channel_settings import ChannelRouting
from hub.store.models import (
    Channel,
    Conversation,
    CrmConnection,
    CrmContactLink,
    Team,
    TeamMembership,
    User,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pick:
    """The agent a rule chose, and the routing team they were reached through (if any)."""

    user_id: int
    team_id: int | None


class _Candidate(Protocol):
    @property
    def user_id(self) -> int: ...


C = TypeVar("C", bound=_Candidate)


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


async def crm_owners(work: Work, contact_id: int) -> list[Pick]:
    """The active hub users who own the contact's record in an enabled CRM connection,
    matched by email, first connection first. Reads only the cache: routing never
    waits on a CRM."""
    rows = await work.db.execute(
        select(User.id)
        .join(CrmContactLink, func.lower(User.email) == CrmContactLink.owner_email)
        .join(CrmConnection, CrmConnection.id == CrmContactLink.connection_id)
        .where(
            CrmContactLink.contact_id == contact_id,
            CrmConnection.enabled.is_(True),
            User.is_active.is_(True),
        )
        .order_by(CrmContactLink.connection_id)
    )
    picks: list[Pick] = []
    for (user_id,) in rows.all():
        if all(p.user_id != user_id for p in picks):
            picks.append(Pick(user_id, None))
    return picks


def next_pick(picks: Sequence[C], cursor: int | None) -> C | None:
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


class DefaultRouting:
    """The core's routing rule as a built-in plugin: a round robin where the channel
    asks for one, the CRM owner where it asks for that, else nobody. ``trylast``, so
    any plugin's answer comes first."""

    @hookimpl(trylast=True)
    def hub_route_conversation(
        self, conversation: NewConversation, candidates: tuple[Assignee, ...]
    ) -> Assignee | None:
        """The next candidate after the one picked last, for a ``round_robin`` channel;
        the CRM owner (the one candidate offered) for ``crm_owner``."""
        if conversation.routing_mode == "crm_owner":
            # No owner who is a hub user: it waits in Unassigned.
            return candidates[0] if candidates else None
        if conversation.routing_mode != "round_robin":
            return None
        return next_pick(candidates, conversation.last_user_id)


DEFAULT_ROUTING = DefaultRouting()
BUILTIN_NAME = "hub.routing"
"""The name the built-in routing plugin is registered under."""


async def choose(
    work: Work, conversation: NewConversation, candidates: tuple[Assignee, ...]
) -> Assignee | None:
    """Ask the plugins' ``hub_route_conversation`` (the built-in rule last); without
    hooks (a unit of work outside the app), or when a plugin fails, the built-in rule."""
    fallback = DEFAULT_ROUTING.hub_route_conversation(conversation, candidates)
    if work.hooks is None:
        return fallback
    try:
        answer: Any = work.hooks.hub_route_conversation(
            conversation=conversation, candidates=candidates
        )
        if inspect.isawaitable(answer):
            answer = await answer
    except Exception:  # a plugin's bug must not lose the contact's message
        log.exception("hub_route_conversation failed; the channel's own rule decides")
        return fallback
    if answer is not None and not isinstance(answer, Assignee):
        log.error("hub_route_conversation answered %r, not an Assignee: ignored", answer)
        return None
    return answer


async def _assignable(work: Work, pick: Assignee) -> bool:
    # A plugin may name anyone: only an active user (and an existing team) is taken.
    user = await work.db.get(User, pick.user_id)
    if user is None or not user.is_active:
        log.warning("routing named user %s, who is not an active user: ignored", pick.user_id)
        return False
    if pick.team_id is not None and await work.db.get(Team, pick.team_id) is None:
        log.warning("routing named team %s, which does not exist: ignored", pick.team_id)
        return False
    return True


async def route_new_conversation(
    work: Work, channel: Channel, conversation: Conversation
) -> Assignee | None:
    """Ask the routing hook who gets a conversation just created; assign it; return who.

    Records an ``assigned`` timeline event and notifies the assignee, as a manual
    assignment does (the actor is the hub: ``actor_id`` None).
    """
    routing = ChannelRouting.of(channel)
    if routing.mode == "round_robin":
        cursor = await _locked_cursor(work, channel)
        picks = await candidates(work, routing)
    elif routing.mode == "crm_owner":
        cursor, picks = channel.routing_cursor, await crm_owners(work, conversation.contact_id)
    else:
        cursor, picks = channel.routing_cursor, []
    new = NewConversation(
        conversation_id=conversation.id,
        channel_id=channel.id,
        channel_type=channel.type,
        contact_id=conversation.contact_id,
        routing_mode=routing.mode,
        last_user_id=cursor,
    )
    offered = tuple(Assignee(user_id=p.user_id, team_id=p.team_id) for p in picks)
    pick = await choose(work, new, offered)
    if pick is None or not await _assignable(work, pick):
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
    await conversations.notify(work, pick.user_id, "assigned", conversation, by=None)
    return pick
