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

    ``busy_timeout`` (seconds) bounds how long a SQLite write waits for the lock.
    """
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
