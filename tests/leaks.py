"""What a test must not leave behind: a thread still running, a database connection never
returned, or an asyncio error nobody saw.

A leaked aiosqlite connection keeps its worker thread alive after the test's event loop
is closed; when it is finally stopped it calls into that closed loop and fails in a
thread no test owns, often during another test. A task that failed with nobody awaiting
it, like a pooled connection nobody returned, only says so in a log line when it is
collected. All are caught here, at the end of the test that caused them.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# How long a thread the test has just told to stop (a closed connection's worker, say)
# may take to end before it counts as left running.
GRACE_SECONDS = 2.0

# The messages (of asyncio, and of SQLAlchemy's pool) that mean an exception, a pending
# task or a checked-out connection escaped its owner.
ESCAPED = (
    "Task exception was never retrieved",
    "Task was destroyed but it is pending",
    "Future exception was never retrieved",
    "unhandled exception during asyncio.run() shutdown",
    "Exception in callback",
    "The garbage collector is trying to clean up non-checked-in connection",
)
WATCHED_LOGGERS = ("asyncio", "sqlalchemy.pool")


def _is_aiosqlite_worker(thread: threading.Thread) -> bool:
    # aiosqlite names no thread; Python names it after its target function.
    return "_connection_worker_thread" in thread.name


def _owned_by_a_live_loop(thread: threading.Thread) -> bool:
    # The default executor of a loop that is still running (the browser tests' background
    # loop): it is joined when that loop closes. A closed test loop has joined its own.
    return thread.name.startswith("asyncio_")


def threads_left_running(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since ``before`` that are still alive after a short grace period:
    every non-daemon one (it would keep the interpreter alive) and every aiosqlite worker."""

    def suspects() -> list[threading.Thread]:
        return [
            thread
            for thread in threading.enumerate()
            if thread not in before
            and thread.is_alive()
            and (_is_aiosqlite_worker(thread) or not thread.daemon)
            and not _owned_by_a_live_loop(thread)
        ]

    deadline = time.monotonic() + GRACE_SECONDS
    for thread in suspects():
        thread.join(max(0.0, deadline - time.monotonic()))
    return suspects()


class EscapedErrors(logging.Handler):
    """Collects what asyncio's exception handler and SQLAlchemy's pool log about escapes.

    Only the innermost of nested guards collects, so a test of the guard (a guard inside
    the one around every test) answers for what it provokes."""

    watching: list[EscapedErrors] = []

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record when it reports an escaped exception or pending task."""
        message = record.getMessage()
        if message.startswith(ESCAPED) and EscapedErrors.watching[-1] is self:
            detail = f": {record.exc_info[1]!r}" if record.exc_info else ""
            self.messages.append(message.splitlines()[0] + detail)


@contextmanager
def nothing_outlives() -> Iterator[None]:
    """Fail (``AssertionError``) when the block leaves a thread running, or lets an
    asyncio task's exception, a task still pending or a checked-out database connection
    escape unobserved."""
    before = set(threading.enumerate())
    errors = EscapedErrors()
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    for logger in loggers:
        logger.addHandler(errors)
    EscapedErrors.watching.append(errors)
    try:
        yield
        # A task dropped with its exception reports it when it is collected, and tasks
        # sit in reference cycles (task → exception → traceback → frame → task). The
        # young generations hold what the test made last; a full collection costs up to
        # a second a test, and older cycles are reported by Python's own collections
        # (while a later test runs: late, but never silent).
        gc.collect(1)
    finally:
        EscapedErrors.watching.remove(errors)
        for logger in loggers:
            logger.removeHandler(errors)
    left = threads_left_running(before)
    problems = [f"thread left running: {thread.name}" for thread in left]
    problems += errors.messages
    assert not problems, "the test left work behind:\n  " + "\n  ".join(problems)
