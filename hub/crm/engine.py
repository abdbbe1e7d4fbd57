"""The CRM engine of a running hub: the shared parts, the background work the inbox
never waits for (first links and refreshes asked for by a read, pushes after contact
changes), and the periodic jobs (pulls, transcripts, bulk links resumed after a
restart)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select

from hub.crm import bulk, sync, transcripts
from hub.crm.calls import CrmCallFailed
from hub.crm.connections import CrmAdmin
from hub.crm.env import CrmEnv
from hub.crm.links import link_contact, link_of, refresh_link
from hub.crm.settings import CrmSettings
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.store.models import Conversation, CrmConnection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrmOptions:
    """How often the periodic jobs run; ``background`` off runs none of them (tests
    drive the engine's steps themselves)."""

    pull_seconds: float = 300.0
    transcript_seconds: float = 60.0
    background: bool = True


class CrmEngine:
    """Owns the engine's background tasks; one per hub process."""

    def __init__(self, env: CrmEnv, options: CrmOptions | None = None) -> None:
        self.env = env
        self.admin = CrmAdmin(env, on_create=self._connection_created)
        # Whether the hub has any CRM connection, as the last pull saw (None: not known
        # yet). Without one, contact changes and closed conversations start no work: a
        # hub without a CRM pays nothing for the engine on its hot paths.
        self._any_connection: bool | None = None
        self.options = options or CrmOptions()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._wake_transcripts = asyncio.Event()
        # (connection id, contact id) → when a lookup last found no record.
        self._missed: dict[tuple[int, int], float] = {}

    # --- one-off work -----------------------------------------------------------------

    def schedule(self, key: str, job: Callable[[], Awaitable[object]]) -> bool:
        """Run ``job`` in the background unless the same ``key`` is running; whether
        it was started."""
        running = self._tasks.get(key)
        if running is not None and not running.done():
            return False

        async def run() -> None:
            try:
                await job()
            except CrmCallFailed as err:
                log.info("CRM job %s: %s", key, err.message)
            except Exception:
                log.exception("CRM job %s failed", key)
            finally:
                self._tasks.pop(key, None)

        self._tasks[key] = asyncio.create_task(run(), name=f"crm:{key}")
        return True

    def refresh_soon(self, connection_id: int, contact_id: int, *, every: float = 300.0) -> bool:
        """Link the contact (when not yet) or refresh its cached values, in the
        background; whether a job started. A contact the CRM had no record of is not
        looked up again for ``every`` seconds (an open sidebar must not search the CRM
        on every read)."""
        key = (connection_id, contact_id)
        missed = self._missed.get(key)
        if missed is not None and time.monotonic() - missed < every:
            return False

        async def job() -> None:
            async with self.env.sessions() as db:
                link = await link_of(db, connection_id, contact_id)
            if link is None:
                outcome = (await link_contact(self.env, connection_id, contact_id)).outcome
                if outcome in ("not_found", "taken"):
                    self._missed[key] = time.monotonic()
                else:
                    self._missed.pop(key, None)
            else:
                await refresh_link(self.env, connection_id, contact_id)

        return self.schedule(f"refresh:{connection_id}:{contact_id}", job)

    def _connection_created(self) -> None:
        self._any_connection = True

    def push_soon(self, contact_id: int) -> None:
        """Push the contact's mapped fields to every connection that pushes."""
        if self._any_connection is False:
            return

        async def job() -> None:
            for connection_id in await sync.pushing_connections(self.env):
                await sync.push_contact(self.env, connection_id, contact_id)

        self.schedule(f"push:{contact_id}", job)

    def transcript_soon(self, conversation_id: int) -> None:
        """Log a just-closed conversation on each connection that logs transcripts,
        linking its contact first (per the linking rule) where it has no record yet."""
        if self._any_connection is False:
            return

        async def job() -> None:
            async with self.env.sessions() as db:
                conversation = await db.get(Conversation, conversation_id)
                if conversation is None:
                    return
                contact_id = conversation.contact_id
                connections = [
                    c.id
                    for c in await db.scalars(select(CrmConnection).order_by(CrmConnection.id))
                    if sync.usable(c) and CrmSettings.of(c).transcripts
                ]
            for connection_id in connections:
                async with self.env.sessions() as db:
                    linked = await link_of(db, connection_id, contact_id) is not None
                if not linked:
                    try:
                        await link_contact(self.env, connection_id, contact_id)
                    except CrmCallFailed as err:
                        log.info(
                            "CRM connection %s: no link for a transcript: %s",
                            connection_id,
                            err.message,
                        )
                        continue
                await transcripts.log_transcript(self.env, connection_id, conversation_id)

        self.schedule(f"transcript:{conversation_id}", job)

    def run_bulk_soon(self, job_id: int) -> None:
        """Run (or resume) a bulk link job in the background."""
        self.schedule(f"bulk:{job_id}", lambda: bulk.run_job(self.env, job_id))

    async def idle(self) -> None:
        """Wait until no one-off work is running (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    # --- periodic jobs ----------------------------------------------------------------

    async def pull_all(self) -> None:
        """Pull every usable connection once, then push what changed in the hub."""
        async with self.env.sessions() as db:
            ids = list(await db.scalars(select(CrmConnection.id).order_by(CrmConnection.id)))
        # Another process may create one meanwhile: its changes wait for the next pull's
        # sweep (push_due, the transcript sweep), as events missed in a restart do.
        self._any_connection = bool(ids)
        for connection_id in ids:
            await sync.pull(self.env, connection_id)
            await sync.push_due(self.env, connection_id)

    async def log_transcripts(self) -> int:
        """Log every due transcript once; how many were logged."""
        logged = 0
        for connection_id, conversation_id in await transcripts.due_transcripts(self.env):
            outcome = await transcripts.log_transcript(self.env, connection_id, conversation_id)
            logged += outcome == "logged"
        return logged

    def start(self) -> None:
        """Start the periodic jobs and the bus listener, and resume bulk jobs."""
        if not self.options.background:
            return
        self._loops = [
            asyncio.create_task(self._every(self.pull_all, self.options.pull_seconds, None)),
            asyncio.create_task(
                self._every(
                    self.log_transcripts, self.options.transcript_seconds, self._wake_transcripts
                )
            ),
            asyncio.create_task(self.listen(self.env.bus)),
            asyncio.create_task(self.resume_bulk_jobs()),
        ]

    async def stop(self, grace: float) -> None:
        """Stop the loops and let one-off work finish (cancelled after ``grace``)."""
        self._stop.set()
        self._wake_transcripts.set()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        pending = list(self._tasks.values())
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _every(
        self, job: Callable[[], Awaitable[object]], seconds: float, wake: asyncio.Event | None
    ) -> None:
        while not self._stop.is_set():
            try:
                await job()
            except Exception:
                log.exception("CRM job %s failed; again in %ss", job.__name__, seconds)
            waiter = wake or self._stop
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout=seconds)
            if wake is not None:
                wake.clear()

    async def resume_bulk_jobs(self) -> None:
        """Run again the bulk link jobs a stopped process left ``running``."""
        for job_id in await bulk.running_jobs(self.env):
            self.run_bulk_soon(job_id)

    async def listen(self, bus: EventBus) -> None:
        """Push contacts changed in the hub; log transcripts of conversations just
        closed. Events may be lost (a restart, falling behind): the transcript sweep
        catches up, and the next change of a contact pushes all its mapped fields."""
        while not self._stop.is_set():
            subscription = bus.subscribe()
            try:
                async for event in subscription:
                    self._heard(event)
            finally:
                subscription.close()
            if not subscription.overflowed:
                return
            log.warning("CRM listener fell behind; resubscribed")

    def _heard(self, event: HubEvent) -> None:
        if event.type == "contact.updated" and event.data.get("change") != "crm":
            contact_id = event.data.get("contact_id")
            if isinstance(contact_id, int):
                self.push_soon(contact_id)
        elif event.type == "conversation.updated" and event.data.get("event") == "closed":
            conversation_id = event.data.get("conversation_id")
            if isinstance(conversation_id, int):
                self.transcript_soon(conversation_id)
