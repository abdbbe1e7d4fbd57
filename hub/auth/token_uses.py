"""When API tokens were last used: noted in memory as requests authenticate, written in
one batch by a background job, so authenticating a request never writes to the database
(a write per API read would contend with real writes, and on SQLite wait behind them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import ApiToken


class TokenUses:
    """Token uses not written yet: token id → the latest time it authenticated a request."""

    def __init__(self) -> None:
        self._pending: dict[int, datetime] = {}

    def note(self, token_id: int, at: datetime) -> None:
        """Remember that the token authenticated a request at ``at``."""
        known = self._pending.get(token_id)
        if known is None or at > known:
            self._pending[token_id] = at

    def take(self) -> dict[int, datetime]:
        """Everything noted so far, forgotten here: the caller writes it."""
        taken, self._pending = self._pending, {}
        return taken


async def write_token_uses(sessions: async_sessionmaker[AsyncSession], uses: TokenUses) -> int:
    """Write the noted uses in one transaction and return how many tokens it touched.

    A failed write (a busy database, say) puts the uses back for the next run; a token
    revoked or deleted meanwhile simply matches no row.
    """
    taken = uses.take()
    if not taken:
        return 0
    try:
        async with sessions.begin() as db:
            for token_id, at in sorted(taken.items()):
                await db.execute(
                    update(ApiToken)
                    .where(
                        ApiToken.id == token_id,
                        or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < at),
                    )
                    .values(last_used_at=at)
                )
    except BaseException:
        for token_id, at in taken.items():
            uses.note(token_id, at)
        raise
    return len(taken)
