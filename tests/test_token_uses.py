"""When an API token was last used is written off the request path: authenticating a
request never writes, the app's job writes the noted uses in one batch, and the uses
noted before a shutdown are written by it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.auth.token_uses import TokenUses, write_token_uses
from hub.settings import Settings
from hub.store.models import ApiToken, User
from hub.store.types import utcnow

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
def statements() -> Iterator[Callable[[Client], list[str]]]:
    """Call it with a client to record every SQL statement its app's engine runs."""
    seen: list[str] = []
    engines: list[Any] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, many)

    def watch(client: Client) -> list[str]:
        engine = client.app[appkeys.ENGINE].sync_engine
        event.listen(engine, "before_cursor_execute", record)
        engines.append(engine)
        return seen

    yield watch
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


async def _last_used(db: async_sessionmaker[AsyncSession], user: User) -> Any:
    async with db() as session:
        return await session.scalar(
            select(ApiToken.last_used_at).where(ApiToken.user_id == user.id)
        )


async def test_authenticating_with_a_token_writes_nothing_until_the_job_runs(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    statements: Callable[[Client], list[str]],
) -> None:
    client = await aiohttp_client(create_app(settings))
    user, auth = await user_token("agent@example.com")
    seen = statements(client)

    assert (await client.get("/api/v1/snippets", headers=auth)).status == 200

    writes = [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == []
    assert await _last_used(db, user) is None
    app = client.app
    assert await write_token_uses(app[appkeys.SESSIONS], app[appkeys.TOKEN_USES]) == 1
    used = await _last_used(db, user)
    assert used is not None and utcnow() - used < timedelta(minutes=1)
    listed = await client.get("/api/v1/tokens", headers=auth)
    assert (await listed.json())["items"][0]["last_used_at"] is not None


async def test_uses_noted_before_a_shutdown_are_written_by_it(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
) -> None:
    client = await aiohttp_client(create_app(settings))
    user, auth = await user_token("agent@example.com")
    assert (await client.get("/api/v1/snippets", headers=auth)).status == 200

    await client.close()

    assert await _last_used(db, user) is not None


async def test_a_failed_write_keeps_the_uses_for_the_next_run(
    settings: Settings, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    user, _ = await user_token("agent@example.com")
    async with db() as session:
        token_id = await session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id))
    assert token_id is not None
    uses = TokenUses()
    when = utcnow()
    uses.note(token_id, when - timedelta(seconds=5))
    uses.note(token_id, when)  # the latest use wins

    class Unreachable:
        def begin(self) -> Any:
            raise ConnectionError("database unreachable")

    with pytest.raises(ConnectionError):
        await write_token_uses(Unreachable(), uses)  # type: ignore[arg-type]
    assert await write_token_uses(db, uses) == 1
    assert await _last_used(db, user) == when
