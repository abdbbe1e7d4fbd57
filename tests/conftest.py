"""Shared fixtures: a migrated database on every engine under test, settings, the app.

Store and API tests take the ``db_url`` fixture and so run once per engine: SQLite
always, PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set (CI sets it). Each test gets
an empty, migrated database: SQLite copies a migrated template file; PostgreSQL uses a
database made for this run and truncates every table after each test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.auth.accounts import NewUser, create_user
from hub.auth.api_tokens import create_token
from hub.settings import Settings
from hub.store import migrate
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Base, User
from tests.factories import Factory
from tests.leaks import nothing_outlives

PG_URL = os.environ.get("HUB_TEST_DATABASE_URL")
ENGINES = ["sqlite"] + (["postgresql"] if PG_URL else [])
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _nothing_outlives_the_test() -> Iterator[None]:
    """Fail the test that leaves a thread running or an asyncio error unobserved (see
    tests/leaks.py); it is set up first, so it checks after every other fixture is gone."""
    with nothing_outlives():
        yield


def _asyncpg_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


async def _pg_admin(sql: str) -> None:
    assert PG_URL
    engine = create_engine(_asyncpg_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _drop_database(name: str) -> None:
    """Drop a test database; FORCE (which waits about 10 s here even with nobody to
    throw out) only when a connection is still open on it."""
    try:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
    except DBAPIError:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "hub.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test run, migrated once, dropped at the end."""
    assert PG_URL
    name = f"hub_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    # A test needs no durability: commits need not wait for the WAL to reach the disk.
    asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(_asyncpg_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_database(name))


def _emptying_sql() -> str:
    """One statement that empties every table and restarts every sequence.

    DELETE, children first, rather than TRUNCATE: a test leaves a few rows, and TRUNCATE
    of every table (new files for each) took 0.8 s a test where this takes 0.05 s.
    """
    deletes = "".join(f'DELETE FROM "{t.name}"; ' for t in reversed(Base.metadata.sorted_tables))
    restarts = (
        "PERFORM setval(c.oid, 1, false) FROM pg_class c "
        "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace;"
    )
    return f"DO $$ BEGIN {deletes}{restarts} END $$"


async def _empty(url: str) -> None:
    engine = create_engine(url)
    try:
        for attempt in (1, 2):
            try:
                async with engine.begin() as conn:
                    # A connection a test leaked with a transaction open would make
                    # the deletes wait forever: wait a while, then say who holds it.
                    await conn.execute(text("SET LOCAL lock_timeout = '15s'"))
                    await conn.exec_driver_sql(_emptying_sql())
                return
            except DBAPIError:
                if attempt == 2:
                    raise
                holders = await _end_other_connections(engine)
                warnings.warn(f"a test left a transaction open: {holders}", stacklevel=1)
    finally:
        await engine.dispose()


async def _end_other_connections(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid, state, left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        holders = [tuple(row) for row in rows]
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await conn.commit()
    return holders


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database, once per engine under test."""
    if request.param == "sqlite":
        path = tmp_path / "hub.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        yield url
        asyncio.run(_empty(url))


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings of a hub under test: its own data folder and database."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_key="test-secret-" + "x" * 40,
        public_url="https://hub.example.test",
        # The test client, unlike a browser on localhost, never sends Secure cookies
        # over plain http; test_auth_api checks the default (Secure) separately.
        cookie_secure=False,
        # Counts are read right after changes made behind the bus's back (the factory).
        counts_cache_seconds=0,
        # The reports' background build only at start: a report builds what is stale
        # before it reads, and a build's writes beside a test's own (two hubs on one
        # SQLite file, on a loaded machine) only add lock waits. The tests of the build
        # itself set their own interval.
        report_build_seconds=3600,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A session factory on the test database, for arranging and checking state."""
    engine = create_engine(settings.effective_database_url)
    yield create_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
def aiohttp_client(
    settings: Settings, aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]]
) -> Callable[..., Awaitable[TestClient[Any, Any]]]:
    """pytest-aiohttp's ``aiohttp_client``, set up after the test database.

    Fixtures are torn down in reverse order, so every app a test starts, and its
    background workers, stop before the database is emptied, whatever order the test
    asks for its fixtures in (an app still running would block the truncation).
    """
    return aiohttp_client


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], settings: Settings
) -> TestClient[Any, Any]:
    """A test client of the real app on the test database."""
    return await aiohttp_client(create_app(settings))


@pytest.fixture(scope="session")
def password_hash() -> str:
    """The argon2 hash of ``PASSWORD``, made once: hashing is slow on purpose."""
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def make_user(
    db: async_sessionmaker[AsyncSession], password_hash: str
) -> Callable[..., Awaitable[User]]:
    """Create a user directly in the store; the password is ``PASSWORD`` unless given."""

    async def make(
        email: str = "agent@example.com",
        *,
        name: str = "Alex Agent",
        role: str = "agent",
        visibility: str = "all",
        password: str = PASSWORD,
        active: bool = True,
    ) -> User:
        async with db() as session:
            data = NewUser.model_validate(
                {
                    "email": email,
                    "name": name,
                    "role": role,
                    "visibility": visibility,
                    "password": password,
                }
            )
            if password == PASSWORD:
                user = User(
                    email=data.email,
                    name=data.name,
                    role=data.role,
                    visibility=data.visibility,
                    password_hash=password_hash,
                )
                session.add(user)
                await session.flush()
            else:
                user = await create_user(session, data)
            user.is_active = active
            await session.commit()
            await session.refresh(user, ["teams"])
            return user

    return make


async def log_in(client: TestClient[Any, Any], email: str, password: str = PASSWORD) -> str:
    """Log in through the API; return the session's CSRF token."""
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status == 200, await response.text()
    body = await response.json()
    return str(body["csrf_token"])


@pytest.fixture
def factory(db: async_sessionmaker[AsyncSession]) -> Factory:
    """Builds teams, channels, contacts, conversations and messages in the test database."""
    return Factory(db)


@pytest.fixture
def user_token(
    db: async_sessionmaker[AsyncSession], make_user: Callable[..., Awaitable[User]]
) -> Callable[..., Awaitable[tuple[User, dict[str, str]]]]:
    """Create a user and an API token; return the user and its ``Authorization`` header."""

    async def make(email: str, **kwargs: Any) -> tuple[User, dict[str, str]]:
        user = await make_user(email, **kwargs)
        async with db() as session:
            token, _ = await create_token(session, user, "test")
            await session.commit()
        return user, {"Authorization": f"Bearer {token}"}

    return make


# The real Redis of the machine (CI starts it): the Redis bus and login throttling tests.
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
async def redis_url() -> str:
    """A bus URL on the real Redis with a namespace of this test's own (skipped without
    Redis, except in CI, which must have it)."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as err:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS} is required in CI and does not answer: {err}")
        pytest.skip(f"no Redis at {REDIS}: {err}")
    finally:
        await client.aclose()
    return f"{REDIS}/test-{uuid.uuid4().hex}"
