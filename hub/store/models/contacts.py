"""Contacts and their per-channel identities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime


class Contact(Timestamped, Base):
    """A customer; one contact may write on several channels (identities)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    # The contacts list's two sorts (hub.inbox.contacts.list_contacts) read these in order.
    __table_args__ = (
        Index("ix_contacts_name_key", func.lower(name), id),
        Index("ix_contacts_created", "created_at", id),
    )
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    avatar_url: Mapped[str | None] = mapped_column(String(2000))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2, e.g. DE
    language: Mapped[str | None] = mapped_column(String(35))  # a BCP 47 tag, e.g. de or pt-BR
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fields: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )


class ContactIdentity(Base):
    """Who a contact is on one channel: (channel, external id) → contact, unique."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("channel_id", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(300))
    profile: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
