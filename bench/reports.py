"""Benchmark the reports on a large seeded database.

Creates a fresh database (SQLite file or PostgreSQL database), migrates it, seeds it
with ``seed_inbox`` (conversations, messages, agents, teams) plus what reports read and
the inbox seed does not write: assignment, closing, reopening and SLA breach events,
and a sender on agents' messages. Then times ``build_report`` in process (the domain
call the API handler makes, without HTTP), one call at a time after a warm-up, for every
report over the last 7 and 30 days, as a manager. Prints p50 / p95 / p99 per report.

Before timing, it builds the reports' pre-aggregate of the whole seed (printing how long
that took: what an upgrade's background build costs), and before each timed call it gives
``--changed`` random conversations a new message, so each call also builds those first,
as a report in a busy inbox does.

    .venv/bin/python bench/reports.py --db sqlite --conversations 10000 --messages 100000
    .venv/bin/python bench/reports.py --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_support import (  # type: ignore[import-not-found]
    fresh_database,
    percentile,
    percentile_table,
    seeded_parser,
)
from seed_inbox import NOW, Shape, seed  # type: ignore[import-not-found]
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.visibility import Viewer
from hub.inbox.report_build import BATCH, build_stale
from hub.inbox.reports import KINDS, Filters, build_report, report_period
from hub.store import migrate
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Base, Conversation, Message

MANAGER = Viewer(id=1, role="manager", visibility="all", team_ids=frozenset())


def _events(rows: Sequence[Any], rnd: random.Random) -> Iterator[dict[str, Any]]:
    """An assignment at the opening of each assigned conversation; a closing of each
    closed one (a tenth of them closed, reopened and closed again); breaches on some."""
    for conversation_id, opened, closed, assignee, team in rows:
        if assignee is not None or team is not None:
            yield _event(
                conversation_id, "assigned", opened, {"user_id": assignee, "team_id": team}
            )
        if closed is not None:
            if rnd.random() < 0.1:
                first = opened + (closed - opened) / 3
                yield _event(conversation_id, "closed", first, {})
                yield _event(conversation_id, "reopened", first + (closed - first) / 2, {})
            yield _event(conversation_id, "closed", closed, {})
        if rnd.random() < 0.05:
            target = rnd.choice(("first_response", "next_response", "resolution"))
            yield _event(
                conversation_id, "sla_breached", opened + timedelta(hours=1), {"target": target}
            )


def _event(conversation_id: int, kind: str, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "kind": kind, "data": data, "created_at": at}


async def add_history(engine: AsyncEngine, seed_value: int) -> int:
    """Write the events and the senders; return how many events."""
    rnd = random.Random(seed_value)
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(
                    Conversation.id,
                    Conversation.opened_at,
                    Conversation.closed_at,
                    Conversation.assignee_id,
                    Conversation.team_id,
                )
            )
        ).all()
        events = list(_events(rows, rnd))
        table = Base.metadata.tables["conversation_events"]
        for offset in range(0, len(events), 50_000):
            await conn.execute(table.insert(), events[offset : offset + 50_000])
        assignee = (
            select(Conversation.assignee_id)
            .where(Conversation.id == Message.conversation_id)
            .scalar_subquery()
        )
        await conn.execute(
            update(Message).where(Message.direction == "out").values(sender_user_id=assignee)
        )
        if conn.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE"))
    return len(events)


async def build_all(engine: AsyncEngine) -> None:
    """Build the whole pre-aggregate (as the background job does after an upgrade)."""
    sessions = create_sessionmaker(engine)
    started = time.perf_counter()
    built = await build_stale(sessions, BATCH, max_batches=1_000_000)
    took = time.perf_counter() - started
    print(f"built the facts of {built} conversations in {took:.1f} s ({built / took:.0f}/s)")
    if engine.dialect.name == "postgresql":
        # What autovacuum does soon after a bulk load: the visibility map lets the
        # durations' covering index be read without the table, and fresh statistics.
        async with engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE report_facts, report_counts"))


async def touch(engine: AsyncEngine, count: int, rnd: random.Random) -> None:
    """A new inbound message in ``count`` random conversations: the traffic a busy inbox
    has between two reports, which the next report builds before it reads."""
    async with engine.begin() as conn:
        ids = list(await conn.scalars(select(Conversation.id)))
        for conversation_id in rnd.sample(ids, min(count, len(ids))):
            await conn.execute(
                Base.metadata.tables["messages"].insert(),
                {
                    "conversation_id": conversation_id,
                    "channel_id": 1,
                    "direction": "in",
                    "status": "received",
                    "parts": [],
                    "edit_history": [],
                    "media_pending": False,
                    "created_at": datetime.now(UTC),
                },
            )


async def measure(
    engine: AsyncEngine, runs: int, warmup: int, changed: int
) -> list[tuple[str, list[float]]]:
    """Each report over each period, ``runs`` timed calls after ``warmup`` untimed, each
    after ``changed`` conversations got a message."""
    sessions = create_sessionmaker(engine)
    today = NOW.date()
    rnd = random.Random(7)
    results: list[tuple[str, list[float]]] = []
    for days in (7, 30):
        for kind in KINDS:
            samples: list[float] = []
            for n in range(warmup + runs):
                await touch(engine, changed, rnd)
                async with sessions() as db:
                    started = time.perf_counter()
                    period = await report_period(
                        db, today - timedelta(days=days - 1), today, business_hours=False
                    )
                    await build_report(db, MANAGER, kind, period, Filters())
                    took = (time.perf_counter() - started) * 1000
                if n >= warmup:
                    samples.append(took)
            results.append((f"{kind}, last {days} days", samples))
            print(f"  {kind}, last {days} days: p95 {percentile(samples, 95):.0f} ms", flush=True)
    return results


async def run(args: argparse.Namespace) -> None:
    """Create, migrate, seed, measure, print."""
    shape = Shape(args.conversations, args.messages, args.agents, args.teams, args.seed)
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-reports-"))
    try:
        async with fresh_database(args.db, args.database_url, folder, False) as url:
            engine = create_engine(url)
            await migrate.upgrade(engine)
            started = time.perf_counter()
            await seed(engine, shape)
            events = await add_history(engine, args.seed)
            print(
                f"seeded {shape.conversations} conversations, {shape.messages} messages, "
                f"{events} events in {time.perf_counter() - started:.1f} s ({engine.dialect.name})",
                flush=True,
            )
            await build_all(engine)
            results = await measure(engine, args.runs, args.warmup, args.changed)
            await engine.dispose()
        print(f"\n## Reports in process (target p95 ≤ {args.target:g} ms)\n")
        print(percentile_table([(label, ms, None) for label, ms in results], args.target, "report"))
        print(f"\nmeasured at {datetime.now(UTC).isoformat(timespec='seconds')}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = seeded_parser(__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed calls per report")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per report")
    parser.add_argument(
        "--changed",
        type=int,
        default=20,
        help="conversations given a new message before each timed call (built by the call)",
    )
    parser.add_argument("--target", type=float, default=300.0, help="p95 target in ms")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
