"""The contacts list walks the index of its sort and stops after a page, never sorting
every contact: without those indexes a team-restricted agent's page also tested each
contact for a visible conversation (about 130 ms on SQLite with 50,000 contacts). Read
from SQLite's own query plans; PostgreSQL plans from its statistics."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.inbox.contacts import ContactSort, list_contacts

Sessions = async_sessionmaker[AsyncSession]
VIEWERS = {
    "manager": Viewer(1, "manager", "all", frozenset()),
    "team agent": Viewer(2, "agent", "team", frozenset({1})),
    "assigned agent": Viewer(3, "agent", "assigned", frozenset()),
}


@pytest.mark.parametrize("who", list(VIEWERS))
@pytest.mark.parametrize(
    ("sort", "index"), [("name", "ix_contacts_name_key"), ("newest", "ix_contacts_created")]
)
async def test_a_page_of_contacts_walks_its_sorts_index(
    db: Sessions, who: str, sort: ContactSort, index: str
) -> None:
    engine: AsyncEngine = db.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans from its statistics; the statement is the same")
    reads: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        if "FROM contacts" in args[2]:
            reads.append((args[2], args[3]))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db() as session:
            await list_contacts(session, VIEWERS[who], sort=sort)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    [(statement, parameters)] = reads
    async with engine.connect() as conn:
        plan = [
            str(row[-1])
            for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    assert any(f"SCAN contacts USING INDEX {index}" in line for line in plan), plan
    assert not any("TEMP B-TREE" in line for line in plan), plan
