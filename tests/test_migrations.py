"""Migrations on an empty database of every engine: they build the models' schema exactly."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.app import create_app
from hub.settings import Settings
from hub.store import migrate
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Base, Conversation, Team
from tests.conftest import ENGINES, PG_URL, _asyncpg_url, _drop_database, _pg_admin

# SQLite's reflection cannot read an expression index (the contacts' lower(name), 0026):
# the comparison skips it there, saying so; PostgreSQL compares it.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression"),
]

Client = TestClient[Any, Any]
SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def pg_empty_database() -> Iterator[str | None]:
    """A PostgreSQL database for the migration tests, made once: each test empties its
    schema (dropping a database waits for a checkpoint, about 10 s here)."""
    if not PG_URL:
        yield None
        return
    name = f"hub_mig_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    yield make_url(_asyncpg_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_drop_database(name))


async def _empty_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        await conn.exec_driver_sql("CREATE SCHEMA public")
    await engine.dispose()


@pytest.fixture(params=ENGINES)
async def empty_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_empty_database: str | None
) -> AsyncIterator[str]:
    """The URL of a database with nothing in it, once per engine under test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = pg_empty_database
    assert url
    await _empty_schema(url)
    yield url


@pytest.fixture
async def engine(empty_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_url)
    yield engine
    await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    """The database's tables, less the full-text-search ones migrations make by hand."""
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return {name for name in names if migrate.include_name(name, "table", {})}


async def _all_tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


MODEL_TABLES = set(Base.metadata.tables) | {"alembic_version"}


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    await migrate.downgrade(engine, revision)


async def test_upgrade_on_an_empty_database_creates_every_model_table(
    engine: AsyncEngine,
) -> None:
    assert await _tables(engine) == set()
    await migrate.upgrade(engine)
    assert await _tables(engine) == MODEL_TABLES


async def test_is_current_only_after_upgrade(engine: AsyncEngine) -> None:
    assert await migrate.current_revision(engine) is None
    assert await migrate.is_current(engine) is False
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    assert await migrate.is_current(engine) is True


async def test_upgrading_twice_changes_nothing_and_keeps_data(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with create_sessionmaker(engine)() as session:
        session.add(Team(name="Support"))
        await session.commit()
    tables = await _tables(engine)

    await migrate.upgrade(engine)

    assert await _tables(engine) == tables
    assert await migrate.is_current(engine)
    async with create_sessionmaker(engine)() as session:
        assert (await session.scalars(select(Team.name))).all() == ["Support"]


async def test_downgrade_to_base_then_upgrade_again_works(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    await _downgrade(engine, "base")
    assert await _all_tables(engine) <= {"alembic_version"}  # search tables included
    assert await migrate.current_revision(engine) is None

    await migrate.upgrade(engine)
    assert await _tables(engine) == MODEL_TABLES
    assert await migrate.is_current(engine)


# Rows valid at revision 0001, one in each table a conversation's timeline touches.
T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
ROWS_AT_0001: dict[str, dict[str, Any]] = {
    "users": {"id": 1, "email": "o@example.com", "name": "O", "role": "owner",
              "visibility": "all", "is_active": True, "available": True,
              "created_at": T0, "updated_at": T0},
    "teams": {"id": 1, "name": "Support", "created_at": T0, "updated_at": T0},
    "team_memberships": {"team_id": 1, "user_id": 1},
    "channels": {"id": 1, "type": "whatsapp", "name": "WA", "config_encrypted": "x",
                 "enabled": True, "status": "ok", "routing": {}, "settings": {},
                 "created_at": T0, "updated_at": T0},
    "contacts": {"id": 1, "name": "Carla", "blocked": True, "fields": {"vip": True},
                 "created_at": T0, "updated_at": T0},
    "contact_identities": {"id": 1, "contact_id": 1, "channel_id": 1, "external_id": "+49",
                           "profile": {}},
    "conversations": {"id": 1, "contact_id": 1, "channel_id": 1, "status": "open",
                      "assignee_id": 1, "team_id": 1, "opened_at": T0,
                      "last_message_at": T0, "unread_count": 1,
                      "created_at": T0, "updated_at": T0},
    "messages": {"id": 1, "conversation_id": 1, "channel_id": 1, "direction": "in",
                 "external_id": "wamid.1", "text": "hello migration", "parts": [],
                 "status": "received", "edit_history": [], "created_at": T0},
    "comments": {"id": 1, "conversation_id": 1, "author_id": 1, "body": "note",
                 "mentions": [], "created_at": T0},
    "conversation_events": {"id": 1, "conversation_id": 1, "kind": "opened", "data": {},
                            "created_at": T0},
    "attachments": {"id": 1, "message_id": 1, "sha256": "a" * 64, "filename": "a.jpg",
                    "content_type": "image/jpeg", "size": 1, "created_at": T0},
    "outbox": {"id": 1, "message_id": 1, "channel_id": 1, "status": "done", "attempts": 1,
               "next_attempt_at": T0, "created_at": T0, "updated_at": T0},
}  # fmt: skip


def _insert_reflected(sync: Connection, rows: dict[str, dict[str, Any]]) -> None:
    """Insert through the tables as the database has them (the models are at head)."""
    metadata = MetaData()
    metadata.reflect(sync, only=list(rows))
    for name, values in rows.items():
        sync.execute(metadata.tables[name].insert(), [values])


async def _counts(engine: AsyncEngine, tables: list[str]) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            name: (await conn.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar_one()
            for name in tables
        }


async def test_upgrading_from_the_first_revision_keeps_every_row(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine, "0001")
    async with engine.begin() as conn:
        await conn.run_sync(_insert_reflected, ROWS_AT_0001)

    await migrate.upgrade(engine)

    assert await migrate.is_current(engine)
    assert await _counts(engine, list(ROWS_AT_0001)) == dict.fromkeys(ROWS_AT_0001, 1)


async def test_downgrading_to_the_first_revision_keeps_every_row(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)
    async with engine.begin() as conn:
        await conn.run_sync(_insert_reflected, ROWS_AT_0001)

    await _downgrade(engine, "0001")

    assert await migrate.current_revision(engine) == "0001"
    assert await _counts(engine, list(ROWS_AT_0001)) == dict.fromkeys(ROWS_AT_0001, 1)


async def test_upgrading_fills_the_new_conversation_columns_from_old_data(
    engine: AsyncEngine,
) -> None:
    """0002 copies the contact's blocked flag and starts the status clock at opening."""
    await migrate.upgrade(engine, "0001")
    async with engine.begin() as conn:
        parents = {k: v for k, v in ROWS_AT_0001.items() if k in PARENTS_OF_CONVERSATIONS}
        await conn.run_sync(_insert_reflected, parents)

    await migrate.upgrade(engine)

    async with create_sessionmaker(engine)() as session:
        conversation = await session.get_one(Conversation, 1)
    assert conversation.contact_blocked is True
    assert conversation.status_changed_at == T0


PARENTS_OF_CONVERSATIONS = {"users", "teams", "channels", "contacts", "conversations"}


def _schema_differences(sync: Connection) -> list[Any]:
    # The same comparison `alembic revision --autogenerate` makes (see migrations/env.py).
    context = MigrationContext.configure(
        sync,
        opts={
            "compare_type": True,
            "target_metadata": Base.metadata,
            "include_name": migrate.include_name,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    """A model changed without a migration shows up here as a difference."""
    await migrate.upgrade(engine)
    async with engine.connect() as conn:
        differences = await conn.run_sync(_schema_differences)
    assert differences == []


async def test_schema_comparison_notices_a_missing_migration(engine: AsyncEngine) -> None:
    """The guard above can fail: a table dropped behind Alembic's back is reported."""
    await migrate.upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(text("DROP TABLE setup_tokens"))
    async with engine.connect() as conn:
        differences = await conn.run_sync(_schema_differences)
    added = [d[1].name for d in differences if isinstance(d, tuple) and d[0] == "add_table"]
    assert added == ["setup_tokens"]


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() > 0
    finally:
        await engine.dispose()


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=SECRET,
        disable_plugin_autoload=True,
    )


async def test_readyz_on_an_unmigrated_database_says_to_run_hub_migrate(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path, empty_url: str
) -> None:
    client = await aiohttp_client(create_app(_settings(tmp_path, empty_url)))
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert "run `hub migrate`" in body["checks"]["migrations"]


async def test_readyz_turns_ready_once_the_database_is_migrated(
    aiohttp_client: Callable[..., Awaitable[Client]],
    tmp_path: Path,
    empty_url: str,
    engine: AsyncEngine,
) -> None:
    client = await aiohttp_client(create_app(_settings(tmp_path, empty_url)))
    assert (await client.get("/readyz")).status == 503
    await migrate.upgrade(engine)
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "migrations": "ok"}


async def test_readyz_reports_an_unreachable_database_as_503(
    aiohttp_client: Callable[..., Awaitable[Client]], tmp_path: Path
) -> None:
    # Nothing listens on port 1; the connection is refused at once.
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"
    client = await aiohttp_client(create_app(_settings(tmp_path, url)))
    response = await client.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"].startswith("unreachable")
