"""The outbound pipe: the outbox worker that hands agents' messages to channel plugins.

Sending a message stores it ``pending`` with an outbox row (``hub/inbox/messages.py``);
this module delivers those rows. Each delivery is three short steps, never a transaction
held open across the network:

1. **lease** — due rows are claimed: ``lease_owner`` is set to a token unique to this
   claim and ``lease_expires_at`` to now + ``outbox_lease_seconds``. On PostgreSQL the
   candidates are locked ``FOR UPDATE SKIP LOCKED``, so two workers never claim one row;
   on SQLite the single ``UPDATE … RETURNING`` runs under the database's one write lock.
   A row whose worker died is claimed again once its lease has expired. A claim takes
   no more of a channel's rows than the channel has free send slots in this process.
2. **send** — once the channel's limits let it start, the lease is renewed (so the send
   begins with a full lease in hand, however long it queued), and the plugin's ``send``
   is called outside any transaction; the lease is extended while it is in flight
   (``hub/channels/outbox_lease.py``).
3. **record** — as soon as the provider has answered, before the send's slot is given
   to the next one, the outcome is written, only where the row still carries this
   claim's token: a worker that lost its lease never overwrites a newer outcome.

Every delivery runs as its own task, and the worker claims more rows whenever one ends:
a channel whose provider hangs holds only its own slots, never another channel's replies.

What each outcome does is in ``hub/channels/outbox_outcomes.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from hub import appkeys
from hub.channels.limits import DeliveryLimits
from hub.channels.outbound_message import build_outbound, load_delivery
from hub.channels.outbox_claims import Claimed, Claims
from hub.channels.outbox_lease import LeaseLost, extend_lease, lease_held, unless_lost
from hub.channels.outbox_outcomes import (
    Failed,
    Outcome,
    Retry,
    Sent,
    hold,
    record_outcome,
    renew_lease,
)
from hub.contract.channel import ChannelType
from hub.contract.errors import BadCredentials, PermanentFailure, RetryLater
from hub.contract.models import OutboundMessage
from hub.events.event import HubEvent
from hub.events.work import Work, unit_of_work
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ready:
    """A delivery whose checks passed: the plugin to call and what to hand it."""

    plugin: ChannelType[Any]
    message: OutboundMessage


class Outbox:
    """The outbox worker of one hub process: its lease identity, limits and wake-up."""

    def __init__(self, app: web.Application) -> None:
        settings = app[appkeys.SETTINGS]
        self.app = app
        self.settings = settings
        # Unique per process (and per app, when tests run several in one process).
        self.worker_id = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.limits = DeliveryLimits(
            total=settings.outbox_concurrency,
            channel_concurrency=settings.channel_concurrency,
            channel_rate=settings.channel_rate_per_second,
        )
        self.wake = asyncio.Event()
        self.claims = Claims(
            app[appkeys.SESSIONS], settings, self.worker_id, settings.channel_concurrency
        )

    def _work(self) -> contextlib.AbstractAsyncContextManager[Work]:
        app = self.app
        return unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS])

    # --- one pass ---------------------------------------------------------------------

    async def deliver_due(
        self, *, limit: int | None = None, stop: asyncio.Event | None = None
    ) -> int:
        """Lease and deliver every due row (at most ``limit``); return how many were
        attempted (sent, retried or failed; a row held or lost to another worker is not
        counted)."""
        # Rows rescheduled during this pass become due after its start: each row is
        # attempted at most once a pass, so a pass always ends.
        due_by = utcnow()
        attempted = 0
        running: set[asyncio.Task[bool]] = set()
        while True:
            size = self.settings.outbox_concurrency - len(running)
            if limit is not None:
                size = min(size, limit - attempted - len(running))
            if size > 0 and not (stop is not None and stop.is_set()):
                running |= (await self._start(size, due_by))[0]
            if not running:
                break
            # Claim again as soon as any delivery ends, not when the slowest does.
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            attempted += sum(task.result() for task in done)
        return attempted

    async def _start(
        self, size: int, due_by: datetime | None
    ) -> tuple[set[asyncio.Task[bool]], bool]:
        """Claim up to ``size`` due rows and start a delivery task for each; return the
        tasks, and whether the claim was full (more rows may be due)."""
        kept, full = await self.claims.take(size, due_by)
        return {asyncio.create_task(self._settle(claimed)) for claimed in kept}, full

    async def _settle(self, claimed: Claimed) -> bool:
        """Deliver ``claimed`` and give its channel's claim slot back."""
        try:
            return await self._deliver(claimed)
        finally:
            self.claims.settled(claimed)

    # --- one delivery -----------------------------------------------------------------

    async def _deliver(self, claimed: Claimed) -> bool:
        """Deliver one leased row; whether it was attempted."""
        try:
            async with self.limits.slot(
                claimed.channel_id, concurrency=claimed.concurrency, rate=claimed.rate
            ):
                ready = await self._prepare(claimed)
                if not isinstance(ready, Ready):
                    return ready
                outcome = await self._send(claimed, ready)
                # The provider has answered: until this is written, a crash sends the
                # message again. So it is written first, before the slot lets another
                # send of the channel start.
                try:
                    await self._record(claimed, outcome)
                except IntegrityError:
                    if not isinstance(outcome, Sent) or outcome.provider_id is None:
                        raise
                    # Another message of the channel got the same provider id at the
                    # same moment: record the send without it rather than send again.
                    log.warning("outbox: provider id %r is not unique", outcome.provider_id)
                    await self._record(claimed, Sent(None))
        except Exception:
            # A database error: the lease expires and the row is taken again.
            log.exception("outbox: delivering item %s failed", claimed.item_id)
            return False
        return True

    async def _prepare(self, claimed: Claimed) -> Ready | bool:
        """Renew the lease, load the rows and check the message may still go out.

        Returns what to send, or whether the row was attempted when it is settled here
        (failed: contact blocked, channel deleted, ...) or not (held, lease lost)."""
        channels = self.app[appkeys.CHANNELS]
        async with self._work() as work:
            item = await renew_lease(
                work, claimed.item_id, claimed.lease, self.settings.outbox_lease_seconds
            )
            delivery = await load_delivery(work.db, item) if item is not None else None
            if item is None or delivery is None:
                return False  # taken by another worker, or its message is gone
            channel = delivery.channel

            async def fail(reason: str, code: str) -> bool:
                # Settled before the provider is asked: no attempt to count.
                failed = Failed(reason, code, attempted=False)
                await record_outcome(work, self.settings, delivery, failed)
                return True

            if channel.deleted_at is not None:
                return await fail("the channel has been deleted", "channel_deleted")
            if not channel.enabled:
                hold(item)  # disabled since the claim: wait, unattempted
                return False
            if delivery.blocked:
                return await fail("the contact is blocked", "contact_blocked")
            if channels.types.get(channel.type) is None:
                return await fail(
                    f"the channel's type {channel.type!r} is not installed", "channel_unavailable"
                )
            try:
                plugin = channels.for_channel(channel)
            except ChannelUnavailable as err:
                # Its stored credentials no longer validate: like bad credentials, an
                # admin can fix the channel, so the message waits and retries.
                await record_outcome(
                    work, self.settings, delivery, Retry(err.reason, channel_error=err.reason)
                )
                return True
            except Exception as err:
                # The plugin's constructor failed: counted as an attempt, so a plugin
                # that always fails dead-letters the message instead of looping.
                log.exception("outbox: plugin %s could not be built", channel.type)
                error = f"unexpected error in the plugin: {type(err).__name__}: {err}"
                await record_outcome(work, self.settings, delivery, Retry(error))
                return True
            if delivery.recipient_id is None:
                return await fail("the contact has no address on this channel", "no_recipient")
            message = build_outbound(
                delivery,
                delivery.recipient_id,
                settings=self.settings,
                secret_key=self.app[appkeys.SECRET_KEY],
            )
        return Ready(plugin, message)

    async def _send(self, claimed: Claimed, ready: Ready) -> Outcome:
        """Call the plugin, holding the row's lease meanwhile, and translate what happens
        into an outcome."""
        seconds = self.settings.outbox_lease_seconds

        async def extend() -> bool:
            return await extend_lease(
                self.app[appkeys.SESSIONS], claimed.item_id, claimed.lease, seconds
            )

        try:
            async with (
                lease_held(extend, seconds) as lost,
                asyncio.timeout(self.settings.outbox_send_timeout_seconds),
            ):
                provider_id = await unless_lost(lost, ready.plugin.send(ready.message))
        except RetryLater as err:
            return Retry(str(err), after=err.after)
        except PermanentFailure as err:  # WindowClosed too
            return Failed(err.message, err.code)
        except BadCredentials as err:
            reason = f"the provider refused the channel's credentials: {err}"
            return Retry(reason, channel_error=reason)
        except LeaseLost:
            return Retry("the delivery's lease was lost during the send")
        except (httpx.TransportError, TimeoutError) as err:
            return Retry(f"network error: {type(err).__name__}: {err}".rstrip(": "))
        except Exception as err:
            log.exception(
                "outbox: plugin %s raised on message %s",
                ready.plugin.name,
                ready.message.message_id,
            )
            return Retry(f"unexpected error in the plugin: {type(err).__name__}: {err}")
        if not isinstance(provider_id, str) or not provider_id:
            # The provider accepted the message: retrying would send it twice.
            log.error("outbox: plugin %s returned no provider id", ready.plugin.name)
            return Sent(None)
        return Sent(provider_id)

    async def _record(self, claimed: Claimed, outcome: Outcome) -> None:
        async with self._work() as work:
            item = await renew_lease(work, claimed.item_id, claimed.lease, None)
            delivery = await load_delivery(work.db, item) if item is not None else None
            if delivery is None:
                log.warning(
                    "outbox: item %s was taken over while sending; its outcome (%s) is "
                    "not recorded",
                    claimed.item_id,
                    type(outcome).__name__,
                )
                return
            await record_outcome(work, self.settings, delivery, outcome)

    # --- the worker -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver due rows until ``stop`` is set: claim whenever woken (a reply queued,
        a delivery ended) or when the earliest retry falls due, and at least every
        ``outbox_poll_seconds``. Deliveries in flight finish before it returns."""
        running: set[asyncio.Task[bool]] = set()

        def ended(task: asyncio.Task[bool]) -> None:
            running.discard(task)
            self.wake.set()  # its slots are free: look for more

        pause = 0.0
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=pause)
            self.wake.clear()
            if stop.is_set():
                break
            try:
                size = self.settings.outbox_concurrency - len(running)
                full = False
                if size > 0:
                    started, full = await self._start(size, None)
                    for task in started:
                        running.add(task)
                        task.add_done_callback(ended)
                # After a full claim more rows may be due: claim again at once.
                pause = 0.0 if full else max(_MIN_PAUSE, await self.claims.next_due_in())
            except Exception:
                log.exception("outbox: claiming deliveries failed; retrying")
                pause = self.settings.outbox_poll_seconds
        # Sends in flight finish and record their outcome (cancelled with this task).
        await asyncio.gather(*running, return_exceptions=True)

    async def listen(self) -> None:
        """Wake the worker when an outbound message is queued (in any process sharing
        the bus), so it goes out at once rather than at the next poll."""
        while True:
            subscription = self.app[appkeys.BUS].subscribe()
            try:
                async for event in subscription:
                    if wakes_outbox(event):
                        self.wake.set()
            finally:
                subscription.close()
            # The bus dropped a listener that fell behind: subscribe again, and look.
            self.wake.set()
            await asyncio.sleep(0.1)


# The shortest idle wait: a row due now that no claim takes (locked by another worker's
# claim in progress) must not spin the loop.
_MIN_PAUSE = 0.02


def wakes_outbox(event: HubEvent) -> bool:
    """Whether ``event`` says an outbound message is waiting to be sent."""
    return (
        event.type in ("message.created", "message.updated")
        and event.data.get("direction") == "out"
        and event.data.get("status") == "pending"
    )


async def deliver_due(app: web.Application, *, limit: int | None = None) -> int:
    """One pass of the app's outbox: lease and deliver every due row (respecting the
    channels' limits), at most ``limit``; return how many rows were attempted."""
    return await app[appkeys.OUTBOX].deliver_due(limit=limit)
