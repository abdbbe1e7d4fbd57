"""Bodies of the rule endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.automation.rule_actions import RuleAction
from hub.automation.rule_conditions import CONDITIONS_MAX
from hub.automation.rules import (
    ACTIONS_MAX,
    MINUTES_MAX,
    NAME_MAX,
    RuleEvent,
    RuleFields,
    actions_of,
    conditions_of,
)
from hub.store.models import Rule, RuleRun

CONDITIONS_HELP = (
    "all must hold; each an object with a `type` (channel, contact_field, message_text, "
    "labels, priority, team, assignee) and its fields (see docs/api/rules.md)"
)


class RuleOut(BaseModel):
    """A rule, its conditions and actions typed."""

    id: int
    name: str
    enabled: bool
    event: RuleEvent
    minutes: int | None
    conditions: list[dict[str, Any]]
    actions: list[RuleAction]
    position: int
    stop_processing: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        """Serialize a stored rule."""
        return cls(
            id=rule.id,
            name=rule.name,
            enabled=rule.enabled,
            event=rule.event,
            minutes=rule.minutes,
            conditions=[c.model_dump(mode="json") for c in conditions_of(rule)],
            actions=actions_of(rule),
            position=rule.position,
            stop_processing=rule.stop_processing,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
        )


class RuleQuery(BaseModel):
    """``GET /api/v1/rules`` parameters."""

    model_config = ConfigDict(extra="forbid")

    event: RuleEvent | None = Field(None, description="only this event's rules")


class RuleCreateBody(BaseModel):
    """``POST /api/v1/rules``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_MAX)
    enabled: bool = True
    event: RuleEvent
    minutes: int | None = Field(
        None, ge=1, le=MINUTES_MAX, description="for `no_reply`: the minutes to wait"
    )
    conditions: list[dict[str, Any]] = Field(
        default_factory=list, max_length=CONDITIONS_MAX, description=CONDITIONS_HELP
    )
    actions: list[RuleAction] = Field(min_length=1, max_length=ACTIONS_MAX)
    stop_processing: bool = False

    def fields(self) -> RuleFields:
        """As the domain's fields."""
        return RuleFields(
            name=self.name,
            enabled=self.enabled,
            event=self.event,
            minutes=self.minutes,
            conditions=self.conditions,
            actions=self.actions,
            stop_processing=self.stop_processing,
        )


class RulePatchBody(PatchBody):
    """``PATCH /api/v1/rules/{rule_id}``: conditions and actions replace the lists."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX)
    enabled: bool | None = None
    event: RuleEvent | None = None
    minutes: int | None = Field(None, ge=1, le=MINUTES_MAX)
    conditions: list[dict[str, Any]] | None = Field(
        None, max_length=CONDITIONS_MAX, description=CONDITIONS_HELP
    )
    actions: list[RuleAction] | None = Field(None, min_length=1, max_length=ACTIONS_MAX)
    stop_processing: bool | None = None

    def fields(self) -> RuleFields:
        """The fields given, as a domain update."""
        return RuleFields(
            name=self.name,
            enabled=self.enabled,
            event=self.event,
            minutes=self.minutes,
            conditions=self.conditions,
            actions=self.actions,
            stop_processing=self.stop_processing,
        )


class RuleMoveBody(BaseModel):
    """``POST /api/v1/rules/{rule_id}/move``: one place earlier (-1) or later (1)."""

    model_config = ConfigDict(extra="forbid")

    step: Literal[-1, 1]


class RuleRunOut(BaseModel):
    """One run of a rule on a conversation."""

    id: int
    rule_id: int
    conversation_id: int | None
    event: str
    outcome: Literal["done", "skipped", "failed"]
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, run: RuleRun) -> RuleRunOut:
        """Serialize a run."""
        return cls(
            id=run.id,
            rule_id=run.rule_id,
            conversation_id=run.conversation_id,
            event=run.event,
            outcome=run.outcome,
            error=run.error,
            created_at=run.created_at,
        )


class RuleRunQuery(NamePageQuery):
    """``GET /api/v1/rules/{rule_id}/runs`` parameters: newest first."""
