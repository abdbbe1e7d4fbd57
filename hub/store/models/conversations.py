"""Conversations and their timeline: messages, attachments, comments and events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow


class Conversation(Timestamped, Base):
    """A thread with one contact on one channel; the unit agents are assigned."""

    __tablename__ = "conversations"
    __table_args__ = (
        # The inbox views: by status (All), assignee (Mine), team, unassigned; newest first.
        Index("ix_conversations_status_last", "status", "last_message_at"),
        Index("ix_conversations_assignee_status_last", "assignee_id", "status", "last_message_at"),
        Index("ix_conversations_team_status_last", "team_id", "status", "last_message_at"),
        Index("ix_conversations_contact_channel_status", "contact_id", "channel_id", "status"),
        Index("ix_conversations_channel_thread", "channel_id", "thread_key"),
        Index("ix_conversations_snoozed_until", "snoozed_until"),
        Index("ix_conversations_status_changed", "status", "status_changed_at"),
        # The All tab (every status) of each view, and the Blocked view, by last message.
        Index("ix_conversations_blocked_last", "contact_blocked", "last_message_at"),
        Index("ix_conversations_assignee_last", "assignee_id", "last_message_at"),
        Index("ix_conversations_team_last", "team_id", "last_message_at"),
        # Covers the sidebar counts: index-only scans, no table lookups.
        # The sort by priority (urgent first, then newest activity) within a status tab.
        Index("ix_conversations_status_priority_last", "status", "priority", "last_message_at"),
        # The SLA job's clocks to start: the conversations of each policy still running.
        Index("ix_conversations_sla_policy_status", "sla_policy_id", "status"),
        Index(
            "ix_conversations_counts",
            "status",
            "contact_blocked",
            "assignee_id",
            "team_id",
            "unread_count",
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|closed|snoozed
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    thread_key: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(String(1000))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # When the conversation entered its current status: sorts "longest/shortest open"
    # on the Open tab, and time closed or snoozed on those tabs.
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # A copy of the contact's flag: every view filters on it, so no view needs a join.
    contact_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closing_note: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_message_direction: Mapped[str | None] = mapped_column(String(3))  # in|out
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    # Set when this conversation was merged into another: its timeline moved there and
    # its page points at that one (kept, not deleted, so links to it still lead somewhere).
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    # 0 none, 1 low, 2 medium, 3 high, 4 urgent (hub.inbox.priority): a number, so the
    # sort by priority is an index range, not a CASE over names.
    priority: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # The SLA policy applied (hub.inbox.sla) and each target's due time while it runs
    # (NULL once met or not started); a breach marker is set once, by the breach job,
    # and kept after the target is met late, until that target's clock starts again.
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL")
    )
    first_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    next_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The last message time the SLA job looked at for a reply clock to start.
    sla_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConversationThreadKey(Base):
    """A key a channel's later messages name to join a conversation (an email's subject
    or Outlook thread index, per contact); the last conversation to take a key keeps it."""

    __tablename__ = "conversation_thread_keys"
    __table_args__ = (
        UniqueConstraint("channel_id", "key"),
        Index("ix_conversation_thread_keys_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(300))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))


class Message(Base):
    """One message in a conversation, inbound or outbound, with its delivery status."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_messages_conversation_id", "conversation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))  # in|out
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(1000))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    # received (inbound) | pending | sent | delivered | read | failed (outbound)
    status: Mapped[str] = mapped_column(String(16))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(100))
    edit_history: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    raw: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # Set while inbound media parts wait to be fetched into attachments by the media job.
    media_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who else an email was addressed to: {"to": [...], "cc": [...], "bcc": [...]}.
    envelope: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # Sent by a machine (auto_reply|bounce|bulk): flagged, never reopens by itself.
    automated: Mapped[str | None] = mapped_column(String(16))


class Comment(Base):
    """An internal comment between agents; it never reaches the contact."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_conversation_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list[int]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Attachment(Base):
    """A file of a message, a comment or a snippet, stored by its sha256 in the media
    store (several rows may share the same bytes)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    snippet_id: Mapped[int | None] = mapped_column(
        ForeignKey("snippets.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConversationEvent(Base):
    """A state change of a conversation (assigned, closed, snoozed, …) with actor and time."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_conversation", "conversation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Notification(Base):
    """Something a user should look at: a mention, a conversation back from snooze, …"""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    data: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class BulkJob(Base):
    """A bulk action on many conversations run in the background, with its progress.

    ``targets`` are the conversation ids resolved when the job started (the filter's
    matches with the actor's visibility then); ``position`` is how many of them are
    done, committed with each batch, so a job left ``running`` by a stopped process
    resumes from there.
    """

    __tablename__ = "bulk_jobs"
    __table_args__ = (
        Index("ix_bulk_jobs_actor_id", "actor_id", "id"),
        Index("ix_bulk_jobs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    targets: Mapped[list[int]] = mapped_column(Json, default=list)
    # queued | running | finished | failed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
