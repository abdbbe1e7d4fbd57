"""What an agent is composing: drafts kept on the server, and the idempotency keys that
make a repeated send store nothing twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base
from hub.store.types import Id, Json, UtcDateTime, utcnow


class IdempotencyKey(Base):
    """A client's key for one write, remembered with what it created.

    The row is inserted in the same transaction as the message or comment it guards, so
    the unique constraint makes a twin request wait for (or lose to) the first, and a
    committed key always names its resource. ``resource_id`` is filled before commit;
    it is nullable only because the row is claimed before the resource exists.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "scope", "key"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The kind of endpoint: message | comment | conversation (starting one).
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(255))
    # sha256 of the request (its target and validated body): a reuse with another body is refused.
    request_sha256: Mapped[str] = mapped_column(String(64))
    resource_kind: Mapped[str] = mapped_column(String(20))
    resource_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)


class Draft(Base):
    """One user's unsent reply or comment in one conversation (one per pair)."""

    __tablename__ = "drafts"
    __table_args__ = (
        UniqueConstraint("user_id", "conversation_id"),
        # Deleting a conversation finds its drafts without a scan.
        Index("ix_drafts_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(10))  # reply | comment
    body: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(1000))
    # The channel switcher's choice; forgotten if the channel goes.
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id", ondelete="SET NULL"))
    reply_to_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL")
    )
    attachment_ids: Mapped[list[int]] = mapped_column(Json, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
