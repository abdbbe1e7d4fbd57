"""Benchmark scale-out: webhook ingestion by ``hub serve --workers N`` on PostgreSQL + Redis.

For each N (default 1 and 2), on a fresh PostgreSQL database, starts ``hub serve
--workers N`` with the Redis bus, waits until N processes listen on the port, connects a
custom channel and puts the ingest bench's load on its webhook (the load, the channel
and the exactly-once count are bench/ingest.py's own functions). Prints messages/s,
p50 / p99, the speed-up over one process (target: at least 1.6 with two) and the hub
processes' CPU time per message, which does not depend on what else runs on the machine.

    .venv/bin/python bench/scale_out.py
    .venv/bin/python bench/scale_out.py --workers 1,2,4 --messages 10000 --senders 100

Linux only (it reads /proc to see the workers listen and to count their CPU time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from bench_support import SECRET, free_port, migrated_database  # type: ignore[import-not-found]
from ingest import (  # type: ignore[import-not-found]
    Load,
    custom_channel,
    message_body,
    owner_token,
    put_load,
    row,
    stored_once,
)

TICKS = os.sysconf("SC_CLK_TCK")


def listening(port: int) -> int:
    """How many sockets listen on ``port`` (one per worker with ``SO_REUSEPORT``)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                count += 1
    return count


def family(pid: int) -> list[int]:
    """``pid`` and its children (the supervisor's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds the processes have used so far (0 for one gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


# The other parties on the machine, by process name: their CPU per message says how
# much of the cores the hub's processes can have at all.
SERVERS = {"PostgreSQL": "postgres", "Redis": "redis-server"}


def servers_cpu(database: str) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by each process of PostgreSQL (its own processes and the
    connections to ``database``, not other databases') and of Redis, and by this
    process (the load generator), by pid."""
    found: dict[str, dict[int, float]] = {label: {} for label in SERVERS}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
            title = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        for label, comm in SERVERS.items():
            # A connection's title is "postgres: user database host(port) state".
            other_database = comm == "postgres" and "(" in title and f" {database} " not in title
            if name == comm and not other_database:
                found[label][int(entry.name)] = cpu_seconds([int(entry.name)])
    me = resource.getrusage(resource.RUSAGE_SELF)
    found["load generator"] = {os.getpid(): me.ru_utime + me.ru_stime}
    return found


def cpu_since(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """Each party's CPU seconds between two ``servers_cpu`` readings (a process that
    ended meanwhile is left out; one that started counts from zero)."""
    return {
        label: sum(used - before[label].get(pid, 0.0) for pid, used in pids.items())
        for label, pids in after.items()
    }


@asynccontextmanager
async def hub_workers(
    database_url: str, redis_url: str, folder: Path, workers: int
) -> AsyncIterator[tuple[str, int]]:
    """``hub serve --workers N`` in a subprocess, once every worker listens: its base
    URL and the pid of the process to watch (the supervisor, or the one hub)."""
    port = free_port()
    env = os.environ | {
        "HUB_DATABASE_URL": database_url,
        "HUB_BUS_URL": redis_url,
        "HUB_DATA_DIR": str(folder),
        "HUB_SECRET_KEY": SECRET,
        "HUB_LOG_LEVEL": "WARNING",
    }
    hub = Path(sys.executable).parent / "hub"
    log = (folder / f"hub-{workers}.log").open("w")
    process = await asyncio.create_subprocess_exec(
        str(hub), "serve", "--port", str(port), "--workers", str(workers),
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(1200):
                if process.returncode is not None:
                    raise RuntimeError(f"hub serve exited; see {log.name}")
                ready = False
                try:
                    async with client.get(f"{base}/readyz") as response:
                        ready = response.status == 200
                except aiohttp.ClientConnectionError:
                    pass
                if ready and listening(port) == workers:
                    break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the workers did not all listen in 120 s")
        yield base, process.pid
    finally:
        process.terminate()
        await process.wait()
        log.close()


@dataclass
class Run:
    """One ``--workers N`` run."""

    workers: int
    load: Load
    cpu: float
    others: dict[str, float]  # CPU seconds of PostgreSQL, Redis, the load generator
    exact: bool

    def per_message(self, seconds: float) -> float:
        """``seconds`` of CPU over the acknowledged messages, in ms."""
        return seconds * 1000 / max(1, len(self.load.acknowledged))


async def measure(args: argparse.Namespace, workers: int, folder: Path) -> Run:
    """A fresh database, N workers, the warm-up and the measured load, the count."""
    run_id = os.urandom(4).hex()
    async with migrated_database("postgresql", args.database_url, folder) as url:
        token = await owner_token(url)
        async with hub_workers(url, args.redis_url, folder, workers) as (base, pid):
            webhook, secret, channel_id = await custom_channel(base, token)
            await put_load(
                webhook,
                secret,
                lambda n: message_body(run_id + "-warm", n, args.contacts),
                args.warmup,
                args.senders,
            )
            pids = family(pid)
            before = cpu_seconds(pids)
            database = url.rsplit("/", 1)[1]
            others_before = servers_cpu(database)
            load = await put_load(
                webhook,
                secret,
                lambda n: message_body(run_id, n, args.contacts),
                args.messages,
                args.senders,
            )
            cpu = cpu_seconds(pids) - before
            others = cpu_since(others_before, servers_cpu(database))
        stored, distinct = await stored_once(url, channel_id)
    expected = args.warmup + len(load.acknowledged)
    return Run(workers, load, cpu, others, stored == distinct == expected)


async def run(args: argparse.Namespace) -> int:
    """Every N in turn, then the table; exit status 1 if a message was lost."""
    folder = Path(tempfile.mkdtemp(prefix="hub-scale-out-"))
    print(f"load average before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    try:
        runs = [await measure(args, n, folder) for n in args.workers]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"\n{os.cpu_count()} CPUs, {args.senders} senders, {args.messages} messages\n")
    print("| target | acknowledged | refused | messages/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in runs:
        print(row(f"--workers {r.workers}", r.load))
    one = runs[0].load.rate
    print("\n| workers | speed-up over the first | hub CPU ms per message | exactly once |")
    print("|---:|---:|---:|:-:|")
    for r in runs:
        ms = r.per_message(r.cpu)
        print(
            f"| {r.workers} | {r.load.rate / one:.2f} | {ms:.2f} | {'yes' if r.exact else 'NO'} |"
        )
    print_ceiling(runs)
    if len(runs) > 1:
        print(f"\ntarget: ≥ {args.target} with {runs[1].workers} workers")
    return 0 if all(r.exact for r in runs) else 1


def print_ceiling(runs: Sequence[Run]) -> None:
    """Everyone's CPU per message, and the rate the machine's cores would allow if all
    of them were busy with this work: the most any number of workers could reach here."""
    cores = os.cpu_count() or 1
    labels = list(runs[0].others)
    print(
        f"\n| workers | CPU ms per message: hub | {' | '.join(labels)} | all "
        f"| msg/s with all {cores} CPUs busy | speed-up that allows over the first run |"
    )
    print("|---:|" + "---:|" * (len(labels) + 4))
    one = runs[0].load.rate
    for r in runs:
        shares = [r.per_message(r.cpu)] + [r.per_message(r.others[k]) for k in labels]
        ceiling = cores * 1000 / sum(shares)
        cells = " | ".join(f"{ms:.2f}" for ms in shares)
        print(
            f"| {r.workers} | {cells} | {sum(shares):.2f} | {ceiling:.0f} | {ceiling / one:.2f} |"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server on which a database hub_bench_<random> is made per run",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--workers",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[1, 2],
        help="comma-separated worker counts, the first is the baseline",
    )
    parser.add_argument("--messages", type=int, default=5000, help="measured messages")
    parser.add_argument("--warmup", type=int, default=300, help="unmeasured messages first")
    parser.add_argument("--senders", type=int, default=50, help="concurrent senders")
    parser.add_argument("--contacts", type=int, default=500, help="distinct senders' ids")
    parser.add_argument("--target", type=float, default=1.6, help="speed-up to reach")
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
