"""Small tables a page reads several times, read once per unit of work.

One page of the inbox asks for the teams' names three times (the rows, the sidebar,
the custom-inbox form) and the workspace settings twice; each query costs more in
Python than in SQL. What is read here is kept in the session's ``info`` for the rest
of the unit of work: a request's, since each has its own session. Pages read these
tables; what changes them in the same session replaces the memo (``remember``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Team

T = TypeVar("T")
_PREFIX = "hub.lookups."


async def remembered(db: AsyncSession, key: str, load: Callable[[], Awaitable[T]]) -> T:
    """``load()``'s answer, read once per session under ``key``."""
    slot = _PREFIX + key
    if slot not in db.info:
        db.info[slot] = await load()
    found: Any = db.info[slot]
    return found  # type: ignore[no-any-return]


def remember(db: AsyncSession, key: str, value: object) -> None:
    """Replace what the session remembers under ``key`` (after a change to it)."""
    db.info[_PREFIX + key] = value


async def team_names(db: AsyncSession) -> dict[int, str]:
    """Every team's name by id, in name order."""

    async def load() -> dict[int, str]:
        rows = await db.execute(select(Team.id, Team.name).order_by(Team.name, Team.id))
        return {team_id: name for team_id, name in rows.all()}

    return await remembered(db, "team_names", load)
