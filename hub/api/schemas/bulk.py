"""Bodies of the bulk-action, bulk-job and merge endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.inbox.bulk import MAX_TARGETS, summary
from hub.inbox.bulk_actions import ACTIONS, BulkAction
from hub.inbox.priority import Priority
from hub.store.models import BulkJob
from hub.store.types import MAX_ID, DbId


class BulkFilter(BaseModel):
    """Every conversation a view's tab lists, as ``GET /api/v1/conversations`` takes it."""

    model_config = ConfigDict(extra="forbid")

    view: str = Field(
        "all", max_length=40, description="all, mine, unassigned, blocked, team:<id> or custom:<id>"
    )
    status: Literal["open", "closed", "snoozed", "all"] = "open"
    unanswered: bool | None = None
    contact_id: int | None = Field(None, ge=1, le=MAX_ID)
    label: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=20, description="carrying any of these labels"
    )
    priority: list[Priority] = Field(
        default_factory=list, max_length=5, description="with any of these priorities"
    )


class BulkBody(BaseModel):
    """``POST /api/v1/conversations/bulk``: an action on the ids given or on every
    conversation matching ``filter`` (one of the two)."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=32, description=f"one of {', '.join([*ACTIONS, 'macro'])}")
    conversation_ids: list[DbId] | None = Field(None, max_length=MAX_TARGETS)
    filter: BulkFilter | None = None
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the action's parameters: assign {user_id, team_id}, close {note}, "
        "snooze {until}, label {label_id}, priority {priority}, macro {macro_id}; none for "
        "unassign and reopen",
    )


class BulkJobOut(BaseModel):
    """A bulk job and its progress."""

    id: int
    action: str
    status: Literal["queued", "running", "finished", "failed"]
    total: int
    processed: int = Field(description="conversations handled so far")
    done: int = Field(description="changed, each with its timeline event")
    skipped: int = Field(description="already so, or in a state the action does not apply to")
    refused: int = Field(description="hidden from the actor, gone, or refused by a rule")
    error: str | None
    summary: str = Field(description='what happened so far, e.g. "198 assigned, 2 skipped"')
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: BulkJob, actions: Mapping[str, BulkAction] = ACTIONS) -> BulkJobOut:
        """Serialize a stored job (``actions``: the registry that names its counts)."""
        return cls(
            id=job.id,
            action=job.action,
            status=job.status,
            total=job.total,
            processed=job.position,
            done=job.done,
            skipped=job.skipped,
            refused=job.refused,
            error=job.error,
            summary=summary(job, actions),
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


class MergeBody(BaseModel):
    """``POST /api/v1/conversations/{id}/merge``."""

    model_config = ConfigDict(extra="forbid")

    into: DbId = Field(description="the conversation this one's timeline moves into")
