"""Benchmark email import: a real Dovecot mailbox polled into a real hub.

Starts Dovecot from a config of its own (as the email tests do), APPENDs ``--messages``
mails of mixed kinds (plain, HTML with a plain alternative, with a PDF attached, replies
with In-Reply-To/References, auto-replies, list mail) over one IMAP connection, then
builds the hub in this process (SQLite, the real poller, intake and group commit; no
HTTP) with an email channel on that mailbox and polls until everything is in. Prints
messages/s and the process's peak RSS, then starts the hub again from the stored cursor
(a restart) and polls once more: that second run must import nothing.

    .venv/bin/python bench/email_import.py
    .venv/bin/python bench/email_import.py --messages 1000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib
import logging
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiohttp.test_utils import TestServer
from bench_support import migrated_database  # type: ignore[import-not-found]
from hub_email.channel import EmailChannel
from sqlalchemy import func, select

from hub import appkeys
from hub.app import create_app
from hub.contract import ChannelContext
from hub.settings import Settings
from hub.store.models import Channel, Message
from hub.testing.plugin import build_plugin_manager

# The email tests' Dovecot fixture module: the same server setup, from a config of its own.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins/email/tests"))
dovecot_fixture: Any = importlib.import_module("dovecot")

OURS = "support@example.com"
KINDS = ("plain", "html", "attachment", "reply", "auto_reply", "list")


class BenchEmail(EmailChannel):
    """The email type, available, waiting briefly in IDLE once all is imported."""

    available = True
    idle_seconds = 0.2


def build_mail(n: int, rng: random.Random, contacts: int) -> bytes:
    """Mail ``n`` of the mix: one of ``KINDS`` in turn, from one of ``contacts`` senders."""
    kind = KINDS[n % len(KINDS)]
    sender = rng.randrange(contacts)
    msg = EmailMessage()
    msg["From"] = f"Customer {sender} <customer{sender}@example.org>"
    msg["To"] = OURS
    msg["Date"] = "Thu, 03 Dec 2026 10:00:00 +0000"
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg["Subject"] = f"Order {n // 3} question"
    text = (
        f"Hello,\n\nthis is mail {n} of the import bench ({kind}).\n\nRegards,\nCustomer {sender}"
    )
    if kind == "reply" and n >= len(KINDS):
        earlier = n - len(KINDS)
        msg.replace_header("Subject", f"Re: Order {earlier // 3} question")
        msg["In-Reply-To"] = f"<bench-{earlier}@example.org>"
        msg["References"] = f"<bench-{earlier}@example.org>"
        text += "\n\n> an earlier mail\n> quoted"
    if kind == "auto_reply":
        msg["Auto-Submitted"] = "auto-replied"
        msg.replace_header("Subject", "Out of office")
    if kind == "list":
        msg["List-Id"] = "<news.example.org>"
        msg["Precedence"] = "bulk"
    msg.set_content(text)
    if kind == "html":
        msg.add_alternative(f"<p>Hello,</p><p>this is mail <b>{n}</b>.</p>", subtype="html")
    if kind == "attachment":
        pdf = b"%PDF-1.4\n" + rng.randbytes(20_000)
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"scan-{n}.pdf")
    return msg.as_bytes()


def fill(dovecot: Any, user: str, count: int, contacts: int, how: str) -> float:
    """Put ``count`` mails in the INBOX; return the seconds it took. ``append``: IMAP
    APPEND over one connection; ``maildir``: files written into the Maildir's ``new``
    folder, which Dovecot indexes (and numbers) when the folder is next opened."""
    rng = random.Random(7)
    mails = (build_mail(n, rng, contacts) for n in range(count))
    started = time.perf_counter()
    if how == "append":
        dovecot.append_many(user, mails)
    else:
        dovecot.uidvalidity(user)  # the first access creates the Maildir
        new = dovecot.root / "mail" / user / "Maildir" / "new"
        for n, raw in enumerate(mails):
            data = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            # S= and W= (the sizes, as a delivery agent names the file) spare Dovecot
            # reading each file for RFC822.SIZE.
            path = new / f"{1_700_000_000 + n}.M{n}P1.bench,S={len(data)},W={len(data)}"
            path.write_bytes(data)
            shutil.chown(path, "nobody", "nogroup")
    return time.perf_counter() - started


class FailureCount(logging.Handler):
    """Counts the hub's logged errors instead of printing their tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages[record.getMessage().split(":")[0]] += 1


async def start_hub(url: str, folder: Path) -> TestServer:
    """The hub, started in this process (its background poll loops off: we poll)."""
    settings = Settings(
        data_dir=folder / "hub-data",
        database_url=url,
        secret_key="bench-secret-key-" + "k" * 32,
        public_url="https://hub.example.test",
        polling_enabled=False,
    )
    app = create_app(settings, plugins=build_plugin_manager([BenchEmail]))
    server = TestServer(app)
    await server.start_server()
    return server


async def add_channel(server: TestServer, config: dict[str, Any]) -> int:
    """An email channel row for the mailbox (as connect would leave it)."""
    app = server.app
    async with app[appkeys.SESSIONS]() as db:
        channel = Channel(
            type="email",
            name="Bench mailbox",
            config_encrypted=app[appkeys.CIPHER].encrypt(config),
            status="ok",
        )
        db.add(channel)
        await db.commit()
        return channel.id


async def poll_all(server: TestServer, channel_id: int) -> tuple[int, int]:
    """Poll until nothing more comes; (messages stored, polls)."""
    poller = server.app[appkeys.POLLER]
    stored = polls = 0
    while True:
        outcome = await poller.poll_once(channel_id)
        polls += 1
        stored += outcome.stored
        if not outcome.fetched and not outcome.advanced:
            return stored, polls


async def count_messages(server: TestServer) -> int:
    async with server.app[appkeys.SESSIONS]() as db:
        return int(await db.scalar(select(func.count()).select_from(Message)) or 0)


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def import_all(url: str, folder: Path, config: dict[str, Any]) -> tuple[int, ...]:
    """Import the mailbox into a new hub, then restart it and poll again; return
    (stored, polls, rows, new after the restart) and the seconds and RSS before."""
    server = await start_hub(url, folder)
    try:
        channel_id = await add_channel(server, config)
        started = time.perf_counter()
        stored, polls = await poll_all(server, channel_id)
        milliseconds = int((time.perf_counter() - started) * 1000)
        total = await count_messages(server)
    finally:
        await server.close()
    # A restart: a new hub (a new channel object) from the stored cursor.
    server = await start_hub(url, folder)
    try:
        again, _ = await poll_all(server, channel_id)
    finally:
        await server.close()
    return stored, polls, total, again, milliseconds


async def plugin_alone(config: dict[str, Any]) -> tuple[int, float]:
    """Poll the whole mailbox with the channel object alone (IMAP and parsing, no hub):
    (events, seconds)."""
    model = BenchEmail.Config.model_validate(config)
    async with httpx.AsyncClient() as http:
        context = ChannelContext(channel_id=1, webhook_url="https://hub.example.test/", http=http)
        channel = BenchEmail(model, context)
        events, cursor = 0, None
        started = time.perf_counter()
        while True:
            result = await channel.poll(cursor)
            events += len(result.events)
            if not result.events and result.cursor == cursor:
                return events, time.perf_counter() - started
            cursor = result.cursor


async def with_database(folder: Path, config: dict[str, Any]) -> tuple[int, ...]:
    async with migrated_database("sqlite", "", folder) as url:
        return await import_all(url, folder, config)


def run(args: argparse.Namespace) -> int:
    """Fill a mailbox, import it twice, print the figures; 1 unless all came once."""
    folder = Path(tempfile.mkdtemp(prefix="hub-email-bench-"))
    folder.chmod(0o755)  # Dovecot's unprivileged processes enter it
    dovecot = dovecot_fixture.start_dovecot(folder / "dovecot")
    try:
        user = dovecot.new_user()
        fill_seconds = fill(dovecot, user, args.messages, args.contacts, args.fill)
        print(f"put {args.messages} mails in the mailbox ({args.fill}) in {fill_seconds:.1f} s")
        config = {
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "imap_username": user,
            "imap_password": dovecot_fixture.PASSWORD,
            "smtp_host": "127.0.0.1",
            "smtp_port": 25,
            "smtp_security": "none",
            "from_address": OURS,
        }
        rss_before = peak_rss_mb()
        failures = FailureCount()
        logging.getLogger().addHandler(failures)
        logging.getLogger().setLevel(logging.ERROR)
        alone, alone_seconds = asyncio.run(plugin_alone(config))
        figures = asyncio.run(with_database(folder, config))
        stored, polls, total, again, milliseconds = figures
    finally:
        dovecot.stop()
        shutil.rmtree(folder, ignore_errors=True)

    seconds = milliseconds / 1000
    print(f"\nfirst run: {stored} messages stored in {seconds:.1f} s over {polls} polls")
    print(f"  {stored / seconds:.0f} messages/s")
    print(
        f"  (the plugin alone, IMAP and parsing without the hub: {alone} mails in "
        f"{alone_seconds:.1f} s, {alone / alone_seconds:.0f} mails/s; in the hub the intake, "
        "the commits and the media job downloading each attachment share the process)"
    )
    print(f"  peak RSS {peak_rss_mb():.0f} MB (before importing: {rss_before:.0f} MB)")
    print(f"second run (restart from the stored cursor): {again} new")
    for message, count in failures.messages.most_common():
        print(f"logged errors meanwhile: {count} x {message!r} (the hub retries them)")
    # Auto-replies and list mail are stored too (flagged automated): every mail is a message.
    ok = stored == total == args.messages and again == 0
    print("every mail imported once" if ok else f"MISMATCH: {total} rows for {args.messages} mails")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000, help="mails in the mailbox")
    parser.add_argument("--contacts", type=int, default=300, help="distinct senders")
    parser.add_argument(
        "--fill",
        choices=["maildir", "append"],
        default="maildir",
        help="write the Maildir's files (fast) or APPEND each mail over IMAP",
    )
    args = parser.parse_args(argv)
    raise SystemExit(run(args))


if __name__ == "__main__":
    main()
