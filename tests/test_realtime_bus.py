"""The event bus: in-process delivery and overflow, and Redis between hub processes.

The Redis tests use the real Redis at 127.0.0.1:6379, each under its own namespace. In
CI (the ``CI`` variable set) a missing Redis fails them; elsewhere they are skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from hub.app import create_app
from hub.auth.visibility import ConversationScope
from hub.events import redis_bus
from hub.events.bus import MemoryBus, Subscription
from hub.events.event import HubEvent
from hub.events.factory import create_bus
from hub.events.redis_bus import RESYNC, RedisBus, RedisTarget
from hub.events.work import publish_events
from hub.realtime.ws import CLOSE_ACCESS_ENDED
from hub.settings import Settings
from hub.store.models import User
from tests.conftest import REDIS
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
WAIT = 15.0

EVENT = HubEvent(
    "conversation.updated",
    {"conversation_id": 7, "event": "assigned", "at": "2026-01-01T12:00:00+00:00"},
    scope=ConversationScope(7, 3, 2, False),
    previous=ConversationScope(7, None, 2, False),
)
NOTIFICATION = HubEvent("notification", {"kind": "assigned"}, user_ids=frozenset({3, 4}))


async def next_event(subscription: Subscription | AsyncIterator[HubEvent]) -> HubEvent:
    iterator = subscription if isinstance(subscription, AsyncIterator) else aiter(subscription)
    return await asyncio.wait_for(anext(iterator), WAIT)


# -- in-process ---------------------------------------------------------------------


async def test_memory_bus_delivers_every_event_to_every_subscriber_in_order() -> None:
    bus = MemoryBus()
    first, second = bus.subscribe(), bus.subscribe()
    await bus.publish(EVENT)
    await bus.publish(NOTIFICATION)
    for subscription in (first, second):
        iterator = aiter(subscription)
        assert [await next_event(iterator), await next_event(iterator)] == [EVENT, NOTIFICATION]


async def test_a_closed_subscription_ends_and_hears_nothing_more() -> None:
    bus = MemoryBus()
    subscription = bus.subscribe()
    subscription.close()
    await bus.publish(EVENT)
    assert [event async for event in subscription] == []
    assert not subscription.overflowed


async def test_a_subscriber_that_cannot_keep_up_is_cut_off_and_others_are_unaffected() -> None:
    bus = MemoryBus(queue_size=2)
    slow, fast = bus.subscribe(), bus.subscribe()
    fast_events = aiter(fast)
    published = [HubEvent("counts.changed", {"n": n}) for n in range(4)]
    for event in published:
        await bus.publish(event)
        assert await next_event(fast_events) == event

    assert slow.overflowed and not fast.overflowed
    # What was queued before the cut can still be read; then the subscription ends.
    assert [event async for event in slow] == [published[1]]
    later = HubEvent("counts.changed", {"n": "later"})
    await bus.publish(later)
    assert await next_event(fast_events) == later


async def test_publishing_returns_before_any_subscriber_is_woken_and_keeps_the_order() -> None:
    # The publisher (a webhook's committer, an API handler) answers before the websockets'
    # pumps run: the events are handed over on the loop's next turn, in publish order.
    bus = MemoryBus()
    subscription = bus.subscribe()
    published = [HubEvent("counts.changed", {"n": n}) for n in range(5)]
    await publish_events(bus, published[:2])
    await bus.publish(published[2])
    await publish_events(bus, published[3:])
    assert subscription._queue.empty()
    await asyncio.sleep(0)
    assert [subscription._queue.get_nowait() for _ in range(5)] == published


async def test_a_subscriber_made_after_the_publish_does_not_hear_it() -> None:
    bus = MemoryBus()
    early = bus.subscribe()
    await bus.publish(EVENT)
    late = bus.subscribe()
    await bus.publish(NOTIFICATION)
    assert [await next_event(early), await next_event(early)] == [EVENT, NOTIFICATION]
    assert await next_event(late) == NOTIFICATION


async def test_stopping_the_memory_bus_ends_every_subscription() -> None:
    bus = MemoryBus()
    subscription = bus.subscribe()
    await bus.stop()
    assert [event async for event in subscription] == []


def test_create_bus_picks_the_bus_from_the_url() -> None:
    assert isinstance(create_bus("memory://"), MemoryBus)
    assert isinstance(create_bus("redis://localhost:6379/0"), RedisBus)
    with pytest.raises(ValueError, match="unsupported bus URL"):
        create_bus("kafka://somewhere")


@pytest.mark.parametrize(
    ("url", "namespace", "expected"),
    [
        ("redis://h:6379", None, ("redis://h:6379", "inbox-hub:events")),
        ("redis://h:6379/2", None, ("redis://h:6379/2", "inbox-hub:events")),
        ("redis://h:6379/prod", None, ("redis://h:6379", "prod:inbox-hub:events")),
        ("redis://h:6379/2/prod", None, ("redis://h:6379/2", "prod:inbox-hub:events")),
        ("redis://h:6379/2/prod", "test-1", ("redis://h:6379/2", "test-1:inbox-hub:events")),
        (
            "rediss://u:pw@h/0?ssl_cert_reqs=none",
            None,
            ("rediss://u:pw@h/0?ssl_cert_reqs=none", "inbox-hub:events"),
        ),
    ],
)
def test_the_bus_url_names_the_database_and_an_optional_namespace(
    url: str, namespace: str | None, expected: tuple[str, str]
) -> None:
    target = RedisTarget.parse(url, namespace)
    assert (target.url, target.channel) == expected
    assert "pw" not in target.where


# -- Redis --------------------------------------------------------------------------


@pytest.fixture
async def start_bus(redis_url: str) -> AsyncIterator[Callable[..., Awaitable[RedisBus]]]:
    """Start Redis buses on this test's namespace (like hub processes); stop them after."""
    started: list[RedisBus] = []

    async def start(url: str = redis_url, **kwargs: Any) -> RedisBus:
        bus = RedisBus(url, **kwargs)
        started.append(bus)
        await bus.start()
        return bus

    yield start
    for bus in started:
        await bus.stop()


async def test_an_event_published_in_one_process_reaches_the_others_intact(
    start_bus: Callable[..., Awaitable[RedisBus]],
) -> None:
    here, there = await start_bus(), await start_bus()
    assert here.connected and there.connected
    listening_there, listening_here = there.subscribe(), here.subscribe()

    await here.publish(EVENT)
    await here.publish(NOTIFICATION)

    for subscription in (listening_there, listening_here):
        iterator = aiter(subscription)
        received = [await next_event(iterator), await next_event(iterator)]
        assert received == [EVENT, NOTIFICATION]
        assert received[0].scope == ConversationScope(7, 3, 2, False)
        assert received[1].user_ids == frozenset({3, 4})


async def test_a_batchs_events_go_to_redis_in_one_round_trip_and_arrive_in_order(
    start_bus: Callable[..., Awaitable[RedisBus]], monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = await start_bus(), await start_bus()
    listening_there, listening_here = there.subscribe(), here.subscribe()
    assert here._publisher is not None
    single_publishes: list[str] = []
    publish = here._publisher.publish

    async def counting(channel: str, message: str) -> int:
        single_publishes.append(message)
        return await publish(channel, message)

    monkeypatch.setattr(here._publisher, "publish", counting)
    batch = [HubEvent("counts.changed", {"n": n}) for n in range(5)]
    await publish_events(here, batch)

    assert single_publishes == []  # one pipeline, not a PUBLISH round trip per event
    for subscription in (listening_there, listening_here):
        iterator = aiter(subscription)
        assert [await next_event(iterator) for _ in batch] == batch


async def test_buses_in_other_namespaces_do_not_hear_each_other(
    start_bus: Callable[..., Awaitable[RedisBus]],
) -> None:
    here = await start_bus()
    elsewhere = await start_bus(f"{REDIS}/other-{uuid.uuid4().hex}")
    listening = elsewhere.subscribe()
    await here.publish(EVENT)
    marker = HubEvent("marker", {})
    await elsewhere.publish(marker)
    assert await next_event(listening) == marker


async def test_the_bus_reconnects_after_losing_redis_and_tells_clients_to_resync(
    start_bus: Callable[..., Awaitable[RedisBus]], caplog: pytest.LogCaptureFixture
) -> None:
    dropped = await start_bus(min_backoff=0.01)
    other = await start_bus()
    dropped_events, other_events = aiter(dropped.subscribe()), aiter(other.subscribe())

    admin = Redis.from_url(REDIS)
    try:
        with caplog.at_level(logging.INFO, logger="hub.events.redis_bus"):
            clients = await admin.client_list(_type="pubsub")
            ids = [c["id"] for c in clients if c.get("name") == dropped.client_name]
            assert len(ids) == 1
            await admin.client_kill_filter(_id=ids[0])

            # Back: both processes' clients are told they may have missed something.
            assert (await next_event(dropped_events)).type == RESYNC
            assert (await next_event(other_events)).type == RESYNC
        assert any("lost Redis" in r.getMessage() for r in caplog.records)
        assert any("reconnected" in r.getMessage() for r in caplog.records)
    finally:
        await admin.aclose()

    await other.publish(EVENT)
    assert await next_event(dropped_events) == EVENT


async def test_without_redis_events_still_reach_this_process_and_publish_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(redis_bus, "START_TIMEOUT", 0.05)
    bus = RedisBus("redis://127.0.0.1:1/nowhere", max_backoff=0.05)
    with caplog.at_level(logging.WARNING, logger="hub.events.redis_bus"):
        await bus.start()
        try:
            listening = bus.subscribe()
            assert not bus.connected
            await bus.publish(EVENT)
            assert await next_event(listening) == EVENT
        finally:
            await bus.stop()
    assert any("does not answer" in r.getMessage() for r in caplog.records)


async def test_an_assignment_in_one_hub_process_reaches_a_websocket_on_another(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    redis_url: str,
    factory: Factory,
    user_token: UserToken,
) -> None:
    # Two apps on one database and one Redis, as two `hub serve` processes would be.
    shared = settings.model_copy(update={"bus_url": redis_url})
    process_a = await aiohttp_client(create_app(shared))
    process_b = await aiohttp_client(create_app(shared))
    _, owner_auth = await user_token("owner@example.com", role="owner")
    agent, agent_auth = await user_token("agent@example.com", visibility="assigned")
    conversation = await factory.conversation(await factory.channel())

    async with process_b.ws_connect("/ws", headers=agent_auth) as socket:
        assert (await socket.receive_json(timeout=WAIT))["type"] == "hello"
        response = await process_a.post(
            f"/api/v1/conversations/{conversation.id}/assign",
            json={"user_id": agent.id},
            headers=owner_auth,
        )
        assert response.status == 200
        received = [await socket.receive_json(timeout=WAIT) for _ in range(3)]
    assert [(f["type"], f["data"].get("conversation_id")) for f in received] == [
        ("conversation.updated", conversation.id),
        ("counts.changed", None),
        ("notification", conversation.id),
    ]


async def test_a_token_revoked_in_one_hub_process_closes_its_websocket_on_another(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    redis_url: str,
    factory: Factory,
    user_token: UserToken,
) -> None:
    shared = settings.model_copy(update={"bus_url": redis_url})
    process_a = await aiohttp_client(create_app(shared))
    process_b = await aiohttp_client(create_app(shared))
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, agent_auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    listed = await process_a.get("/api/v1/tokens", headers=agent_auth)
    (token,) = (await listed.json())["items"]

    async with process_b.ws_connect("/ws", headers=agent_auth) as socket:
        assert (await socket.receive_json(timeout=WAIT))["type"] == "hello"
        revoked = await process_a.delete(f"/api/v1/tokens/{token['id']}", headers=agent_auth)
        assert revoked.status == 204
        # A change the agent could see, caused after the revocation: it must not arrive.
        url = f"/api/v1/conversations/{conversation.id}/close"
        assert (await process_a.post(url, json={}, headers=owner_auth)).status == 200
        message = await socket.receive(timeout=WAIT)
    assert message.type is WSMsgType.CLOSE, message
    assert (message.data, message.extra) == (CLOSE_ACCESS_ENDED, "API token revoked")


def test_an_events_wire_text_is_encoded_once_and_follows_its_id() -> None:
    event = HubEvent("message.created", {"conversation_id": 7, "text": "hi"})
    first = event.wire()
    assert event.wire() is first  # every socket's pump sends the same string
    assert json.loads(first) == {"type": "message.created", "data": event.data}
    logged = replace(event, id=42)
    assert json.loads(logged.wire())["id"] == 42
    assert "id" not in json.loads(event.wire())
