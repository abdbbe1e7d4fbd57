"""Migration 0025 builds the trigram indexes over the contacts already stored, and
downgrading removes them, on every engine."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.inbox.contact_contains import FIELDS, matching_contact_ids
from hub.inbox.contacts import search_clause
from hub.store import migrate
from hub.store.engine import create_sessionmaker
from hub.store.models import Contact

# The migration tests' empty databases, one per engine.
from tests.test_migrations import empty_url, engine, pg_empty_database  # noqa: F401


async def _index_objects(db_engine: AsyncEngine) -> set[str]:
    """The trigram index's objects the database has: SQLite tables and triggers, or
    PostgreSQL indexes."""
    async with db_engine.connect() as conn:
        if db_engine.dialect.name == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE name LIKE 'contacts_fts%'"
        else:
            query = "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_contacts_fts_%'"
        return set((await conn.execute(text(query))).scalars())


async def test_the_migration_indexes_existing_contacts_and_downgrades(
    engine: AsyncEngine,  # noqa: F811
) -> None:
    await migrate.upgrade(engine, "0024")
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO contacts (id, name, email, blocked, fields, created_at, updated_at)"
                " VALUES (7, 'Old Timer', 'old@timer.example', false, '{}', :at, :at)"
            ),
            {"at": datetime(2024, 1, 1, tzinfo=UTC)},
        )
    assert await _index_objects(engine) == set()

    await migrate.upgrade(engine)
    objects = await _index_objects(engine)
    if engine.dialect.name == "sqlite":
        assert {"contacts_fts", "contacts_fts_ai", "contacts_fts_au", "contacts_fts_ad"} <= objects
    else:
        assert objects == {f"ix_contacts_fts_{field}" for field in FIELDS}
    async with create_sessionmaker(engine)() as session:
        # Contacts from before the migration are in the index.
        assert await matching_contact_ids(session, "email", "@TIMER.", 10) == [7]
        found = select(Contact.id).where(await search_clause(session, "ld tim"))
        assert list(await session.scalars(found)) == [7]

    await migrate.downgrade(engine, "0024")
    assert await _index_objects(engine) == set()
    await migrate.upgrade(engine)
    async with create_sessionmaker(engine)() as session:
        assert await matching_contact_ids(session, "name", "old timer", 10) == [7]
