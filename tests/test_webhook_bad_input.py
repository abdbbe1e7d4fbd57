"""Hostile input at ``/webhooks/{channel_id}``: every case is a precise 4xx (or a stored
message), logged, never a 500 and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import Channel, InboundLogEntry, Message
from tests.channel_doubles import TOKEN, manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double")


@pytest.mark.parametrize("path", ["/webhooks/abc", "/webhooks/-1", "/webhooks/" + "9" * 30])
async def test_a_path_that_is_no_channel_id_is_a_json_404(hub: Client, path: str) -> None:
    response = await hub.post(path, data=b"{}")

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_other_methods_are_405(hub: Client, channel: Channel) -> None:
    response = await hub.put(f"/webhooks/{channel.id}", data=b"{}")

    assert response.status == 405


@pytest.mark.parametrize(
    "body",
    [b"", b"null", b"[]", b'"text"', b"{}", b'{"events": {}}', b"\x00\x01\x02", b"{" * 5000],
)
async def test_garbage_bodies_are_400_and_logged(
    hub: Client, channel: Channel, db: Sessions, body: bytes
) -> None:
    response = await hub.post(f"/webhooks/{channel.id}", data=body, headers={"X-Test-Token": TOKEN})

    assert response.status == 400
    assert set((await response.json())["error"]) == {"code", "message", "details"}
    async with db() as session:
        assert await session.scalar(select(InboundLogEntry.result)) == "rejected"


async def test_nul_characters_and_huge_ids_are_stored_not_refused(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    long_id = "x" * 5000
    event = message(long_id, sender="s\x00" + "y" * 400, text="a\x00b", thread_key="k" * 400)

    response = await post(hub, channel.id, event)
    again = await post(hub, channel.id, event)

    assert response.status == 200, await response.text()
    assert (await again.json())["result"] == "duplicate"
    async with db() as session:
        stored = await session.scalar(select(Message))
        assert stored is not None and stored.text == "ab"
        assert stored.external_id is not None and len(stored.external_id) == 300


async def test_a_query_string_with_nul_is_logged(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    response = await hub.post(
        f"/webhooks/{channel.id}?x=%00",
        data=json.dumps({"events": [message("m1")]}),
        headers={"X-Test-Token": TOKEN},
    )

    assert response.status == 200
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(InboundLogEntry)) == 1
