"""Benchmark one channel's big batch against another channel's single message.

Starts ``hub serve`` on a fresh database with two custom channels, POSTs one signed
batch of ``--events`` message events to the first, and once it is being stored a single
signed message to the second. Prints how long each took to be answered: the single
message should not wait for the batch (it is stored between the batch's chunks).

    .venv/bin/python bench/big_batch.py
    .venv/bin/python bench/big_batch.py --db postgresql --events 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from bench_support import hub_server, migrated_database  # type: ignore[import-not-found]
from ingest import custom_channel, message_body, owner_token, signed  # type: ignore[import-not-found]


async def timed_post(url: str, secret: str, body: bytes) -> tuple[int, float]:
    """POST a signed body; its status and the seconds until it was answered."""
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as client,
        client.post(url, data=body, headers=signed(secret, body)) as response,
    ):
        await response.read()
    return response.status, time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    """Serve, send the batch and the single message, print both times."""
    folder = Path(tempfile.mkdtemp(prefix="hub-big-batch-"))
    run_id = os.urandom(4).hex()
    try:
        async with migrated_database(args.db, args.database_url, folder) as url:
            token = await owner_token(url)
            extra = {"HUB_INBOUND_CHUNK_EVENTS": str(args.chunk)}
            async with hub_server(url, folder, extra) as base:
                big_url, big_secret, _ = await custom_channel(base, token)
                small_url, small_secret, _ = await custom_channel(base, token)
                events = [
                    json.loads(message_body(run_id, n, args.contacts)) for n in range(args.events)
                ]
                batch = json.dumps({"events": events}).encode()
                big = asyncio.create_task(timed_post(big_url, big_secret, batch))
                await asyncio.sleep(args.delay)
                single = message_body(run_id + "-single", 0, 1)
                small_status, small_seconds = await timed_post(small_url, small_secret, single)
                big_status, big_seconds = await big
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{platform.node()}, Python {platform.python_version()}, {args.db}, ", end="")
    print(f"{args.events} events in one batch ({len(batch)} bytes), chunks of {args.chunk}\n")
    print("| request | status | answered after s |")
    print("|---|---:|---:|")
    print(f"| batch of {args.events} | {big_status} | {big_seconds:.2f} |")
    print(f"| single message, other channel, sent {args.delay}s later | {small_status} | ", end="")
    print(f"{small_seconds:.2f} |")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=1000, help="events in the batch")
    parser.add_argument("--contacts", type=int, default=500, help="distinct senders' ids")
    parser.add_argument("--chunk", type=int, default=100, help="HUB_INBOUND_CHUNK_EVENTS")
    parser.add_argument("--delay", type=float, default=0.3, help="seconds before the single")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
