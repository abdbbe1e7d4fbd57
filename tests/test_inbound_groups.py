"""Grouped inbound messages (Telegram albums): items sharing a group key, arriving as
separate events, become one message with all their parts; a re-delivered item changes
nothing; later items neither count as unread nor notify observers as new messages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import INBOUND, MEDIA_FETCH_OPTIONS
from hub.channels.media_jobs import MediaFetchOptions, fetch_pending_media
from hub.events.event import HubEvent
from hub.settings import Settings
from hub.store.models import Channel, Conversation, InboundLogEntry, Message
from tests.channel_doubles import Recorder, manager, message, post
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
    # The fetcher runs only when a test asks: it would settle (fail: the double cannot
    # download) the album's media while the test looks at it.
    app[MEDIA_FETCH_OPTIONS] = MediaFetchOptions(background=False)
    return await aiohttp_client(app)


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", "Double")


def photo(item: str, caption: str | None = None) -> dict[str, Any]:
    """One album item: a photo (with an optional caption) in group ``chat:album``."""
    part: dict[str, Any] = {"kind": "media", "media_kind": "image", "provider_media_id": item}
    if caption is not None:
        part["caption"] = caption
    return message(item, parts=[part], group_key="chat:album")


async def rows(db: Sessions, model: Any) -> list[Any]:
    async with db() as session:
        return list(await session.scalars(select(model).order_by(model.id)))


async def results(response: Any) -> str:
    assert response.status == 200, await response.text()
    body = await response.json()
    return str(body["result"])


async def test_album_items_in_separate_requests_become_one_message(
    hub: Client, channel: Channel, db: Sessions, recorder: Recorder
) -> None:
    subscription = hub.app[appkeys.BUS].subscribe()
    outcomes = [
        await results(await post(hub, channel.id, photo("i1", "first"))),
        await results(await post(hub, channel.id, photo("i2"))),
        await results(await post(hub, channel.id, photo("i3", "third"))),
    ]
    subscription.close()
    published: list[HubEvent] = [event async for event in subscription]
    await hub.app[appkeys.OBSERVERS].drain()

    assert outcomes == ["stored", "stored", "stored"]
    [stored] = await rows(db, Message)
    assert stored.external_id == "group:chat:album"
    assert [p["provider_media_id"] for p in stored.parts] == ["i1", "i2", "i3"]
    assert [p["source_external_id"] for p in stored.parts] == ["i1", "i2", "i3"]
    assert stored.text == "first\nthird"
    assert stored.media_pending is True
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 1
    assert [n.message_id for n in recorder.received] == [stored.id]
    types = [e.type for e in published if e.type.startswith("message.")]
    assert types == ["message.created", "message.updated", "message.updated"]
    last = [e for e in published if e.type == "message.updated"][-1]
    assert last.data["id"] == stored.id and last.data["media_pending"] is True
    assert last.data["parts"] == stored.parts


async def test_a_redelivered_album_item_is_a_duplicate_and_appends_nothing(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    for item in ("i1", "i2", "i3"):
        await post(hub, channel.id, photo(item))
    again = await results(await post(hub, channel.id, photo("i2")))
    first_again = await results(await post(hub, channel.id, photo("i1")))

    assert (again, first_again) == ("duplicate", "duplicate")
    [stored] = await rows(db, Message)
    assert [p["provider_media_id"] for p in stored.parts] == ["i1", "i2", "i3"]
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 1
    logged = [e.result for e in await rows(db, InboundLogEntry)]
    assert logged == ["stored", "stored", "stored", "duplicate", "duplicate"]


async def test_album_items_arriving_together_still_make_one_message(
    hub: Client, channel: Channel, db: Sessions, recorder: Recorder
) -> None:
    # A known sender with an open conversation: the set-based path would otherwise take
    # these requests.
    await post(hub, channel.id, message("before"))
    committer = hub.app[INBOUND].committer
    before = committer.stats.batches
    responses = await asyncio.gather(
        *(post(hub, channel.id, photo(f"i{n}")) for n in range(1, 6)),
        post(hub, channel.id, photo("i3")),
    )
    await hub.app[appkeys.OBSERVERS].drain()

    assert [r.status for r in responses] == [200] * 6
    assert committer.stats.batches - before < 6  # some of them shared a commit
    first, album = await rows(db, Message)
    assert first.external_id == "before"
    assert sorted(p["provider_media_id"] for p in album.parts) == [f"i{n}" for n in range(1, 6)]
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 2
    assert [n.message_id for n in recorder.received] == [first.id, album.id]


async def test_items_of_one_album_in_one_request_make_one_message(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    outcome = await results(await post(hub, channel.id, photo("i1"), photo("i2"), message("plain")))

    assert outcome == "stored"
    album, plain = await rows(db, Message)
    assert [p["provider_media_id"] for p in album.parts] == ["i1", "i2"]
    assert plain.external_id == "plain" and "source_external_id" not in plain.parts[0]


async def test_an_edited_album_item_replaces_only_its_own_parts(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    for item, caption in (("i1", "one"), ("i2", "two")):
        await post(hub, channel.id, photo(item, caption))
    edited = {**photo("i1", "one, edited"), "edited": True}
    outcome = await results(await post(hub, channel.id, edited))
    again = await results(await post(hub, channel.id, edited))

    assert (outcome, again) == ("stored", "duplicate")
    [stored] = await rows(db, Message)
    assert [p.get("caption") for p in stored.parts] == ["one, edited", "two"]
    assert stored.text == "one, edited\ntwo"
    assert [h["text"] for h in stored.edit_history] == ["one\ntwo"]


async def test_replaying_an_album_item_is_idempotent(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    for item in ("i1", "i2"):
        await post(hub, channel.id, photo(item))
    second = (await rows(db, InboundLogEntry))[1]

    intakes = await hub.app[INBOUND].replay(second.id)

    assert [i.outcome for i in intakes] == ["duplicate"]
    [stored] = await rows(db, Message)
    assert len(stored.parts) == 2


async def test_the_media_fetcher_settles_album_parts_and_keeps_their_items(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, photo("i1"))
    await fetch_pending_media(hub.app)
    await post(hub, channel.id, photo("i2"))
    [stored] = await rows(db, Message)
    assert stored.media_pending is True  # the new item's photo waits for its pass

    await fetch_pending_media(hub.app)

    [stored] = await rows(db, Message)
    assert stored.media_pending is False
    assert [p["source_external_id"] for p in stored.parts] == ["i1", "i2"]
    # The double cannot download: each part is given up, not "malformed".
    assert [p["fetch_error"] for p in stored.parts] == ["this channel cannot download media"] * 2
