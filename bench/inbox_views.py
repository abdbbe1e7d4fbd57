"""Benchmark the inbox views over HTTP on a large seeded database.

Creates a fresh database (SQLite file or PostgreSQL database), migrates it, seeds
conversations, messages, agents and teams in bulk, starts ``hub serve`` in a subprocess
and measures, one request at a time after a warm-up, the first page of every view and
the sidebar counts, as three kinds of user see them, and contact searches. Prints
p50 / p95 / p99 per view.

    .venv/bin/python bench/inbox_views.py --db sqlite
    .venv/bin/python bench/inbox_views.py --db postgresql --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from bench_support import (  # type: ignore[import-not-found]
    async_url,
    fresh_database,
    hub_server,
    percentile_table,
    seeded_parser,
)
from seed_inbox import (  # type: ignore[import-not-found]
    Shape,
    database_size,
    engine_version,
    issue_tokens,
    mark_reports_built,
    seed,
    team_of,
)

from hub.store import migrate
from hub.store.engine import create_engine

# --- measuring -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One measured request: who asks, what, and a label for the table."""

    label: str
    user: str
    path: str
    params: dict[str, str]


def cases(teams: int) -> list[Case]:
    """Every view the three users have, each one's counts, and contact searches."""
    conv, counts = "/api/v1/conversations", "/api/v1/inbox/counts"
    own_team = team_of(2, Shape(0, 0, 0, teams, 0))
    result = [Case("baseline: GET /api/v1/me", "manager", "/api/v1/me", {})]
    result += [
        Case(f"manager: {view}", "manager", conv, {"view": view})
        for view in ["all", "mine", "unassigned", "blocked"]
        + [f"team:{t}" for t in range(1, min(teams, 3) + 1)]
        + ["custom:1", "custom:2"]
    ]
    result += [
        Case("manager: all, closed tab", "manager", conv, {"view": "all", "status": "closed"}),
        Case("manager: all, unanswered", "manager", conv, {"view": "all", "unanswered": "true"}),
        Case("manager: all, sort=longest", "manager", conv, {"view": "all", "sort": "longest"}),
        Case("manager: all, All tab", "manager", conv, {"view": "all", "status": "all"}),
        Case("manager: mine, All tab", "manager", conv, {"view": "mine", "status": "all"}),
        Case("manager: team:1, All tab", "manager", conv, {"view": "team:1", "status": "all"}),
        Case("manager: counts", "manager", counts, {}),
        # Contact search: "contains" on name, first/last name, email (and phone digits).
        Case("manager: contacts, q=@example7.", "manager", "/api/v1/contacts", {"q": "@example7."}),
        Case(
            "manager: contacts, q=customer123", "manager", "/api/v1/contacts", {"q": "customer123"}
        ),
        Case(
            "manager: search contacts, q=customer4711",
            "manager",
            "/api/v1/search",
            {"q": "customer4711", "types": "contacts"},
        ),
        # The contacts list's first page, no search: a restricted agent's walks the name
        # index testing each contact for a visible conversation.
        Case("manager: contacts", "manager", "/api/v1/contacts", {}),
        Case("team agent: contacts", "team agent", "/api/v1/contacts", {}),
        Case("team agent: mine", "team agent", conv, {"view": "mine"}),
        Case(f"team agent: team:{own_team}", "team agent", conv, {"view": f"team:{own_team}"}),
        Case("team agent: counts", "team agent", counts, {}),
        Case("assigned agent: mine", "assigned agent", conv, {"view": "mine"}),
        Case("assigned agent: counts", "assigned agent", counts, {}),
    ]
    return result


@dataclass
class Result:
    """One case's timings in ms, or the error that stopped it."""

    case: Case
    samples: list[float]
    error: str | None = None


async def measure(
    base: str, tokens: dict[str, str], todo: list[Case], requests: int, warmup: int
) -> list[Result]:
    """Time each case's requests, one at a time, over one keep-alive connection.

    A case answered with an error status stops there and is reported as failed.
    """
    results = []
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(base, connector=connector) as client:
        for case in todo:
            headers = {"Authorization": f"Bearer {tokens[case.user]}"}
            result = Result(case, [])
            for i in range(warmup + requests):
                started = time.perf_counter()
                async with client.get(case.path, params=case.params, headers=headers) as response:
                    body = await response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    result.error = f"HTTP {response.status}"
                    print(f"{case.label}: {response.status} {body[:300]!r}", file=sys.stderr)
                    break
                if i >= warmup:
                    result.samples.append(elapsed)
            results.append(result)
    return results


def report(results: list[Result], target: float) -> str:
    """The table, in Markdown."""
    rows = [(result.case.label, result.samples, result.error) for result in results]
    return percentile_table(rows, target, "view")


# --- main ----------------------------------------------------------------------------


@asynccontextmanager
async def bench_database(
    args: argparse.Namespace, shape: Shape, folder: Path
) -> AsyncIterator[tuple[str, float | None]]:
    """The database to measure and its seeding time: a fresh one, or ``--reuse``."""
    if args.reuse:
        yield async_url(args.reuse), None
        return
    async with fresh_database(args.db, args.database_url, folder, args.keep) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        started = time.perf_counter()
        await seed(engine, shape)
        await mark_reports_built(engine)
        seeding = time.perf_counter() - started
        await engine.dispose()
        yield url, seeding


async def run(args: argparse.Namespace) -> None:
    """Create, migrate, seed, serve, measure, print."""
    shape = Shape(args.conversations, args.messages, args.agents, args.teams, args.seed)
    if shape.agents < 3 or shape.teams < 1 or shape.conversations < 1:
        raise SystemExit("need at least 3 agents, 1 team and 1 conversation")
    folder = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    try:
        async with bench_database(args, shape, folder) as (url, seeding):
            engine = create_engine(url)
            tokens = await issue_tokens(engine)
            size = await database_size(engine)
            version = await engine_version(engine)
            await engine.dispose()
            if seeding is not None:
                print(
                    f"seeded {shape.conversations} conversations, {shape.messages} messages, "
                    f"{shape.agents} agents, {shape.teams} teams in {seeding:.1f} s",
                    flush=True,
                )
            print(f"database: {engine.dialect.name} {version}, {size / 2**20:.0f} MiB", flush=True)
            load_before = os.getloadavg()[0]
            async with hub_server(url, folder) as base:
                results = await measure(
                    base, tokens, cases(shape.teams), args.requests, args.warmup
                )
            load_after = os.getloadavg()[0]
        print(
            f"\n{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load_before:.1f} before, {load_after:.1f} after; "
            f"sequential requests after {args.warmup} warm-up requests each; "
            f"target p95 ≤ {args.target:g} ms\n"
        )
        print(report(results, args.target))
    finally:
        if args.keep and not args.reuse:
            print(f"\nkept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the benchmark."""
    parser = seeded_parser(__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per view")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per view")
    parser.add_argument("--target", type=float, default=20.0, help="p95 target in ms")
    parser.add_argument("--keep", action="store_true", help="keep the database and the hub's log")
    parser.add_argument(
        "--reuse",
        metavar="URL",
        help="measure a database kept by an earlier --keep run instead of seeding a new one "
        "(--teams must match)",
    )
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
