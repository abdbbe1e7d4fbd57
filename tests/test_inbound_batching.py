"""What makes ingestion fast, and must stay correct: a batch runs optimistically without
savepoints (falling back to them when a job fails), looks up its messages, senders and
conversations once for the whole batch, and receiving does not count as editing the
channel."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import INBOUND
from hub.channels.group_commit import GroupCommitter
from hub.events.factory import create_bus
from hub.events.work import Work
from hub.settings import Settings
from hub.store.models import Channel, Contact, Conversation, Message, Team
from tests.channel_doubles import manager, message, post
from tests.factories import Factory
from tests.statements import recorded

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", "Double")


async def count(db: Sessions, model: Any, *where: Any) -> int:
    async with db() as session:
        query = select(func.count()).select_from(model).where(*where)
        return int(await session.scalar(query) or 0)


async def test_a_batch_looks_up_messages_senders_and_conversations_once(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    # Ten senders known from before, each with an open conversation.
    await asyncio.gather(*(post(hub, channel.id, message(f"old{i}", f"s{i}")) for i in range(10)))

    stats = hub.app[INBOUND].committer.stats
    before = stats.batches
    with recorded(hub.app[appkeys.ENGINE]) as seen:
        responses = await asyncio.gather(
            *(post(hub, channel.id, message(f"new{i}", f"s{i % 10}")) for i in range(40))
        )

    assert [r.status for r in responses] == [200] * 40
    # Background jobs (media fetching) read messages too: only the intake's lookups count.
    lookups = [
        s
        for s in seen
        if s.lstrip().upper().startswith("SELECT")
        and "media_pending IS" not in s
        and "media_pending =" not in s
    ]
    batches = stats.batches - before
    # One question per table per batch, not one per message.
    for table in ("FROM messages", "FROM contact_identities", "FROM conversations"):
        asked = sum(1 for s in lookups if table in s)
        assert asked <= batches < 40, (table, asked, batches)
    assert await count(db, Message) == 50
    assert await count(db, Contact) == 10
    assert await count(db, Conversation) == 10  # every message joined its sender's one


async def test_repeats_inside_one_batch_are_stored_once_and_thread_together(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    # New senders, each writing several times, and re-deliveries, all arriving together.
    bodies = [message(f"m{i % 12}", f"new{i % 4}") for i in range(36)]
    responses = await asyncio.gather(*(post(hub, channel.id, body) for body in bodies))

    assert [r.status for r in responses] == [200] * 36
    assert await count(db, Message) == 12
    assert await count(db, Contact) == 4
    assert await count(db, Conversation) == 4


async def test_a_closed_conversation_reopened_in_a_batch_is_joined_by_the_next_message(
    hub: Client, channel: Channel, db: Sessions, factory: Factory
) -> None:
    await post(hub, channel.id, message("first", "ada"))
    async with db() as session:
        await session.execute(update(Conversation).values(status="closed"))
        await session.execute(
            update(Channel)
            .where(Channel.id == channel.id)
            .values(settings={"closed_conversation": "reopen"})
        )
        await session.commit()

    responses = await asyncio.gather(
        *(post(hub, channel.id, message(f"again{i}", "ada")) for i in range(6))
    )

    assert [r.status for r in responses] == [200] * 6
    assert await count(db, Conversation) == 1
    assert await count(db, Conversation, Conversation.status == "open") == 1


async def test_receiving_leaves_the_channels_updated_at_alone(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    before = channel.updated_at

    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m2", "other"))

    async with db() as session:
        stored = await session.get_one(Channel, channel.id)
    assert stored.last_inbound_at is not None
    # updated_at is the admin's last edit and keys the cached plugin object.
    assert stored.updated_at == before


async def test_a_clean_batch_needs_no_savepoints_and_a_failing_job_falls_back(
    db: Sessions,
) -> None:
    bus = create_bus("memory://")
    committer = GroupCommitter(db, bus, None, batch_max=50)
    committer.start()

    def add(name: str) -> Callable[[Work], Awaitable[str]]:
        async def job(work: Work) -> str:
            work.db.add(Team(name=name))
            await work.db.flush()
            if name == "poison":
                raise ValueError("this one fails")
            return name

        return job

    with recorded(db.kw["bind"]) as seen:
        await asyncio.gather(*(committer.submit(add(f"a{i}")) for i in range(5)))
    assert not [s for s in seen if "SAVEPOINT" in s.upper()]
    assert committer.stats.retried_careful == 0

    names = ["b0", "poison", "b1"]
    results = await asyncio.gather(
        *(committer.submit(add(n)) for n in names), return_exceptions=True
    )
    await committer.stop()

    assert results[0] == "b0" and results[2] == "b1"
    assert isinstance(results[1], ValueError)
    assert committer.stats.retried_careful == 1
    async with db() as session:
        stored = sorted(await session.scalars(select(Team.name)))
    assert stored == ["a0", "a1", "a2", "a3", "a4", "b0", "b1"]
