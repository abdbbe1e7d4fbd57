"""Telling a busy database from a broken one.

A write that waited its bounded time for another writer's lock (SQLite's busy timeout,
PostgreSQL's ``lock_timeout``) and gave up says "try again", not "the hub is broken":
callers answer it with 503 and ``Retry-After`` instead of 500.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# Seconds a client is asked to wait before retrying after a busy answer.
RETRY_AFTER_SECONDS = 1
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
# lock_not_available: a lock_timeout (or NOWAIT) expired.
_PG_BUSY_STATES = frozenset({"55P03"})


def is_busy(err: BaseException) -> bool:
    """True when ``err`` is a database that stayed locked past its bounded wait."""
    if not isinstance(err, DBAPIError):
        return False
    original = err.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state in _PG_BUSY_STATES:
        return True
    message = str(original).lower()
    return any(text in message for text in _SQLITE_BUSY)
