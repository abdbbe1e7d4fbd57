"""The action vocabulary of automation: what a macro (and, later, a rule) can do to one
conversation.

Each action is a pydantic model with a ``type``; ``Action`` is their discriminated union,
so a stored list of actions reads back as typed objects. ``run_action`` carries one out
through the inbox's own domain functions (``hub.inbox.conversations``, ``triage``,
``comments``, ``messages``), so the runner's permissions, the channel's capability and
window checks, the timeline events and the live updates are exactly those of doing the
same thing by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from hub.auth.visibility import Viewer
from hub.errors import Invalid
from hub.events.work import Work
from hub.inbox import comments, conversations, messages, sla, snippets, triage
from hub.inbox.channel_plugins import ChannelPlugins
from hub.inbox.priority import Priority
from hub.store.models import ConversationLabel, Label, SlaPolicy, Snippet, Team, User
from hub.store.types import DbId, utcnow

COMMENT_MAX = 5000
NOTE_MAX = 1000
LABELS_MAX = 20
# A year: longer is not a snooze, it is closing the conversation.
SNOOZE_MINUTES_MAX = 60 * 24 * 365
SnoozePreset = Literal["later", "tomorrow", "next-week"]


class _Action(BaseModel):
    """Every action: no fields beyond its own, so a typo is a 422, not silently nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Assign(_Action):
    """Assign to a user and/or a team (the user must be a member of the team)."""

    type: Literal["assign"] = "assign"
    user_id: DbId | None = None
    team_id: DbId | None = None

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if self.user_id is None and self.team_id is None:
            # A custom error's message is shown as is ("Value error, …" otherwise).
            raise PydanticCustomError(
                "assign_target", "give a user_id or a team_id (or use the unassign action)"
            )
        return self


class Unassign(_Action):
    """Take the user and the team off: the conversation goes to Unassigned."""

    type: Literal["unassign"] = "unassign"


class AddLabels(_Action):
    """Put labels on (those already on stay as they are)."""

    type: Literal["add_labels"] = "add_labels"
    label_ids: list[DbId] = Field(min_length=1, max_length=LABELS_MAX)


class RemoveLabels(_Action):
    """Take labels off (a label the conversation does not carry is no change)."""

    type: Literal["remove_labels"] = "remove_labels"
    label_ids: list[DbId] = Field(min_length=1, max_length=LABELS_MAX)


class SetPriority(_Action):
    """Set the priority (the same priority again is no change)."""

    type: Literal["set_priority"] = "set_priority"
    priority: Priority


class SendSnippet(_Action):
    """Reply with a snippet, its variables rendered for the conversation and the runner,
    through the composer's send: refused where the channel's window is closed."""

    type: Literal["send_snippet"] = "send_snippet"
    snippet_id: DbId


class AddComment(_Action):
    """Add an internal comment (``@name`` mentions notify as in the composer)."""

    type: Literal["add_comment"] = "add_comment"
    text: str = Field(min_length=1, max_length=COMMENT_MAX)


class Snooze(_Action):
    """Snooze for ``minutes``, or until a preset: ``later`` (+3 h), ``tomorrow`` (9:00)
    or ``next-week`` (Monday 9:00), in UTC as the hub has no workspace time zone."""

    type: Literal["snooze"] = "snooze"
    preset: SnoozePreset | None = None
    minutes: int | None = Field(None, ge=1, le=SNOOZE_MINUTES_MAX)

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.preset is None) == (self.minutes is None):
            raise PydanticCustomError("snooze_until", "give either a preset or minutes")
        return self

    def until(self, now: datetime) -> datetime:
        """When the snooze ends, from ``now``."""
        if self.minutes is not None:
            return now + timedelta(minutes=self.minutes)
        if self.preset == "later":
            return now + timedelta(hours=3)
        nine = now.replace(hour=9, minute=0, second=0, microsecond=0)
        if self.preset == "tomorrow":
            return nine + timedelta(days=1)
        return nine + timedelta(days=(7 - now.weekday()) or 7)


class Close(_Action):
    """Close, with an optional closing note (the workspace's closing-notes setting
    applies); an already closed conversation is no change."""

    type: Literal["close"] = "close"
    note: str | None = Field(None, max_length=NOTE_MAX)


class ApplySla(_Action):
    """Put an SLA policy on the conversation and start its clocks (the same policy
    again is no change; another one replaces it, with fresh due times)."""

    type: Literal["apply_sla"] = "apply_sla"
    policy_id: DbId


Action = Annotated[
    Assign
    | Unassign
    | AddLabels
    | RemoveLabels
    | SetPriority
    | SendSnippet
    | AddComment
    | Snooze
    | Close
    | ApplySla,
    Field(discriminator="type"),
]
ACTION_TYPES: tuple[str, ...] = (
    "assign",
    "unassign",
    "add_labels",
    "remove_labels",
    "set_priority",
    "send_snippet",
    "add_comment",
    "snooze",
    "close",
    "apply_sla",
)


@dataclass(frozen=True)
class Outcome:
    """What one action did: ``changed`` False when the conversation was already so;
    ``message_id`` / ``comment_id`` what it created."""

    type: str
    changed: bool = True
    message_id: int | None = None
    comment_id: int | None = None


async def check_references(work: Work, action: Action, field: str) -> None:
    """422 naming ``field`` unless the users, teams, labels and snippets the action
    names exist (and a user is active): when a macro is saved, and again before each
    action runs, as one may have been deleted since."""
    if isinstance(action, Assign):
        if action.user_id is not None:
            user = await work.db.get(User, action.user_id)
            if user is None or not user.is_active:
                raise Invalid(f"{field}.user_id", f"no active user with id {action.user_id}")
        if action.team_id is not None and await work.db.get(Team, action.team_id) is None:
            raise Invalid(f"{field}.team_id", f"no team with id {action.team_id}")
    elif isinstance(action, AddLabels | RemoveLabels):
        found = set(await work.db.scalars(select(Label.id).where(Label.id.in_(action.label_ids))))
        missing = [str(i) for i in action.label_ids if i not in found]
        if missing:
            raise Invalid(f"{field}.label_ids", f"no label with id {', '.join(missing)}")
    elif isinstance(action, SendSnippet) and await work.db.get(Snippet, action.snippet_id) is None:
        raise Invalid(f"{field}.snippet_id", f"no snippet with id {action.snippet_id}")
    elif isinstance(action, ApplySla) and await work.db.get(SlaPolicy, action.policy_id) is None:
        raise Invalid(f"{field}.policy_id", f"no SLA policy with id {action.policy_id}")


async def _remove_labels(
    work: Work, viewer: Viewer, conversation_id: int, label_ids: list[int]
) -> bool:
    """Take off those of the labels the conversation carries; whether any was."""
    await conversations.get_visible(work, viewer, conversation_id)
    carried = set(
        await work.db.scalars(
            select(ConversationLabel.label_id).where(
                ConversationLabel.conversation_id == conversation_id,
                ConversationLabel.label_id.in_(label_ids),
            )
        )
    )
    for label_id in dict.fromkeys(label_ids):
        if label_id in carried:
            await triage.remove_label(work, viewer, conversation_id, label_id)
    return bool(carried)


async def run_action(
    work: Work,
    viewer: Viewer,
    conversation_id: int,
    action: Action,
    *,
    channels: ChannelPlugins | None = None,
) -> Outcome:
    """Carry out one action on a conversation as ``viewer``, through the domain
    functions an agent's click reaches (their errors propagate: 404 for a conversation
    the viewer cannot see, 409 for a closed window…). ``channels`` lets a snippet's
    reply be checked against the channel as the composer's is."""
    kind = action.type
    if isinstance(action, Assign):
        await conversations.assign(work, viewer, conversation_id, action.user_id, action.team_id)
    elif isinstance(action, Unassign):
        await conversations.unassign(work, viewer, conversation_id)
    elif isinstance(action, AddLabels):
        await triage.add_labels(work, viewer, conversation_id, action.label_ids)
    elif isinstance(action, RemoveLabels):
        return Outcome(kind, await _remove_labels(work, viewer, conversation_id, action.label_ids))
    elif isinstance(action, SetPriority):
        conversation = await conversations.get_visible(work, viewer, conversation_id)
        changed = triage.set_priority(work, conversation, action.priority, viewer.actor_id)
        return Outcome(kind, changed)
    elif isinstance(action, SendSnippet):
        text = await snippets.render_snippet(work.db, viewer, action.snippet_id, conversation_id)
        row = await messages.send_message(
            work, viewer, conversation_id, messages.Outgoing(text=text), channels=channels
        )
        return Outcome(kind, message_id=row.message.id)
    elif isinstance(action, AddComment):
        new = comments.NewComment(body=action.text)
        added = await comments.add_comment(work, viewer, conversation_id, new)
        return Outcome(kind, comment_id=added.comment.id)
    elif isinstance(action, Snooze):
        await conversations.snooze(work, viewer, conversation_id, action.until(utcnow()))
    elif isinstance(action, ApplySla):
        return Outcome(
            kind, await sla.apply_policy(work, viewer, conversation_id, action.policy_id)
        )
    else:
        conversation = await conversations.get_visible(work, viewer, conversation_id)
        if conversation.status == "closed":
            return Outcome(kind, changed=False)
        await conversations.close(work, viewer, conversation_id, action.note)
    return Outcome(kind)
