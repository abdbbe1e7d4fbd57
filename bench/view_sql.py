"""The SQL behind each row of inbox_views.py, measured in-process on a kept database.

For the same views and users as ``inbox_views.py``, calls the domain functions the API
handlers call (``list_conversations``, ``inbox_counts`` without the shared cache,
``list_contacts``, ``search``) and
prints, per row: the statements run, the median time of each (from sending it to its
first rows), and the median wall and CPU time of the whole call. No HTTP, no server
process: what a change to a query or an index does, with less of the machine's load in
it than the HTTP figures. ``--explain ROW`` prints the slowest statement of the rows
whose label contains ROW, with its plan (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).

    .venv/bin/python bench/inbox_views.py --conversations 100000 --messages 1000000 --keep
    .venv/bin/python bench/view_sql.py sqlite+aiosqlite:////tmp/hub-bench-…/hub.db
    .venv/bin/python bench/view_sql.py postgresql+asyncpg://postgres@127.0.0.1/hub_bench_… \\
        --explain custom:2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.visibility import Viewer
from hub.inbox.contacts import list_contacts
from hub.inbox.search import search
from hub.inbox.view_counts import inbox_counts
from hub.inbox.views import View, list_conversations
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import User

# Label, user (agent 1 manager, 2 team-restricted, 3 assigned-only), view, options:
# the rows of inbox_views.py.
ROWS: list[tuple[str, int, str, dict[str, Any]]] = [
    *[(f"manager: {v}", 1, v, {}) for v in ("all", "mine", "unassigned", "blocked")],
    *[(f"manager: {v}", 1, v, {}) for v in ("team:1", "team:2", "team:3")],
    *[(f"manager: {v}", 1, v, {}) for v in ("custom:1", "custom:2")],
    ("manager: all, closed tab", 1, "all", {"status": "closed"}),
    ("manager: all, unanswered", 1, "all", {"unanswered": True}),
    ("manager: all, sort=longest", 1, "all", {"sort": "longest"}),
    ("manager: all, All tab", 1, "all", {"status": "all"}),
    ("manager: mine, All tab", 1, "mine", {"status": "all"}),
    ("manager: team:1, All tab", 1, "team:1", {"status": "all"}),
    ("manager: counts", 1, "counts", {}),
    ("manager: contacts, q=@example7.", 1, "contacts", {"q": "@example7."}),
    ("manager: contacts, q=customer123", 1, "contacts", {"q": "customer123"}),
    ("manager: search contacts, q=customer4711", 1, "search", {"q": "customer4711"}),
    ("team agent: mine", 2, "mine", {}),
    ("team agent: team:2", 2, "team:2", {}),
    ("team agent: counts", 2, "counts", {}),
    ("assigned agent: mine", 3, "mine", {}),
    ("assigned agent: counts", 3, "counts", {}),
]


@dataclass
class Statements:
    """Statements seen since the last ``clear``: SQL, parameters, milliseconds."""

    seen: list[tuple[str, Any, float]] = field(default_factory=list)

    def watch(self, engine: AsyncEngine) -> None:
        """Time every statement the engine runs."""

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info["view_sql_started"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            elapsed = (time.perf_counter() - conn.info["view_sql_started"]) * 1000
            self.seen.append((statement, parameters, elapsed))

        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)


async def _viewers(engine: AsyncEngine) -> dict[int, Viewer]:
    async with create_sessionmaker(engine)() as db:
        viewers = {}
        for user_id in (1, 2, 3):
            user = await db.get(User, user_id)
            assert user is not None, "not a database seeded by bench/seed_inbox.py"
            await db.refresh(user, ["teams"])
            viewers[user_id] = Viewer.of(user)
        return viewers


async def _plan(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return [str(row[3]) for row in rows]
        rows = await conn.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters)
        return [str(row[0]) for row in rows]


async def run(url: str, repeat: int, explain: str | None, only: str | None) -> None:
    """Measure every row ``repeat`` times (after three unmeasured calls) and print."""
    engine = create_engine(url)
    statements = Statements()
    statements.watch(engine)
    sessions = create_sessionmaker(engine)
    viewers = await _viewers(engine)
    print(f"{engine.dialect.name}, load average {os.getloadavg()[0]:.1f}, {repeat} calls a row")
    print("\n| view | statements | each statement, median ms | wall ms | CPU ms |")
    print("|---|---:|---|---:|---:|")
    for label, user_id, view, options in ROWS:
        if only and only not in label:
            continue
        walls, cpus, per_statement = [], [], []
        for i in range(repeat + 3):
            statements.seen.clear()
            async with sessions() as db:
                wall, cpu = time.perf_counter(), time.process_time()
                if view == "counts":
                    await inbox_counts(db, viewers[user_id], None)
                elif view == "contacts":
                    await list_contacts(db, viewers[user_id], **options)
                elif view == "search":
                    await search(db, viewers[user_id], options["q"], types="contacts")
                else:
                    await list_conversations(db, viewers[user_id], view=View.parse(view), **options)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if i >= 3:
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
                per_statement.append(list(statements.seen))
        medians = [
            statistics.median(run[k][2] for run in per_statement)
            for k in range(min(len(run) for run in per_statement))
        ]
        print(
            f"| {label} | {len(medians)} | {', '.join(f'{m:.1f}' for m in medians)} "
            f"| {statistics.median(walls):.1f} | {statistics.median(cpus):.1f} |",
            flush=True,
        )
        if explain and explain in label and medians:
            slowest = medians.index(max(medians))
            statement, parameters, _ = per_statement[-1][slowest]
            print(f"\n{statement}\n{parameters}")
            for line in await _plan(engine, statement, parameters):
                print("    " + line)
            print()
    print(f"\nload average {os.getloadavg()[0]:.1f} after")
    await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", help="SQLAlchemy URL of a database kept by inbox_views.py --keep")
    parser.add_argument("--repeat", type=int, default=20, help="measured calls per row")
    parser.add_argument("--explain", metavar="ROW", help="print the plan of these rows")
    parser.add_argument("--only", metavar="ROW", help="measure only the rows naming this")
    args = parser.parse_args(argv)
    asyncio.run(run(args.url, args.repeat, args.explain, args.only))


if __name__ == "__main__":
    main()
