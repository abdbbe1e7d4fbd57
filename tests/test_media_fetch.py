"""Inbound media: the job that fetches media parts into attachments, with retries,
give-up, limits, realtime events, and who may download the result."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import MEDIA_FETCH_OPTIONS, MEDIA_STORE
from hub.channels import media_jobs
from hub.channels.media_jobs import (
    CANNOT_FETCH,
    MediaFetchOptions,
    fetch_pending_media,
)
from hub.contract import hookimpl
from hub.contract.channel import Capabilities, ChannelType
from hub.contract.errors import PermanentFailure, RetryLater
from hub.contract.models import MediaPart, StickerPart, TextPart
from hub.events.event import HubEvent
from hub.inbox.messages import message_payload
from hub.media.store import FileMediaStore
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import Attachment, Conversation, Message, User
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
JPEG = b"\xff\xd8\xff\xe0" + b"jpeg body" * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"png body" * 10
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"w" * 20


class Script:
    """What the test channel's ``fetch_media`` answers, per provider media id, in turn."""

    def __init__(self) -> None:
        self.outcomes: dict[str, list[bytes | Exception]] = {}
        self.calls: list[MediaPart | StickerPart] = []
        self.gate: asyncio.Event | None = None
        self.entered = asyncio.Event()

    def on(self, media_id: str, *outcomes: bytes | Exception) -> None:
        self.outcomes[media_id] = list(outcomes)


class _Config(BaseModel):
    pass


class MediaChannel(ChannelType[_Config]):
    """A channel whose downloads are scripted by the test."""

    name = "media_test"
    title = "Media Test"
    description = "Scripted media downloads."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = _Config
    capabilities = Capabilities(media={"image": 1024, "document": 4096, "sticker": 512})
    script: ClassVar[Script]

    async def fetch_media(self, part: MediaPart) -> bytes:
        script = type(self).script
        script.calls.append(part)
        script.entered.set()
        if script.gate is not None:
            await script.gate.wait()
        assert part.provider_media_id is not None
        outcome = script.outcomes[part.provider_media_id].pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


class NoMediaChannel(ChannelType[_Config]):
    """A channel that cannot download media."""

    name = "no_media_test"
    title = "No Media Test"
    description = "Cannot fetch media."
    logo = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    Config = _Config


class _Plugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [MediaChannel, NoMediaChannel]


def plugins() -> HubPluginManager:
    manager = HubPluginManager(autoload=False)
    manager.register(_Plugin(), PluginInfo(name="media-test", distribution="tests", version="0"))
    return manager


OPTIONS = MediaFetchOptions(background=False, max_attempts=3, backoff_seconds=10)


def make_app(settings: Settings, options: MediaFetchOptions = OPTIONS) -> web.Application:
    app = create_app(settings, plugins=plugins())
    app[MEDIA_FETCH_OPTIONS] = options
    return app


@pytest.fixture
def script() -> Script:
    MediaChannel.script = Script()
    return MediaChannel.script


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, script: Script
) -> Client:
    """The app with the test channel types and the background fetcher off."""
    return await aiohttp_client(make_app(settings))


def image(media_id: str, **kwargs: Any) -> dict[str, Any]:
    part = MediaPart(media_kind="image", provider_media_id=media_id, **kwargs)
    return part.model_dump(mode="json")


async def media_message(
    factory: Factory, parts: list[dict[str, Any]], type_: str = "media_test", **kwargs: Any
) -> Message:
    conversation = await factory.conversation(await factory.channel(type_), **kwargs)
    return await factory.message(conversation, None, parts=parts, media_pending=True)


async def reload(db: async_sessionmaker[AsyncSession], message: Message) -> Message:
    async with db() as session:
        found = await session.get(Message, message.id)
    assert found is not None
    return found


async def attachments(db: async_sessionmaker[AsyncSession], message: Message) -> list[Attachment]:
    async with db() as session:
        rows = await session.scalars(
            select(Attachment).where(Attachment.message_id == message.id).order_by(Attachment.id)
        )
        return list(rows)


async def one_pass(client: Client, **kwargs: Any) -> tuple[int, list[HubEvent]]:
    """Run a fetch pass; return its count and the events published meanwhile."""
    subscription = client.app[appkeys.BUS].subscribe()
    worked = await fetch_pending_media(client.app, **kwargs)
    subscription.close()
    return worked, [event async for event in subscription]


# --- fetching --------------------------------------------------------------------------


async def test_a_fetched_image_becomes_a_stored_attachment_the_part_points_to(
    client: Client,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
    script: Script,
) -> None:
    script.on("img-1", JPEG)
    text = TextPart(text="look").model_dump(mode="json")
    message = await media_message(factory, [text, image("img-1", mime_type="image/jpeg")])

    worked, events = await one_pass(client)

    assert worked == 1
    [attachment] = await attachments(db, message)
    digest = hashlib.sha256(JPEG).hexdigest()
    assert (attachment.sha256, attachment.size, attachment.content_type) == (
        digest,
        len(JPEG),
        "image/jpeg",
    )
    assert attachment.uploaded_by is None
    assert FileMediaStore.in_data_dir(settings.data_dir).path_of(digest).read_bytes() == JPEG
    stored = await reload(db, message)
    assert stored.media_pending is False
    assert stored.parts[0] == text
    assert stored.parts[1]["attachment_id"] == attachment.id
    assert "fetch_error" not in stored.parts[1]
    [updated] = [e for e in events if e.type == "message.updated"]
    assert updated.scope is not None and updated.scope.conversation_id == message.conversation_id
    assert updated.data["parts"][1]["attachment_id"] == attachment.id
    assert [a["id"] for a in updated.data["attachments"]] == [attachment.id]
    assert updated.data["media_pending"] is False
    # Settled messages are not looked at again.
    assert await fetch_pending_media(client.app) == 0
    assert len(script.calls) == 1


async def test_a_part_without_a_type_is_typed_by_its_bytes_and_given_a_telling_name(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("img-2", PNG)
    message = await media_message(factory, [image("img-2")])
    await fetch_pending_media(client.app)
    [attachment] = await attachments(db, message)
    assert attachment.content_type == "image/png"
    assert attachment.filename == f"image-{message.id}-1.png"


async def test_a_sticker_is_fetched_within_the_channels_sticker_limit(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("st-1", WEBP)
    script.on("st-2", WEBP + b"x" * 600)
    stickers = [
        StickerPart(provider_media_id=media_id, mime_type="image/webp").model_dump(mode="json")
        for media_id in ("st-1", "st-2")
    ]
    message = await media_message(factory, stickers)
    await fetch_pending_media(client.app)
    [attachment] = await attachments(db, message)
    assert attachment.content_type == "image/webp"
    assert isinstance(script.calls[0], StickerPart)
    parts = (await reload(db, message)).parts
    assert parts[0]["attachment_id"] == attachment.id
    assert parts[1]["fetch_error"] == "larger than the limit of 512 bytes for sticker files"


async def test_a_permanent_failure_keeps_the_message_and_shows_the_reason(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("gone", PermanentFailure("131052", "media download error: expired"))
    message = await media_message(factory, [image("gone", caption="see this")])

    _, events = await one_pass(client)

    stored = await reload(db, message)
    assert stored.media_pending is False
    assert stored.parts[0]["fetch_error"] == "media download error: expired"
    assert stored.parts[0]["caption"] == "see this"
    assert await attachments(db, message) == []
    assert [e.type for e in events] == ["message.updated"]


async def test_retry_later_waits_for_its_time_then_fetches(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("slow", RetryLater("busy", after=120), JPEG)
    message = await media_message(factory, [image("slow", mime_type="image/jpeg")])
    now = utcnow()

    _, events = await one_pass(client, now=now)

    stored = await reload(db, message)
    assert stored.media_pending is True
    part = stored.parts[0]
    assert part["fetch_attempts"] == 1
    assert part["fetch_last_error"] == "busy"
    retry_at = datetime.fromisoformat(part["fetch_retry_at"])
    assert retry_at >= now + timedelta(seconds=120)  # the plugin's `after` is honoured
    assert events == []  # nothing changed that an agent sees
    # Not due yet: nothing is fetched.
    assert await fetch_pending_media(client.app, now=retry_at - timedelta(seconds=1)) == 0
    assert len(script.calls) == 1
    assert await fetch_pending_media(client.app, now=retry_at) == 1
    stored = await reload(db, message)
    assert stored.media_pending is False
    assert "attachment_id" in stored.parts[0]
    assert "fetch_retry_at" not in stored.parts[0]


async def test_network_errors_are_retried_with_backoff_then_given_up(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("flaky", *(httpx.ConnectError("connection refused") for _ in range(3)))
    message = await media_message(factory, [image("flaky")])
    now = utcnow()
    delays = []
    for _ in range(3):
        assert await fetch_pending_media(client.app, now=now) == 1
        part = (await reload(db, message)).parts[0]
        if "fetch_retry_at" in part:
            delays.append(datetime.fromisoformat(part["fetch_retry_at"]) - now)
            now = datetime.fromisoformat(part["fetch_retry_at"])
    stored = await reload(db, message)
    assert len(script.calls) == 3
    assert stored.media_pending is False
    assert stored.parts[0]["fetch_error"] == (
        "gave up after 3 attempts: network error: ConnectError: connection refused"
    )
    # The backoff grows: 10 s, then about 20 s (with up to a quarter of jitter).
    assert timedelta(seconds=10) <= delays[0] <= timedelta(seconds=12.5)
    assert timedelta(seconds=20) <= delays[1] <= timedelta(seconds=25)


async def test_a_plugin_bug_is_retried_and_never_stops_the_pass(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("bug", KeyError("url"))
    script.on("fine", JPEG)
    broken = await media_message(factory, [image("bug")])
    fine = await media_message(factory, [image("fine", mime_type="image/jpeg")])
    assert await fetch_pending_media(client.app) == 2
    assert (await reload(db, broken)).parts[0]["fetch_last_error"] == (
        "the channel plugin failed: KeyError"
    )
    assert len(await attachments(db, fine)) == 1


async def test_parts_settle_one_by_one_and_the_message_waits_for_the_last(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("a", JPEG)
    script.on("b", RetryLater("later"))
    message = await media_message(
        factory, [image("a", mime_type="image/jpeg"), image("b", mime_type="image/jpeg")]
    )
    _, events = await one_pass(client)
    stored = await reload(db, message)
    assert stored.media_pending is True
    assert "attachment_id" in stored.parts[0]
    assert stored.parts[1]["fetch_attempts"] == 1
    # The agent sees the first file now, the other still loading.
    [updated] = events
    assert updated.data["media_pending"] is True


# --- limits and refusals ------------------------------------------------------------------


async def test_a_file_over_the_channels_limit_for_its_kind_is_refused_naming_it(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("big", JPEG * 20)
    message = await media_message(
        factory, [image("big", mime_type="image/jpeg"), image("declared", size=5000)]
    )
    await fetch_pending_media(client.app)
    parts = (await reload(db, message)).parts
    assert parts[0]["fetch_error"] == "larger than the limit of 1 KB for image files"
    assert parts[1]["fetch_error"] == "larger than the limit of 1 KB for image files"
    # A declared size over the limit is refused without downloading.
    assert [p.provider_media_id for p in script.calls] == ["big"]
    assert await attachments(db, message) == []


async def test_a_type_outside_the_allowed_list_is_refused(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("page", b"<html><script>alert(1)</script></html>")
    part = MediaPart(media_kind="document", provider_media_id="page", mime_type="text/html")
    message = await media_message(factory, [part.model_dump(mode="json")])
    await fetch_pending_media(client.app)
    stored = await reload(db, message)
    assert stored.parts[0]["fetch_error"] == "the type text/html is not allowed"
    assert stored.media_pending is False
    assert await attachments(db, message) == []


async def test_a_channel_that_cannot_fetch_media_marks_its_parts_unavailable(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    message = await media_message(factory, [image("x")], type_="no_media_test")
    await fetch_pending_media(client.app)
    stored = await reload(db, message)
    assert stored.parts[0]["fetch_error"] == CANNOT_FETCH
    assert stored.media_pending is False


async def test_a_malformed_part_is_marked_unavailable_not_retried(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    message = await media_message(factory, [{"kind": "media", "media_kind": "hologram"}])
    await fetch_pending_media(client.app)
    stored = await reload(db, message)
    assert stored.parts[0]["fetch_error"] == "the media part is malformed"


# --- the store, concurrency, waking -----------------------------------------------------


class MemoryStore:
    """A media store in memory, standing in for an object store."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.files[digest] = data
        return digest

    async def read(self, sha256: str) -> bytes:
        if sha256 not in self.files:
            raise FileNotFoundError(sha256)
        return self.files[sha256]

    async def exists(self, sha256: str) -> bool:
        return sha256 in self.files


async def test_the_media_store_is_pluggable_through_the_app(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    script: Script,
    user_token: UserToken,
) -> None:
    store = MemoryStore()
    app = make_app(settings)
    app[MEDIA_STORE] = store
    client = await aiohttp_client(app)
    script.on("img", JPEG)
    message = await media_message(factory, [image("img", mime_type="image/jpeg")])
    await fetch_pending_media(client.app)
    assert store.files == {hashlib.sha256(JPEG).hexdigest(): JPEG}
    assert not (settings.data_dir / "media").exists()
    _, auth = await user_token("all@example.com")
    attachment_id = (await reload_parts(factory, message))[0]["attachment_id"]
    response = await client.get(f"/api/v1/attachments/{attachment_id}", headers=auth)
    assert response.status == 200
    assert await response.read() == JPEG


async def reload_parts(factory: Factory, message: Message) -> list[dict[str, Any]]:
    async with factory.sessions() as session:
        found = await session.get(Message, message.id)
        assert found is not None
        return found.parts


async def test_two_passes_at_once_in_one_process_fetch_a_message_once(
    client: Client, factory: Factory, db: async_sessionmaker[AsyncSession], script: Script
) -> None:
    script.on("img", JPEG, JPEG)
    script.gate = asyncio.Event()
    message = await media_message(factory, [image("img", mime_type="image/jpeg")])
    first = asyncio.create_task(fetch_pending_media(client.app))
    await asyncio.wait_for(script.entered.wait(), 10)
    assert await asyncio.wait_for(fetch_pending_media(client.app), 10) == 0
    script.gate.set()
    assert await first == 1
    assert len(script.calls) == 1
    assert len(await attachments(db, message)) == 1


async def test_two_processes_never_fetch_the_same_message_on_postgresql(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    script: Script,
) -> None:
    if settings.is_sqlite:
        pytest.skip("one hub process per SQLite database: no row locks to take")
    first_app = await aiohttp_client(make_app(settings))
    second_app = await aiohttp_client(make_app(settings))
    script.on("img", JPEG, JPEG)
    script.gate = asyncio.Event()
    message = await media_message(factory, [image("img", mime_type="image/jpeg")])
    first = asyncio.create_task(fetch_pending_media(first_app.app))
    await asyncio.wait_for(script.entered.wait(), 10)
    # The other process sees the message pending and due, but it is locked: skipped
    # (without the lock it would wait at the gate, and time out here).
    assert await asyncio.wait_for(fetch_pending_media(second_app.app), 10) == 0
    script.gate.set()
    assert await first == 1
    assert len(script.calls) == 1
    assert len(await attachments(db, message)) == 1


async def test_the_background_job_wakes_on_an_inbound_message_event(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    script: Script,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes: list[int] = []  # what each of the job's passes fetched

    async def counted(app: web.Application) -> int:
        fetched = await fetch_pending_media(app)
        passes.append(fetched)
        return fetched

    monkeypatch.setattr(media_jobs, "fetch_pending_media", counted)
    # A poll interval far longer than the test: only the event can wake the job.
    options = MediaFetchOptions(background=True, poll_seconds=3600)
    client = await aiohttp_client(make_app(settings, options))
    # The job's first pass (at start, finding nothing) must be over: a message stored
    # before it ends would be fetched by that pass, event or not. (A loaded CI machine
    # once took over 5 s to start and finish it; a second pass would still fail here.)
    await eventually(lambda: passes == [0], timeout=20)
    script.on("img", JPEG)
    message = await media_message(factory, [image("img", mime_type="image/jpeg")])
    # The event as intake emits it: the stored message's payload (media pending).
    created = HubEvent("message.created", message_payload(message, []))
    assert media_jobs.wakes_fetcher(created)
    await client.app[appkeys.BUS].publish(created)
    await eventually(lambda: attachments(db, message), timeout=10)
    assert len(await attachments(db, message)) == 1
    assert (await reload(db, message)).media_pending is False


async def test_only_inbound_messages_with_media_pending_wake_the_job(factory: Factory) -> None:
    conversation = await factory.conversation(await factory.channel("media_test"))
    text_only = await factory.message(conversation, "hello")
    with_media = await factory.message(
        conversation, None, parts=[image("img", mime_type="image/jpeg")], media_pending=True
    )
    reply = await factory.message(conversation, "on its way", direction="out")

    def created(message: Message) -> HubEvent:
        return HubEvent("message.created", message_payload(message, []))

    assert media_jobs.wakes_fetcher(created(with_media))
    assert not media_jobs.wakes_fetcher(created(text_only))
    assert not media_jobs.wakes_fetcher(created(reply))
    assert not media_jobs.wakes_fetcher(HubEvent("message.updated", {"direction": "in"}))
    # An older process's event without the flag wakes it, to be safe.
    assert media_jobs.wakes_fetcher(HubEvent("message.created", {"direction": "in"}))


# --- who may download the fetched files ---------------------------------------------------


async def test_fetched_media_is_served_only_to_those_who_may_see_the_conversation(
    client: Client,
    factory: Factory,
    db: async_sessionmaker[AsyncSession],
    script: Script,
    user_token: UserToken,
) -> None:
    assignee, assignee_auth = await user_token("assignee@example.com", visibility="assigned")
    _, other_auth = await user_token("other@example.com", visibility="assigned")
    _, all_auth = await user_token("all@example.com", visibility="all")
    script.on("img", JPEG)
    message = await media_message(
        factory, [image("img", mime_type="image/jpeg")], assignee_id=assignee.id
    )
    await fetch_pending_media(client.app)
    [attachment] = await attachments(db, message)
    url = f"/api/v1/attachments/{attachment.id}"
    for auth in (assignee_auth, all_auth):
        response = await client.get(url, headers=auth)
        assert response.status == 200
        assert await response.read() == JPEG
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get(url, headers=other_auth)).status == 404
    # Reassigned away, the former assignee loses it too.
    async with db() as session:
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        conversation.assignee_id = None
        await session.commit()
    assert (await client.get(url, headers=assignee_auth)).status == 404
    assert (await client.get(url)).status == 401
