"""The CRM sync engine's own bookkeeping: OAuth states, field changes, transcripts and
bulk link jobs (connections and contact links live in ``workspace``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base
from hub.store.types import Id, Json, UtcDateTime, utcnow


class CrmOAuthState(Base):
    """One started OAuth authorization: single use, valid for ten minutes.

    Only the state's SHA-256 is stored, so a database reader cannot finish someone's
    authorization; the PKCE verifier must be kept to trade the code.
    """

    __tablename__ = "crm_oauth_states"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"), index=True
    )
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CrmFieldChange(Base):
    """A CRM field the hub changed (an agent's edit or revert, a push), or a push it
    refused because the CRM changed first (``source`` ``conflict``), with both values."""

    __tablename__ = "crm_field_changes"
    __table_args__ = (Index("ix_crm_field_changes_contact_id", "contact_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[Any] = mapped_column(Json, nullable=True)
    new_value: Mapped[Any] = mapped_column(Json, nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # agent | push | conflict
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class CrmTranscript(Base):
    """How far a conversation's transcript is logged on one CRM connection.

    ``pending_*`` is written before the CRM is called and cleared after: a run that
    finds it set repeats the same call with the same idempotency key (the plugin finds
    the activity it made), so a crash in between neither skips nor doubles.
    """

    __tablename__ = "crm_transcripts"
    __table_args__ = (UniqueConstraint("connection_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    logged_message_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_first_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_message_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_key: Mapped[str | None] = mapped_column(String(300))
    activity_ids: Mapped[list[str]] = mapped_column(Json, default=list)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CrmBulkJob(Base):
    """A bulk first link of a connection's unlinked contacts, with its progress; a
    ``running`` job resumes after a restart from ``last_contact_id``."""

    __tablename__ = "crm_bulk_jobs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("crm_connections.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    linked: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    not_found: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    last_contact_id: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
