"""Bodies of the macro endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.automation.actions import Action, Outcome
from hub.automation.macros import ACTIONS_MAX, NAME_MAX, MacroChanges, MacroRun, actions_of
from hub.store.models import Macro
from hub.store.types import DbId


class MacroOut(BaseModel):
    """A macro: personal (``owner_id`` is its owner) or shared (``owner_id`` null)."""

    id: int
    name: str
    shared: bool
    owner_id: int | None
    actions: list[Action]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, macro: Macro) -> MacroOut:
        """Serialize a stored macro."""
        return cls(
            id=macro.id,
            name=macro.name,
            shared=macro.owner_id is None,
            owner_id=macro.owner_id,
            actions=actions_of(macro),
            created_at=macro.created_at,
            updated_at=macro.updated_at,
        )


class MacroQuery(NamePageQuery):
    """``GET /api/v1/macros`` parameters."""

    q: str | None = Field(None, max_length=100, description="part of the name")


class MacroCreateBody(BaseModel):
    """``POST /api/v1/macros``: ``shared`` (owners and managers) makes it everyone's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_MAX)
    shared: bool = False
    actions: list[Action] = Field(min_length=1, max_length=ACTIONS_MAX)


class MacroPatchBody(PatchBody):
    """``PATCH /api/v1/macros/{macro_id}``: ``actions`` replaces the whole list."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    shared: bool | None = None
    actions: list[Action] | None = Field(None, min_length=1, max_length=ACTIONS_MAX)

    def changes(self) -> MacroChanges:
        """The fields given, as a domain update."""
        return MacroChanges(name=self.name, actions=self.actions, shared=self.shared)


class MacroRunBody(BaseModel):
    """``POST /api/v1/macros/{macro_id}/run``."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: DbId


class ActionOutcomeOut(BaseModel):
    """What one action did."""

    type: str
    changed: bool = Field(description="false when the conversation already was so")
    message_id: int | None = Field(None, description="the reply a send_snippet queued")
    comment_id: int | None = Field(None, description="the comment an add_comment wrote")

    @classmethod
    def of(cls, outcome: Outcome) -> ActionOutcomeOut:
        """Serialize one action's outcome."""
        return cls(
            type=outcome.type,
            changed=outcome.changed,
            message_id=outcome.message_id,
            comment_id=outcome.comment_id,
        )


class MacroRunOut(BaseModel):
    """A macro run: every action succeeded, in order (a failure changes nothing and
    answers an error naming the action)."""

    macro_id: int
    conversation_id: int
    outcomes: list[ActionOutcomeOut]

    @classmethod
    def of(cls, run: MacroRun) -> MacroRunOut:
        """Serialize a run."""
        return cls(
            macro_id=run.macro.id,
            conversation_id=run.conversation_id,
            outcomes=[ActionOutcomeOut.of(o) for o in run.outcomes],
        )
