"""Limits on outbound deliveries: per channel (concurrency and rate) and per process.

Providers throttle: WhatsApp Cloud API answers 429s past its per-number throughput, and
a bridged service may be a small server. So each channel has at most ``max_concurrency``
sends in flight and starts at most ``rate_per_second`` of them a second (a token bucket
allowing a burst of one second's worth), and one hub process has at most
``outbox_concurrency`` sends in flight over all channels.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class TokenBucket:
    """Starts at most ``rate`` operations a second, with a burst of ``max(1, rate)``."""

    def __init__(
        self, rate: float, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def take(self) -> None:
        """Wait until a token is available, and take it."""
        while True:
            self._refill()
            # No await between the check and the decrement: no other task can take
            # the same token. The tolerance absorbs float rounding, which could
            # otherwise leave the bucket a hair short of a token forever.
            if self._tokens >= 1 - 1e-9:
                self._tokens -= 1
                return
            await self._sleep((1 - self._tokens) / self.rate)


class DeliveryLimits:
    """The slots a delivery must hold while it sends: its channel's and the process's.

    A channel's limits may change while the hub runs (the admin edits the channel); the
    next delivery then gets a gate and bucket for the new values, and sends in flight
    finish under the old ones.
    """

    def __init__(
        self,
        *,
        total: int,
        channel_concurrency: int,
        channel_rate: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.default_concurrency = channel_concurrency
        self.default_rate = channel_rate
        self._total = asyncio.Semaphore(total)
        self._clock = clock
        self._sleep = sleep
        self._gates: dict[int, tuple[int, asyncio.Semaphore]] = {}
        self._buckets: dict[int, TokenBucket] = {}

    def _gate(self, channel_id: int, concurrency: int) -> asyncio.Semaphore:
        held = self._gates.get(channel_id)
        if held is None or held[0] != concurrency:
            held = (concurrency, asyncio.Semaphore(concurrency))
            self._gates[channel_id] = held
        return held[1]

    def _bucket(self, channel_id: int, rate: float) -> TokenBucket:
        bucket = self._buckets.get(channel_id)
        if bucket is None or bucket.rate != rate:
            bucket = TokenBucket(rate, clock=self._clock, sleep=self._sleep)
            self._buckets[channel_id] = bucket
        return bucket

    @asynccontextmanager
    async def slot(
        self, channel_id: int, *, concurrency: int | None = None, rate: float | None = None
    ) -> AsyncIterator[None]:
        """Hold a send slot of ``channel_id`` (its own limits, or the hub's defaults when
        ``None``) and of the process, for the duration of the block."""
        gate = self._gate(channel_id, concurrency or self.default_concurrency)
        bucket = self._bucket(channel_id, rate or self.default_rate)
        # The channel's gate first: a busy channel's queue then waits without holding
        # process-wide slots that other channels could use.
        async with gate:
            await bucket.take()
            async with self._total:
                yield
