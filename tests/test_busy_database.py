"""A database busy past its bounded wait is a 503 with Retry-After, never a 500.

SQLite has one writer: while another connection holds the write lock, a write waits
``database_busy_timeout`` and then gives up. Only SQLite is tried here: PostgreSQL
writers lock rows, not the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import User
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
def busy_settings(settings: Settings) -> Settings:
    if not settings.is_sqlite:
        pytest.skip("the database-wide write lock is SQLite's")
    return settings.model_copy(update={"database_busy_timeout": 0.2})


@pytest.fixture
def write_lock(busy_settings: Settings) -> Iterator[Callable[[], None]]:
    """Call it to take SQLite's write lock from another connection until the test ends."""
    path = busy_settings.effective_database_url.split("///", 1)[1]
    holder = sqlite3.connect(path, isolation_level=None)

    def take() -> None:
        holder.execute("BEGIN IMMEDIATE")

    yield take
    holder.close()


async def test_an_api_write_on_a_locked_database_is_503_with_retry_after(
    aiohttp_client: Callable[..., Awaitable[Client]],
    busy_settings: Settings,
    user_token: UserToken,
    write_lock: Callable[[], None],
) -> None:
    client = await aiohttp_client(create_app(busy_settings))
    _, auth = await user_token("owner@example.com", role="owner")
    # Used once first, so the token's last_used_at is fresh and only the snippet writes.
    assert (await client.get("/api/v1/snippets", headers=auth)).status == 200
    write_lock()

    response = await client.post(
        "/api/v1/snippets", json={"name": "Hi", "shortcut": "hi", "body": "Hi"}, headers=auth
    )

    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["code"] == "database_busy"


async def test_a_webhook_on_a_locked_database_is_503_with_retry_after(
    aiohttp_client: Callable[..., Awaitable[Client]],
    busy_settings: Settings,
    factory: Factory,
    write_lock: Callable[[], None],
) -> None:
    channel = await factory.channel("double", "Double")
    client = await aiohttp_client(create_app(busy_settings, plugins=manager()))
    write_lock()

    response = await post(client, channel.id, message("m1"))

    assert response.status == 503, await response.text()
    assert response.headers["Retry-After"] == "1"
    assert (await response.json())["error"]["code"] == "database_busy"


async def test_a_token_read_on_a_locked_database_still_answers(
    aiohttp_client: Callable[..., Awaitable[Client]],
    busy_settings: Settings,
    user_token: UserToken,
    write_lock: Callable[[], None],
) -> None:
    client = await aiohttp_client(create_app(busy_settings))
    _, auth = await user_token("agent@example.com")
    write_lock()

    # The token was never used: its use is only noted, never written by the request,
    # so the read answers while another connection holds the write lock.
    response = await client.get("/api/v1/snippets", headers=auth)

    assert response.status == 200, await response.text()
