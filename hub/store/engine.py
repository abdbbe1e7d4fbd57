"""The async engine and session factory for SQLite (WAL) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

# How long a write waits for another writer's lock before giving up (then answered 503).
DEFAULT_BUSY_TIMEOUT = 5.0

# Connections kept open, and no overflow beyond them. SQLAlchemy's default (5 kept, 10
# more opened when busy) has the same ceiling of 15 but closes each overflow connection
# when it is returned: under load that opened a connection every few requests (on
# SQLite a new aiosqlite thread plus the pragmas; on PostgreSQL a server process), about
# one per four inbound messages in the ingest bench. Past 15 a session waits for a
# connection (up to the pool's timeout), as it did before once the overflow was used up.
POOL_SIZE = 15


def _sqlite_pragmas(
    dbapi_connection: Any, _record: ConnectionPoolEntry, *, busy_timeout: float
) -> None:
    # WAL lets readers run beside the one writer; NORMAL is durable in WAL mode
    # except for the last transactions on power loss, which the provider retries.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    cursor.close()


def create_engine(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any
) -> AsyncEngine:
    """Create the async engine for ``url`` with the settings each backend needs.

    ``busy_timeout`` (seconds) bounds how long a SQLite write waits for the lock. Unless
    the caller picks a pool, ``POOL_SIZE`` connections are kept open and none beyond.
    """
    if "poolclass" not in kwargs and ":memory:" not in url:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", 0)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        pragmas = partial(_sqlite_pragmas, busy_timeout=busy_timeout)
        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
