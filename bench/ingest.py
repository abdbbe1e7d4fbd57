"""Benchmark webhook ingestion: signed custom-channel messages against a running hub.

Starts ``hub serve`` in a subprocess on a fresh database, connects a custom channel
through the API, and lets concurrent senders POST signed message events to its webhook
URL. Prints messages/s acknowledged and p50 / p99 latency, then puts the same load on a
bare aiohttp handler that parses the JSON and answers 200 (the ceiling: what the load
generator and the HTTP stack manage with no work behind them) and prints the ratio.
With ``--new-senders`` a second measured phase sends every message from a sender never
seen before (a contact and a conversation created per message), against the same ceiling.
Beside each rate it prints the CPU time the server process spent per message (user +
system, all its threads, from ``/proc``): on a shared machine that moves far less than
messages/s. Finally it counts the stored messages: every acknowledged message exactly once.

    .venv/bin/python bench/ingest.py
    .venv/bin/python bench/ingest.py --new-senders
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
    bare_server,
    connect_custom_channel,
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


def message_body(run: str, n: int, contacts: int | None) -> bytes:
    """Message event ``n``: a unique external id, from one of ``contacts`` senders, or
    (``contacts`` None) from a sender of its own."""
    sender = f"user-{n % contacts}" if contacts is not None else f"new-{run}-{n}"
    event = {
        "type": "message",
        "id": f"{run}-{n}",
        "timestamp": datetime.now(UTC).isoformat(),
        "sender": {"id": sender, "name": f"Customer {sender}"},
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
    # CPU seconds (user + system) the server process spent during the load.
    cpu: float = 0.0
    load_average: float = 0.0

    @property
    def cpu_ms_per_message(self) -> float:
        """The server's CPU time per acknowledged message, in ms."""
        return self.cpu * 1000 / len(self.acknowledged) if self.acknowledged else 0.0

    @property
    def rate(self) -> float:
        """Acknowledged messages per second."""
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` (every thread), from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid() -> int:
    """The one child process of this one (the server just started)."""
    me = os.getpid()
    children = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and _parent(entry) == me
    ]
    if len(children) != 1:
        raise RuntimeError(f"expected one server process, found {children}")
    return children[0]


def _parent(entry: Path) -> int | None:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


@asynccontextmanager
async def profiled(pid: int, output: str | None) -> AsyncIterator[None]:
    """py-spy (if asked for, from the venv) sampling ``pid`` while the block runs."""
    if not output:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    # --gil: only samples holding the GIL, i.e. where the CPU time goes, not the waits.
    command = [str(spy), "record", "--pid", str(pid), "--rate", "200", "--nonblocking", "--gil"]
    process = await asyncio.create_subprocess_exec(
        *command, "--format", "raw", "--output", output, stdout=asyncio.subprocess.DEVNULL
    )
    await asyncio.sleep(1.0)  # attached
    try:
        yield
    finally:
        process.send_signal(2)  # py-spy writes its output on SIGINT
        await process.wait()


async def put_load(
    url: str,
    secret: str,
    bodies: Callable[[int], bytes],
    count: int,
    senders: int,
    server_pid: int | None = None,
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
        cpu = cpu_seconds(server_pid) if server_pid else 0.0
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(senders)))
        load.seconds = time.perf_counter() - started
        load.cpu = cpu_seconds(server_pid) - cpu if server_pid else 0.0
    load.load_average = os.getloadavg()[0]
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
    channel_id, secret = await connect_custom_channel(base, token, "Ingest bench")
    return f"{base}/webhooks/{channel_id}", secret, channel_id


@asynccontextmanager
async def ceiling_server() -> AsyncIterator[tuple[str, int]]:
    """The bare handler in its own process, as the hub is; its URL and process id."""
    async with bare_server(CEILING_SERVER) as (port, pid):
        yield f"http://127.0.0.1:{port}/webhook", pid


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
        f"| {p50:.1f} | {p99:.1f} | {load.cpu_ms_per_message:.2f} | {load.load_average:.1f} |"
    )


def verdict(label: str, hub: Load, ceiling: Load, target: float, p99_target: float) -> str:
    """The ratio to the ceiling and the p99 of one phase, each against its target."""
    ratio = hub.rate / ceiling.rate if ceiling.rate else 0.0
    p99 = percentile(hub.latencies, 99)
    met = "met" if ratio >= target else "**not met**"
    p99_met = "met" if p99 <= p99_target else "**not met**"
    cpu = hub.cpu_ms_per_message / ceiling.cpu_ms_per_message if ceiling.cpu else 0.0
    return (
        f"{label}: ratio hub / ceiling {ratio:.2f} (target ≥ {target}: {met}); "
        f"p99 {p99:.0f} ms (target ≤ {p99_target:.0f}: {p99_met}); "
        f"CPU per message {cpu:.1f} times the ceiling's"
    )


async def run(args: argparse.Namespace) -> int:
    """Serve, load, load the ceiling, count, print; exit status 1 if a message was lost."""
    folder = Path(tempfile.mkdtemp(prefix="hub-ingest-"))
    run_id = os.urandom(4).hex()
    # By default the warm-up names every sender once: the measured phase is known senders.
    warmup = args.contacts if args.warmup is None else args.warmup
    fresh: Load | None = None
    try:
        async with migrated_database(args.db, args.database_url, folder) as url:
            token = await owner_token(url)
            extra = {"HUB_INBOUND_BATCH_MAX": str(args.batch_max)}
            async with hub_server(url, folder, extra) as base:
                pid = child_pid()
                webhook, secret, channel_id = await custom_channel(base, token)

                def bodies(n: int) -> bytes:
                    return message_body(run_id, n, args.contacts)

                def warm(n: int) -> bytes:
                    return message_body(run_id + "-warm", n, args.contacts)

                def new(n: int) -> bytes:
                    return message_body(run_id + "-new", n, None)

                await put_load(webhook, secret, warm, warmup, args.senders)
                async with profiled(pid, args.profile):
                    hub = await put_load(webhook, secret, bodies, args.messages, args.senders, pid)
                if args.new_senders:
                    # Profiled into a file of its own: FILE.new-senders.
                    new_profile = f"{args.profile}.new-senders" if args.profile else None
                    async with profiled(pid, new_profile):
                        fresh = await put_load(
                            webhook, secret, new, args.messages, args.senders, pid
                        )
            stored, distinct = await stored_once(url, channel_id)
        async with ceiling_server() as (ceiling_url, ceiling_pid):
            await put_load(ceiling_url, secret, bodies, warmup, args.senders)
            ceiling = await put_load(
                ceiling_url, secret, bodies, args.messages, args.senders, ceiling_pid
            )
    finally:
        if args.log and (folder / "hub.log").exists():
            shutil.copy(folder / "hub.log", args.log)
        shutil.rmtree(folder, ignore_errors=True)

    expected = warmup + len(hub.acknowledged) + (len(fresh.acknowledged) if fresh else 0)
    print(f"\n{platform.node()}, Python {platform.python_version()}, {args.db}, ", end="")
    print(f"{args.senders} senders, {args.messages} messages, {args.contacts} contacts, ", end="")
    print(f"{warmup} warm-up\n")
    print(
        "| target | acknowledged | refused | messages/s | p50 ms | p99 ms "
        "| server CPU ms/msg | load avg |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(row(f"hub ({args.db}), known senders", hub))
    if fresh is not None:
        print(row(f"hub ({args.db}), new senders", fresh))
    print(row("bare aiohttp handler (ceiling)", ceiling))
    print()
    print(verdict("known senders", hub, ceiling, args.target, args.p99_target))
    if fresh is not None:
        print(verdict("new senders", fresh, ceiling, args.new_target, args.p99_target))
    exact = stored == distinct == expected
    result = "every acknowledged message stored exactly once" if exact else "MISMATCH"
    print(f"stored: {stored} rows, {distinct} distinct ids, {expected} acknowledged: {result}")
    return 0 if exact else 1


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--messages", type=int, default=5000, help="measured messages")
    parser.add_argument(
        "--warmup", type=int, default=None, help="unmeasured messages first (default: --contacts)"
    )
    parser.add_argument("--senders", type=int, default=50, help="concurrent senders")
    parser.add_argument("--contacts", type=int, default=500, help="distinct senders' ids")
    parser.add_argument("--batch-max", type=int, default=200, help="HUB_INBOUND_BATCH_MAX")
    parser.add_argument("--target", type=float, default=0.5, help="ratio to reach")
    parser.add_argument(
        "--new-senders",
        action="store_true",
        help="also measure --messages messages each from a new sender",
    )
    parser.add_argument("--new-target", type=float, default=0.25, help="ratio, new senders")
    parser.add_argument("--p99-target", type=float, default=100.0, help="p99 to reach, ms")
    parser.add_argument("--log", metavar="FILE", help="keep a copy of the hub's log in FILE")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy (in the venv) the hub's measured phase to FILE (new senders: FILE.new-senders)",
    )
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
