"""The set-based intake (``hub.inbox.intake_fast``) stores exactly what the per-message
path stores, leaves everything unusual to that path within the same batch, and falls
back to the careful way when the database disagrees with what the batch looked up."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import INBOUND
from hub.channels.group_commit import GroupCommitter
from hub.channels.media_jobs import MediaFetchOptions
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.intake_batch import BatchIndex, prefetch
from hub.settings import Settings
from hub.store.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    InboundLogEntry,
    Message,
)
from hub.store.types import utcnow
from hub.testing import eventually
from tests.channel_doubles import Recorder, manager, message, post, status
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def hub(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, recorder: Recorder
) -> Client:
    app = create_app(settings, plugins=manager(recorder))
    # The media fetcher off: it takes a stored photo up at once (the double cannot
    # download it, so it writes a failed attempt), and the two paths' snapshots would
    # differ by whether it got there first.
    app[appkeys.MEDIA_FETCH_OPTIONS] = MediaFetchOptions(background=False)
    return await aiohttp_client(app)


def committer(hub: Client) -> GroupCommitter:
    return hub.app[INBOUND].committer


@asynccontextmanager
async def one_batch(hub: Client, expected: int) -> AsyncIterator[None]:
    """Hold the committer until ``expected`` jobs wait, so they all share one batch."""
    release = asyncio.Event()

    async def hold(work: Work) -> None:
        await release.wait()

    held = asyncio.create_task(committer(hub).submit(hold))
    await asyncio.sleep(0)
    yield

    def all_waiting() -> None:
        assert committer(hub).backlog == expected

    await eventually(all_waiting, timeout=10)
    release.set()
    await held


async def send_together(hub: Client, channel_id: int, bodies: Sequence[Any]) -> list[Any]:
    """POST every body (a list of events each) in one committer batch; the responses."""
    async with one_batch(hub, len(bodies)):
        posts = [asyncio.create_task(post(hub, channel_id, *body)) for body in bodies]
    return list(await asyncio.gather(*posts))


async def rows(db: Sessions, model: Any, *where: Any) -> list[Any]:
    async with db() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def count(db: Sessions, model: Any, *where: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)))


def timeless(value: str | bytes) -> str:
    """JSON text without its timestamps (each run writes its own)."""
    text = value.decode() if isinstance(value, bytes) else value
    return re.sub(r'"timestamp": ?"[^"]*"', "", text)


async def snapshot(
    db: Sessions,
    channel: Channel,
    published: list[HubEvent],
    recorder: Recorder,
    start: datetime,
) -> dict[str, Any]:
    """What a run left on ``channel``, with database ids replaced by provider ids, and
    times from ``start`` on as offsets from it (a run's own clock)."""

    def when(moment: datetime) -> Any:
        return moment if moment < start else moment - start

    messages = await rows(db, Message, Message.channel_id == channel.id)
    conversations = await rows(db, Conversation, Conversation.channel_id == channel.id)
    contacts = {c.id: c.name for c in await rows(db, Contact)}
    by_message = {m.id: m.external_id for m in messages}
    by_conversation = {c.id: contacts[c.contact_id] for c in conversations}

    def named(value: Any) -> Any:
        if isinstance(value, dict):
            out = {k: named(v) for k, v in value.items()}
            if "conversation_id" in out:
                out["conversation_id"] = by_conversation.get(value["conversation_id"])
            if "id" in out and "direction" in out:
                out["id"] = by_message.get(value["id"])
                out["created_at"] = when(datetime.fromisoformat(value["created_at"]))
            return out
        return value

    events = sorted(
        (e.type, repr(named(e.data)), e.scope is not None and e.scope.contact_blocked)
        for e in published
        if e.scope is not None and e.scope.conversation_id in by_conversation
    )
    notices = sorted(
        (
            by_message[n.message_id],
            by_conversation[n.conversation_id],
            contacts[n.contact_id],
            n.new_conversation,
            n.channel_type,
            timeless(n.message.model_dump_json()),
        )
        for n in recorder.received
        if n.channel_id == channel.id
    )

    log = [
        (
            e.result,
            e.status_code,
            e.reason,
            e.event_count,
            timeless(json.dumps(e.events)),
            timeless(e.body),
            e.method,
            e.path.replace(f"/{channel.id}", "/{id}"),
        )
        for e in await rows(db, InboundLogEntry, InboundLogEntry.channel_id == channel.id)
    ]
    return {
        "messages": sorted(
            (
                m.external_id,
                by_conversation[m.conversation_id],
                m.direction,
                m.status,
                m.text,
                m.subject,
                m.parts,
                m.raw,
                m.reply_to_id,
                when(m.created_at),
                m.media_pending,
                m.edit_history,
                m.sender_user_id,
            )
            for m in messages
        ),
        "conversations": sorted(
            (
                by_conversation[c.id],
                c.status,
                c.unread_count,
                c.last_message_direction,
                when(c.last_message_at),
                c.last_inbound_at is not None and c.last_inbound_at >= start,
                c.contact_blocked,
            )
            for c in conversations
        ),
        "events": events,
        "notices": notices,
        "log": sorted(log, key=repr),
    }


async def run_scenario(
    hub: Client, db: Sessions, recorder: Recorder, channel: Channel, *, fast: bool
) -> dict[str, Any]:
    """Five known senders with open conversations write twelve messages in one batch."""
    for i in range(5):
        response = await post(hub, channel.id, message(f"first{i}", f"s{i}", name=f"Sender {i}"))
        assert response.status == 200
    photo = {"kind": "media", "media_kind": "image", "url": "https://x.test/a.jpg", "caption": "c"}
    # Written one millisecond apart after the conversations began and before they are
    # received (a time in the future would be clamped to the clock), so each moves its
    # conversation's last_message_at to exactly its own time.
    await asyncio.sleep(0.05)
    start = utcnow() - timedelta(milliseconds=30)

    def at(n: int) -> str:
        return (start + timedelta(milliseconds=n)).isoformat()

    bodies = [
        [message(f"m{i}", f"s{i % 5}", f"text {i}", name=f"Sender {i % 5}", timestamp=at(i))]
        for i in range(10)
    ]
    bodies.append(
        [
            message(
                "m10", "s1", parts=[photo], name="Sender 1", subject="Re: hi", timestamp=at(10)
            ),
            message("m11", "s2", "second of a request", name="Sender 2", timestamp=at(11)),
        ]
    )
    use = committer(hub).fast
    committer(hub).fast = use if fast else None
    subscription = hub.app[appkeys.BUS].subscribe()
    before = committer(hub).stats.fast
    try:
        responses = await send_together(hub, channel.id, bodies)
    finally:
        committer(hub).fast = use
    assert [r.status for r in responses] == [200] * len(bodies)
    assert [(await r.json())["result"] for r in responses] == ["stored"] * len(bodies)
    taken_fast = committer(hub).stats.fast - before
    assert taken_fast == (len(bodies) if fast else 0)
    subscription.close()
    published = [event async for event in subscription]
    await hub.app[appkeys.OBSERVERS].drain()
    return await snapshot(db, channel, published, recorder, start)


async def test_the_fast_path_stores_announces_and_logs_what_the_message_path_does(
    hub: Client, db: Sessions, factory: Factory, recorder: Recorder
) -> None:
    one = await factory.channel("double", "One")
    other = await factory.channel("double", "Other")

    by_message = await run_scenario(hub, db, recorder, one, fast=False)
    by_set = await run_scenario(hub, db, recorder, other, fast=True)

    assert by_set == by_message
    # The comparison is not vacuous: every message, conversation and announcement is there.
    assert len(by_set["messages"]) == 5 + 12
    assert [c[2] for c in by_set["conversations"]] == [3, 4, 4, 3, 3]
    assert len(by_set["notices"]) == 17
    assert sum(1 for e in by_set["events"] if e[0] == "message.created") == 12


async def test_a_mixed_batch_takes_the_plain_messages_together_and_the_rest_one_by_one(
    hub: Client, db: Sessions, factory: Factory
) -> None:
    channel = await factory.channel("double", "Double")
    for sender in ("known", "other", "blocked", "editor"):
        await post(hub, channel.id, message(f"{sender}-0", sender))
    async with db() as session:
        blocked = select(ContactIdentity.contact_id).where(ContactIdentity.external_id == "blocked")
        await session.execute(update(Contact).where(Contact.id.in_(blocked)).values(blocked=True))
        await session.execute(
            update(Conversation)
            .where(Conversation.contact_id.in_(blocked))
            .values(contact_blocked=True, unread_count=0)
        )
        await session.commit()
    before = committer(hub).stats.fast

    responses = await send_together(
        hub,
        channel.id,
        [
            [message("known-1", "known", "plain")],  # fast
            [message("other-1", "other", "plain too")],  # fast
            [message("new-1", "newcomer", "first words")],  # a new sender
            [message("blocked-1", "blocked", "from a blocked contact")],
            [message("editor-0", "editor", "changed", edited=True)],  # an edit
            [message("blocked-0", "blocked")],  # a re-delivery
            [message("other-2", "other", "answer", reply_to_external_id="other-0")],
            [status("nobody", "delivered")],
        ],
    )

    assert [r.status for r in responses] == [200] * 8
    results = [(await r.json())["result"] for r in responses]
    assert results == ["stored"] * 5 + ["duplicate", "stored", "stored"]
    # "other" also sent a reply (not taken together), so only "known" went the fast way.
    assert committer(hub).stats.fast - before == 1
    stored = {m.external_id: m for m in await rows(db, Message)}
    assert set(stored) == {
        "known-0",
        "other-0",
        "blocked-0",
        "editor-0",
        "known-1",
        "other-1",
        "new-1",
        "blocked-1",
        "other-2",
    }
    assert stored["editor-0"].text == "changed" and len(stored["editor-0"].edit_history) == 1
    assert stored["other-2"].reply_to_id == stored["other-0"].id
    unread = {
        c.id: c.unread_count
        for c in await rows(db, Conversation, Conversation.channel_id == channel.id)
    }
    assert unread[stored["known-1"].conversation_id] == 2
    assert unread[stored["other-1"].conversation_id] == 3
    assert unread[stored["blocked-1"].conversation_id] == 0
    assert await count(db, Conversation) == 5


async def test_the_same_provider_id_twice_in_a_batch_is_stored_once(
    hub: Client, db: Sessions, factory: Factory
) -> None:
    channel = await factory.channel("double", "Double")
    await post(hub, channel.id, message("a-0", "a"))
    before = committer(hub).stats.fast

    responses = await send_together(
        hub, channel.id, [[message("a-1", "a")], [message("a-1", "a")], [message("a-2", "a")]]
    )

    results = sorted([(await r.json())["result"] for r in responses])
    assert results == ["duplicate", "stored", "stored"]
    assert committer(hub).stats.fast == before  # one sender: all of it the careful way
    assert await count(db, Message) == 3
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 3


async def test_an_id_stored_by_another_process_meanwhile_falls_back_and_stays_single(
    hub: Client, db: Sessions, factory: Factory
) -> None:
    channel = await factory.channel("double", "Double")
    await post(hub, channel.id, message("b-0", "b"))
    await post(hub, channel.id, message("c-0", "c"))
    await post(hub, channel.id, message("b-1", "b"))  # already stored
    looked_up = committer(hub).prepare
    assert looked_up is not None

    async def stale(session: AsyncSession, hints: list[Any]) -> None:
        # As if another process stored b-1 just after this batch looked it up.
        await prefetch(session, hints)
        index = BatchIndex.of(session)
        assert index is not None
        index.message_ids[(channel.id, "b-1")] = None

    committer(hub).prepare = stale
    careful = committer(hub).stats.retried_careful
    try:
        responses = await send_together(
            hub, channel.id, [[message("b-1", "b")], [message("c-1", "c")]]
        )
    finally:
        committer(hub).prepare = looked_up

    assert [(await r.json())["result"] for r in responses] == ["duplicate", "stored"]
    assert committer(hub).stats.retried_careful == careful + 1
    assert await count(db, Message) == 4
    assert await count(db, Message, Message.external_id == "b-1") == 1


async def test_a_disabled_channels_requests_are_held_not_taken_fast(
    hub: Client, db: Sessions, factory: Factory
) -> None:
    channel = await factory.channel("double", "Double")
    await post(hub, channel.id, message("d-0", "d"))
    async with db() as session:
        await session.execute(update(Channel).where(Channel.id == channel.id).values(enabled=False))
        await session.commit()

    responses = await send_together(hub, channel.id, [[message("d-1", "d")], [message("d-2", "d")]])

    assert [(await r.json())["result"] for r in responses] == ["held", "held"]
    assert await count(db, Message) == 1
    assert await count(db, InboundLogEntry, InboundLogEntry.result == "held") == 2
