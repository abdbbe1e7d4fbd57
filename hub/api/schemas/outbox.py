"""Bodies of the outbox endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hub.channels.outbox_admin import OutboxStatus
from hub.store.models import OutboxItem
from hub.store.types import MAX_ID


class OutboxItemOut(BaseModel):
    """One delivery of an outbound message."""

    id: int
    message_id: int
    conversation_id: int
    channel_id: int
    status: OutboxStatus = Field(
        description="pending (queued or retrying), done (sent), failed (refused by the "
        "provider, or not sendable), dead (gave up after the maximum attempts)"
    )
    attempts: int = Field(description="failed attempts so far")
    next_attempt_at: datetime = Field(description="when a pending delivery is tried next")
    last_error: str | None
    updated_at: datetime

    @classmethod
    def of(cls, item: OutboxItem, conversation_id: int) -> OutboxItemOut:
        """Serialize a stored row with its message's conversation."""
        return cls(
            id=item.id,
            message_id=item.message_id,
            conversation_id=conversation_id,
            channel_id=item.channel_id,
            status=item.status,
            attempts=item.attempts,
            next_attempt_at=item.next_attempt_at,
            last_error=item.last_error,
            updated_at=item.updated_at,
        )


class OutboxQuery(BaseModel):
    """``GET /api/v1/outbox`` parameters."""

    model_config = ConfigDict(extra="forbid")

    status: OutboxStatus | None = Field(None, description="only deliveries in this state")
    channel_id: int | None = Field(None, ge=1, le=MAX_ID, description="only this channel's")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(50, ge=1, le=100)
