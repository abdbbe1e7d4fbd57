"""Benchmark start-up: ``hub serve`` to the first 200 from ``/healthz``, and CLI commands.

Each figure is the best of ``--runs`` wall times (the machine is shared: the best run is
the one least disturbed). The same start-up is timed for a bare aiohttp app that answers
``/healthz`` and nothing else, in the same run: the floor of this interpreter and HTTP
stack on this machine. A first, unmeasured start creates the data folder, the secret key
and (SQLite) the schema, so every measured start finds a migrated database, as a restart
does.

    .venv/bin/python bench/startup.py
    .venv/bin/python bench/startup.py --runs 10 --db postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

SERVE_TARGET = 1.0
CLI_TARGET = 0.5
SECRET = "bench-secret-" + "x" * 40
BIN = Path(sys.executable).parent

BARE_APP = """
import sys
from aiohttp import web

async def healthz(request):
    return web.json_response({"status": "ok"})

app = web.Application()
app.router.add_get("/healthz", healthz)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    """A port nobody listens on now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(port: int) -> bool:
    """Whether ``/healthz`` answers 200 on ``port`` now."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used (Linux; 0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU: dict[str, list[float]] = {}


def time_to_healthz(command: Sequence[str], env: dict[str, str], port: int, what: str) -> float:
    """Seconds from starting ``command`` to the first 200 from its ``/healthz``; the CPU
    time the process used until then goes to ``CPU[what]`` (it does not depend on how
    busy the machine is, as the wall time does)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        while not answers(port):
            if process.poll() is not None:
                raise RuntimeError(
                    f"{command[0]} exited: {process.stderr.read() if process.stderr else ''}"
                )
            if time.perf_counter() - start > 60:
                raise RuntimeError(f"{command[0]} did not answer in 60 s")
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        CPU.setdefault(what, []).append(cpu_seconds(process.pid))
        return seconds
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def time_command(command: Sequence[str], env: dict[str, str], what: str) -> float:
    """Seconds one run of ``command`` takes; it must succeed. The CPU time it used goes
    to ``CPU[what]``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault(what, []).append(used)
    return seconds


def best(runs: int, measure: object) -> float:
    """The best of ``runs`` calls of ``measure`` (a function of no argument)."""
    assert callable(measure)
    return min(measure() for _ in range(runs))


def load() -> str:
    """The load average, as ``uptime`` prints it."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and measure, on SQLite or on a new PostgreSQL database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="best of how many runs")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server on which a database hub_bench_<random> is made and dropped",
    )
    args = parser.parse_args(argv)
    if args.db == "sqlite":
        return measure(args.runs, None)
    return asyncio.run(on_postgresql(args.runs, args.database_url))


async def on_postgresql(runs: int, server_url: str) -> int:
    """``measure`` on a fresh PostgreSQL database (dropped afterwards)."""
    from bench_support import fresh_database  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory(prefix="hub-startup-") as folder:
        async with fresh_database("postgresql", server_url, Path(folder), False) as url:
            # Nothing else runs on this loop: measuring may block it.
            return measure(runs, url)


def measure(runs: int, database_url: str | None) -> int:
    """Time every row (``database_url``: PostgreSQL, migrated here; ``None``: SQLite)."""
    with tempfile.TemporaryDirectory(prefix="hub-startup-") as folder:
        env = os.environ | {
            "HUB_DATA_DIR": folder,
            "HUB_SECRET_KEY": SECRET,
            "HUB_LOG_LEVEL": "WARNING",
        }
        env.pop("HUB_DATABASE_URL", None)
        if database_url:
            env["HUB_DATABASE_URL"] = database_url
            subprocess.run([str(BIN / "hub"), "migrate"], env=env, check=True)
        hub = [str(BIN / "hub"), "serve"]

        def serve() -> float:
            port = free_port()
            return time_to_healthz([*hub, "--port", str(port)], env, port, "serve")

        def bare() -> float:
            port = free_port()
            return time_to_healthz([sys.executable, "-c", BARE_APP, str(port)], env, port, "bare")

        print(f"load average before: {load()}")
        serve()  # creates the folder, the key and the schema; compiles bytecode
        CPU.clear()
        rows = [
            ("`hub serve` to /healthz 200", best(runs, serve), SERVE_TARGET),
            ("bare aiohttp to /healthz 200", best(runs, bare), None),
        ]
        for command in (["--help"], ["plugins", "list"], ["migrate"]):
            what = f"hub {' '.join(command)}"
            seconds = best(runs, lambda c=command, w=what: time_command([hub[0], *c], env, w))
            rows.append((f"`{what}`", seconds, CLI_TARGET))
        engine = "postgresql" if database_url else "sqlite"
        print(f"load average after: {load()}  ({engine}, best of {runs})\n")
        print("| what | best s | target s | met |")
        print("|---|---:|---:|:-:|")
        for what, seconds, target in rows:
            met = "" if target is None else ("yes" if seconds <= target else "**no**")
            print(f"| {what} | {seconds:.2f} | {'' if target is None else target} | {met} |")
        print("\nCPU seconds (best run; the servers' until their first 200): ", end="")
        print(", ".join(f"{what} {min(values):.2f}" for what, values in CPU.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
