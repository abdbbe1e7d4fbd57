"""The timed jobs that look for due conversations (SLA clocks, breaches, due soon, ended
snoozes) walk the index of what is due, never every running conversation: SQLite keeps
no statistics, and an equality on the status used to lead it to the status's index
(0.1-0.4 s a run on 100k conversations). Read from SQLite's own query plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.events.bus import MemoryBus
from hub.events.work import unit_of_work
from hub.inbox import conversations, sla
from hub.inbox.sla_policies import PolicyFields, create_policy
from hub.inbox.sla_status import at_risk_count
from hub.inbox.views import View, list_conversations
from hub.store.models import User
from hub.store.types import utcnow
from tests.factories import Factory

Sessions = async_sessionmaker[AsyncSession]
# What a job may walk to find due conversations: the due times' and snoozes' indexes,
# and each policy's running conversations.
DUE_INDEXES = {
    "ix_conversations_first_response_due_at",
    "ix_conversations_next_response_due_at",
    "ix_conversations_resolution_due_at",
    "ix_conversations_snoozed_until",
    "ix_conversations_sla_policy_status",
}


@contextmanager
def reads_of_conversations(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT from ``conversations`` the block runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        statement, parameters = args[2], args[3]
        if statement.lstrip().upper().startswith("SELECT") and "FROM conversations" in statement:
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def plans(engine: AsyncEngine, reads: list[tuple[str, Any]]) -> list[list[str]]:
    """SQLite's plan of each statement read, as its lines."""
    async with engine.connect() as conn:
        return [
            [str(row[-1]) for row in await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p)]
            for s, p in reads
        ]


@pytest.fixture
def engine(db: Sessions) -> AsyncEngine:
    """The test database's engine, on SQLite only: PostgreSQL plans from its statistics,
    and the statements are the same."""
    bound: AsyncEngine = db.kw["bind"]
    if bound.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans from its statistics; the statements are the same")
    return bound


@pytest.fixture
async def admin(make_user: Any) -> User:
    made: User = await make_user("boss@example.com", name="Bea Boss", role="manager")
    return made


async def test_the_jobs_walk_only_what_is_due(
    db: Sessions, engine: AsyncEngine, factory: Factory, admin: User
) -> None:
    channel = await factory.channel()
    late = await factory.conversation(
        channel, opened_at=utcnow() - timedelta(hours=2), last_message_direction="in"
    )
    await factory.conversation(channel, status="snoozed", snoozed_until=utcnow())
    for n in range(5):
        await factory.conversation(channel, subject=f"not due {n}")
    async with unit_of_work(db, MemoryBus()) as work:
        fields = PolicyFields("Gold", first_response_minutes=30, resolution_minutes=60)
        policy = await create_policy(work, Viewer.of(admin), fields)
    async with unit_of_work(db, MemoryBus()) as work:
        await sla.apply_policy(work, Viewer.of(admin), late.id, policy.id)

    with reads_of_conversations(engine) as reads:
        async with unit_of_work(db, MemoryBus()) as work:
            marked = await sla.check_slas(work, every=15)
            woken = await conversations.wake_due_snoozes(work)
    # The jobs did their work (so every query ran and found what it should)...
    assert {c for c, _ in marked} == {late.id} and len(woken) == 1
    # ...the clocks, the breaches of each target, the due-soon ones, the snoozes...
    assert len(reads) >= 8, reads
    for lines in await plans(engine, reads):
        walks = [line for line in lines if " conversations " in f"{line} "]
        # ...each by an index of what is due: no scan, no status-only index.
        assert walks, lines
        for line in walks:
            assert line.startswith("SEARCH") and any(i in line for i in DUE_INDEXES), lines


async def test_the_at_risk_count_finds_the_due_ones_on_their_indexes(
    db: Sessions, engine: AsyncEngine, factory: Factory, admin: User
) -> None:
    channel = await factory.channel()
    soon = utcnow() + timedelta(minutes=10)
    due = await factory.conversation(channel, resolution_due_at=soon)
    await factory.conversation(channel, resolution_due_at=utcnow() + timedelta(days=2))
    await factory.conversation(channel, status="closed")
    with reads_of_conversations(engine) as reads:
        async with db() as session:
            assert await at_risk_count(session, Viewer.of(admin), utcnow()) == 1
            listed, _ = await list_conversations(session, Viewer.of(admin), view=View.parse("sla"))
    assert [row.conversation.id for row in listed] == [due.id]
    assert len(reads) == 2
    for lines in await plans(engine, reads):
        assert not any(line.startswith("SCAN conversations") for line in lines), lines
        for target in ("first_response", "next_response", "resolution"):
            assert any(f"ix_conversations_{target}_due_at" in line for line in lines), lines
