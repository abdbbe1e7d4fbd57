"""The event bus that domain code publishes to: the in-process one, and the local fan-out
to subscribers that every bus (``hub.events.redis_bus`` too) delivers through."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from hub.events.event import HubEvent
from hub.events.journal import EventJournal

log = logging.getLogger(__name__)


class Subscription:
    """One listener's queue of events. Iterating ends when the bus drops it."""

    def __init__(self, bus: LocalFanout, size: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[HubEvent | None] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def _offer(self, event: HubEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # A listener that cannot keep up is cut off rather than slowing everyone;
            # its client reconnects and re-reads the state.
            self.overflowed = True
            self._bus.unsubscribe(self)
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.get_nowait()
                self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[HubEvent]:
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        """Stop listening; what was published before still comes out of the iteration."""
        # Events delivered but not yet handed over (LocalFanout.deliver defers that to
        # the loop's next turn) go into the queue before its end.
        self._bus._hand_over()
        self._bus.unsubscribe(self)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


class LocalFanout:
    """Delivers events to this process's subscribers."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        # Delivered, not yet handed to their subscribers (see deliver).
        self._pending: list[tuple[HubEvent, tuple[Subscription, ...]]] = []
        # The realtime event log, set by the app once the database is up; see EventBus.
        self.journal: EventJournal | None = None

    def subscribe(self) -> Subscription:
        """A new subscription to every event from now on."""
        subscription = Subscription(self, self.queue_size)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a subscription."""
        self._subscribers.discard(subscription)

    def deliver(self, event: HubEvent) -> None:
        """Hand an event to every subscriber of this moment, on the event loop's next turn.

        Not at once: the publisher is typically about to answer a request (a webhook, an
        API call), and handing the event over wakes every websocket's pump, which would
        then all run, each writing to its socket, before that answer left (200 sockets
        added tens of milliseconds to every webhook's answer). Deferred, the answer's task
        is woken first; the events are handed over in the order they were delivered.
        """
        self._pending.append((event, tuple(self._subscribers)))
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self._hand_over)
            except RuntimeError:  # no loop (a synchronous caller): nobody to wake later
                self._hand_over()

    def _hand_over(self) -> None:
        pending, self._pending = self._pending, []
        for event, subscribers in pending:
            for subscription in subscribers:
                subscription._offer(event)


class EventBus(Protocol):
    """Publish events; subscribe to every event published by any hub process.

    ``journal`` is the realtime event log the units of work append their events to
    before publishing them (``hub.events.work.publish_events``); ``None`` (a bus made
    outside the app) publishes them without ids.
    """

    journal: EventJournal | None

    async def start(self) -> None:
        """Connect, where there is something to connect to."""

    async def stop(self) -> None:
        """Disconnect and end every subscription."""

    async def publish(self, event: HubEvent) -> None:
        """Send an event to every subscriber of every process."""

    async def publish_all(self, events: Sequence[HubEvent]) -> None:
        """``publish`` each of ``events`` in order, in as few round trips as the bus can."""

    def subscribe(self) -> Subscription:
        """Listen to every event from now on."""


class MemoryBus(LocalFanout):
    """The bus of a single hub process."""

    async def start(self) -> None:
        """Nothing to connect to."""

    async def stop(self) -> None:
        """End every subscription."""
        for subscription in list(self._subscribers):
            subscription.close()

    async def publish(self, event: HubEvent) -> None:
        """Deliver to this process's subscribers."""
        self.deliver(event)

    async def publish_all(self, events: Sequence[HubEvent]) -> None:
        """``publish`` each, in order (through ``publish``, which a subclass may wrap)."""
        for event in events:
            await self.publish(event)
