"""Benchmark webhook ingestion: signed custom-channel messages against a running hub.

Starts ``hub serve`` in a subprocess on a fresh database, connects a custom channel
through the API, and lets concurrent senders POST signed message events to its webhook
URL. Prints messages/s acknowledged and p50 / p99 latency, then puts the same load on a
bare aiohttp handler that parses the JSON and answers 200 (the ceiling: what the load
generator and the HTTP stack manage with no work behind them) and prints the ratio.
Finally it counts the stored messages: every acknowledged message exactly once.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --db postgresql --messages 20000 --senders 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from bench_support import (  # type: ignore[import-not-found]
    free_port,
    hub_server,
    migrated_database,
    percentile,
    signed,
)
from sqlalchemy import func, select

from hub.auth.api_tokens import create_token
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import Message, User

CEILING_SERVER = Path(__file__).with_name("ceiling_server.py")


# --- the load ------------------------------------------------------------------------


def message_body(run: str, n: int, contacts: int) -> bytes:
    """Message event ``n``: a unique external id, one of ``contacts`` senders."""
    sender = n % contacts
    event = {
        "type": "message",
        "id": f"{run}-{n}",
        "timestamp": datetime.now(UTC).isoformat(),
        "sender": {"id": f"user-{sender}", "name": f"Customer {sender}"},
        "text": f"Hello, this is message {n} of the ingest bench.",
    }
    return json.dumps(event).encode()


@dataclass
class Load:
    """What one load run saw."""

    latencies: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0


async def put_load(
    url: str, secret: str, bodies: Callable[[int], bytes], count: int, senders: int
) -> Load:
    """``count`` signed POSTs by ``senders`` concurrent senders on keep-alive connections."""
    load = Load()
    next_index = iter(range(count))
    connector = aiohttp.TCPConnector(limit=senders)

    async def sender(client: aiohttp.ClientSession) -> None:
        for n in next_index:
            body = bodies(n)
            started = time.perf_counter()
            async with client.post(url, data=body, headers=signed(secret, body)) as response:
                await response.read()
            load.latencies.append((time.perf_counter() - started) * 1000)
            if 200 <= response.status < 300:
                load.acknowledged.append(str(n))
            else:
                load.refused[response.status] = load.refused.get(response.status, 0) + 1

    async with aiohttp.ClientSession(connector=connector) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(senders)))
        load.seconds = time.perf_counter() - started
    return load


# --- the two servers -----------------------------------------------------------------


async def owner_token(database_url: str) -> str:
    """An owner and an API token for them, straight in the store."""
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as db:
        user = User(email="bench@example.com", name="Bench", role="owner")
        db.add(user)
        await db.flush()
        token, _ = await create_token(db, user, "ingest bench")
        await db.commit()
    await engine.dispose()
    return token


async def custom_channel(base: str, token: str) -> tuple[str, str, int]:
    """Connect a custom channel; its webhook URL, signing secret and id."""
    body = {
        "type": "custom_channel",
        "name": "Ingest bench",
        # Replies are never sent in this bench; the URL only has to be valid.
        "config": {"outbound_url": "http://127.0.0.1:9/replies"},
    }
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{base}/api/v1/channels", json=body, headers=headers) as response,
    ):
        created = await response.json()
        if response.status != 201:
            raise SystemExit(f"could not create the channel: {response.status} {created}")
    webhook = f"{base}/webhooks/{created['id']}"
    return webhook, created["config"]["signing_secret"], created["id"]


@asynccontextmanager
async def ceiling_server() -> AsyncIterator[str]:
    """The bare handler in its own process, as the hub is."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, str(CEILING_SERVER), str(port))
    url = f"http://127.0.0.1:{port}/webhook"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(200):
                try:
                    async with client.get(f"http://127.0.0.1:{port}/ready") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the ceiling server did not start")
        yield url
    finally:
        process.terminate()
        await process.wait()


async def stored_once(database_url: str, channel_id: int) -> tuple[int, int]:
    """Messages stored on the channel, and distinct external ids among them."""
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as db:
        rows = await db.scalar(
            select(func.count()).select_from(Message).where(Message.channel_id == channel_id)
        )
        distinct = await db.scalar(
            select(func.count(func.distinct(Message.external_id))).where(
                Message.channel_id == channel_id
            )
        )
    await engine.dispose()
    return int(rows or 0), int(distinct or 0)


# --- main ----------------------------------------------------------------------------


def row(label: str, load: Load) -> str:
    """One line of the table."""
    p50, p99 = (percentile(load.latencies, p) for p in (50, 99))
    refused = ", ".join(f"{n} x {status}" for status, n in sorted(load.refused.items())) or "-"
    return (
        f"| {label} | {len(load.acknowledged)} | {refused} | {load.rate:,.0f} "
        f"| {p50:.1f} | {p99:.1f} |"
    )


async def run(args: argparse.Namespace) -> int:
    """Serve, load, load the ceiling, count, print; exit status 1 if a message was lost."""
    folder = Path(tempfile.mkdtemp(prefix="hub-ingest-"))
    run_id = os.urandom(4).hex()
    try:
        async with migrated_database(args.db, args.database_url, folder) as url:
            token = await owner_token(url)
            extra = {"HUB_INBOUND_BATCH_MAX": str(args.batch_max)}
            async with hub_server(url, folder, extra) as base:
                webhook, secret, channel_id = await custom_channel(base, token)

                def bodies(n: int) -> bytes:
                    return message_body(run_id, n, args.contacts)

                def warm(n: int) -> bytes:
                    return message_body(run_id + "-warm", n, args.contacts)

                await put_load(webhook, secret, warm, args.warmup, args.senders)
                hub = await put_load(webhook, secret, bodies, args.messages, args.senders)
            stored, distinct = await stored_once(url, channel_id)
        async with ceiling_server() as ceiling_url:
            await put_load(ceiling_url, secret, bodies, args.warmup, args.senders)
            ceiling = await put_load(ceiling_url, secret, bodies, args.messages, args.senders)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    expected = args.warmup + len(hub.acknowledged)
    ratio = hub.rate / ceiling.rate if ceiling.rate else 0.0
    print(f"\n{platform.node()}, Python {platform.python_version()}, {args.db}, ", end="")
    print(f"{args.senders} senders, {args.messages} messages, {args.contacts} contacts\n")
    print("| target | acknowledged | refused | messages/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(row(f"hub ({args.db})", hub))
    print(row("bare aiohttp handler (ceiling)", ceiling))
    print(f"\nratio hub / ceiling: {ratio:.2f} (target ≥ {args.target})")
    exact = stored == distinct == expected
    verdict = "every acknowledged message stored exactly once" if exact else "MISMATCH"
    print(f"stored: {stored} rows, {distinct} distinct ids, {expected} acknowledged: {verdict}")
    return 0 if exact else 1


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--messages", type=int, default=5000, help="measured messages")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured messages first")
    parser.add_argument("--senders", type=int, default=50, help="concurrent senders")
    parser.add_argument("--contacts", type=int, default=500, help="distinct senders' ids")
    parser.add_argument("--batch-max", type=int, default=200, help="HUB_INBOUND_BATCH_MAX")
    parser.add_argument("--target", type=float, default=0.5, help="ratio to reach")
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
