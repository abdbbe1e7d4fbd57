"""When each user last opened each of their inboxes, and the new-message dots that follow.

The sidebar's dot says "something new arrived here since you last looked": it goes to the
one inbox, by priority Mine > Team > Unassigned > All, that holds an unread conversation
(``hub.inbox.view_counts.inbox_counts``), and once the user opens that inbox it stays off until
a message arrives after that moment. ``dot_clause`` writes the same priority as SQL, so a
dot can be re-counted against the time the inbox was last opened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import Viewer, conversation_filter
from hub.store.models import Conversation, InboxViewSeen
from hub.store.types import utcnow

# The inboxes that can carry a dot; custom and Blocked-contacts inboxes never do.
DOTTED_KINDS = ("all", "mine", "unassigned", "team")


async def mark_seen(
    db: AsyncSession, user_id: int, view: str, at: datetime | None = None
) -> datetime:
    """Record that the user opened ``view`` (a view name) now, or at ``at``."""
    seen_at = at or utcnow()
    values = {"user_id": user_id, "view": view, "seen_at": seen_at}
    # One statement, so two tabs opening the same inbox at once never collide.
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(InboxViewSeen).values(values)
    await db.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "view"], set_={"seen_at": statement.excluded.seen_at}
        )
    )
    return seen_at


async def seen_times(db: AsyncSession, user_id: int) -> dict[str, datetime]:
    """When the user last opened each inbox they have opened."""
    rows = await db.execute(
        select(InboxViewSeen.view, InboxViewSeen.seen_at).where(InboxViewSeen.user_id == user_id)
    )
    return {view: seen_at for view, seen_at in rows.all()}


def _not_in_my_teams(viewer: Viewer) -> ColumnElement[bool]:
    if not viewer.team_ids:
        return Conversation.id.is_not(None)
    return or_(Conversation.team_id.is_(None), Conversation.team_id.not_in(viewer.team_ids))


def dot_clause(viewer: Viewer, view: str) -> ColumnElement[bool] | None:
    """SQL condition: open, unread conversations whose dot lands in ``view`` (None for a
    view that never has a dot). The same priority as ``inbox_counts`` folds the counts."""
    mine = Conversation.assignee_id == viewer.id
    not_mine = or_(Conversation.assignee_id.is_(None), Conversation.assignee_id != viewer.id)
    if view == "mine":
        where: ColumnElement[bool] = mine
    elif view.startswith("team:") and view[5:].isdigit():
        team_id = int(view[5:])
        if team_id not in viewer.team_ids:
            return None
        where = and_(not_mine, Conversation.team_id == team_id)
    elif view == "unassigned":
        where = and_(Conversation.assignee_id.is_(None), _not_in_my_teams(viewer))
    elif view == "all":
        where = and_(
            Conversation.assignee_id.is_not(None),
            Conversation.assignee_id != viewer.id,
            _not_in_my_teams(viewer),
        )
    else:
        return None
    return and_(
        where,
        Conversation.status == "open",
        Conversation.contact_blocked.is_(False),
        Conversation.unread_count > 0,
        conversation_filter(viewer),
    )


async def dots_since_seen(db: AsyncSession, viewer: Viewer, views: Iterable[str]) -> dict[str, int]:
    """For each of ``views`` the user has opened before, how many of its dotted
    conversations had a message arrive after that (views never opened are left out:
    their dot stands as counted)."""
    wanted = set(views)
    if not wanted:
        return {}
    seen = {view: at for view, at in (await seen_times(db, viewer.id)).items() if view in wanted}
    dots: dict[str, int] = {}
    for view, seen_at in seen.items():
        clause = dot_clause(viewer, view)
        if clause is None:
            continue
        count = await db.scalar(
            select(func.count()).where(clause, Conversation.last_inbound_at > seen_at)
        )
        dots[view] = int(count or 0)
    return dots
