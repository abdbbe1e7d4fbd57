"""Reports' pre-aggregate (docs/reports.md, "How reports stay fast and exact"): each
conversation's report facts, and which conversations changed since their facts were built.

Database triggers (migration 0024) bump a conversation's ``version`` in the same
transaction as any change a report reads (a message, a counted event, an answered
survey, the conversation's owner or channel, a merge, the workspace's business hours),
whatever code path makes it; the builder (hub.inbox.report_build) writes the facts and
sets ``built`` to the version it read, unless the version moved meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base
from hub.store.types import Id, UtcDateTime


class ReportVersion(Base):
    """A conversation's change counter and the counter its stored facts were built at:
    ``version > built`` means its facts are stale. No foreign key: a trigger may mark a
    conversation in the statement that deletes it; the builder skips what is gone."""

    __tablename__ = "report_versions"
    __table_args__ = (
        # The builder's and the reports' lookup of stale conversations: a handful of rows.
        Index(
            "ix_report_versions_stale",
            "conversation_id",
            sqlite_where=text("version > built"),
            postgresql_where=text("version > built"),
        ),
    )

    conversation_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    built: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportFact(Base):
    """One counted thing of a conversation (hub.inbox.report_facts.Fact): its metric, when,
    whom it is credited to, and its value (minutes of wall time for a duration, the
    rating for ``csat``; ``open_value``: the business hours' open minutes)."""

    __tablename__ = "report_facts"
    __table_args__ = (
        Index("ix_report_facts_at_metric", "at", "metric"),
        Index("ix_report_facts_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # ``at`` in quarter hours since the epoch: every zone's offset is a whole number of
    # quarter hours, so the day-by-day and weekday-by-hour charts group these in SQL and
    # place each on the workspace's wall clock afterwards.
    slot: Mapped[int] = mapped_column(Integer)
    # Plain ids, not foreign keys: a fact keeps whom it was credited to, as the history
    # it comes from does (a deleted user's events still name them).
    agent_id: Mapped[int | None] = mapped_column(BigInteger)
    team_id: Mapped[int | None] = mapped_column(BigInteger)
    channel_id: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float | None] = mapped_column(Float)
    open_value: Mapped[float | None] = mapped_column(Float)
    tag: Mapped[str | None] = mapped_column(String(50))
