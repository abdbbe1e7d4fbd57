"""Who may see which conversation: the one rule, as SQL and as a Python predicate.

Every query for conversations (and for what hangs off them: messages, comments,
attachments, contacts) goes through ``conversation_filter``, so the API, the UI and the
websocket can never show more than the user may see. The websocket, which filters
events rather than rows, uses ``can_see`` on the same facts; tests hold the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_, true

from hub.store.models import Conversation, User


@dataclass(frozen=True)
class Viewer:
    """The facts about a user that visibility depends on.

    ``system`` is the hub itself acting (an automation rule): it sees every
    conversation, and what it does is recorded with no actor (``actor_id`` None).
    """

    id: int
    role: str
    visibility: str
    team_ids: frozenset[int]
    system: bool = False

    @classmethod
    def of(cls, user: User) -> Viewer:
        """The viewer for a loaded user (with its teams)."""
        return cls(user.id, user.role, user.visibility, frozenset(t.id for t in user.teams))

    @classmethod
    def hub(cls) -> Viewer:
        """The hub itself, for automation: no user (id 0 matches no row), sees all."""
        return cls(0, "owner", "all", frozenset(), system=True)

    @property
    def actor_id(self) -> int | None:
        """Who a change is recorded as: the user, or None when the hub does it."""
        return None if self.system else self.id

    @property
    def sees_everything(self) -> bool:
        """Owners, managers and unrestricted agents see every conversation."""
        return self.role in ("owner", "manager") or self.visibility == "all"

    @property
    def is_admin(self) -> bool:
        """Owners and managers run the workspace: users, teams, channels, settings."""
        return self.role in ("owner", "manager")


@dataclass(frozen=True)
class ConversationScope:
    """What decides a conversation's visibility; carried by realtime events."""

    conversation_id: int
    assignee_id: int | None
    team_id: int | None
    contact_blocked: bool

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationScope:
        """The scope of a loaded conversation."""
        return cls(
            conversation.id,
            conversation.assignee_id,
            conversation.team_id,
            conversation.contact_blocked,
        )


def conversation_filter(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: the conversations ``viewer`` may see."""
    if viewer.sees_everything:
        return true()
    # Restricted agents never see blocked contacts' conversations: those live only in
    # the Blocked-contacts inbox, which restricted agents do not have.
    mine = Conversation.assignee_id == viewer.id
    if viewer.visibility == "team" and viewer.team_ids:
        reach = or_(mine, Conversation.team_id.in_(viewer.team_ids))
    elif viewer.visibility in ("team", "assigned"):
        reach = mine
    else:
        reach = false()
    # "IS NOT true", the same rows (the flag is never NULL): an "IS false" equality let
    # SQLite, which keeps no statistics, prefer ix_conversations_blocked_last over the
    # contact's or the assignee's index, walking every conversation (a restricted
    # agent's contact search: tens of seconds over 100k conversations; 10 ms now).
    return and_(reach, Conversation.contact_blocked.is_not(True))


def can_see(viewer: Viewer, scope: ConversationScope) -> bool:
    """Python twin of ``conversation_filter`` for one conversation."""
    if viewer.sees_everything:
        return True
    if scope.contact_blocked:
        return False
    if scope.assignee_id == viewer.id:
        return True
    return viewer.visibility == "team" and scope.team_id in viewer.team_ids
