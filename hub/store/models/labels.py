"""Labels that agents put on conversations, and which conversation carries which."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, UtcDateTime, utcnow


class Label(Timestamped, Base):
    """A label admins define (name, palette colour, description) and agents apply."""

    __tablename__ = "labels"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    # The name case-folded: unique, so "Billing" and "billing" cannot both exist even
    # when two admins save at once (the check before saving can lose that race).
    name_key: Mapped[str] = mapped_column(String(50), unique=True)
    # A key of hub.inbox.labels.PALETTE ("red", "blue"…), never free CSS.
    colour: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(200))


class ConversationLabel(Base):
    """One label on one conversation: conversations reference label ids, so renaming a
    label keeps every assignment, and deleting it removes them (cascade)."""

    __tablename__ = "conversation_labels"
    __table_args__ = (
        # Filtering a list by label, and counting a label's conversations.
        Index("ix_conversation_labels_label", "label_id", "conversation_id"),
    )

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    label_id: Mapped[int] = mapped_column(
        ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True
    )
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
