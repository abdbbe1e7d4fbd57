"""Sidebar counts served from everyone's shared grouped rows are, for every kind of
viewer, the counts their own filtered query gives, on every engine.

Random open, closed and blocked conversations spread over users and teams; each viewer
(manager, team-restricted in one or two teams or none, assigned-only) gets its counts
with sharing off (its own query) and from a shared cache filled first by someone else.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from hub.auth.visibility import Viewer
from hub.inbox.view_counts import CountsCache, inbox_counts
from hub.store.models import Conversation, TeamMembership, User
from tests.factories import Factory


async def _viewer(db: async_sessionmaker[AsyncSession], user_id: int) -> Viewer:
    async with db() as session:
        user = await session.scalar(
            select(User).where(User.id == user_id).options(selectinload(User.teams))
        )
        assert user is not None
        return Viewer.of(user)


async def test_shared_counts_equal_each_viewers_own_counts(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    rnd = random.Random(18)
    teams = [await factory.team(f"Team {i}") for i in range(3)]
    specs = [
        ("manager", "all", []),
        ("agent", "team", [0]),
        ("agent", "team", [0, 1]),
        ("agent", "team", []),
        ("agent", "assigned", [2]),
    ]
    users = []
    for number, (role, visibility, team_numbers) in enumerate(specs):
        user = await make_user(f"u{number}@example.com", role=role, visibility=visibility)
        async with db() as session:
            session.add_all(
                TeamMembership(team_id=teams[t].id, user_id=user.id) for t in team_numbers
            )
            await session.commit()
        users.append(user)
    channel = await factory.channel()
    contact = await factory.contact()
    rows = []
    for _ in range(300):
        rows.append(
            {
                "contact_id": contact.id,
                "channel_id": channel.id,
                "status": rnd.choice(["open", "open", "closed", "snoozed"]),
                "assignee_id": rnd.choice([None, *(u.id for u in users)]),
                "team_id": rnd.choice([None, *(t.id for t in teams)]),
                "contact_blocked": rnd.random() < 0.1,
                "unread_count": rnd.choice([0, 0, 1, 3]),
            }
        )
    async with db() as session:
        await session.execute(insert(Conversation), rows)
        await session.commit()

    viewers = [await _viewer(db, user.id) for user in users]
    async with db() as session:
        own = {v.id: await inbox_counts(session, v, None) for v in viewers}
        # Each viewer's own counts differ: the comparison below means something.
        assert len({tuple(c.open for c in counts) for counts in own.values()}) > 3
        for first in viewers:  # whoever fills the shared rows, everyone gets theirs
            cache = CountsCache(60)
            await inbox_counts(session, first, cache)
            assert cache.get() is not None
            for viewer in viewers:
                assert await inbox_counts(session, viewer, cache) == own[viewer.id], (
                    first.id,
                    viewer.id,
                )
