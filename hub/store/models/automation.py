"""Automation: macros (the named lists of actions agents run on a conversation) and
rules (event, conditions, actions), with their run log and timer bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow


class Macro(Timestamped, Base):
    """A named list of actions (``hub.automation.actions``); ``owner_id`` NULL is a
    shared macro everyone sees, otherwise it is that user's personal one."""

    __tablename__ = "macros"
    __table_args__ = (
        # "Shared plus mine", by name: the one list query.
        Index("ix_macros_owner_name", "owner_id", "name"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Deleting a user deletes their personal macros: nobody else could see or run them.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The actions as the pydantic union dumps them ([{"type": "assign", ...}, ...]).
    actions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)


class Rule(Timestamped, Base):
    """An automation rule: on ``event``, when every condition holds, run the actions
    (``hub.automation.rules``). Rules run in ``position`` order; ``stop_processing``
    ends the run of the event's later rules when this one matched."""

    __tablename__ = "rules"
    __table_args__ = (Index("ix_rules_event_position", "event", "position"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # conversation_created | message_received | assigned | closed | reopened | no_reply
    event: Mapped[str] = mapped_column(String(32))
    # For ``no_reply``: the minutes a customer's message waits for an answer.
    minutes: Mapped[int | None] = mapped_column(Integer)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    stop_processing: Mapped[bool] = mapped_column(Boolean, default=False)


class RuleRun(Base):
    """One rule matched one conversation: what came of its actions."""

    __tablename__ = "rule_runs"
    __table_args__ = (Index("ix_rule_runs_rule_id", "rule_id", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    event: Mapped[str] = mapped_column(String(32))
    # done (an action changed something) | skipped (nothing to change) | failed
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class RuleTimerFire(Base):
    """A ``no_reply`` rule fired for one waiting customer message: at most once, also
    with several hub processes checking (the unique constraint decides)."""

    __tablename__ = "rule_timer_fires"
    __table_args__ = (UniqueConstraint("rule_id", "message_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    fired_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
