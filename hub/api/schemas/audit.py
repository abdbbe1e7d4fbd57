"""Bodies of the audit-log endpoint: its filters and one recorded change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from hub.api.schemas.time_window import TimeWindowQuery
from hub.auth.audit_log import AuditFilter
from hub.store.models import AuditEntry
from hub.store.types import MAX_ID


class AuditQuery(TimeWindowQuery):
    """``GET /api/v1/audit-log`` parameters."""

    actor_id: int | None = Field(None, ge=1, le=MAX_ID, description="only this user's changes")
    action: str | None = Field(
        None, max_length=80, description="only this action, e.g. `channel.updated`"
    )
    target_type: str | None = Field(
        None, max_length=40, description="only changes to this kind of thing, e.g. `channel`"
    )
    target_id: str | None = Field(
        None, max_length=64, description="only changes to the thing with this id"
    )
    format: Literal["json", "csv"] | None = Field(
        None,
        description="`csv` answers every matching entry as a CSV file (as does "
        "`Accept: text/csv`); paging does not apply",
    )
    limit: int = Field(50, ge=1, le=200)

    def filter(self) -> AuditFilter:
        """The facets to filter by."""
        return AuditFilter(
            actor_id=self.actor_id,
            action=self.action or None,
            target_type=self.target_type or None,
            target_id=self.target_id or None,
            since=self.since,
            until=self.until,
        )


class AuditEntryOut(BaseModel):
    """One recorded change: who (and through which API token), when, from where, what.

    ``changes`` maps each changed field to ``[before, after]``; secrets show as ``"***"``.
    """

    id: int
    at: datetime
    actor_id: int | None = Field(description="null when the hub itself (automation) acted")
    actor: str = Field(description="the actor's name and email at the time")
    token_id: int | None
    token_name: str | None
    ip: str | None
    user_agent: str | None
    action: str
    target_type: str
    target_id: str | None
    target: str | None = Field(description="the target's name at the time")
    changes: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        """Serialize a stored entry."""
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor_label,
            token_id=entry.token_id,
            token_name=entry.token_name,
            ip=entry.ip,
            user_agent=entry.user_agent,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            target=entry.target_label,
            changes=dict(entry.changes or {}),
        )
