"""The Redis event bus: several hub processes share realtime events over one pub/sub channel.

Every process PUBLISHes its events on the channel and SUBSCRIBEs to it; what arrives
(its own events included) goes to the process's local subscribers, the websockets.
Redis pub/sub is fire-and-forget, so events are lost while a process is cut off from
Redis (it delivers its own events locally meanwhile): after reconnecting, it publishes a
``resync`` event that tells every process's clients to refetch what they show.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from hub.events.bus import LocalFanout
from hub.events.event import HubEvent
from hub.events.redis_target import RESYNC, RedisTarget

log = logging.getLogger(__name__)

# How long start() waits for the first subscription before serving without it.
START_TIMEOUT = 5.0
# After this long without a word from Redis, the reader pings; no answer within as long
# again means the connection is dead (a silent network drop never raises by itself).
PING_AFTER = 15.0
# Publishing runs inside requests: a hung Redis must not hang them.
PUBLISH_TIMEOUT = 2.0


class RedisBus(LocalFanout):
    """Events shared by every hub process connected to one Redis (``HUB_BUS_URL=redis://…``).

    A lost connection is logged and retried with exponential backoff; the hub keeps
    serving meanwhile, delivering its own events locally.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str | None = None,
        queue_size: int = 1000,
        min_backoff: float = 0.2,
        max_backoff: float = 30.0,
    ) -> None:
        super().__init__(queue_size)
        self.target = RedisTarget.parse(url, namespace)
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._publisher: Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._ever_subscribed = False
        # The subscriber connection's name in Redis's CLIENT LIST: which process it is.
        self.client_name = f"inbox-hub-bus:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def channel(self) -> str:
        """The pub/sub channel this bus uses."""
        return self.target.channel

    @property
    def connected(self) -> bool:
        """Whether the subscription to Redis is up."""
        return self._subscribed.is_set()

    async def start(self) -> None:
        """Connect and subscribe; if Redis does not answer soon, serve without it and
        keep trying in the background."""
        self._publisher = Redis.from_url(
            self.target.url,
            socket_timeout=PUBLISH_TIMEOUT,
            socket_connect_timeout=PUBLISH_TIMEOUT,
            # One immediate retry covers a pooled connection that Redis closed.
            retry=Retry(NoBackoff(), 1),
        )
        self._reader = asyncio.create_task(self._read_forever(), name="redis-bus-reader")
        try:
            await asyncio.wait_for(self._subscribed.wait(), START_TIMEOUT)
        except TimeoutError:
            log.error(
                "realtime bus: Redis at %s does not answer; events stay in this process "
                "until it does",
                self.target.where,
            )

    async def stop(self) -> None:
        """Stop reading, close the connections and end every local subscription."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None
        for subscription in list(self._subscribers):
            subscription.close()

    async def publish(self, event: HubEvent) -> None:
        """Send ``event`` to every process. Never raises: events go out after a commit,
        and a committed change must not turn into an error for the caller."""
        if self._publisher is None or not self.connected:
            # Redis is away: the event would not come back to us, so deliver it here.
            # Not trying Redis keeps a dead one from slowing every write; the others
            # learn they missed something from the resync sent when we are back.
            self.deliver(event)
            return
        if not await self._publish_quietly(event):
            self.deliver(event)

    async def publish_all(self, events: Sequence[HubEvent]) -> None:
        """``publish`` each of ``events``, in order, in one round trip to Redis (a
        pipeline, not a transaction): a batch's events are published after its commit and
        the webhook's answer waits for them, one round trip each before. Never raises; if
        Redis fails, the events are delivered here (some may also have reached Redis)."""
        if len(events) <= 1 or self._publisher is None or not self.connected:
            for event in events:
                await self.publish(event)
            return
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.publish(self.target.channel, event.to_json())
                await pipe.execute()
        except (RedisError, OSError) as err:
            log.warning(
                "realtime bus: cannot publish %d events to Redis at %s: %s",
                len(events),
                self.target.where,
                err,
            )
            for event in events:
                self.deliver(event)

    async def _publish_quietly(self, event: HubEvent) -> bool:
        if self._publisher is None:
            return False
        try:
            await self._publisher.publish(self.target.channel, event.to_json())
        except (RedisError, OSError) as err:
            log.warning(
                "realtime bus: cannot publish %s to Redis at %s: %s",
                event.type,
                self.target.where,
                err,
            )
            return False
        return True

    async def _read_forever(self) -> None:
        delay = self.min_backoff
        while True:
            try:
                await self._read_once()
            except (RedisError, OSError) as err:
                log.warning(
                    "realtime bus: %s Redis at %s (%s); retrying in %.1fs",
                    "lost" if self._subscribed.is_set() else "cannot reach",
                    self.target.where,
                    str(err) or type(err).__name__,
                    delay,
                )
            except Exception:
                # A bug here must not end realtime for good: log it and start over.
                log.exception("realtime bus: reader failed; restarting in %.1fs", delay)
            finally:
                if self._subscribed.is_set():
                    self._subscribed.clear()
                    delay = self.min_backoff  # it worked for a while: retry soon
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)

    async def _read_once(self) -> None:
        """One connection's life: subscribe, then deliver what arrives until it fails."""
        # Retries are ours (logged, with backoff); the client's own would hide the gap.
        client = Redis.from_url(
            self.target.url,
            socket_connect_timeout=PUBLISH_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            # Named, so CLIENT LIST shows which connection is the hub's subscriber.
            client_name=self.client_name,
        )
        pubsub: PubSub = client.pubsub()
        try:
            await pubsub.subscribe(self.target.channel)
            pinged = False
            while True:
                message = await pubsub.get_message(timeout=PING_AFTER)
                if message is None:
                    if pinged:
                        raise ConnectionError("Redis did not answer a ping")
                    await pubsub.ping()
                    pinged = True
                    continue
                pinged = False
                if message["type"] == "subscribe":
                    await self._on_subscribed()
                elif message["type"] == "message":
                    self._deliver_raw(message["data"])
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8.2
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _on_subscribed(self) -> None:
        self._subscribed.set()
        if self._ever_subscribed:
            # Events published while we were away are lost, here and (ours) elsewhere:
            # tell every process's clients to refetch.
            log.info("realtime bus: reconnected to Redis at %s", self.target.where)
            await self.publish(HubEvent(RESYNC, {}))
        self._ever_subscribed = True

    def _deliver_raw(self, data: bytes) -> None:
        try:
            event = HubEvent.from_json(data)
        except (ValueError, KeyError, TypeError) as err:
            # Another process (another version?) sent something we cannot read: skip it,
            # never stop reading.
            log.warning("realtime bus: unreadable event on %s: %s", self.target.channel, err)
            return
        self.deliver(event)
