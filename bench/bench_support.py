"""What the benchmarks share: a fresh database, the hub in a subprocess, the seeded
benchmarks' command-line options, percentiles and their table."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hub.store import migrate
from hub.store.engine import create_engine

SECRET = "bench-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def hub_server(
    database_url: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> AsyncIterator[str]:
    """Run ``hub serve`` in a subprocess, so the load generator has its own event loop."""
    port = free_port()
    env = (
        os.environ
        | {
            "HUB_DATABASE_URL": database_url,
            "HUB_DATA_DIR": str(data_dir),
            "HUB_PORT": str(port),
            "HUB_SECRET_KEY": SECRET,
            "HUB_LOG_LEVEL": "WARNING",
        }
        | (extra_env or {})
    )
    hub = Path(sys.executable).parent / "hub"
    log = (data_dir / "hub.log").open("w")
    process = await asyncio.create_subprocess_exec(
        str(hub), "serve", env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(600):
                if process.returncode is not None:
                    raise RuntimeError(f"hub serve exited; see {data_dir / 'hub.log'}")
                try:
                    async with client.get(f"{base}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("hub serve did not become ready in 60 s")
        yield base
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=20)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.close()


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def percentile_table(
    rows: Iterable[tuple[str, Sequence[float], str | None]],
    target: float,
    what: str = "what",
    untargeted: Collection[str] = (),
) -> str:
    """A Markdown table of p50 / p95 / p99 in ms per ``(label, samples, error)`` row,
    each p95 checked against ``target`` but for the labels in ``untargeted`` (figures
    shown for information); a row with an error or no samples says so."""
    lines = [
        f"| {what} | n | p50 ms | p95 ms | p99 ms | p95 ≤ target |",
        "|---|---:|---:|---:|---:|:-:|",
    ]
    for label, samples, error in rows:
        if error or not samples:
            lines.append(f"| {label} | - | - | - | - | **{error or 'no samples'}** |")
            continue
        p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
        ok = "no target" if label in untargeted else "yes" if p95 <= target else "**no**"
        lines.append(f"| {label} | {len(samples)} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {ok} |")
    return "\n".join(lines)


def seeded_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options of every benchmark on a ``seed_inbox`` database: which
    database, and the seed's shape; each benchmark adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server to create the bench database on (--db postgresql)",
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--teams", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3, help="random seed of the data")
    return parser


@asynccontextmanager
async def fresh_database(
    kind: str, server_url: str, folder: Path, keep: bool
) -> AsyncIterator[str]:
    """A new, empty database URL; the PostgreSQL database is dropped afterwards unless kept."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'hub.db'}"
        return
    url = make_url(async_url(server_url))
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"\nkept database {name}")
        else:
            # FORCE waits about 10 s even with nobody to throw out: only when needed.
            try:
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            except DBAPIError:
                async with admin.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def migrated_database(kind: str, server_url: str, folder: Path) -> AsyncIterator[str]:
    """A fresh database (see ``fresh_database``, not kept) with the hub's schema."""
    async with fresh_database(kind, server_url, folder, False) as url:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        yield url


def async_url(url: str) -> str:
    """The URL with the driver the hub uses (``postgresql://`` → asyncpg)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def signed(secret: str, body: bytes) -> dict[str, str]:
    """The custom channel's signature headers (see docs/custom-channel.md)."""
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Hub-Timestamp": timestamp,
        "X-Hub-Signature-256": f"sha256={digest.hexdigest()}",
    }


async def connect_custom_channel(base: str, token: str, name: str) -> tuple[int, str]:
    """Connect a custom channel through the API with ``token``; its id and signing
    secret. Its replies would go to a closed port: the benches never send one."""
    body = {
        "type": "custom_channel",
        "name": name,
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
    return int(created["id"]), str(created["config"]["signing_secret"])


@asynccontextmanager
async def bare_server(script: Path) -> AsyncIterator[tuple[int, int]]:
    """A bare aiohttp server ``script PORT`` in its own process, as the hub is, once it
    answers ``/ready``: its port and process id."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, str(script), str(port))
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
                raise RuntimeError(f"{script.name} did not start")
        yield port, process.pid
    finally:
        process.terminate()
        await process.wait()
