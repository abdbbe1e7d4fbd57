"""The snooze job: due conversations come back by themselves, and the assignee is told."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.events.bus import MemoryBus, Subscription
from hub.events.event import HubEvent
from hub.inbox.jobs import run_periodically, wake_snoozes
from hub.observers import Observers
from hub.plugin_manager import HubPluginManager
from hub.settings import Settings
from hub.store.models import Conversation, ConversationEvent, Notification, User
from hub.store.types import utcnow
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
WAIT = 15.0


@pytest.fixture
def job_app(db: async_sessionmaker[AsyncSession]) -> web.Application:
    """What the job needs of the app, without the app's own timer running it."""
    app = web.Application()
    app[appkeys.SESSIONS] = db
    app[appkeys.BUS] = MemoryBus()
    app[appkeys.OBSERVERS] = Observers(HubPluginManager(autoload=False).pm)
    return app


async def drain(subscription: Subscription, bus: MemoryBus) -> list[HubEvent]:
    """Every event published so far: a marker goes last, and everything before it is it."""
    await bus.publish(HubEvent("marker", {}))
    events: list[HubEvent] = []
    iterator = aiter(subscription)
    while (event := await asyncio.wait_for(anext(iterator), WAIT)).type != "marker":
        events.append(event)
    return events


async def test_a_due_snooze_reopens_the_conversation_and_tells_its_assignee(
    job_app: web.Application,
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    agent = await make_user("agent@example.com")
    channel = await factory.channel()
    now = utcnow()
    due = await factory.conversation(
        channel, status="snoozed", snoozed_until=now - timedelta(minutes=1), assignee_id=agent.id
    )
    due_unassigned = await factory.conversation(
        channel, status="snoozed", snoozed_until=now - timedelta(seconds=1)
    )
    not_yet = await factory.conversation(
        channel, status="snoozed", snoozed_until=now + timedelta(hours=1), assignee_id=agent.id
    )
    bus = job_app[appkeys.BUS]
    assert isinstance(bus, MemoryBus)
    subscription = bus.subscribe()

    await wake_snoozes(job_app[appkeys.SESSIONS], job_app[appkeys.BUS], job_app[appkeys.OBSERVERS])

    async with db() as session:
        rows = {
            c.id: c
            for c in await session.scalars(
                select(Conversation).where(
                    Conversation.id.in_([due.id, due_unassigned.id, not_yet.id])
                )
            )
        }
        events = (
            await session.scalars(
                select(ConversationEvent).where(ConversationEvent.kind == "unsnoozed")
            )
        ).all()
        notifications = (await session.scalars(select(Notification))).all()
    for woken in (due, due_unassigned):
        assert (rows[woken.id].status, rows[woken.id].snoozed_until) == ("open", None)
        assert rows[woken.id].status_changed_at >= now
    assert (rows[not_yet.id].status, rows[not_yet.id].snoozed_until) == (
        "snoozed",
        not_yet.snoozed_until,
    )
    assert sorted((e.conversation_id, e.actor_id, e.data["by"]) for e in events) == [
        (due.id, None, "timer"),
        (due_unassigned.id, None, "timer"),
    ]
    assert [(n.user_id, n.kind, n.conversation_id) for n in notifications] == [
        (agent.id, "snooze_ended", due.id)
    ]

    published = await drain(subscription, bus)
    updated = [e for e in published if e.type == "conversation.updated"]
    assert sorted(e.data["conversation_id"] for e in updated) == [due.id, due_unassigned.id]
    assert all((e.data["event"], e.data["actor_id"]) == ("unsnoozed", None) for e in updated)
    assert [
        e.scope.conversation_id for e in published if e.type == "counts.changed" and e.scope
    ] == [e.data["conversation_id"] for e in updated]
    assert [(e.type, e.user_ids, e.data) for e in published if e.type == "notification"] == [
        (
            "notification",
            frozenset({agent.id}),
            {"kind": "snooze_ended", "conversation_id": due.id},
        )
    ]


async def test_nothing_due_means_nothing_changes_and_nothing_is_published(
    job_app: web.Application, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    channel = await factory.channel()
    later = await factory.conversation(
        channel, status="snoozed", snoozed_until=utcnow() + timedelta(minutes=5)
    )
    bus = job_app[appkeys.BUS]
    assert isinstance(bus, MemoryBus)
    subscription = bus.subscribe()

    await wake_snoozes(job_app[appkeys.SESSIONS], job_app[appkeys.BUS], job_app[appkeys.OBSERVERS])

    assert await drain(subscription, bus) == []
    async with db() as session:
        assert (await session.get(Conversation, later.id)).status == "snoozed"  # type: ignore[union-attr]


async def test_run_periodically_keeps_running_after_a_job_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    second_run = asyncio.Event()

    async def flaky() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("one bad row")
        second_run.set()

    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="hub.inbox.jobs"):
        task = asyncio.create_task(run_periodically(flaky, every=0, stop=stop))
        await asyncio.wait_for(second_run.wait(), WAIT)
        stop.set()
        await asyncio.wait_for(task, WAIT)  # stops by itself, without cancelling
    assert len(calls) >= 2
    failures = [r for r in caplog.records if "flaky failed" in r.getMessage()]
    assert len(failures) == 1
    assert failures[0].exc_info is not None


@pytest.fixture
async def quick_snooze_client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    """The real app, checking snoozes every 50 ms."""
    yield await aiohttp_client(
        create_app(settings.model_copy(update={"snooze_check_seconds": 0.05}))
    )


async def test_the_app_wakes_snoozes_by_itself_and_the_assignee_hears_at_once(
    quick_snooze_client: Client, factory: Factory, user_token: UserToken
) -> None:
    agent, auth = await user_token("agent@example.com", visibility="assigned")
    channel = await factory.channel()

    async with quick_snooze_client.ws_connect("/ws", headers=auth) as socket:
        assert (await socket.receive_json(timeout=WAIT))["type"] == "hello"
        conversation = await factory.conversation(
            channel, status="snoozed", snoozed_until=utcnow(), assignee_id=agent.id
        )
        frames = [await socket.receive_json(timeout=WAIT) for _ in range(3)]
    ids = [f.pop("id") for f in frames]  # logged for replay: increasing
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert frames == [
        {
            "type": "conversation.updated",
            "data": {
                "conversation_id": conversation.id,
                "event": "unsnoozed",
                "actor_id": None,
                "by": "timer",
            },
        },
        {"type": "counts.changed", "data": {}},
        {
            "type": "notification",
            "data": {"kind": "snooze_ended", "conversation_id": conversation.id},
        },
    ]


async def test_stopping_lets_a_run_in_progress_finish() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[bool] = []

    async def slow() -> None:
        started.set()
        await release.wait()
        finished.append(True)

    stop = asyncio.Event()
    task = asyncio.create_task(run_periodically(slow, every=60, stop=stop))
    await asyncio.wait_for(started.wait(), WAIT)
    stop.set()
    release.set()
    await asyncio.wait_for(task, WAIT)
    assert finished == [True]
