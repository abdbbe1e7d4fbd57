"""The poll runner: one background loop per channel whose plugin pulls its events
(``ChannelType.polls()``: Telegram in polling mode, IMAP-style channels).

Each loop calls the plugin's ``poll(cursor)`` and hands the events to the inbound pipe's
group committer exactly as a webhook's would be, logged as a ``POLL`` entry; the cursor
the plugin returned is saved in ``channels.poll_cursor`` in THE SAME transaction. A
crash before the commit therefore polls again from the old cursor (the intake's dedupe
on external id drops the repeats) and a commit stores both: nothing is skipped and
nothing is imported twice.

Several hub processes may share a PostgreSQL database: a channel is polled by the one
process holding its advisory lock, on a dedicated connection kept while it polls. On
SQLite there is one hub process by design, so no lock is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import httpx
from aiohttp import web
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from hub import appkeys
from hub.channels.admin import channel_event
from hub.channels.backoff import retry_delay
from hub.channels.group_commit import CommitterStopped
from hub.channels.inbound import summarize
from hub.contract.errors import BadCredentials, RetryLater
from hub.contract.models import InboundEvent, WebhookRequest
from hub.errors import NotFound
from hub.events.forget import CHANNEL_UPDATED
from hub.events.redis_target import RESYNC
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.inbox.intake import take_events
from hub.inbox.storable import log_row
from hub.store.engine import create_engine
from hub.store.models import Channel, InboundLogEntry
from hub.store.types import utcnow

log = logging.getLogger(__name__)

# The status reason of a channel the poller marked broken: only such an error is
# cleared by a later successful poll (an outbox error is the outbox's to clear).
POLL_ERROR_PREFIX = "polling failed: "
# First key of the two-key advisory lock ("HUBP"), so the hub's locks cannot collide
# with another application's single-key ones on a shared database.
LOCK_NAMESPACE = 0x48554250
REASON_MAX = 2000
# How often an idle poll notes the time in channels.last_polled_at (the admin's "last
# checked"): a write a minute, not one per poll.
POLLED_MARK_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did: events fetched, events newly stored, whether the cursor moved."""

    fetched: int = 0
    stored: int = 0
    advanced: bool = False


class ChannelLock:
    """The right to poll one channel: a PostgreSQL session advisory lock held on a
    connection of its own for as long as the loop polls. Always granted on SQLite."""

    def __init__(self, engine: AsyncEngine | None, channel_id: int) -> None:
        self._engine = engine
        self._channel_id = channel_id
        self._connection: AsyncConnection | None = None

    async def ensure(self) -> bool:
        """True when this process may poll now: the lock is held (checking that its
        connection still lives, since a lost connection frees the lock) or newly won."""
        if self._engine is None:
            return True
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except SQLAlchemyError:
                log.warning("lost the poll lock of channel %s; taking it again", self._channel_id)
                await self.release()
        connection = await self._engine.connect()
        try:
            won = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:ns, :id)"),
                {"ns": LOCK_NAMESPACE, "id": self._channel_id},
            )
            # The lock belongs to the session, not the transaction: end the transaction
            # so the connection never sits idle in one while the loop polls.
            await connection.commit()
        except BaseException:
            await connection.close()
            raise
        if not won:
            await connection.close()
            return False
        self._connection = connection
        return True

    async def release(self) -> None:
        """Give the lock up (closing its connection releases it on the server too)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(SQLAlchemyError, OSError):
            await connection.execute(
                text("SELECT pg_advisory_unlock(:ns, :id)"),
                {"ns": LOCK_NAMESPACE, "id": self._channel_id},
            )
            await connection.commit()
        with contextlib.suppress(SQLAlchemyError, OSError):
            await connection.close()


def _poll_request(events: list[InboundEvent]) -> WebhookRequest:
    """The inbound log's record of a poll: the provider's raw payloads as the body."""
    body = json.dumps([event.raw for event in events], default=str).encode()
    return WebhookRequest(method="POLL", url="poll", headers={}, query={}, body=body)


class Poller:
    """Runs the poll loops of one hub process and polls one channel on demand."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        self.settings = app[appkeys.SETTINGS]
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._wakes: dict[int, asyncio.Event] = {}
        self._failures: dict[int, int] = {}
        self._rescan = asyncio.Event()
        self._background: list[asyncio.Task[None]] = []
        self._lock_engine: AsyncEngine | None = None

    # --- one poll ----------------------------------------------------------------------

    async def poll_once(self, channel_id: int) -> PollOutcome:
        """Poll the channel once and store what came, cursor included, in one commit.

        Polls nothing (an empty outcome) when the channel is gone, disabled or does not
        poll. The plugin's errors (``RetryLater``, ``BadCredentials``, …) propagate.
        """
        async with self._app[appkeys.SESSIONS]() as db:
            channel = await db.get(Channel, channel_id)
        if channel is None or channel.deleted_at is not None or not channel.enabled:
            return PollOutcome()
        plugin = self._app[appkeys.CHANNELS].for_channel(channel)
        if not plugin.polls():
            return PollOutcome()
        result = await plugin.poll(channel.poll_cursor)
        events = list(result.events)
        advanced = result.cursor != channel.poll_cursor
        ours = channel.status == "error" and (channel.status_reason or "").startswith(
            POLL_ERROR_PREFIX
        )
        now = utcnow()
        checked = channel.last_polled_at
        stale = checked is None or now - checked >= POLLED_MARK_EVERY
        if not events and not advanced and not ours and not stale and not result.problems:
            return PollOutcome()  # the common idle poll: no transaction at all
        request = _poll_request(events)

        async def job(work: Work) -> int:
            row = await work.db.get(Channel, channel_id)
            if row is None or row.deleted_at is not None:
                raise NotFound("channel")
            # In this very transaction: the events and the cursor commit or fail together.
            row.poll_cursor = result.cursor
            row.last_polled_at = now
            if row.status == "error" and (row.status_reason or "").startswith(POLL_ERROR_PREFIX):
                row.status, row.status_reason = "ok", None  # the provider answered again
                work.emit(channel_event(row))
            if not events:
                if result.problems:
                    problems = "; ".join(result.problems)
                    entry = log_row(channel_id, request, "error", 200, problems, events)
                    work.db.add(InboundLogEntry(**entry))
                return 0
            if not row.enabled:  # disabled while polling: keep them for a replay
                held = log_row(channel_id, request, "held", 200, "channel disabled", events)
                work.db.add(InboundLogEntry(**held))
                return 0
            intakes = await take_events(work, row, events)
            outcome, reason = summarize(intakes)
            # What the plugin could only keep as a file is told beside what was stored.
            reason = "; ".join(filter(None, [reason, *result.problems])) or None
            work.db.add(
                InboundLogEntry(**log_row(channel_id, request, outcome, 200, reason, events))
            )
            return sum(1 for intake in intakes if intake.outcome == "stored")

        stored: int = await self._app[appkeys.INBOUND].committer.submit(job)
        return PollOutcome(fetched=len(events), stored=stored, advanced=advanced)

    async def step(self, channel_id: int) -> float:
        """One turn of a channel's loop: poll, and return how long to wait before the
        next turn (no wait after a poll that brought something: more may be queued)."""
        settings = self.settings
        try:
            outcome = await self.poll_once(channel_id)
        except RetryLater as err:
            return self._backoff(channel_id, f"the provider asked to retry later: {err}", err.after)
        except BadCredentials as err:
            self._failures.pop(channel_id, None)
            await self._mark_error(channel_id, f"the provider refused the credentials: {err}")
            return settings.poll_credentials_backoff_seconds
        except (httpx.HTTPError, TimeoutError) as err:
            return self._backoff(channel_id, f"network error: {type(err).__name__}: {err}")
        except ChannelUnavailable as err:
            return self._backoff(channel_id, err.reason)
        except (CommitterStopped, NotFound):
            return settings.poll_idle_seconds  # shutting down, or deleted meanwhile
        except Exception as err:
            log.exception("polling channel %s failed", channel_id)
            return self._backoff(channel_id, f"{type(err).__name__}: {err}", report=False)
        self._failures.pop(channel_id, None)
        if outcome.fetched and outcome.advanced:
            return 0.0
        # A plugin without a long poll answers at once: do not let it spin.
        return settings.poll_idle_seconds

    def _backoff(
        self, channel_id: int, reason: str, after: float | None = None, *, report: bool = True
    ) -> float:
        attempts = self._failures.get(channel_id, 0) + 1
        self._failures[channel_id] = attempts
        delay = retry_delay(
            attempts,
            base=self.settings.poll_backoff_seconds,
            cap=self.settings.poll_backoff_max_seconds,
            after=after,
        )
        if report:
            log.warning("polling channel %s: %s; again in %.1fs", channel_id, reason, delay)
        return delay

    async def _mark_error(self, channel_id: int, reason: str) -> None:
        """Show the admin the channel is broken (status ``error`` with the reason)."""

        async def job(work: Work) -> None:
            row = await work.db.get(Channel, channel_id)
            if row is None or row.deleted_at is not None:
                return
            row.status = "error"
            row.status_reason = (POLL_ERROR_PREFIX + reason)[:REASON_MAX]
            work.emit(channel_event(row))

        log.warning("polling channel %s: %s", channel_id, reason)
        try:
            await self._app[appkeys.INBOUND].committer.submit(job)
        except Exception:
            log.exception("could not mark channel %s as broken", channel_id)

    # --- the loops ---------------------------------------------------------------------

    def start(self) -> None:
        """Start scanning for channels to poll, and listening for channel changes."""
        url = self.settings.effective_database_url
        if not url.startswith("sqlite"):
            # Lock connections stay out of the app's pool: a held one is never returned.
            self._lock_engine = create_engine(url, poolclass=NullPool)
        self._background = [
            asyncio.create_task(self._scan_forever()),
            asyncio.create_task(self._follow_changes()),
        ]

    async def stop(self) -> None:
        """Cancel every loop (a long poll in flight with it) and give the locks up."""
        tasks = [*self._background, *self._tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._lock_engine is not None:
            await self._lock_engine.dispose()

    @property
    def polling(self) -> set[int]:
        """The ids of the channels this process runs a loop for (for tests and metrics)."""
        return {cid for cid, task in self._tasks.items() if not task.done()}

    async def scan(self) -> None:
        """Start a loop for every channel that should be polled and stop the others."""
        async with self._app[appkeys.SESSIONS]() as db:
            rows = list(
                await db.scalars(
                    select(Channel).where(Channel.enabled.is_(True), Channel.deleted_at.is_(None))
                )
            )
        wanted: set[int] = set()
        for channel in rows:
            if channel.status == "connecting":  # connect() may still be switching modes
                continue
            try:
                if self._app[appkeys.CHANNELS].for_channel(channel).polls():
                    wanted.add(channel.id)
            except ChannelUnavailable:
                continue
            except Exception:
                log.exception("channel %s: cannot tell whether it polls", channel.id)
        for channel_id in set(self._tasks) - wanted:
            self._tasks.pop(channel_id).cancel()
            self._wakes.pop(channel_id, None)
            self._failures.pop(channel_id, None)
        for channel_id in wanted:
            task = self._tasks.get(channel_id)
            if task is None or task.done():
                self._wakes[channel_id] = asyncio.Event()
                self._tasks[channel_id] = asyncio.create_task(self._run(channel_id))

    async def _scan_forever(self) -> None:
        while True:
            self._rescan.clear()
            try:
                await self.scan()
            except SQLAlchemyError:
                log.exception("scanning for channels to poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rescan.wait(), self.settings.poll_rescan_seconds)

    async def _follow_changes(self) -> None:
        """Rescan on every channel change; wake a loop waiting out a backoff when an
        admin changed its channel (not when it was marked broken: that may be us)."""
        subscription = self._app[appkeys.BUS].subscribe()
        try:
            async for event in subscription:
                if event.type not in (CHANNEL_UPDATED, RESYNC):
                    continue
                self._rescan.set()
                channel_id = event.data.get("id")
                if not isinstance(channel_id, int):
                    continue
                wake = self._wakes.get(channel_id)
                if wake is not None and event.data.get("status") != "error":
                    self._failures.pop(channel_id, None)
                    wake.set()
        finally:
            subscription.close()

    async def _run(self, channel_id: int) -> None:
        lock = ChannelLock(self._lock_engine, channel_id)
        try:
            while True:
                try:
                    mine = await lock.ensure()
                except SQLAlchemyError:
                    log.exception("channel %s: taking the poll lock failed", channel_id)
                    mine = False
                if not mine:  # another hub process polls it; see if that changes
                    await self._sleep(channel_id, self.settings.poll_rescan_seconds)
                    continue
                await self._sleep(channel_id, await self.step(channel_id))
        finally:
            await lock.release()

    async def _sleep(self, channel_id: int, seconds: float) -> None:
        wake = self._wakes.get(channel_id)
        if seconds <= 0 or wake is None:
            await asyncio.sleep(0)  # let the others run between back-to-back polls
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
        wake.clear()


async def poll_once(app: web.Application, channel_id: int) -> int:
    """Poll one channel now (outside its loop, without its lock); events newly stored."""
    return (await app[appkeys.POLLER].poll_once(channel_id)).stored
