"""Bodies of the SLA policy endpoints, and a conversation's SLA state."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.inbox.sla_policies import MINUTES_MAX, NAME_MAX, PolicyFields
from hub.store.models import Conversation, SlaPolicy
from hub.store.types import DbId

Minutes = Field(None, ge=1, le=MINUTES_MAX, description="minutes; null for no such target")


class SlaPolicyBody(BaseModel):
    """``POST /api/v1/sla-policies`` and ``PUT /api/v1/sla-policies/{policy_id}``: at
    least one target."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=NAME_MAX, description="unique, whatever the case")
    first_response_minutes: int | None = Minutes
    next_response_minutes: int | None = Minutes
    resolution_minutes: int | None = Minutes
    business_hours: bool = Field(
        False, description="count only the team's open hours (the business-hours calendar)"
    )

    def fields(self) -> PolicyFields:
        """The body as the domain takes it."""
        return PolicyFields(**self.model_dump())


class SlaPolicyOut(BaseModel):
    """An SLA policy."""

    id: int
    name: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    business_hours: bool
    conversations: int = Field(description="open or snoozed conversations it runs on")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def with_usage(cls, policy: SlaPolicy, conversations: int) -> SlaPolicyOut:
        """Serialize a stored policy with its usage count."""
        return cls(
            id=policy.id,
            name=policy.name,
            first_response_minutes=policy.first_response_minutes,
            next_response_minutes=policy.next_response_minutes,
            resolution_minutes=policy.resolution_minutes,
            business_hours=policy.business_hours,
            conversations=conversations,
            created_at=policy.created_at,
            updated_at=policy.updated_at,
        )


class ApplySlaBody(BaseModel):
    """``PUT /api/v1/conversations/{conversation_id}/sla``."""

    model_config = ConfigDict(extra="forbid")

    policy_id: DbId


class SlaStateOut(BaseModel):
    """A conversation's SLA: its policy, each target's due time while its clock runs
    (null once met or not started) and when a target was breached (kept after a late
    reply or closing, until that target's clock starts again)."""

    policy_id: int
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_breached_at: datetime | None
    next_response_breached_at: datetime | None
    resolution_breached_at: datetime | None

    @classmethod
    def of(cls, c: Conversation) -> SlaStateOut | None:
        """The conversation's SLA state, or None without a policy."""
        if c.sla_policy_id is None:
            return None
        return cls(
            policy_id=c.sla_policy_id,
            first_response_due_at=c.first_response_due_at,
            next_response_due_at=c.next_response_due_at,
            resolution_due_at=c.resolution_due_at,
            first_response_breached_at=c.first_response_breached_at,
            next_response_breached_at=c.next_response_breached_at,
            resolution_breached_at=c.resolution_breached_at,
        )
