"""Rejected junk is not kept whole nor forever (issue 12, item 7): a rejected body is
logged as a prefix with its size and sha256, a source past its refusals for the minute
gets 429 with Retry-After, and the retention job deletes old rows (rejected and the rest
on their own clocks; held rows stay)."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.channels.log_retention import prune_inbound_log
from hub.channels.reject_limit import RejectLimit
from hub.settings import Settings
from hub.store.models import Channel, InboundLogEntry, User
from hub.store.types import utcnow
from hub.testing import eventually
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
AppClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double")


async def entries(db: Sessions) -> list[InboundLogEntry]:
    async with db() as session:
        return list(await session.scalars(select(InboundLogEntry).order_by(InboundLogEntry.id)))


async def test_a_rejected_body_is_kept_as_a_prefix_with_its_size_and_hash(
    aiohttp_client: AppClient,
    settings: Settings,
    channel: Channel,
    db: Sessions,
    user_token: UserToken,
) -> None:
    hub = await aiohttp_client(create_app(settings, plugins=manager()))
    _, owner = await user_token("owner@example.com", role="owner")
    junk = b"j" * 200_000

    response = await hub.post(f"/webhooks/{channel.id}", data=junk)  # no token: 401

    assert response.status == 401
    [entry] = await entries(db)
    assert (entry.result, bytes(entry.body)) == ("rejected", junk[:4096])
    assert (entry.body_size, entry.body_sha256) == (len(junk), hashlib.sha256(junk).hexdigest())
    shown = await (await hub.get(f"/api/v1/inbound-log/{entry.id}", headers=owner)).json()
    assert (shown["body"], shown["body_size"], shown["body_truncated"]) == (
        "j" * 4096,
        200_000,
        True,
    )
    assert shown["body_sha256"] == hashlib.sha256(junk).hexdigest()


async def test_a_stored_body_is_kept_whole(
    aiohttp_client: AppClient, settings: Settings, channel: Channel, db: Sessions
) -> None:
    hub = await aiohttp_client(create_app(settings, plugins=manager()))

    response = await post(hub, channel.id, message("m1", text="x" * 10_000))

    assert response.status == 200
    [entry] = await entries(db)
    assert entry.result == "stored" and len(entry.body) == entry.body_size > 10_000


async def test_a_source_past_its_rejections_gets_429_with_retry_after_and_is_not_logged(
    aiohttp_client: AppClient, settings: Settings, channel: Channel, db: Sessions
) -> None:
    limited = settings.model_copy(update={"webhook_rejected_per_minute": 3})
    hub = await aiohttp_client(create_app(limited, plugins=manager()))

    statuses = [(await hub.post(f"/webhooks/{channel.id}", data=b"junk")).status for _ in range(3)]
    refused = await hub.post(f"/webhooks/{channel.id}", data=b"junk")
    signed = await post(hub, channel.id, message("m1"))

    assert statuses == [401, 401, 401]
    assert refused.status == 429
    assert (await refused.json())["error"]["code"] == "throttled"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert signed.status == 200  # only refusals are limited: a real provider gets through
    assert [e.result for e in await entries(db)] == ["rejected"] * 3 + ["stored"]


def test_the_limit_counts_per_source_and_forgets_after_the_window() -> None:
    now = [0.0]
    limit = RejectLimit(2, clock=lambda: now[0])

    limit.record("a")
    limit.record("a")
    limit.record("b")

    assert (limit.retry_after("a"), limit.retry_after("b"), limit.retry_after(None)) == (60, 0, 0)
    now[0] = 59.5
    assert limit.retry_after("a") == 1
    now[0] = 60.0
    assert limit.retry_after("a") == 0


async def _add(db: Sessions, channel: Channel, result: str, age_days: float) -> int:
    async with db() as session:
        entry = InboundLogEntry(
            channel_id=channel.id,
            received_at=utcnow() - timedelta(days=age_days),
            method="POST",
            path=f"/webhooks/{channel.id}",
            headers={},
            query={},
            body=b"{}",
            result=result,
            status_code=401 if result == "rejected" else 200,
        )
        session.add(entry)
        await session.commit()
        return entry.id


async def test_retention_deletes_rejected_and_other_rows_on_their_own_clocks(
    channel: Channel, db: Sessions
) -> None:
    kept = [
        await _add(db, channel, "rejected", 6),
        await _add(db, channel, "stored", 29),
        await _add(db, channel, "duplicate", 8),
        await _add(db, channel, "held", 400),  # waiting to be replayed: never deleted
    ]
    for result, age in [("rejected", 8), ("stored", 31), ("error", 40)]:
        await _add(db, channel, result, age)

    deleted = await prune_inbound_log(db, keep_days=30, rejected_keep_days=7)

    assert deleted == 3
    assert [e.id for e in await entries(db)] == kept
    assert await prune_inbound_log(db, keep_days=0, rejected_keep_days=0) == 0


async def test_the_retention_job_runs_in_the_app(
    aiohttp_client: AppClient, settings: Settings, channel: Channel, db: Sessions
) -> None:
    old = await _add(db, channel, "rejected", 8)
    recent = await _add(db, channel, "rejected", 1)
    quick = settings.model_copy(update={"inbound_log_prune_seconds": 0.05})

    await aiohttp_client(create_app(quick, plugins=manager()))

    async def pruned() -> None:
        assert [e.id for e in await entries(db)] == [recent]

    await eventually(pruned)
    async with db() as session:
        assert await session.scalar(select(func.count()).where(InboundLogEntry.id == old)) == 0
