"""Reading the histories a report needs: every conversation with something in the
period, with its whole history (a reply in the period may answer a message sent
before it; a closing may end a cycle that began long ago)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from hub.inbox.report_facts import Happening, History, Survey
from hub.inbox.report_period import Period
from hub.store.models import (
    Conversation,
    ConversationEvent,
    ConversationLabel,
    CsatSurvey,
    Message,
)

# The event kinds a report reads; the others (labels, priority…) change no metric.
EVENT_KINDS = (
    "assigned",
    "unassigned",
    "closed",
    "reopened",
    "snoozed",
    "unsnoozed",
    "sla_breached",
)
# Histories are read this many conversations at a time (bound parameters stay few).
CHUNK = 500


def _active_ids(period: Period, channel_id: int | None) -> Select[int]:
    """The conversations with a message, a counted event, an opening or an answer in the
    period."""
    start, end = period.start, period.end
    parts = [
        select(Message.conversation_id).where(
            Message.created_at >= start, Message.created_at < end
        ),
        select(ConversationEvent.conversation_id).where(
            ConversationEvent.created_at >= start,
            ConversationEvent.created_at < end,
            ConversationEvent.kind.in_(("closed", "reopened", "sla_breached")),
        ),
        select(Conversation.id).where(
            Conversation.opened_at >= start, Conversation.opened_at < end
        ),
        select(CsatSurvey.conversation_id).where(
            CsatSurvey.answered_at >= start, CsatSurvey.answered_at < end
        ),
    ]
    ids = union(*parts).subquery()
    query = select(Conversation.id).where(Conversation.id.in_(select(ids.c[0])))
    if channel_id is not None:
        query = query.where(Conversation.channel_id == channel_id)
    return query.where(Conversation.merged_into_id.is_(None)).order_by(Conversation.id)


async def _histories(db: AsyncSession, ids: Sequence[int]) -> list[History]:
    # Columns, not entities: thousands of ORM objects cost more than the query.
    conversations = (
        await db.execute(
            select(
                Conversation.id,
                Conversation.channel_id,
                Conversation.opened_at,
                Conversation.assignee_id,
                Conversation.team_id,
            ).where(Conversation.id.in_(ids), Conversation.merged_into_id.is_(None))
        )
    ).all()
    happenings: dict[int, list[Happening]] = defaultdict(list)
    events = await db.execute(
        select(
            ConversationEvent.conversation_id,
            ConversationEvent.created_at,
            ConversationEvent.kind,
            ConversationEvent.data,
            ConversationEvent.id,
        ).where(ConversationEvent.conversation_id.in_(ids), ConversationEvent.kind.in_(EVENT_KINDS))
    )
    order: dict[int, list[tuple[datetime, int, int, Happening]]] = defaultdict(list)
    for conversation_id, at, kind, data, event_id in events:
        data = data or {}
        tag = data.get("target") if kind == "sla_breached" else None
        happening = Happening(at, kind, data.get("user_id"), data.get("team_id"), tag)
        # Events before messages at the same instant (a reopen before the message that
        # caused it), then by id.
        order[conversation_id].append((at, 0, event_id, happening))
    messages = await db.execute(
        select(
            Message.conversation_id,
            Message.created_at,
            Message.direction,
            Message.sender_user_id,
            Message.id,
        ).where(
            Message.conversation_id.in_(ids),
            Message.status != "failed",
            Message.automated.is_(None),
        )
    )
    for conversation_id, at, direction, sender, message_id in messages:
        order[conversation_id].append((at, 1, message_id, Happening(at, direction, sender)))
    for conversation_id, rows in order.items():
        rows.sort(key=lambda row: row[:3])
        happenings[conversation_id] = [row[3] for row in rows]
    labels: dict[int, list[int]] = defaultdict(list)
    for conversation_id, label_id in await db.execute(
        select(ConversationLabel.conversation_id, ConversationLabel.label_id).where(
            ConversationLabel.conversation_id.in_(ids)
        )
    ):
        labels[conversation_id].append(label_id)
    surveys: dict[int, Survey] = {}
    for conversation_id, asked, answered, rating in await db.execute(
        select(
            CsatSurvey.conversation_id,
            CsatSurvey.created_at,
            CsatSurvey.answered_at,
            CsatSurvey.rating,
        ).where(
            CsatSurvey.conversation_id.in_(ids),
            CsatSurvey.answered_at.is_not(None),
            CsatSurvey.rating.is_not(None),
        )
    ):
        if answered is not None and rating is not None:
            surveys[conversation_id] = Survey(asked, answered, rating)
    return [
        History(
            c.id,
            c.channel_id,
            c.opened_at,
            c.assignee_id,
            c.team_id,
            tuple(sorted(labels[c.id])),
            happenings[c.id],
            surveys.get(c.id),
        )
        for c in conversations
    ]


async def load_histories(
    db: AsyncSession, period: Period, channel_id: int | None = None
) -> list[History]:
    """The histories of the conversations active in the period (one channel's only,
    when given); merged-away conversations are left out (their timeline moved)."""
    return await histories_of(db, list(await db.scalars(_active_ids(period, channel_id))))


async def histories_of(db: AsyncSession, ids: Sequence[int]) -> list[History]:
    """The histories of these conversations, those that exist and were not merged away."""
    histories: list[History] = []
    for offset in range(0, len(ids), CHUNK):
        histories.extend(await _histories(db, ids[offset : offset + CHUNK]))
    return histories
