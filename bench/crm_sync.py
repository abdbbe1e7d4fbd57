"""Bench: the bulk first link of 10,000 contacts against a CRM that enforces a vendor's
rate limits; prints contacts/s, the calls made, and a progress bar while it runs.

The CRM is ``RateLimitedCrm`` below, an in-process fake implementing the ``CrmType``
contract with HubSpot's documented limits for a private app on Free/Starter: 100
requests per rolling 10 seconds, and its search endpoint at 5 requests per second; each
call also takes a simulated round trip. Batch lookups (``find_many``) take 100 emails, as
HubSpot's batch read by the ``email`` property does. The engine runs as in the hub:
``hub.crm.bulk`` over a real SQLite (or PostgreSQL) database, its calls through
``CrmCalls`` with real backoff sleeps.

    .venv/bin/python bench/crm_sync.py                      # 10,000 contacts, SQLite
    .venv/bin/python bench/crm_sync.py --contacts 2000 --phones 0.1

``--crm hubspot`` runs the HubSpot plugin instead, over real HTTP against
``tests/fake_crm.py``'s HubSpot fake with the same limits.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import insert

from hub.contract import CrmField, CrmRecord, CrmType, RetryLater
from hub.crm import bulk
from hub.crm.calls import CrmCalls
from hub.crm.env import CrmEnv
from hub.crm.registry import CrmInstances
from hub.events.bus import MemoryBus
from hub.store import migrate
from hub.store.crypto import ConfigCipher
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Contact, CrmBulkJob, CrmConnection

SECRET = "bench-secret-" + "x" * 40
ROOT = Path(__file__).resolve().parent.parent


class Window:
    """A rolling window limit: at most ``limit`` calls in any ``seconds``."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self.calls: collections.deque[float] = collections.deque()

    def take(self) -> None:
        """Count a call, or raise ``RetryLater`` with the wait until a slot frees."""
        now = time.monotonic()
        while self.calls and now - self.calls[0] >= self.seconds:
            self.calls.popleft()
        if len(self.calls) >= self.limit:
            raise RetryLater("429 rate limited", after=self.seconds - (now - self.calls[0]))
        self.calls.append(now)


class World:
    """The fake CRM's records and counters."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.by_email: dict[str, CrmRecord] = {}
        self.by_phone: dict[str, CrmRecord] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.refused = 0
        self.general = Window(100, 10.0)
        self.search = Window(5, 1.0)


WORLD = World(latency=0.03)


class BenchConfig(BaseModel):
    """Nothing to configure."""


class RateLimitedCrm(CrmType[BenchConfig]):
    """The fake CRM (see the module doc)."""

    name = "bench"
    title = "Bench CRM"
    description = "A rate-limited fake CRM."
    logo = "<svg/>"
    Config = BenchConfig

    async def _call(self, kind: str, *, search: bool = False) -> None:
        await asyncio.sleep(WORLD.latency)
        try:
            WORLD.general.take()
            if search:
                WORLD.search.take()
        except RetryLater:
            WORLD.refused += 1
            raise
        WORLD.calls[kind] += 1

    async def field_catalog(self) -> list[CrmField]:
        return [CrmField(name="email", label="Email", type="email")]

    async def find_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> CrmRecord | None:
        await self._call("search", search=True)
        if email:
            return WORLD.by_email.get(email.lower())
        return WORLD.by_phone.get(phone or "")

    async def find_many(self, emails: list[str]) -> dict[str, CrmRecord]:
        await self._call("batch read")
        return {e.lower(): WORLD.by_email[e.lower()] for e in emails if e.lower() in WORLD.by_email}

    async def owner_email(self, owner_external_id: str) -> str | None:
        await self._call("owner")
        return f"{owner_external_id}@example.com"


def bar(done: int, total: int, started: float, width: int = 40) -> str:
    """A progress bar line: ``[#####-----]  5,000/10,000  123 contacts/s``."""
    share = done / total if total else 1.0
    rate = done / max(time.monotonic() - started, 1e-9)
    filled = int(width * share)
    return (
        f"\r[{'#' * filled}{'-' * (width - filled)}] {done:>7,}/{total:,}  {rate:,.0f} contacts/s"
    )


async def seed(
    sessions: Any, contacts: int, found: float, phones: float, seed_value: int, world: Any = None
) -> None:
    """``contacts`` hub contacts; ``found`` of them in the CRM by email; ``phones`` of
    the others with a phone the CRM has (found by a search)."""
    rng = random.Random(seed_value)
    rows: list[dict[str, Any]] = []
    for n in range(contacts):
        email = f"contact{n}@example.com"
        roll = rng.random()
        phone = None
        if roll < found:
            if world is not None:
                world.add_contact({"email": email, "firstname": f"C{n}"})
            WORLD.by_email[email] = CrmRecord(
                external_id=str(n),
                email=email,
                owner_external_id=f"owner{n % 20}",
                fields={"email": email, "firstname": f"C{n}"},
            )
        elif rng.random() < phones:
            phone = f"+4915{n:09d}"
            WORLD.by_phone[phone] = CrmRecord(
                external_id=str(n), phone=phone, fields={"phone": phone}
            )
        rows.append(
            {"name": f"Contact {n}", "email": email, "phone": phone, "fields": {}, "blocked": False}
        )
    async with sessions() as db:
        for start in range(0, len(rows), 5000):
            await db.execute(insert(Contact), rows[start : start + 5000])
        await db.commit()


async def run(args: argparse.Namespace) -> int:
    WORLD.latency = args.latency
    if args.crm == "memory":
        return await _run(args, "bench", RateLimitedCrm, {}, None, None)
    # The HubSpot plugin against the localhost fake (tests/ is not a package on the path).
    sys.path.insert(0, str(ROOT))
    from hub_hubspot.crm import HubSpotCrm

    from hub.testing.crm_contract import CrmWorld
    from tests.fake_crm import serve_fake_crm
    from tests.fake_hubspot import HubSpotFake

    world = CrmWorld()
    fake = HubSpotFake(world, token="pat-bench", limit=100, interval=10.0, searches_per_second=5)
    async with serve_fake_crm(hubspot=fake) as base:
        config = {"access_token": "pat-bench", "api_base_url": f"{base}/hubspot"}
        return await _run(args, "hubspot", HubSpotCrm, config, world, fake)


async def _run(
    args: argparse.Namespace,
    type_name: str,
    crm_type: type[CrmType[Any]],
    config: dict[str, Any],
    world: Any,
    fake: Any,
) -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        engine = create_engine(url)
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        await seed(sessions, args.contacts, args.found, args.phones, args.seed, world)
        cipher = ConfigCipher(SECRET)
        async with sessions() as db:
            connection = CrmConnection(
                type=type_name,
                name="Bench",
                config_encrypted=cipher.encrypt(config),
                settings={},
                catalog=[],
                failures=0,
            )
            db.add(connection)
            await db.commit()
        async with httpx.AsyncClient(timeout=30.0) as http:
            env = CrmEnv(
                sessions=sessions,
                bus=MemoryBus(),
                instances=CrmInstances({type_name: crm_type}, cipher, http, sessions),
                calls=CrmCalls(sessions, attempts=6, cap=10.0),
            )
            job = await bulk.start_job(env, connection.id)
            started = time.monotonic()

            def progress(row: CrmBulkJob) -> None:
                sys.stderr.write(bar(row.processed, job.total, started))
                sys.stderr.flush()

            finished = await bulk.run_job(env, job.id, on_batch=progress)
            elapsed = time.monotonic() - started
        sys.stderr.write("\n")
        await engine.dispose()
    assert finished is not None
    print(f"CRM           {crm_type.title}")
    print(
        f"contacts      {finished.processed:,} ({finished.status}{': ' + finished.error if finished.error else ''})"
    )
    print(
        f"linked        {finished.linked:,}   not found {finished.not_found:,}   failed {finished.failed:,}"
    )
    print(f"time          {elapsed:,.1f} s")
    print(f"contacts/s    {finished.processed / elapsed:,.0f}")
    if fake is None:
        calls = sum(WORLD.calls.values())
        print(f"calls made    {calls:,} answered + {WORLD.refused:,} refused (429)")
        for kind, count in sorted(WORLD.calls.items()):
            print(f"  {kind:<12}{count:,}")
    else:
        print(f"calls made    {world.calls:,} (of which {fake.limited:,} refused with 429)")
    print(f"backoff waits {len(env.calls.waits):,}, {sum(env.calls.waits):,.1f} s in all")
    return 0 if finished.status == "done" else 1


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crm", choices=["memory", "hubspot"], default="memory")
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--found", type=float, default=0.7, help="share in the CRM by email")
    parser.add_argument(
        "--phones",
        type=float,
        default=0.0,
        help="share of the others the CRM has by phone (each costs a search, 5/s)",
    )
    parser.add_argument("--latency", type=float, default=0.03, help="seconds per CRM call")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--seed", type=int, default=3)
    sys.exit(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()
