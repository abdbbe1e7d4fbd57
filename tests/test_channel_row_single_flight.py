"""The cached channel row, when missing: requests that miss it together share one
read, a cancelled reader does not fail the others, and a change starts a new read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.registry import ChannelInstances
from hub.settings import Settings
from tests.channel_doubles import manager
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


class GatedSessions:
    """A session factory that counts the sessions opened and holds each at the door
    until ``gate`` is set, so concurrent callers are all waiting at once."""

    def __init__(self, inner: Sessions) -> None:
        self.inner = inner
        self.opened = 0
        self.gate = asyncio.Event()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        self.opened += 1
        await self.gate.wait()
        async with self.inner() as session:
            yield session

    @property
    def factory(self) -> Sessions:
        return cast(Sessions, self)


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


def instances(hub: Client) -> ChannelInstances:
    return hub.app[appkeys.CHANNELS]


@pytest.fixture
def sessions(hub: Client) -> GatedSessions:
    return GatedSessions(hub.app[appkeys.SESSIONS])


@pytest.fixture
async def channel_id(factory: Factory) -> int:
    return (await factory.channel("double", "Double")).id


def start_read(hub: Client, sessions: GatedSessions, channel_id: int) -> asyncio.Task[Any]:
    """A request for the row, running."""
    return asyncio.create_task(instances(hub).channel_row(sessions.factory, channel_id))


async def settle() -> None:
    """Let every started task run up to where it waits."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_missing_the_row_together_read_it_once(
    hub: Client, sessions: GatedSessions, channel_id: int
) -> None:
    callers = [start_read(hub, sessions, channel_id) for _ in range(20)]
    await settle()
    sessions.gate.set()
    rows = await asyncio.gather(*callers)

    assert sessions.opened == 1
    assert rows[0] is not None and rows[0].id == channel_id
    assert all(row is rows[0] for row in rows)


async def test_unknown_ids_are_read_once_too_and_not_cached(
    hub: Client, sessions: GatedSessions
) -> None:
    sessions.gate.set()
    callers = [instances(hub).channel_row(sessions.factory, 4242) for _ in range(5)]

    assert await asyncio.gather(*callers) == [None] * 5
    assert sessions.opened == 1
    assert await instances(hub).channel_row(sessions.factory, 4242) is None
    assert sessions.opened == 2


async def test_a_cancelled_reader_leaves_the_others_to_read_for_themselves(
    hub: Client, sessions: GatedSessions, channel_id: int
) -> None:
    reader = start_read(hub, sessions, channel_id)
    await settle()
    waiters = [start_read(hub, sessions, channel_id) for _ in range(3)]
    await settle()
    reader.cancel()
    await settle()
    sessions.gate.set()
    rows = await asyncio.gather(*waiters)

    assert reader.cancelled()
    assert all(row is not None and row.id == channel_id for row in rows)
    assert sessions.opened == 2  # the cancelled read, then one read for the three


async def test_a_request_after_a_change_does_not_join_a_read_begun_before_it(
    hub: Client, sessions: GatedSessions, channel_id: int
) -> None:
    before = start_read(hub, sessions, channel_id)
    await settle()
    instances(hub).forget(channel_id)
    after = start_read(hub, sessions, channel_id)
    await settle()
    sessions.gate.set()
    await asyncio.gather(before, after)

    assert sessions.opened == 2
