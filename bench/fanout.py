"""Benchmark realtime fan-out: inbound messages at a fixed rate, N agents' websockets.

Starts ``hub serve`` in a subprocess on a fresh database, seeds ``--agents`` agents (each
its own user, who sees every conversation, with an API token), connects a custom channel,
and then:

1. posts signed messages at ``--rate`` a second with no socket open: the webhook's own
   latency (p50 / p99), and the hub's RSS idle;
2. opens one websocket per agent (all in this process, aiohttp client) and posts messages
   at the same rate for ``--duration`` seconds. Each message's text carries its number;
   the time from just before its POST to its arrival on each socket (same process, same
   ``perf_counter``) is one sample: p50 / p95 / p99 / max, the largest per second (a
   periodic spike shows as a regular row of tall seconds), events missed; the webhook's
   latency now; the hub's CPU per message and its RSS sampled every second;
3. closes the sockets and samples the RSS again;
4. does the same fan-out with a bare aiohttp server (``fanout_ceiling.py``): the most the
   stack and this load generator manage, to compare the p99 with.

``--redis`` runs two hub processes on one PostgreSQL database and one Redis: sockets on
the first, webhooks to the second, so every event crosses the Redis bus.

    .venv/bin/python bench/fanout.py                         # SQLite, 200 agents, 20/s, 30 s
    .venv/bin/python bench/fanout.py --duration 600          # the 10-minute RSS run
    .venv/bin/python bench/fanout.py --redis                 # two hubs, PostgreSQL + Redis
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
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

from hub.auth.api_tokens import create_token
from hub.store.engine import create_engine, create_sessionmaker
from hub.store.models import User

CEILING_SERVER = Path(__file__).with_name("fanout_ceiling.py")
MARK = "fanout-bench-"  # in each message's text, followed by its number and a space
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the hub process ------------------------------------------------------------------


def server_pid(port: int) -> int:
    """The pid of the server started by this process listening on ``port`` (its env)."""
    wanted = f"HUB_PORT={port}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if ppid != os.getpid():
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if wanted in environ or str(port).encode() in (entry / "cmdline").read_bytes():
            return int(entry.name)
    raise RuntimeError(f"no server process of ours on port {port}")


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_parts(pid: int) -> str:
    """Anonymous (heap) and file-backed resident memory of ``pid``, in MiB."""
    parts = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:")):
            parts[line.split(":")[0]] = int(line.split()[1]) / 1024
    return ", ".join(f"{k} {v:.1f}" for k, v in parts.items())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class RssSampler:
    """The RSS of one process, sampled every second while running."""

    pid: int
    samples: list[tuple[float, float]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        started = time.perf_counter()
        while True:
            self.samples.append((time.perf_counter() - started, rss_mib(self.pid)))
            await asyncio.sleep(1.0)

    def start(self) -> None:
        """Sample until stopped."""
        self.samples.clear()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


# --- seeding ---------------------------------------------------------------------------


async def seed_people(database_url: str, agents: int) -> tuple[str, list[str]]:
    """An owner's token, and ``agents`` agents (each seeing everything) with a token each."""
    engine = create_engine(database_url)
    tokens: list[str] = []
    async with create_sessionmaker(engine)() as db:
        owner = User(email="owner@bench.example", name="Owner", role="owner")
        db.add(owner)
        people = [
            User(email=f"agent{n}@bench.example", name=f"Agent {n}", role="agent")
            for n in range(agents)
        ]
        db.add_all(people)
        await db.flush()
        owner_token, _ = await create_token(db, owner, "fanout bench")
        for person in people:
            token, _ = await create_token(db, person, "fanout bench")
            tokens.append(token)
        await db.commit()
    await engine.dispose()
    return owner_token, tokens


async def custom_channel(base: str, token: str) -> tuple[str, str]:
    """Connect a custom channel as the owner; its webhook URL and signing secret."""
    channel_id, secret = await connect_custom_channel(base, token, "Fan-out bench")
    return f"{base}/webhooks/{channel_id}", secret


# --- the load and the receivers -------------------------------------------------------


@dataclass
class Run:
    """What one fan-out run saw."""

    sent_at: dict[int, float] = field(default_factory=dict)  # number → perf_counter
    acknowledged: set[int] = field(default_factory=set)
    refused: int = 0
    webhook_ms: list[float] = field(default_factory=list)
    # Per socket: message number → when it first arrived.
    received: list[dict[int, float]] = field(default_factory=list)
    frames: int = 0

    def latencies(self) -> list[tuple[int, float]]:
        """(message number, ms from send to arrival) for every arrival."""
        out = []
        for arrivals in self.received:
            for number, at in arrivals.items():
                sent = self.sent_at.get(number)
                if sent is not None:
                    out.append((number, (at - sent) * 1000))
        return out

    def missed(self) -> int:
        """Acknowledged messages that some socket never received."""
        return sum(len(self.acknowledged - arrivals.keys()) for arrivals in self.received)


class Body:
    """Webhook bodies for one channel kind (the hub's custom channel, or the ceiling)."""

    def __init__(self, run_id: str, contacts: int) -> None:
        self.run_id = run_id
        self.contacts = contacts

    def __call__(self, number: int) -> bytes:
        sender = number % self.contacts
        event = {
            "type": "message",
            "id": f"{self.run_id}-{number}",
            "timestamp": datetime.now(UTC).isoformat(),
            "sender": {"id": f"customer-{sender}", "name": f"Customer {sender}"},
            "text": f"{MARK}{number} from the fan-out bench",
        }
        return json.dumps(event).encode()


async def post_at_rate(
    url: str, secret: str, body: Body, first: int, count: int, rate: float, run: Run
) -> None:
    """POST ``count`` messages numbered from ``first``, ``rate`` a second, not waiting for
    one answer before the next send (a provider does not either)."""
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one(number: int) -> None:
            data = body(number)
            headers = signed(secret, data)
            started = time.perf_counter()
            run.sent_at[number] = started
            async with client.post(url, data=data, headers=headers) as response:
                await response.read()
            run.webhook_ms.append((time.perf_counter() - started) * 1000)
            if 200 <= response.status < 300:
                run.acknowledged.add(number)
            else:
                run.refused += 1

        tasks = []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(first + i)))
        await asyncio.gather(*tasks)


async def receive(
    socket: aiohttp.ClientWebSocketResponse, arrivals: dict[int, float], run: Run
) -> None:
    """Note when each bench message first arrives on ``socket``. Frames are searched for
    the mark, not parsed, so that 200 sockets' frames cost this process little."""
    async for frame in socket:
        if frame.type is not aiohttp.WSMsgType.TEXT:
            continue
        now = time.perf_counter()
        run.frames += 1
        text: str = frame.data
        at = text.find(MARK)
        if at < 0:
            continue
        start = at + len(MARK)
        number = int(text[start : text.index(" ", start)])
        arrivals.setdefault(number, now)


@asynccontextmanager
async def sockets(
    ws_url: str, tokens: Sequence[str], run: Run
) -> AsyncIterator[list[aiohttp.ClientWebSocketResponse]]:
    """One websocket per token, each read by its own task; closed on leaving."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as client:
        opened: list[aiohttp.ClientWebSocketResponse] = []
        readers: list[asyncio.Task[None]] = []

        async def connect(token: str) -> None:
            socket = await client.ws_connect(
                ws_url, headers={"Authorization": f"Bearer {token}"}, compress=0, heartbeat=None
            )
            hello = await socket.receive(timeout=30)
            if hello.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"no hello on {ws_url}: {hello}")
            arrivals: dict[int, float] = {}
            run.received.append(arrivals)
            opened.append(socket)
            readers.append(asyncio.create_task(receive(socket, arrivals, run)))

        for start in range(0, len(tokens), 50):
            await asyncio.gather(*(connect(t) for t in tokens[start : start + 50]))
        try:
            yield opened
        finally:
            await asyncio.gather(*(s.close() for s in opened), return_exceptions=True)
            await asyncio.gather(*readers, return_exceptions=True)


async def settle(run: Run, seconds: float) -> None:
    """Wait until every socket has every acknowledged message, or ``seconds``."""
    deadline = time.perf_counter() + seconds
    for _ in range(int(seconds / 0.2) + 1):
        if time.perf_counter() >= deadline or not run.missed():
            return
        await asyncio.sleep(0.2)  # polled: the receivers signal nothing per message


# --- the ceiling ----------------------------------------------------------------------


@asynccontextmanager
async def ceiling_server() -> AsyncIterator[str]:
    """The bare fan-out server in its own process, as the hub is; its base URL."""
    async with bare_server(CEILING_SERVER) as (port, _):
        yield f"http://127.0.0.1:{port}"


# --- report ---------------------------------------------------------------------------


def stats(samples: Sequence[float]) -> str:
    """p50 / p95 / p99 / max of ``samples``, in ms."""
    if not samples:
        return "- | - | - | -"
    return " | ".join(f"{percentile(samples, p):.1f}" for p in (50, 95, 99, 100))


def per_second_max(run: Run, started: float) -> list[float]:
    """The largest send→arrival of the messages sent in each second of the run."""
    seconds: dict[int, float] = {}
    for number, ms in run.latencies():
        second = int(run.sent_at[number] - started)
        seconds[second] = max(seconds.get(second, 0.0), ms)
    return [seconds.get(s, 0.0) for s in range(max(seconds, default=-1) + 1)]


def load() -> str:
    """The machine's load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Measured:
    """One server's figures."""

    run: Run
    started: float
    quiet_webhook_ms: list[float] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)
    rss_series: list[tuple[float, float]] = field(default_factory=list)
    cpu_per_message_ms: float = 0.0
    quiet_cpu_per_message_ms: float = 0.0
    rss_parts: str = ""
    idle_cpu_ms_per_s: float = 0.0


def hub_cpu(socket_pid: int, hook_pid: int) -> float:
    """CPU seconds so far of the hub process(es)."""
    return cpu_seconds(hook_pid) + (cpu_seconds(socket_pid) if socket_pid != hook_pid else 0.0)


async def measure_hub(
    args: argparse.Namespace, sockets_base: str, webhook: str, secret: str, tokens: list[str]
) -> Measured:
    """The quiet webhook phase, the fan-out run and the RSS, against the hub(s)."""
    socket_pid = server_pid(int(sockets_base.rsplit(":", 1)[1]))
    hook_pid = server_pid(int(webhook.split(":")[2].split("/")[0]))
    body = Body(os.urandom(4).hex(), args.contacts)
    warm = Run()
    # Warm up and create the contacts' conversations: the run then updates known ones.
    await post_at_rate(webhook, secret, body, 0, args.contacts, args.rate * 2, warm)
    # The hub's own background work (periodic jobs), so it is not taken for the messages'.
    idle_before = hub_cpu(socket_pid, hook_pid)
    await asyncio.sleep(args.quiet_seconds)
    idle_ms_per_s = (hub_cpu(socket_pid, hook_pid) - idle_before) * 1000 / args.quiet_seconds
    quiet = Run()
    quiet_count = int(args.rate * args.quiet_seconds)
    cpu_before = hub_cpu(socket_pid, hook_pid)
    await post_at_rate(webhook, secret, body, args.contacts, quiet_count, args.rate, quiet)
    measured = Measured(Run(), 0.0, quiet.webhook_ms)
    measured.idle_cpu_ms_per_s = idle_ms_per_s
    measured.quiet_cpu_per_message_ms = (
        (hub_cpu(socket_pid, hook_pid) - cpu_before) * 1000 / max(quiet_count, 1)
    )
    measured.rss["idle"] = rss_mib(socket_pid)
    run = measured.run
    ws_url = sockets_base.replace("http://", "ws://") + "/ws"
    sampler = RssSampler(socket_pid)
    async with sockets(ws_url, tokens, run):
        await asyncio.sleep(1.0)
        measured.rss["with sockets"] = rss_mib(socket_pid)
        sampler.start()
        cpu_before = hub_cpu(socket_pid, hook_pid)
        count = int(args.rate * args.duration)
        measured.started = time.perf_counter()
        await post_at_rate(webhook, secret, body, 1_000_000, count, args.rate, run)
        await settle(run, 10.0)
        cpu_after = hub_cpu(socket_pid, hook_pid)
        measured.cpu_per_message_ms = (cpu_after - cpu_before) * 1000 / max(count, 1)
        await sampler.stop()
        measured.rss_series = list(sampler.samples)
        measured.rss["end of run"] = rss_mib(socket_pid)
        measured.rss_parts = rss_parts(socket_pid)
    await asyncio.sleep(5.0)
    measured.rss["5 s after the sockets closed"] = rss_mib(socket_pid)
    return measured


async def measure_ceiling(args: argparse.Namespace, agents: int) -> Measured:
    """The same fan-out from the bare aiohttp server."""
    async with ceiling_server() as base:
        body = Body(os.urandom(4).hex(), args.contacts)
        measured = Measured(Run(), 0.0)
        quiet = Run()
        await post_at_rate(
            f"{base}/webhook", "-", body, 0, int(args.rate * args.quiet_seconds), args.rate, quiet
        )
        measured.quiet_webhook_ms = quiet.webhook_ms
        run = measured.run
        async with sockets(base.replace("http://", "ws://") + "/ws", [""] * agents, run):
            await asyncio.sleep(1.0)
            count = int(args.rate * min(args.duration, args.ceiling_duration))
            measured.started = time.perf_counter()
            await post_at_rate(f"{base}/webhook", "-", body, 1_000_000, count, args.rate, run)
            await settle(run, 10.0)
    return measured


def report(args: argparse.Namespace, hub: Measured, ceiling: Measured, bench_cpu: float) -> int:
    """Print the tables and the targets; 1 if an event was missed."""
    mode = "two hubs over Redis, PostgreSQL" if args.redis else f"one hub, {args.db}"
    print(f"\n{platform.node()}, Python {platform.python_version()}, {mode}; ", end="")
    print(f"{args.agents} agents, {args.rate:g} msg/s for {args.duration:g} s; load {load()}\n")
    hub_ms = [ms for _, ms in hub.run.latencies()]
    ceiling_ms = [ms for _, ms in ceiling.run.latencies()]
    print("| sent → received | samples | missed | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print(f"| hub | {len(hub_ms)} | {hub.run.missed()} | {stats(hub_ms)} |")
    print(
        f"| bare aiohttp fan-out | {len(ceiling_ms)} | {ceiling.run.missed()} | {stats(ceiling_ms)} |"
    )
    print("\n| webhook answer | samples | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| hub, no socket | {len(hub.quiet_webhook_ms)} | {stats(hub.quiet_webhook_ms)} |")
    print(
        f"| hub, {args.agents} sockets | {len(hub.run.webhook_ms)} | {stats(hub.run.webhook_ms)} |"
    )
    print(
        f"| bare, no socket | {len(ceiling.quiet_webhook_ms)} | {stats(ceiling.quiet_webhook_ms)} |"
    )
    print(
        f"| bare, {args.agents} sockets | {len(ceiling.run.webhook_ms)} | {stats(ceiling.run.webhook_ms)} |"
    )
    seconds = per_second_max(hub.run, hub.started)
    print("\nhub, largest send → arrival per second of sending (ms):")
    for start in range(0, len(seconds), 15):
        print("  " + " ".join(f"{ms:5.0f}" for ms in seconds[start : start + 15]))
    print(
        f"\nhub CPU per inbound message (every process): {hub.quiet_cpu_per_message_ms:.2f} ms "
        f"with no socket, {hub.cpu_per_message_ms:.2f} ms with {args.agents} "
        f"(idle, no message: {hub.idle_cpu_ms_per_s:.0f} ms a second); ",
        end="",
    )
    print(f"frames received by the bench: {hub.run.frames}; bench CPU {bench_cpu:.1f} s")
    print(
        "hub RSS (the sockets' process), MiB: "
        + ", ".join(f"{k} {v:.1f}" for k, v in hub.rss.items())
    )
    print(f"  at the end of the run: {hub.rss_parts}")
    if len(hub.rss_series) >= 120:
        minutes = hub.rss_series[::60]
        print("  every minute: " + " ".join(f"{mib:.0f}" for _, mib in minutes))
    if hub.rss_series:
        values = [mib for _, mib in hub.rss_series]
        tenth = max(1, len(values) // 10)
        first, last = values[:tenth], values[-tenth:]
        print(
            f"  during the run: min {min(values):.1f}, max {max(values):.1f}; first tenth mean "
            f"{sum(first) / len(first):.1f}, last tenth mean {sum(last) / len(last):.1f}"
        )
    p99, bare_p99 = (
        percentile(hub_ms, 99) if hub_ms else 0.0,
        percentile(ceiling_ms, 99) if ceiling_ms else 0.0,
    )
    added = percentile(hub.run.webhook_ms, 50) - percentile(hub.quiet_webhook_ms, 50)
    peak = max([v for v in hub.rss.values()] + [m for _, m in hub.rss_series])
    print("\ntargets:")
    print(f"  p99 ≤ 50 ms: {p99:.1f} {'met' if p99 <= 50 else 'NOT met'}")
    ratio = p99 / bare_p99 if bare_p99 else float("inf")
    print(
        f"  p99 within 2 x the bare fan-out's: {ratio:.2f} x {'met' if ratio <= 2 else 'NOT met'}"
    )
    print(
        f"  webhook p50 added by the sockets ≤ 5 ms: {added:.1f} {'met' if added <= 5 else 'NOT met'}"
    )
    print(f"  RSS ≤ 150 MiB: peak {peak:.1f} {'met' if peak <= 150 else 'NOT met'}")
    return 1 if hub.run.missed() or hub.run.refused else 0


async def run(args: argparse.Namespace) -> int:
    """Seed, serve, measure the hub and the ceiling, print."""
    if args.redis:
        args.db = "postgresql"
    folder = Path(tempfile.mkdtemp(prefix="hub-fanout-"))
    try:
        async with migrated_database(args.db, args.database_url, folder) as url:
            owner, tokens = await seed_people(url, args.agents)
            async with AsyncExitStack() as stack:
                extra: dict[str, str] = {}
                if args.redis:
                    extra["HUB_BUS_URL"] = f"{args.redis_url}/fanout-{os.urandom(4).hex()}"
                first_dir = folder / "a"
                first_dir.mkdir()
                sockets_base = await stack.enter_async_context(hub_server(url, first_dir, extra))
                hooks_base = sockets_base
                if args.redis:
                    second_dir = folder / "b"
                    second_dir.mkdir()
                    hooks_base = await stack.enter_async_context(hub_server(url, second_dir, extra))
                webhook, secret = await custom_channel(hooks_base, owner)
                before = resource.getrusage(resource.RUSAGE_SELF)
                hub = await measure_hub(args, sockets_base, webhook, secret, tokens)
                after = resource.getrusage(resource.RUSAGE_SELF)
        ceiling = await measure_ceiling(args, args.agents)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    bench_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return report(args, hub, ceiling, bench_cpu)


def profile_hubs(path: Path) -> None:
    """Run every ``hub serve`` this bench starts under cProfile, writing ``path`` (the
    first hub) and ``path.1`` (a second one); the stats are written when it stops."""
    original = asyncio.create_subprocess_exec
    started = 0

    async def exec_profiled(program: str, *args: str, **kwargs: object) -> object:
        nonlocal started
        if args[:1] == ("serve",):
            out = f"{path}.{started}" if started else str(path)
            started += 1
            args = ("-m", "cProfile", "-o", out, program, *args)
            program = sys.executable
        return await original(program, *args, **kwargs)  # type: ignore[arg-type]

    asyncio.create_subprocess_exec = exec_profiled  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--agents", type=int, default=200, help="websockets, one per agent")
    parser.add_argument("--rate", type=float, default=20.0, help="inbound messages a second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of fan-out")
    parser.add_argument("--quiet-seconds", type=float, default=5.0, help="webhooks with no socket")
    parser.add_argument(
        "--ceiling-duration", type=float, default=30.0, help="at most, for the bare server"
    )
    parser.add_argument("--contacts", type=int, default=50, help="distinct customers writing")
    parser.add_argument("--redis", action="store_true", help="two hubs, PostgreSQL and Redis")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", type=Path, help="cProfile the hub(s) into this file")
    args = parser.parse_args(argv)
    if args.profile:
        profile_hubs(args.profile)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
