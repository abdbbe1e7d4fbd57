"""What a conversation's SLA looks like now: each target running, due soon, breached or
missed, and the "SLA at risk" view (open conversations due soon or breached)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.auth.visibility import Viewer, conversation_filter
from hub.store.models import Conversation, SlaPolicy

# "Due soon": within this many minutes. A fixed window for now (docs/decisions.md).
AT_RISK_MINUTES = 30
TARGETS = ("first_response", "next_response", "resolution")
NAMES = {"first_response": "First reply", "next_response": "Next reply", "resolution": "Resolution"}
State = Literal["running", "soon", "breached", "missed"]


@dataclass(frozen=True)
class TargetState:
    """One target of a conversation's SLA as shown: its name, state and the time that
    matters (the due time, or when it was breached)."""

    target: str
    name: str
    state: State
    at: datetime


def targets_of(conversation: Conversation, now: datetime) -> list[TargetState]:
    """The conversation's targets worth showing: running ones (soon when due within
    ``AT_RISK_MINUTES``), breached ones still running, and missed ones (met late)."""
    if conversation.sla_policy_id is None:
        return []
    shown = []
    soon = now + timedelta(minutes=AT_RISK_MINUTES)
    for target in TARGETS:
        due: datetime | None = getattr(conversation, f"{target}_due_at")
        breached: datetime | None = getattr(conversation, f"{target}_breached_at")
        if due is not None:
            # Past due but not marked yet (the job runs every few seconds): breached.
            if breached is not None or due <= now:
                shown.append(TargetState(target, NAMES[target], "breached", breached or due))
            else:
                state: State = "soon" if due <= soon else "running"
                shown.append(TargetState(target, NAMES[target], state, due))
        elif breached is not None:
            shown.append(TargetState(target, NAMES[target], "missed", breached))
    return shown


def badge_of(conversation: Conversation, now: datetime) -> TargetState | None:
    """The one target a list row shows: a breached one first, else one due soon."""
    if conversation.status == "closed":
        return None
    states = [t for t in targets_of(conversation, now) if t.state in ("breached", "soon")]
    states.sort(key=lambda t: (t.state != "breached", t.at))
    return states[0] if states else None


def at_risk_clause(now: datetime) -> ColumnElement[bool]:
    """Open conversations with a target due within ``AT_RISK_MINUTES`` or breached.

    The due ones are found on each due time's own index (one branch a target) and the
    view's rows are tested against them: as one OR of the three, SQLite (no statistics)
    tested every open conversation's due times, 0.1-0.2 s on 100k for each sidebar's
    count while any policy exists (tests/test_sla_job_plans.py reads the plan)."""
    soon = now + timedelta(minutes=AT_RISK_MINUTES)
    due = aliased(Conversation)  # not correlated with the view's own conversations
    due_ids = union_all(
        *(select(due.id).where(getattr(due, f"{target}_due_at") <= soon) for target in TARGETS)
    )
    return and_(Conversation.status == "open", Conversation.id.in_(due_ids))


async def any_policy(db: AsyncSession) -> bool:
    """Whether an SLA policy exists (the view shows only then)."""
    return await db.scalar(select(SlaPolicy.id).limit(1)) is not None


async def at_risk_count(db: AsyncSession, viewer: Viewer, now: datetime) -> int:
    """How many open conversations the viewer sees are at risk (blocked contacts' not)."""
    found = await db.scalar(
        select(func.count()).where(
            at_risk_clause(now),
            Conversation.contact_blocked.is_(False),
            conversation_filter(viewer),
        )
    )
    return int(found or 0)
