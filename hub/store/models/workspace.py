"""Custom inboxes, snippets, CRM connections and workspace-wide settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow


class CustomInbox(Timestamped, Base):
    """A saved filter owned by a user, shareable with users and teams."""

    __tablename__ = "custom_inboxes"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class CustomInboxShare(Base):
    """One user or team a custom inbox is shared with."""

    __tablename__ = "custom_inbox_shares"
    __table_args__ = (UniqueConstraint("inbox_id", "user_id", "team_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("custom_inboxes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))


class Snippet(Timestamped, Base):
    """A canned reply with a ``/shortcut`` and ``$variables``."""

    __tablename__ = "snippets"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    shortcut: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CrmConnection(Timestamped, Base):
    """A connected CRM of one plugin type; credentials encrypted at rest."""

    __tablename__ = "crm_connections"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    config_encrypted: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    status_reason: Mapped[str | None] = mapped_column(Text)
    sync_cursor: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    # OAuth connections: the tokens (access, refresh, instance URL), encrypted like the
    # config; written at once, in their own transaction, whenever the plugin refreshes.
    tokens_encrypted: Mapped[str | None] = mapped_column(Text)
    # The CRM's contact fields as ``field_catalog`` last answered, so the inbox can label
    # cached values without asking the CRM.
    catalog: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    catalog_fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_pulled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when the CRM asked to wait (rate limit, outage): the background jobs leave the
    # connection alone until then.
    retry_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class CrmContactLink(Base):
    """Which CRM record a contact is, for one CRM connection."""

    __tablename__ = "crm_contact_links"
    __table_args__ = (
        UniqueConstraint("connection_id", "contact_id"),
        UniqueConstraint("connection_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("crm_connections.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str] = mapped_column(String(300))
    owner_external_id: Mapped[str | None] = mapped_column(String(300))
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The record's field values as last read from the CRM, and when: the inbox answers
    # these (with their age) and never waits on the CRM.
    cached: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    owner_email: Mapped[str | None] = mapped_column(String(320), index=True)
    # Pushes the CRM side changed meanwhile: {field: {"hub": value, "crm": value, "at": iso}}.
    conflicts: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class WorkspaceSetting(Base):
    """One workspace-wide setting (e.g. ``closing_notes``), as a JSON value under a key."""

    __tablename__ = "workspace_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(Json)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SetupToken(Base):
    """The hash of the one-time owner-setup link printed by ``hub serve`` on an empty hub."""

    __tablename__ = "setup_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class InboxViewSeen(Base):
    """When a user last opened one of their inboxes (a view name: ``mine``, ``team:3``):
    its new-message dot shows only for messages that arrived after that."""

    __tablename__ = "inbox_view_seen"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    view: Mapped[str] = mapped_column(String(40), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
