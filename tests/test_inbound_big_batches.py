"""Big webhook batches: a cap on the events per request, and a big batch stored in
chunks that let other channels' webhooks in between, acknowledged once all is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.inbox.intake_batch import Delivery
from hub.settings import Settings
from hub.store.models import Channel, InboundLogEntry, Message
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


async def messages_of(db: Sessions, channel: Channel) -> int:
    async with db() as session:
        query = select(func.count()).select_from(Message).where(Message.channel_id == channel.id)
        return int(await session.scalar(query) or 0)


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", "Big")


async def test_a_request_over_the_event_cap_is_413_logged_and_not_stored(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    channel: Channel,
    db: Sessions,
) -> None:
    capped = settings.model_copy(update={"webhook_max_events": 3})
    hub = await aiohttp_client(create_app(capped, plugins=manager()))

    over = await post(hub, channel.id, *(message(f"m{i}", sender=f"s{i}") for i in range(4)))

    assert over.status == 413, await over.text()
    error = (await over.json())["error"]
    assert error["code"] == "too_large"
    assert "4 events" in error["message"] and "at most 3" in error["message"]
    assert await messages_of(db, channel) == 0
    async with db() as session:
        entry = (await session.scalars(select(InboundLogEntry))).one()
    assert (entry.result, entry.status_code) == ("rejected", 413)

    at_cap = await post(hub, channel.id, *(message(f"m{i}", sender=f"s{i}") for i in range(3)))
    assert at_cap.status == 200, await at_cap.text()
    assert await messages_of(db, channel) == 3


Submit = Callable[..., Awaitable[Any]]


def hold_second_chunk(
    hub: Client, monkeypatch: pytest.MonkeyPatch, channel: Channel, gate: asyncio.Event
) -> asyncio.Event:
    """Hold the channel's second chunk before it reaches the committer until ``gate``
    is set; the returned event is set once it got there."""
    committer = hub.app[appkeys.INBOUND].committer
    submit: Submit = committer.submit
    reached = asyncio.Event()
    chunks = 0

    async def held(run: Any, hint: Any = None) -> Any:
        nonlocal chunks
        if isinstance(hint, Delivery) and hint.channel_id == channel.id:
            chunks += 1
            if chunks == 2:
                reached.set()
                await gate.wait()
        return await submit(run, hint)

    monkeypatch.setattr(committer, "submit", held)
    return reached


@pytest.fixture
async def chunked(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(
        create_app(settings.model_copy(update={"inbound_chunk_events": 5}), plugins=manager())
    )


BIG = [message(f"big-{i}", sender=f"s{i % 4}") for i in range(15)]


async def test_another_channel_is_stored_and_answered_while_a_big_batch_is_stored(
    chunked: Client,
    channel: Channel,
    factory: Factory,
    db: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = await factory.channel("double", "Small")
    gate = asyncio.Event()
    reached = hold_second_chunk(chunked, monkeypatch, channel, gate)
    big = asyncio.create_task(post(chunked, channel.id, *BIG))
    await asyncio.wait_for(reached.wait(), timeout=30)

    # The big batch is half way: its first chunk is committed, the rest to come.
    small = await post(chunked, other.id, message("small-1"))

    assert small.status == 200, await small.text()
    assert await messages_of(db, other) == 1
    assert not big.done()
    assert await messages_of(db, channel) == 5
    gate.set()
    response = await big
    assert response.status == 200, await response.text()
    assert (await response.json())["events"] == 15
    assert await messages_of(db, channel) == 15
    async with db() as session:
        entry = (
            await session.scalars(
                select(InboundLogEntry).where(InboundLogEntry.channel_id == channel.id)
            )
        ).one()
    assert (entry.result, entry.event_count) == ("stored", 15)


async def test_a_retry_after_a_partial_store_stores_each_event_once(
    chunked: Client,
    channel: Channel,
    db: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    committer = chunked.app[appkeys.INBOUND].committer
    submit: Submit = committer.submit
    chunks = 0

    async def failing_second(run: Any, hint: Any = None) -> Any:
        nonlocal chunks
        chunks += 1
        if chunks == 2:
            raise RuntimeError("the disk is full")
        return await submit(run, hint)

    monkeypatch.setattr(committer, "submit", failing_second)
    first = await post(chunked, channel.id, *BIG)
    assert first.status == 503, await first.text()
    assert await messages_of(db, channel) == 5  # the first chunk is durable
    monkeypatch.setattr(committer, "submit", submit)

    retry = await post(chunked, channel.id, *BIG)

    assert retry.status == 200, await retry.text()
    assert (await retry.json())["result"] == "stored"
    assert await messages_of(db, channel) == 15
    async with db() as session:
        ids = list(
            await session.scalars(
                select(Message.external_id).where(Message.channel_id == channel.id)
            )
        )
    assert sorted(ids) == sorted(f"big-{i}" for i in range(15))
    again = await post(chunked, channel.id, *BIG)
    assert (await again.json())["result"] == "duplicate"
