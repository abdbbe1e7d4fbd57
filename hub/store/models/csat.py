"""CSAT surveys: the one survey a closed conversation gets, and the contact's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base
from hub.store.types import Id, UtcDateTime, utcnow


class CsatSurvey(Base):
    """One conversation's survey: asked (``sent``), not asked and why (``skipped``), or
    answered (``answered``, with the rating). ``conversation_id`` is unique: a re-close,
    a retry or two hub processes can never ask twice."""

    __tablename__ = "csat_surveys"
    __table_args__ = (
        # The contact's open survey on a channel, looked up for each of their messages.
        Index("ix_csat_surveys_contact_channel", "contact_id", "channel_id", "status"),
        # The API's list by answer time.
        Index("ix_csat_surveys_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    # The question as sent (an outbound message); None when skipped.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))
    skip_reason: Mapped[str | None] = mapped_column(String(200))
    scale: Mapped[int] = mapped_column(Integer, default=5)
    # The public answer page's key (email): 32 random bytes, URL-safe; None when skipped.
    token: Mapped[str | None] = mapped_column(String(64), unique=True)
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # How the answer came: "choice" (a button), "text" (a typed number), "page".
    answered_via: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
