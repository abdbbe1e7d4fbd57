"""Lookups read once per unit of work (``hub.inbox.lookups``): the second read of the
session costs no query, a change made in the session is what the next read sees, and
another session reads afresh."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.inbox.labels import all_labels
from hub.inbox.lookups import team_names
from hub.inbox.workspace import load_workspace_settings, save_workspace_settings
from hub.store.models import Label, Team
from tests.statements import recorded

Sessions = async_sessionmaker[AsyncSession]


async def test_a_session_reads_each_lookup_once_and_sees_its_own_changes(db: Sessions) -> None:
    async with db() as session:
        session.add_all([Team(name="Billing"), Label(name="VIP", name_key="vip", colour="red")])
        await session.commit()

    async with db() as session:
        with recorded(session.bind) as statements:  # type: ignore[arg-type]
            for _ in range(2):
                assert list((await team_names(session)).values()) == ["Billing"]
                assert [label.name for label in await all_labels(session)] == ["VIP"]
                assert (await load_workspace_settings(session)).closing_notes == "optional"
            assert len(statements) == 3
            await save_workspace_settings(session, {"closing_notes": "mandatory"})
            assert (await load_workspace_settings(session)).closing_notes == "mandatory"
            await session.commit()

    async with db() as other:
        assert (await load_workspace_settings(other)).closing_notes == "mandatory"
