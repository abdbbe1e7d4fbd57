"""Bodies of the notification endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.store.models import Notification


class NotificationOut(BaseModel):
    """A notification: ``kind`` is ``message``, ``mention``, ``assigned`` or
    ``snooze_ended``; ``data`` holds what the kind needs (for a mention: ``comment_id``,
    ``by``, ``excerpt``; for a message: ``message_id``, ``excerpt``)."""

    id: int
    kind: str
    conversation_id: int | None
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationOut:
        """Serialize a stored notification."""
        return cls(
            id=row.id,
            kind=row.kind,
            conversation_id=row.conversation_id,
            data=dict(row.data),
            created_at=row.created_at,
            read_at=row.read_at,
        )


class NotificationQuery(BaseModel):
    """``GET /api/v1/notifications`` parameters."""

    model_config = ConfigDict(extra="forbid")

    unread: bool | None = Field(None, description="true: only unread; false: only read")
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(25, ge=1, le=100)


class UnreadCountOut(BaseModel):
    """``GET /api/v1/notifications/unread-count``: the bell's number."""

    unread: int


class ReadAllOut(BaseModel):
    """``POST /api/v1/notifications/read-all``: how many were marked read."""

    updated: int
