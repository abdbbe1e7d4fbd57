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
# one per four inbound messages in the ingest bench. Past the size a session waits for a
# connection (up to the pool's timeout), as it did before once the overflow was used up.
# The same on SQLite: four connections there held 10 MiB less (each is an aiosqlite
# thread, a parsed schema and a page cache; docs/performance.md, "RSS"), but fewer
# connections than the outbox delivers at once made its deliveries wait on the pool and
# count rows as lost to another worker (tests/test_outbox_worker.py, the concurrency and
# limit tests): a smaller pool needs that understood first.
POOL_SIZE = 15

# Each SQLite connection's page cache, in KiB (SQLite's default is 2,000 KiB). The
# database file's pages are in the operating system's cache too, so a page missing here
# is a read from memory, not from disk; a bounded cache keeps a growing database from
# growing every connection's share of the hub's resident memory.
SQLITE_CACHE_KIB = 1024


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
    # Negative: a size in KiB rather than in pages.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def create_engine(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any
) -> AsyncEngine:
    """Create the async engine for ``url`` with the settings each backend needs.

    ``busy_timeout`` (seconds) bounds how long a SQLite write waits for the lock. Unless
    the caller picks a pool, ``POOL_SIZE`` connections are kept open and none beyond, and the one returned last is handed out first, so a
    quiet hub keeps using one warm connection while the others stay as they were.
    """
    if "poolclass" not in kwargs and ":memory:" not in url:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", 0)
        kwargs.setdefault("pool_use_lifo", True)
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
