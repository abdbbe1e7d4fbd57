"""The outbox worker keeps channels apart and holds its leases: a channel whose provider
hangs never delays another channel's replies, a retry goes out when its backoff says, and
a send longer than the lease is never taken over by another worker.

The scripted channel of ``tests/outbound_doubles.py`` plays the providers; the app, the
database, the bus and the background worker are real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.appkeys import OUTBOX
from hub.channels.outbound import deliver_due
from hub.contract import RetryLater
from hub.contract.models import OutboundMessage
from hub.settings import Settings
from hub.store.models import Message, OutboxItem, User
from hub.testing import eventually
from tests.factories import Factory
from tests.outbound_doubles import Script, queue_message, scripted_channel, scripted_manager

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


async def statuses(db: Sessions, message_ids: list[int]) -> list[str]:
    async with db() as session:
        messages = [await session.get(Message, one) for one in message_ids]
    return [message.status if message is not None else "gone" for message in messages]


async def test_a_hanging_channel_never_holds_back_another_channels_reply(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
    user_token: Callable[..., Awaitable[tuple[User, dict[str, str]]]],
) -> None:
    release = asyncio.Event()
    script = Script()
    hanging = await scripted_channel(factory)  # the hub's default: 4 sends at once
    healthy = await scripted_channel(factory)
    stuck = [await queue_message(factory, hanging, f"stuck {n}") for n in range(8)]
    stuck_conversations = {queued.conversation.id for queued in stuck}

    async def hang(message: OutboundMessage) -> None:
        if message.conversation_id in stuck_conversations:
            await release.wait()  # the provider does not answer

    script.during = hang
    # The poll is an hour: only the bus and the worker's own wake-ups make sends happen.
    settings = settings.model_copy(update={"outbox_poll_seconds": 3600})
    client = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    client.app[OUTBOX].wake.set()
    await eventually(lambda: script.in_flight == 4)

    # A reply on the healthy channel, through the API, while the four sends hang.
    _, auth = await user_token("agent@example.com")
    conversation = (await queue_message(factory, healthy, "earlier")).conversation
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages", json={"text": "hi"}, headers=auth
    )
    assert response.status == 201, await response.text()
    reply = (await response.json())["id"]

    async def sent() -> None:
        assert await statuses(db, [reply]) == ["sent"]

    await eventually(sent)
    assert script.in_flight == 4 and not release.is_set()  # still hanging meanwhile

    release.set()
    stuck_ids = [queued.message.id for queued in stuck]

    async def all_sent() -> None:
        assert await statuses(db, stuck_ids) == ["sent"] * 8

    await eventually(all_sent)


async def test_a_retry_goes_out_when_its_backoff_ends_not_at_the_next_poll(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    script = Script(RetryLater("busy"))
    settings = settings.model_copy(
        update={
            "outbox_poll_seconds": 3600,
            "outbox_backoff_seconds": 0.2,
            "outbox_backoff_max_seconds": 0.2,
        }
    )
    client = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    queued = await queue_message(factory, await scripted_channel(factory))
    client.app[OUTBOX].wake.set()

    async def sent() -> None:
        assert await statuses(db, [queued.message.id]) == ["sent"]

    await eventually(sent)
    assert [m.message_id for m in script.calls] == [queued.message.id] * 2


async def test_a_send_outlasting_the_lease_keeps_it_and_is_never_taken_over(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    # Two hub processes on one database; the lease is 1.5 s, the send takes 3.5 s.
    lease = 1.5
    settings = settings.model_copy(
        update={
            "outbox_poll_seconds": 3600,
            "outbox_lease_seconds": lease,
            "outbox_send_timeout_seconds": 30,
        }
    )
    script = Script()
    first = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    second = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    queued = await queue_message(factory, await scripted_channel(factory))
    taken_by_second: list[int] = []

    async def slow_provider(_: OutboundMessage) -> None:
        if len(script.calls) > 1:
            return  # the second process's send of the same row
        await asyncio.sleep(lease * 2 + 0.5)
        # Well past the lease it started with, the other process looks for work.
        taken_by_second.append(await deliver_due(second.app))

    script.during = slow_provider
    assert await deliver_due(first.app) == 1
    assert taken_by_second == [0]
    assert [m.message_id for m in script.calls] == [queued.message.id]
    async with db() as session:
        item = await session.get(OutboxItem, queued.item.id)
        message = await session.get(Message, queued.message.id)
    assert item is not None and message is not None
    assert (message.status, item.status, item.lease_owner) == ("sent", "done", None)


async def test_a_send_whose_row_another_worker_took_is_stopped_and_records_nothing(
    settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    # The database was out of reach long enough for the lease to run out, and another
    # worker took the row: the first send is stopped, so one sender remains.
    settings = settings.model_copy(
        update={
            "outbox_poll_seconds": 3600,
            "outbox_lease_seconds": 0.6,
            "outbox_send_timeout_seconds": 60,
        }
    )
    script = Script()
    client = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    queued = await queue_message(factory, await scripted_channel(factory))
    stopped = asyncio.Event()

    async def taken_over_then_hangs(_: OutboundMessage) -> None:
        async with db() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == queued.item.id)
                .values(lease_owner="other-host:1:1")
            )
            await session.commit()
        try:
            await asyncio.sleep(60)  # stopped long before the send timeout
        except asyncio.CancelledError:
            stopped.set()
            raise

    script.during = taken_over_then_hangs
    await asyncio.wait_for(deliver_due(client.app), timeout=30)
    assert stopped.is_set()
    async with db() as session:
        item = await session.get(OutboxItem, queued.item.id)
        message = await session.get(Message, queued.message.id)
    assert item is not None and message is not None
    assert (message.status, item.status, item.attempts, item.lease_owner) == (
        "pending",
        "pending",
        0,
        "other-host:1:1",
    )
