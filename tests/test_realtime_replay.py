"""No gaps after a reconnect: events carry increasing ids, ``/ws?after=<id>`` replays the
missed ones the user may see from the realtime event log, or says ``resync``.

Like tests/test_websocket.py, "is not sent" is proven without sleeping: the frame that
must not come would come before the next expected one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.group_commit import GroupCommitter
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.factory import create_bus
from hub.events.journal import EventJournal
from hub.events.work import Work
from hub.settings import Settings
from hub.store.models import RealtimeEvent, User
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
Socket = ClientWebSocketResponse[bool]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
WAIT = 15.0  # seconds a frame may take before the test fails; never slept


async def receive(socket: Socket) -> dict[str, Any]:
    """The next frame, as JSON."""
    message = await socket.receive(timeout=WAIT)
    assert message.type is WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


def what(frame: dict[str, Any]) -> tuple[str, int | None]:
    """A frame's type and the conversation it is about."""
    return frame["type"], frame.get("data", {}).get("conversation_id")


def journal_of(client: Client) -> EventJournal:
    """The app's realtime event log."""
    journal = client.app[appkeys.BUS].journal
    assert journal is not None
    return journal


async def logged_ids(db: Sessions) -> list[int]:
    """The ids the realtime event log holds."""
    async with db() as session:
        return list(await session.scalars(select(RealtimeEvent.id).order_by(RealtimeEvent.id)))


async def test_events_carry_increasing_ids_and_the_hello_names_the_newest(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    colleague, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"

    async with client.ws_connect("/ws", headers=auth) as socket:
        assert await receive(socket) == {"type": "hello", "data": {}, "last_event_id": 0}
        assert (await client.post(f"{url}/close", json={}, headers=owner_auth)).status == 200
        assert (await client.post(f"{url}/reopen", json={}, headers=owner_auth)).status == 200
        received = [await receive(socket) for _ in range(4)]
    assert [f["type"] for f in received] == ["conversation.updated", "counts.changed"] * 2
    ids = [f["id"] for f in received]
    assert ids == sorted(set(ids)) and ids[0] > 0

    async with client.ws_connect("/ws", headers=auth) as socket:
        hello = await receive(socket)
    assert hello == {"type": "hello", "data": {}, "last_event_id": ids[-1]}
    assert colleague.id


async def test_a_reconnect_gets_exactly_the_missed_events_it_may_see_then_live_ones(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    restricted, auth = await user_token("restricted@example.com", visibility="assigned")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    hidden = await factory.conversation(channel)
    theirs = await factory.conversation(channel)
    later = await factory.conversation(channel, assignee_id=restricted.id)

    async def post(conversation_id: int, action: str, body: dict[str, Any]) -> None:
        url = f"/api/v1/conversations/{conversation_id}/{action}"
        assert (await client.post(url, json=body, headers=owner_auth)).status == 200

    async with client.ws_connect("/ws", headers=auth) as socket:
        await receive(socket)  # hello
        await post(theirs.id, "assign", {"user_id": restricted.id})
        applied = [await receive(socket) for _ in range(3)]
    assert [what(f) for f in applied] == [
        ("conversation.updated", theirs.id),
        ("counts.changed", None),
        ("notification", theirs.id),
    ]
    last = applied[-1]["id"]

    # While the socket is cut: a change they may not see, then one they may.
    await post(hidden.id, "assign", {"user_id": other.id})
    await post(theirs.id, "close", {})

    async with client.ws_connect(f"/ws?after={last}", headers=auth) as socket:
        replayed = [await receive(socket) for _ in range(2)]
        await post(later.id, "close", {})
        live = [await receive(socket) for _ in range(2)]
    assert [what(f) for f in replayed + live] == [
        ("conversation.updated", theirs.id),
        ("counts.changed", None),
        ("conversation.updated", later.id),
        ("counts.changed", None),
    ]
    assert replayed[0]["data"]["event"] == "closed"
    ids = [f["id"] for f in replayed + live]
    assert ids == sorted(set(ids)) and ids[0] > last


async def test_an_event_both_replayed_and_published_live_is_sent_once(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    bus: EventBus = client.app[appkeys.BUS]
    journal = journal_of(client)
    start = await journal.last_id()
    # Logged but not yet published, as by a publisher still holding the lock when the
    # client reconnects: the replay has them, and then they arrive live as well.
    late = await journal.append(
        [HubEvent("settings.updated", {"n": 1}), HubEvent("settings.updated", {"n": 2})]
    )

    async with client.ws_connect(f"/ws?after={start}", headers=auth) as socket:
        replayed = [await receive(socket) for _ in range(2)]
        for event in late:
            await bus.publish(event)
        (fresh,) = await journal.append([HubEvent("settings.updated", {"n": 3})])
        await bus.publish(fresh)
        after_replay = await receive(socket)
    assert [f["data"]["n"] for f in replayed] == [1, 2]
    assert [f["id"] for f in replayed] == [e.id for e in late]
    assert after_replay == {"type": "settings.updated", "data": {"n": 3}, "id": fresh.id}


async def test_a_gap_the_log_no_longer_holds_is_a_resync_then_live_events(
    client: Client, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("agent@example.com")
    journal = journal_of(client)
    events = await journal.append([HubEvent("settings.updated", {"n": n}) for n in range(3)])
    first, second, newest = (e.id for e in events)
    assert first is not None and second is not None and newest is not None
    later = utcnow() + timedelta(seconds=journal.keep_seconds + 1)
    assert await journal.prune(now=later) == 2
    assert await logged_ids(db) == [newest]

    async with client.ws_connect(f"/ws?after={first}", headers=auth) as socket:
        assert await receive(socket) == {"type": "resync", "data": {}, "last_event_id": newest}
        (live,) = await journal.append([HubEvent("settings.updated", {"n": 9})])
        await client.app[appkeys.BUS].publish(live)
        assert (await receive(socket))["id"] == live.id

    # The one just before the oldest kept is still a complete replay.
    async with client.ws_connect(f"/ws?after={second}", headers=auth) as socket:
        assert [(await receive(socket))["id"] for _ in range(2)] == [newest, live.id]


@pytest.mark.parametrize("case", ["too many", "ahead of the log"])
async def test_resync_when_the_replay_would_be_too_long_or_the_id_is_unknown(
    client: Client, user_token: UserToken, case: str
) -> None:
    _, auth = await user_token("agent@example.com")
    journal = journal_of(client)
    start = await journal.last_id()
    await journal.append([HubEvent("settings.updated", {"n": n}) for n in range(3)])
    newest = await journal.last_id()
    if case == "too many":
        journal.replay_max = 2
        after = start
    else:
        after = newest + 5  # an id of another database's log, say, restored from backup

    async with client.ws_connect(f"/ws?after={after}", headers=auth) as socket:
        assert await receive(socket) == {"type": "resync", "data": {}, "last_event_id": newest}


async def test_replay_survives_a_restart_and_ids_keep_increasing(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    user_token: UserToken,
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"

    before = await aiohttp_client(create_app(settings))
    async with before.ws_connect("/ws", headers=auth) as socket:
        start = (await receive(socket))["last_event_id"]
    assert (await before.post(f"{url}/close", json={}, headers=owner_auth)).status == 200
    await before.close()

    after = await aiohttp_client(create_app(settings))
    async with after.ws_connect(f"/ws?after={start}", headers=auth) as socket:
        replayed = [await receive(socket) for _ in range(2)]
        assert (await after.post(f"{url}/reopen", json={}, headers=owner_auth)).status == 200
        live = await receive(socket)
    assert [what(f) for f in replayed] == [
        ("conversation.updated", conversation.id),
        ("counts.changed", None),
    ]
    assert replayed[0]["data"]["event"] == "closed"
    assert live["data"]["event"] == "reopened"
    assert start < replayed[0]["id"] < replayed[1]["id"] < live["id"]


@pytest.mark.parametrize(
    "after", ["", "x", "-1", "1.5", " 1", "+1", "1_0", "\uff11", "9" * 20, str(2**63)]
)
async def test_a_malformed_after_is_refused_before_the_upgrade(
    client: Client, user_token: UserToken, after: str
) -> None:
    _, auth = await user_token("agent@example.com")
    response = await client.get("/ws", params={"after": after}, headers=auth)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_after"


async def test_a_websocket_with_a_malformed_after_gets_400(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com")
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws?after=abc", headers=auth)
    assert refused.value.status == 400


async def test_pruning_keeps_recent_events_and_always_the_newest(
    client: Client, db: Sessions
) -> None:
    journal = journal_of(client)
    ids = [e.id for e in await journal.append([HubEvent("x.y", {}) for _ in range(4)])]
    assert await journal.prune() == 0  # all recent
    assert await logged_ids(db) == ids

    later = utcnow() + timedelta(seconds=journal.keep_seconds + 1)
    assert await journal.prune(now=later) == 3
    assert await journal.prune(now=later) == 0
    assert await logged_ids(db) == ids[-1:]
    assert await journal.last_id() == ids[-1]
    # An id is never handed out twice, even after pruning.
    (next_one,) = await journal.append([HubEvent("x.y", {})])
    assert next_one.id is not None and ids[-1] is not None and next_one.id > ids[-1]


async def test_the_app_prunes_the_log_by_itself(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, db: Sessions
) -> None:
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"realtime_replay_seconds": 1}))
    )
    events = await journal_of(client).append([HubEvent("x.y", {}) for _ in range(3)])

    async def only_the_newest_left() -> bool:
        return await logged_ids(db) == [events[-1].id]

    await eventually(only_the_newest_left, timeout=WAIT)


async def test_typing_and_access_changes_are_not_logged(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    typist, typist_auth = await user_token("typist@example.com")
    _, auth = await user_token("colleague@example.com")
    conversation = await factory.conversation(await factory.channel())
    journal = journal_of(client)
    start = await journal.last_id()

    async with (
        client.ws_connect("/ws", headers=typist_auth) as typist_socket,
        client.ws_connect("/ws", headers=auth) as socket,
    ):
        await receive(typist_socket)
        await receive(socket)
        await typist_socket.send_json(
            {"type": "typing", "conversation_id": conversation.id, "typing": True}
        )
        typing = await receive(socket)
    assert typing["type"] == "typing" and "id" not in typing
    listed = await client.get("/api/v1/tokens", headers=typist_auth)
    (token,) = (await listed.json())["items"]
    revoked = await client.delete(f"/api/v1/tokens/{token['id']}", headers=typist_auth)
    assert revoked.status == 204  # publishes access.changed
    assert await journal.last_id() == start
    assert typist.id


async def test_if_the_log_cannot_be_written_events_still_go_out_live_without_ids(
    client: Client, factory: Factory, user_token: UserToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, owner_auth = await user_token("owner@example.com", role="owner")
    _, auth = await user_token("agent@example.com")
    conversation = await factory.conversation(await factory.channel())
    journal = journal_of(client)

    async def busy(events: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    async with client.ws_connect("/ws", headers=auth) as socket:
        await receive(socket)
        monkeypatch.setattr(journal, "append", busy)
        url = f"/api/v1/conversations/{conversation.id}/close"
        assert (await client.post(url, json={}, headers=owner_auth)).status == 200
        frames = [await receive(socket) for _ in range(2)]
    assert [what(f) for f in frames] == [
        ("conversation.updated", conversation.id),
        ("counts.changed", None),
    ]
    assert all("id" not in f for f in frames)


async def test_a_group_commit_batch_is_logged_in_one_append(db: Sessions) -> None:
    bus = create_bus("memory://")
    journal = EventJournal(db, keep_seconds=60)
    bus.journal = journal
    appends: list[int] = []
    append = journal.append

    async def counted(events: Any) -> list[HubEvent]:
        appends.append(len(events))
        return await append(events)

    journal.append = counted  # type: ignore[method-assign]
    await bus.start()
    subscription = bus.subscribe()
    committer = GroupCommitter(db, bus, None, batch_max=50)
    committer.start()

    def job(n: int) -> Callable[[Work], Awaitable[None]]:
        async def run(work: Work) -> None:
            work.emit(HubEvent("x.y", {"n": n}))
            work.emit(HubEvent("typing", {"n": n}))  # not logged, still published

        return run

    try:
        await asyncio.gather(*(committer.submit(job(n)) for n in range(10)))
    finally:
        await committer.stop()
    received = aiter(subscription)
    published = [await asyncio.wait_for(anext(received), WAIT) for _ in range(20)]
    subscription.close()
    await bus.stop()

    assert committer.stats.batches == 1 and appends == [20]
    logged = [e for e in published if e.type == "x.y"]
    assert [e.data["n"] for e in logged] == list(range(10))
    ids = [e.id for e in logged]
    assert ids == sorted(set(ids)) and None not in ids
    assert all(e.id is None for e in published if e.type == "typing")
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(RealtimeEvent)) == 10


async def test_a_log_that_cannot_be_read_is_a_resync_without_an_id(
    client: Client, user_token: UserToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, auth = await user_token("agent@example.com")
    journal = journal_of(client)

    async def unreadable(after: int) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(journal, "replay", unreadable)
    async with client.ws_connect("/ws?after=3", headers=auth) as socket:
        # No id to continue from: the client keeps its own.
        assert await receive(socket) == {"type": "resync", "data": {}}
