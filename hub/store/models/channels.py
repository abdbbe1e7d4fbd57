"""Connected channels, the inbound log and the outbox: the two pipes' tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow


class Channel(Timestamped, Base):
    """A connected channel of one plugin type; its credentials are encrypted at rest."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    config_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    status_reason: Mapped[str | None] = mapped_column(Text)
    routing: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    poll_cursor: Mapped[str | None] = mapped_column(Text)
    # The user the round-robin rule picked last; the next pick starts after them.
    routing_cursor: Mapped[int | None] = mapped_column(Integer)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When a polling channel last asked its provider (written at most once a minute).
    last_polled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InboundLogEntry(Base):
    """One raw inbound request, kept for audit and replay, with what became of it."""

    __tablename__ = "inbound_log"
    __table_args__ = (
        Index("ix_inbound_log_channel_received", "channel_id", "received_at"),
        Index("ix_inbound_log_result_received", "result", "received_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(2000))
    headers: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    query: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # The whole body's size and sha256: of a rejected request only a prefix is kept.
    body_size: Mapped[int | None] = mapped_column(Integer)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))  # stored|duplicate|held|rejected|error
    status_code: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    # The plugin's normalized events (JSON of hub.contract models), kept so a held or
    # logged request can be replayed without verifying its (by then stale) signature.
    events: Mapped[list[dict[str, Any]] | None] = mapped_column(Json)
    replayed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OutboxItem(Base):
    """A pending delivery of one outbound message, leased by an outbox worker."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ChannelDefinition(Timestamped, Base):
    """A declarative channel type: a JSON manifest registered through the API, no Python.

    It appears as its own channel type (name, logo, credential form) and runs on the
    behaviour of the plugin type its manifest names as ``base``.
    """

    __tablename__ = "channel_definitions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(Json)
