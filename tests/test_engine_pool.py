"""The engine's connection pool: under many concurrent webhooks the hub opens at most
``POOL_SIZE`` connections and keeps them, instead of opening (on SQLite: a thread and
its pragmas each) and closing overflow connections request after request; a quiet hub
keeps reusing the connection returned last; SQLite's page cache per connection is
bounded; and the observers each stored message wakes share their reads
(``hub.store.shared_read``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hub_custom_channel.signing import signed_headers
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from hub import appkeys
from hub.app import create_app
from hub.automation.rule_runner import BUILTIN_NAME as RULES
from hub.inbox.out_of_hours import BUILTIN_NAME as OUT_OF_HOURS
from hub.settings import Settings
from hub.store.engine import POOL_SIZE, SQLITE_CACHE_KIB, create_engine
from hub.store.models import Message, User

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]

ROUNDS = 4
CONCURRENT = 40


async def signed_post(client: Client, channel: dict[str, Any], n: int) -> int:
    """One message event from one of ten senders, signed; the answer's status."""
    body = json.dumps(
        {
            "type": "message",
            "id": f"m-{n}",
            "timestamp": "2026-05-01T12:00:00Z",
            "sender": {"id": f"u-{n % 10}", "name": f"Customer {n % 10}"},
            "text": f"message {n}",
        }
    ).encode()
    secret = channel["config"]["signing_secret"]
    response = await client.post(
        f"/webhooks/{channel['id']}",
        data=body,
        headers={"Content-Type": "application/json", **signed_headers(secret, body)},
    )
    await response.read()
    return response.status


async def test_concurrent_webhooks_open_no_connection_past_the_pool(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    client = await aiohttp_client(create_app(settings))
    _, owner = await user_token("owner@example.com", role="owner")
    created = await client.post(
        "/api/v1/channels",
        json={
            "type": "custom_channel",
            "name": "Pool",
            "config": {"outbound_url": "https://chat.example.test/replies"},
        },
        headers=owner,
    )
    assert created.status == 201, await created.text()
    channel = await created.json()
    # Every driver connection handed out, kept referenced so no two share an id.
    used: dict[int, object] = {}

    def checked_out(dbapi_connection: object, *_: object) -> None:
        used[id(dbapi_connection)] = dbapi_connection

    event.listen(client.app[appkeys.ENGINE].sync_engine, "checkout", checked_out)

    statuses: list[int] = []
    for round_ in range(ROUNDS):
        numbers = range(round_ * CONCURRENT, (round_ + 1) * CONCURRENT)
        statuses += await asyncio.gather(*(signed_post(client, channel, n) for n in numbers))
        # The observers each message woke (rules, out-of-hours replies) use sessions too.
        await client.app[appkeys.OBSERVERS].drain()

    assert statuses == [200] * ROUNDS * CONCURRENT
    assert 0 < len(used) <= POOL_SIZE
    # The observers of a committed batch share their reads instead of one each.
    plugins = client.app[appkeys.PLUGINS].pm
    rules, replies = plugins.get_plugin(RULES), plugins.get_plugin(OUT_OF_HOURS)
    assert 0 < rules.runner.rules_of.reads < ROUNDS * CONCURRENT
    assert 0 < replies.replies_on.reads < ROUNDS * CONCURRENT
    async with db() as session:
        stored = await session.scalar(
            select(func.count(func.distinct(Message.external_id))).where(
                Message.channel_id == channel["id"]
            )
        )
    assert stored == ROUNDS * CONCURRENT


async def test_the_pool_keeps_its_connections_and_opens_none_beyond(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url)
    try:
        assert engine.pool.size() == POOL_SIZE  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 0  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


async def test_many_concurrent_sessions_share_the_pools_connections(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url)
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda dbapi, _record: opened.append(dbapi))
    size = POOL_SIZE

    async def query(n: int) -> int:
        async with engine.connect() as conn:
            await asyncio.sleep(0.01)  # hold the connection so the others must wait or share
            return int(await conn.scalar(text(f"SELECT {n}")) or 0)

    try:
        answers = await asyncio.gather(*(query(n) for n in range(3 * size)))
        assert answers == list(range(3 * size))
        assert len(opened) == size
    finally:
        await engine.dispose()


async def test_a_quiet_hub_keeps_using_the_connection_returned_last(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url)
    used: list[int] = []

    def checked_out(dbapi_connection: object, *_: object) -> None:
        used.append(id(dbapi_connection))

    event.listen(engine.sync_engine, "checkout", checked_out)

    async def hold() -> None:
        async with engine.connect():
            await asyncio.sleep(0.01)

    try:
        # A burst opens every connection of the pool...
        await asyncio.gather(*(hold() for _ in range(POOL_SIZE)))
        used.clear()
        # ...and one request at a time afterwards gets the same (warm) one each time,
        # not each pooled connection in turn.
        for _ in range(10):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert len(set(used)) == 1
    finally:
        await engine.dispose()


async def test_sqlite_page_cache_per_connection_is_bounded(settings: Settings) -> None:
    if not settings.effective_database_url.startswith("sqlite"):
        pytest.skip("a SQLite pragma")
    engine = create_engine(settings.effective_database_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("PRAGMA cache_size")) == -SQLITE_CACHE_KIB
    finally:
        await engine.dispose()


async def test_a_pool_the_caller_picks_is_left_alone(settings: Settings) -> None:
    engine = create_engine(settings.effective_database_url, poolclass=NullPool)
    try:
        assert isinstance(engine.pool, NullPool)
    finally:
        await engine.dispose()
