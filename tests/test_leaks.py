"""The guard around every test (tests/leaks.py): what it catches, and what it lets be."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SAWarning
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.store.engine import create_engine
from tests import leaks
from tests.leaks import nothing_outlives


@pytest.fixture(autouse=True)
def short_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leaks, "GRACE_SECONDS", 0.05)


def test_a_thread_left_running_fails_the_block() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-behind")
    try:
        with (
            pytest.raises(AssertionError, match="thread left running: left-behind"),
            nothing_outlives(),
        ):
            thread.start()
    finally:
        stop.set()
        thread.join()


def test_a_thread_that_ends_within_the_grace_period_and_a_daemon_pass() -> None:
    stop = threading.Event()
    daemon = threading.Thread(target=stop.wait, name="daemon", daemon=True)
    with nothing_outlives():
        threading.Thread(target=lambda: None).start()
        daemon.start()
    stop.set()
    daemon.join()


def test_an_aiosqlite_connection_left_open_fails_the_block(tmp_path: Path) -> None:
    async def open_and_forget() -> aiosqlite.Connection:
        return await aiosqlite.connect(tmp_path / "left.db")

    connection: aiosqlite.Connection | None = None
    try:
        with (
            pytest.raises(AssertionError, match="_connection_worker_thread"),
            nothing_outlives(),
        ):
            connection = asyncio.run(open_and_forget())
    finally:
        assert connection is not None
        asyncio.run(connection.close())


def test_an_aiosqlite_connection_closed_in_its_loop_passes(tmp_path: Path) -> None:
    async def use() -> None:
        async with aiosqlite.connect(tmp_path / "closed.db") as connection:
            await connection.execute("SELECT 1")

    with nothing_outlives():
        asyncio.run(use())


def test_a_pooled_connection_never_returned_fails_the_block(tmp_path: Path) -> None:
    async def check_out_and_forget() -> AsyncEngine:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
        connection = await engine.connect()
        await connection.execute(text("SELECT 1"))
        return engine  # the connection is dropped, never closed

    with (
        pytest.warns(SAWarning, match="garbage collector"),
        pytest.raises(AssertionError, match="clean up non-checked-in connection"),
        nothing_outlives(),
    ):
        asyncio.run(check_out_and_forget())


def test_a_task_exception_nobody_retrieved_fails_the_block() -> None:
    async def fail() -> None:
        raise ValueError("lost")

    async def main() -> None:
        asyncio.get_running_loop().create_task(fail())
        await asyncio.sleep(0.01)

    with pytest.raises(AssertionError, match="never retrieved: ValueError"), nothing_outlives():
        asyncio.run(main())


def test_a_task_still_pending_when_its_loop_is_closed_fails_the_block() -> None:
    with pytest.raises(AssertionError, match="destroyed but it is pending"), nothing_outlives():
        loop = asyncio.new_event_loop()
        sleeper = loop.create_task(asyncio.sleep(10))
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        del sleeper  # dropped pending, as a forgotten task is
