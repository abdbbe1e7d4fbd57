"""Reading the audit log back in tests: the entries, and the whole table as text (to
prove a secret appears nowhere in it)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import AuditEntry

Sessions = async_sessionmaker[AsyncSession]


async def entries(db: Sessions, action_prefix: str = "") -> list[AuditEntry]:
    """Every entry, oldest first; only those whose action starts with the prefix."""
    async with db() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [row for row in rows if row.action.startswith(action_prefix)]


async def table_text(db: Sessions) -> str:
    """Every column of every entry, as one text."""
    rows = await entries(db)
    return "\n".join(
        json.dumps(
            {c.key: getattr(row, c.key) for c in AuditEntry.__table__.columns},
            default=str,
            ensure_ascii=False,
        )
        for row in rows
    )
