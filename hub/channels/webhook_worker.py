"""Sending outgoing webhooks: a worker leases due deliveries, posts each signed to its
subscription's URL, and records the outcome.

Like the outbox (``hub.channels.outbound``): a delivery is claimed with a lease (a token
unique to the claim, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two hub processes
never send the same attempt; the outcome is written only while the lease is still the
worker's; a delivery whose worker died is claimed again once its lease runs out, so
retries survive a restart. A 2xx answer is ``delivered``; anything else (another status,
a timeout, a refused address) is retried with exponential backoff and jitter until
``give_up_at`` (a day), then ``failed``; ``410 Gone`` fails it at once and disables the
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import __version__
from hub.channels.backoff import retry_delay
from hub.channels.webhook_guard import GuardedResolver, UnsafeAddress, check_url, describe
from hub.channels.webhook_subscriptions import secret_of, sign
from hub.events.bus import EventBus
from hub.settings import Settings
from hub.store.crypto import ConfigCipher
from hub.store.models import WebhookDelivery, WebhookSubscription
from hub.store.pruning import delete_in_batches
from hub.store.types import utcnow

log = logging.getLogger(__name__)

# The realtime events announced after a commit whose unit of work may have written
# deliveries (conversation notices come with a conversation.updated event). They wake
# the worker only while some subscription is enabled, as this process's delivery
# recorder last found: with none, waking on every message cost a claim query per
# message (and, on SQLite, a write lock taken beside the inbound webhooks'). Deliveries
# another process wrote are sent by that process's worker, or by any at its next poll.
WAKING_EVENTS = frozenset({"message.created", "conversation.updated", "contact.updated"})


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the HTTP status (``None``: no answer) and an error."""

    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookWorker:
    """Claims and sends due deliveries; ``run`` loops until stopped, ``run_once`` is
    one pass (tests call it)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        cipher: ConfigCipher,
        worker_id: str,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.cipher = cipher
        self.worker_id = worker_id
        self._claims = itertools.count(1)
        self.wake = asyncio.Event()
        # Whether any subscription was enabled when this process last looked.
        self.subscribed = False
        self._guarded: aiohttp.ClientSession | None = None
        self._open: aiohttp.ClientSession | None = None
        self._resolver: GuardedResolver | None = None

    def _client(self, allow_private: bool) -> aiohttp.ClientSession:
        headers = {"User-Agent": f"inbox-hub-webhooks/{__version__}"}
        if allow_private:
            if self._open is None:
                self._open = aiohttp.ClientSession(headers=headers)
            return self._open
        if self._guarded is None:
            self._resolver = GuardedResolver()
            connector = aiohttp.TCPConnector(resolver=self._resolver)
            self._guarded = aiohttp.ClientSession(connector=connector, headers=headers)
        return self._guarded

    async def close(self) -> None:
        """Close the HTTP clients."""
        for client in (self._guarded, self._open):
            if client is not None:
                await client.close()
        self._guarded = self._open = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    async def run(self, stop: asyncio.Event) -> None:
        """Send due deliveries until ``stop`` is set; a failed pass is logged and the
        next one tried."""
        while not stop.is_set():
            # Cleared before the pass: a wake that comes while it runs (a change committed
            # after its claim) makes the next wait return at once.
            self.wake.clear()
            sent = 0
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("webhook worker pass failed")
            if sent or stop.is_set():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.settings.webhook_poll_seconds)

    def note_subscriptions(self, enabled: bool) -> None:
        """What the delivery recorder found: whether any subscription is enabled."""
        self.subscribed = enabled

    async def listen(self, bus: EventBus) -> None:
        """Wake the worker when a change that may have written deliveries is announced
        (in any process sharing the bus) while subscriptions are enabled, so they go out
        at once, not at the next poll."""
        while True:
            subscription = bus.subscribe()
            try:
                async for event in subscription:
                    if event.type in WAKING_EVENTS and self.subscribed:
                        self.wake.set()
            finally:
                subscription.close()
            # The bus dropped a listener that fell behind: subscribe again, and look.
            self.wake.set()
            await asyncio.sleep(0.1)

    async def run_once(self) -> int:
        """Claim up to ``webhook_concurrency`` due deliveries and send them together;
        return how many were claimed."""
        lease, ids = await self.claim(self.settings.webhook_concurrency)
        if ids:
            await asyncio.gather(*(self.deliver(i, lease) for i in ids))
        return len(ids)

    async def claim(self, size: int) -> tuple[str, list[int]]:
        """Lease up to ``size`` due pending deliveries of enabled subscriptions."""
        now = utcnow()
        lease = f"{self.worker_id}:{next(self._claims)}"
        lease_free = or_(
            WebhookDelivery.lease_expires_at.is_(None), WebhookDelivery.lease_expires_at < now
        )
        candidates = (
            select(WebhookDelivery.id)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                lease_free,
                WebhookSubscription.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(size)
        )
        if not self.settings.is_sqlite:
            candidates = candidates.with_for_update(of=WebhookDelivery, skip_locked=True)
        chosen = candidates.cte("chosen")
        claim = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id == chosen.c.id)
            .where(WebhookDelivery.status == "pending", lease_free)
            .values(
                lease_owner=lease,
                lease_expires_at=now + timedelta(seconds=self.settings.webhook_lease_seconds),
            )
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        async with self.sessions() as db:
            ids = sorted(await db.scalars(claim))
            await db.commit()
        return lease, ids

    async def deliver(self, delivery_id: int, lease: str) -> None:
        """Send one claimed delivery and record the outcome (if the lease is still ours)."""
        async with self.sessions() as db:
            delivery = await db.get(WebhookDelivery, delivery_id)
            subscription = (
                await db.get(WebhookSubscription, delivery.subscription_id) if delivery else None
            )
        if delivery is None or subscription is None:
            return  # deleted meanwhile, with its subscription
        if not subscription.enabled:  # disabled since the claim: not attempted
            await self.release(delivery_id, lease)
            return
        try:
            outcome = await self.attempt(delivery, subscription)
        except Exception as err:  # never leave a claimed row without an outcome
            log.exception("webhook delivery %s failed unexpectedly", delivery_id)
            outcome = Outcome(None, describe(err))
        await self.record(delivery, lease, outcome)

    async def attempt(
        self, delivery: WebhookDelivery, subscription: WebhookSubscription
    ) -> Outcome:
        """POST the delivery's envelope, signed, to the subscription's URL."""
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        headers = {
            **sign(secret_of(self.cipher, subscription), body),
            "Content-Type": "application/json",
            "Idempotency-Key": delivery.event_id,
            "X-Hub-Event": delivery.event_type,
            "X-Hub-Delivery": str(delivery.id),
        }
        if not subscription.allow_private:
            try:
                await check_url(subscription.url)
            except UnsafeAddress as err:
                return Outcome(None, describe(f"refused: {err}"))
        client = self._client(subscription.allow_private)
        timeout = aiohttp.ClientTimeout(total=self.settings.webhook_timeout_seconds)
        try:
            async with client.post(
                subscription.url, data=body, headers=headers, timeout=timeout, allow_redirects=False
            ) as response:
                text = (await response.content.read(500)).decode("utf-8", "replace")
                error = None if 200 <= response.status < 300 else f"HTTP {response.status}: {text}"
                return Outcome(response.status, describe(error) if error else None)
        except TimeoutError:
            return Outcome(None, f"no answer within {self.settings.webhook_timeout_seconds:g} s")
        except aiohttp.ClientError as err:
            return Outcome(None, describe(err))

    async def release(self, delivery_id: int, lease: str) -> None:
        """Give back a claimed delivery without attempting it."""
        async with self.sessions() as db:
            await db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_owner == lease)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )
            await db.commit()

    async def record(self, delivery: WebhookDelivery, lease: str, outcome: Outcome) -> None:
        """Write the attempt's outcome: delivered, retried later, or failed."""
        now = utcnow()
        attempts = delivery.attempts + 1
        values: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        gone = outcome.status_code == 410
        if outcome.delivered:
            values |= {"status": "delivered", "delivered_at": now}
        else:
            delay = retry_delay(
                attempts,
                base=self.settings.webhook_backoff_seconds,
                cap=self.settings.webhook_backoff_max_seconds,
            )
            next_at = now + timedelta(seconds=delay)
            if gone or next_at > delivery.give_up_at:
                values |= {"status": "failed"}
            else:
                values |= {"next_attempt_at": next_at}
        async with self.sessions() as db:
            result = await db.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery.id, WebhookDelivery.lease_owner == lease)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 1) == 0:
                log.warning("webhook delivery %s: lease lost; outcome not recorded", delivery.id)
            elif gone:
                await db.execute(
                    update(WebhookSubscription)
                    .where(WebhookSubscription.id == delivery.subscription_id)
                    .values(enabled=False, disabled_reason="the receiver answered 410 Gone")
                )
            await db.commit()


async def prune_deliveries(sessions: async_sessionmaker[AsyncSession], keep_days: int) -> int:
    """Delete delivered and failed deliveries older than ``keep_days`` (0: keep all)."""
    if keep_days <= 0:
        return 0
    before = utcnow() - timedelta(days=keep_days)
    return await delete_in_batches(
        sessions,
        WebhookDelivery,
        (WebhookDelivery.status.in_(("delivered", "failed")))
        & (WebhookDelivery.created_at < before),
    )
