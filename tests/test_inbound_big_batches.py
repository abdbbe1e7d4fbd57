"""Big webhook batches: a cap on the events per request, and a big batch stored in
chunks that let other channels' webhooks in between, acknowledged once all is stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
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
