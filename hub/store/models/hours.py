"""Business hours (a workspace default and one per team), the out-of-hours replies sent,
and the agents' weekly availability schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow


class BusinessHours(Timestamped, Base):
    """Opening hours: ``team_id`` NULL is the workspace default, else that team's own.

    ``scope`` ("workspace" or "team:<id>") is unique, so there is at most one default and
    one per team even when two admins save at once (NULLs are never equal in a unique
    index, so ``team_id`` alone could not say it).
    """

    __tablename__ = "business_hours"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    scope: Mapped[str] = mapped_column(String(40), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    # An IANA zone name ("Europe/Berlin"), checked against zoneinfo when saved.
    time_zone: Mapped[str] = mapped_column(String(64))
    # Seven lists (Monday first) of ["HH:MM", "HH:MM"] pairs; "24:00" may end one, and a
    # pair whose end is not after its start runs overnight (hub.inbox.hours_calendar).
    week: Mapped[list[list[list[str]]]] = mapped_column(Json, default=list)
    # [{"date": "2026-12-25", "name": "Christmas"}, ...], sorted by date.
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)


class OutOfHoursReply(Base):
    """One out-of-hours auto-reply sent in a conversation on a day (the schedule's local
    date): the unique key is what keeps it to one a day whatever the retries and
    processes."""

    __tablename__ = "out_of_hours_replies"
    __table_args__ = (UniqueConstraint("conversation_id", "day"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    day: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AvailabilitySchedule(Timestamped, Base):
    """A user's weekly availability: while ``enabled``, their ``available`` follows the
    week (open = available) except while a manual toggle holds (``override_until``)."""

    __tablename__ = "availability_schedules"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    week: Mapped[list[list[list[str]]]] = mapped_column(Json, default=list)
    # A manual toggle holds until this instant (the next block boundary), then the
    # schedule applies again; NULL: the schedule applies now.
    override_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
