"""The realtime event log: the recent events the agents' websockets can replay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base
from hub.store.types import Id, UtcDateTime, utcnow


class RealtimeEvent(Base):
    """One published event, kept for a few minutes so a client that reconnects can ask
    for what it missed (``/ws?after=<id>``); ``id`` is the event id clients see."""

    __tablename__ = "realtime_events"
    __table_args__ = (
        Index("ix_realtime_events_created_at", "created_at"),
        # AUTOINCREMENT on SQLite: an id is never handed out twice, even if the newest
        # row were deleted (the prune job keeps it anyway).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(64))
    # HubEvent.to_json: type, data and who may receive it (scope, previous, user_ids).
    event: Mapped[str] = mapped_column(Text)
