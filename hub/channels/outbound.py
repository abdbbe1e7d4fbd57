"""The outbound pipe: the outbox worker that hands agents' messages to channel plugins.

Sending a message stores it ``pending`` with an outbox row (``hub/inbox/messages.py``);
this module delivers those rows. Each delivery is three short steps, never a transaction
held open across the network:

1. **lease** — a batch of due rows is claimed: ``lease_owner`` is set to a token unique
   to this claim and ``lease_expires_at`` to now + ``outbox_lease_seconds``. On PostgreSQL
   the candidates are locked ``FOR UPDATE SKIP LOCKED``, so two workers never claim one
   row; on SQLite the single ``UPDATE … RETURNING`` runs under the database's one write
   lock. A row whose worker died is claimed again once its lease has expired.
2. **send** — once the channel's limits let it start, the lease is renewed (so the send
   begins with a full lease in hand, however long it queued), and the plugin's ``send``
   is called outside any transaction.
3. **record** — the outcome is written only where the row still carries this claim's
   token: a worker that lost its lease never overwrites a newer outcome.

What each outcome does is in ``hub/channels/outbox_outcomes.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hub import appkeys
from hub.channels.limits import DeliveryLimits
from hub.channels.outbound_message import build_outbound, load_delivery
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
from hub.inbox.channel_settings import ChannelSettings
from hub.media.store import FileMediaStore
from hub.store.models import Channel, OutboxItem
from hub.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    """One row this worker leased, with its channel's limits."""

    item_id: int
    channel_id: int
    lease: str
    concurrency: int | None
    rate: float | None


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
        self._claims = itertools.count(1)
        self.limits = DeliveryLimits(
            total=settings.outbox_concurrency,
            channel_concurrency=settings.channel_concurrency,
            channel_rate=settings.channel_rate_per_second,
        )
        self.media_store = FileMediaStore.in_data_dir(settings.data_dir)
        self.wake = asyncio.Event()

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
        while limit is None or attempted < limit:
            if stop is not None and stop.is_set():
                break
            size = self.settings.outbox_concurrency
            if limit is not None:
                size = min(size, limit - attempted)
            batch = await self._claim(size, due_by)
            if not batch:
                break
            results = await asyncio.gather(*(self._deliver(claimed) for claimed in batch))
            attempted += sum(results)
        return attempted

    async def _claim(self, size: int, due_by: datetime) -> list[Claimed]:
        now = utcnow()
        lease = f"{self.worker_id}:{next(self._claims)}"
        lease_free = or_(OutboxItem.lease_expires_at.is_(None), OutboxItem.lease_expires_at < now)
        candidates = (
            select(OutboxItem.id)
            .join(Channel, Channel.id == OutboxItem.channel_id)
            .where(
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at <= min(now, due_by),
                lease_free,
                # A disabled channel's rows wait, unattempted, until it is enabled again;
                # a deleted channel's rows are taken, to be failed with a reason.
                or_(Channel.enabled.is_(True), Channel.deleted_at.is_not(None)),
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(size)
        )
        if not self.settings.is_sqlite:
            candidates = candidates.with_for_update(of=OutboxItem, skip_locked=True)
        # A CTE runs once; PostgreSQL may run an ``IN (subquery)`` again for every row
        # it updates, which with SKIP LOCKED claims more rows than the LIMIT.
        chosen = candidates.cte("chosen")
        claim = (
            update(OutboxItem)
            .where(OutboxItem.id == chosen.c.id)
            .where(OutboxItem.status == "pending", lease_free)
            .values(
                lease_owner=lease,
                lease_expires_at=now + timedelta(seconds=self.settings.outbox_lease_seconds),
            )
            .returning(OutboxItem.id, OutboxItem.channel_id)
            .execution_options(synchronize_session=False)
        )
        async with self.app[appkeys.SESSIONS]() as db:
            rows = [(row[0], row[1]) for row in await db.execute(claim)]
            channels = {
                c.id: ChannelSettings.of(c)
                for c in await db.scalars(
                    select(Channel).where(Channel.id.in_({row[1] for row in rows}))
                )
            }
            await db.commit()
        return [
            Claimed(
                item_id=item_id,
                channel_id=channel_id,
                lease=lease,
                concurrency=channels[channel_id].max_concurrency
                if channel_id in channels
                else None,
                rate=channels[channel_id].rate_per_second if channel_id in channels else None,
            )
            for item_id, channel_id in sorted(rows)
        ]

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
                outcome = await self._send(ready)
            try:
                await self._record(claimed, outcome)
            except IntegrityError:
                if not isinstance(outcome, Sent) or outcome.provider_id is None:
                    raise
                # Another message of the channel got the same provider id at the same
                # moment: record the send without it rather than send again.
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
                await record_outcome(work, self.settings, delivery, Failed(reason, code))
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
                media_store=self.media_store,
            )
        return Ready(plugin, message)

    async def _send(self, ready: Ready) -> Outcome:
        """Call the plugin and translate what happens into an outcome."""
        # A send that outlived its lease could meet a second worker's send of the same
        # row; stopping it first keeps one sender (the retry reuses the idempotency key).
        timeout = self.settings.outbox_lease_seconds * 0.9
        try:
            async with asyncio.timeout(timeout):
                provider_id = await ready.plugin.send(ready.message)
        except RetryLater as err:
            return Retry(str(err), after=err.after)
        except PermanentFailure as err:  # WindowClosed too
            return Failed(err.message, err.code)
        except BadCredentials as err:
            reason = f"the provider refused the channel's credentials: {err}"
            return Retry(reason, channel_error=reason)
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
        """Deliver due rows whenever woken, or every ``outbox_poll_seconds``, until
        ``stop`` is set. A pass in progress finishes its batch before stopping."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.settings.outbox_poll_seconds)
            self.wake.clear()
            if stop.is_set():
                break
            try:
                await self.deliver_due(stop=stop)
            except Exception:
                log.exception("outbox: delivery pass failed; retrying")

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
