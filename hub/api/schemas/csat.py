"""Bodies of the CSAT endpoints, and a survey as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.time_window import TimeWindowQuery
from hub.store.models import CsatSurvey

Status = Literal["sent", "skipped", "answered"]


class CsatQuery(TimeWindowQuery):
    """``GET /api/v1/csat`` parameters."""

    status: Status | None = Field(
        None, description="only surveys in this state (`answered`: those with a rating)"
    )
    limit: int = Field(25, ge=1, le=100)


class CsatOut(BaseModel):
    """One conversation's survey: asked (`sent`), not asked (`skipped`, with the
    reason) or `answered` (with the rating from 1 to `scale`)."""

    conversation_id: int
    contact_id: int
    channel_id: int
    status: Status
    skip_reason: str | None
    scale: int
    rating: int | None
    comment: str | None
    answered_via: Literal["choice", "text", "page"] | None = Field(
        description="a tapped button, a typed number, or the public answer page"
    )
    message_id: int | None = Field(description="the question as sent (none when skipped)")
    asked_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, row: CsatSurvey) -> CsatOut:
        """Serialize a stored survey (its token is never shown)."""
        return cls(
            conversation_id=row.conversation_id,
            contact_id=row.contact_id,
            channel_id=row.channel_id,
            status=row.status,
            skip_reason=row.skip_reason,
            scale=row.scale,
            rating=row.rating,
            comment=row.comment,
            answered_via=row.answered_via,
            message_id=row.message_id,
            asked_at=row.created_at,
            answered_at=row.answered_at,
        )


class ConversationCsatOut(BaseModel):
    """A conversation's survey, or null when it was never surveyed."""

    survey: CsatOut | None


class CsatSettingsBody(BaseModel):
    """``PUT /api/v1/csat/settings``."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool
    question: str = Field(min_length=1, max_length=300)
    scale: Literal[3, 5] = 5
    off_channel_ids: list[int] = Field(
        default_factory=list,
        max_length=500,
        description="channels whose contacts are not asked (every other channel is, "
        "including channels added later)",
    )


class CsatSettingsOut(BaseModel):
    """The workspace's CSAT settings."""

    enabled: bool
    question: str
    scale: int
    off_channel_ids: list[int]
    since: datetime | None = Field(
        description="when surveys were last turned on: only conversations closed after it are asked"
    )
