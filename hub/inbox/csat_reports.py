"""Reading CSAT surveys: a page of them for the API (reports build on it, issue 17)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer, conversation_filter
from hub.store.models import Conversation, CsatSurvey
from hub.store.paging import bad_cursor, pack, unpack


async def list_surveys(
    db: AsyncSession,
    viewer: Viewer,
    *,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[CsatSurvey], str | None]:
    """Surveys of the conversations the viewer may see, newest first (by id); ``since``
    and ``until`` bound when they were asked (``created_at``)."""
    query = (
        select(CsatSurvey)
        .join(Conversation, Conversation.id == CsatSurvey.conversation_id)
        .where(conversation_filter(viewer))
    )
    if status is not None:
        query = query.where(CsatSurvey.status == status)
    if since is not None:
        query = query.where(CsatSurvey.created_at >= since)
    if until is not None:
        query = query.where(CsatSurvey.created_at < until)
    if cursor is not None:
        (last_id,) = unpack(cursor, int)
        if last_id < 1:
            raise bad_cursor()
        query = query.where(CsatSurvey.id < last_id)
    rows = list(await db.scalars(query.order_by(CsatSurvey.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, pack(rows[-1].id) if more and rows else None
