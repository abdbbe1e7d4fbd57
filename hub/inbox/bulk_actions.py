"""The actions a bulk job can take on conversations: one registry entry each.

An entry names its parameters (a pydantic model, so a bad one is a precise 422), checks
them once before the job starts, says whether a conversation is already as the action
wants (counted "skipped", no event), and applies the single-conversation domain function
of ``hub.inbox.conversations`` or ``hub.inbox.triage`` — the same one the
one-conversation endpoints call, with its own visibility check, timeline event and
realtime events. Adding an action is one more entry in ``ACTIONS``; a layer above the
inbox adds its own to a copy of it (``hub.automation.bulk_macros``: running a macro,
which brings its own ``prepare`` and ``step``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from hub.auth.visibility import Viewer
from hub.errors import Invalid
from hub.events.work import Work
from hub.inbox import conversations, triage
from hub.inbox.priority import Priority, level
from hub.store.models import Conversation, ConversationLabel, Label
from hub.store.types import DbId, utcnow

Outcome = Literal["done", "skipped", "refused"]


class NoParams(BaseModel):
    """An action that takes no parameters."""

    model_config = ConfigDict(extra="forbid")


class AssignParams(BaseModel):
    """Assign to a user and/or a team (the user must be in the team when both are given)."""

    model_config = ConfigDict(extra="forbid")

    user_id: DbId | None = None
    team_id: DbId | None = None

    @model_validator(mode="after")
    def _someone(self) -> AssignParams:
        if self.user_id is None and self.team_id is None:
            raise ValueError("give a user_id or a team_id (to unassign, use unassign)")
        return self


class CloseParams(BaseModel):
    """Close, with the closing note the workspace's setting asks for."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=5000)


class SnoozeParams(BaseModel):
    """Snooze until a time in the future."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime


class LabelParams(BaseModel):
    """Put one label on each conversation (``unlabel``: take it off)."""

    model_config = ConfigDict(extra="forbid")

    label_id: DbId


class PriorityParams(BaseModel):
    """Give each conversation a priority (``none`` takes it away)."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority


@dataclass(frozen=True)
class BulkAction:
    """One action of the registry.

    ``check`` runs once, before the job is stored (422 for parameters no conversation
    could take); ``already`` is true when a conversation needs no change (from its
    columns; ``already_in`` when that needs a query, as a label does); ``apply`` is the
    single-conversation domain function.

    An action that is several steps on each conversation (a macro) gives ``step``
    instead of ``apply`` and ``already``: the whole of one conversation, answering its
    outcome; and ``prepare``, run once as the actor before the job is stored, returns
    the parameters to store (the macro's actions copied, so an edit meanwhile does not
    change a job already started).
    """

    name: str
    done_word: str
    params: type[BaseModel]
    apply: Callable[[Work, Viewer, int, Any], Awaitable[Conversation]] | None = None
    already: Callable[[Conversation, Any], bool] | None = None
    check: Callable[[Work, Any], Awaitable[None]] | None = None
    already_in: Callable[[Work, Conversation, Any], Awaitable[bool]] | None = None
    prepare: Callable[[Work, Viewer, Any], Awaitable[BaseModel]] | None = None
    step: Callable[[Work, Viewer, int, Any], Awaitable[Outcome]] | None = None

    async def is_done(self, work: Work, conversation: Conversation, params: Any) -> bool:
        """Whether ``conversation`` is already as this action wants it."""
        if self.already_in is not None:
            return await self.already_in(work, conversation, params)
        return self.already is not None and self.already(conversation, params)


async def _check_assign(work: Work, p: AssignParams) -> None:
    await conversations.check_assignee(work, p.user_id, p.team_id)


async def _check_close(work: Work, p: CloseParams) -> None:
    await conversations.check_closing_note(work, p.note)


async def _check_snooze(work: Work, p: SnoozeParams) -> None:
    if p.until <= utcnow():
        raise Invalid("until", "must be in the future")


async def _check_label(work: Work, p: LabelParams) -> None:
    if await work.db.get(Label, p.label_id) is None:
        raise Invalid("label_id", "no label with this id")


async def _has_label(work: Work, c: Conversation, p: LabelParams) -> bool:
    found = await work.db.scalar(
        select(ConversationLabel.label_id).where(
            ConversationLabel.conversation_id == c.id, ConversationLabel.label_id == p.label_id
        )
    )
    return found is not None


async def _lacks_label(work: Work, c: Conversation, p: LabelParams) -> bool:
    # Not carrying it is "already so": skipped, where remove_label would answer 404.
    return not await _has_label(work, c, p)


ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in (
        BulkAction(
            "assign",
            "assigned",
            AssignParams,
            lambda w, v, cid, p: conversations.assign(w, v, cid, p.user_id, p.team_id),
            lambda c, p: c.assignee_id == p.user_id and c.team_id == p.team_id,
            _check_assign,
        ),
        BulkAction(
            "unassign",
            "unassigned",
            NoParams,
            lambda w, v, cid, p: conversations.unassign(w, v, cid),
            lambda c, p: c.assignee_id is None and c.team_id is None,
        ),
        BulkAction(
            "close",
            "closed",
            CloseParams,
            lambda w, v, cid, p: conversations.close(w, v, cid, p.note),
            lambda c, p: c.status == "closed",
            _check_close,
        ),
        BulkAction(
            "snooze",
            "snoozed",
            SnoozeParams,
            lambda w, v, cid, p: conversations.snooze(w, v, cid, p.until),
            lambda c, p: c.status == "snoozed" and c.snoozed_until == p.until,
            _check_snooze,
        ),
        BulkAction(
            "reopen",
            "reopened",
            NoParams,
            lambda w, v, cid, p: conversations.reopen(w, v, cid),
            lambda c, p: c.status == "open",
        ),
        BulkAction(
            "label",
            "labelled",
            LabelParams,
            lambda w, v, cid, p: triage.add_labels(w, v, cid, [p.label_id]),
            lambda c, p: False,
            _check_label,
            _has_label,
        ),
        BulkAction(
            "unlabel",
            "unlabelled",
            LabelParams,
            lambda w, v, cid, p: triage.remove_label(w, v, cid, p.label_id),
            lambda c, p: False,
            _check_label,
            _lacks_label,
        ),
        BulkAction(
            "priority",
            "prioritised",
            PriorityParams,
            lambda w, v, cid, p: triage.change_priority(w, v, cid, p.priority),
            lambda c, p: c.priority == level(p.priority),
        ),
    )
}
"""Every bulk action by name."""
