"""Reports' pre-aggregate (docs/reports.md, "How reports stay fast and exact"): each
conversation's report facts, and which conversations changed since their facts were built.

Database triggers (migration 0024) bump a conversation's ``version`` in the same
transaction as any change a report reads (a message, a counted event, an answered
survey, the conversation's owner or channel, a merge, the workspace's business hours),
whatever code path makes it; the builder (hub.inbox.report_build) writes the facts and
sets ``built`` to the version it read, unless the version moved meanwhile.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
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
        # The durations' ranking and the counts a filter keeps out of report_counts read
        # the period's facts of a metric, or of one agent.
        # Covering: the durations' ranking reads the index alone.
        Index(
            "ix_report_facts_metric_at",
            "metric",
            "at",
            "value",
            "open_value",
            "agent_id",
            "team_id",
            "channel_id",
            "conversation_id",
        ),
        Index("ix_report_facts_agent_at", "agent_id", "at"),
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
    # The local day and hour of ``at`` in the workspace's zone when built, and the
    # conversation's labels then ("3,7"): what its counts added to report_counts, so a
    # rebuild takes exactly that away again.
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int] = mapped_column(SmallInteger)
    labels: Mapped[str] = mapped_column(String(500), default="")


class ReportCount(Base):
    """How many facts of a metric fell on a local day, overall (``grain`` "all", by hour
    too) or per agent, team, channel or label (``key``; 0: nobody, no team, no label).

    Kept by the builder adding each rebuilt conversation's new counts and taking away its
    old ones, so a report over a period sums a few rows per day instead of counting every
    message. ``tag`` is an SLA breach's target, ``rating`` a CSAT answer's ("" and 0 for
    the rest: the unique key needs values, not NULLs)."""

    __tablename__ = "report_counts"
    __table_args__ = (UniqueConstraint("grain", "day", "key", "metric", "hour", "tag", "rating"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    grain: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    key: Mapped[int] = mapped_column(BigInteger)
    metric: Mapped[str] = mapped_column(String(20))
    # The local hour for grain "all" (the heatmap's), -1 for the others.
    hour: Mapped[int] = mapped_column(SmallInteger)
    tag: Mapped[str] = mapped_column(String(50))
    rating: Mapped[int] = mapped_column(SmallInteger)
    n: Mapped[int] = mapped_column(Integer)
