"""The outbox worker delivers queued messages through the channel plugin, retries with
backoff, dead-letters, fails with a reason the agent can read, and survives crashes.

A test-only channel type (``tests/outbound_doubles.py``) plays a script of outcomes; the
app, database and bus are real. The background worker is kept idle (a long poll, and
rows are queued behind the bus's back) so each test drives ``deliver_due`` itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import OUTBOX
from hub.channels.backoff import retry_delay
from hub.channels.limits import DeliveryLimits, TokenBucket
from hub.channels.outbound import deliver_due
from hub.contract import BadCredentials, PermanentFailure, RetryLater, WindowClosed
from hub.contract.models import OutboundMessage
from hub.events.event import HubEvent
from hub.media.store import FileMediaStore
from hub.settings import Settings
from hub.store.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    OutboxItem,
    User,
)
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory
from tests.outbound_doubles import (
    Queued,
    Script,
    ScriptedPlugin,
    queue_message,
    scripted_channel,
    scripted_manager,
)

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@dataclass
class Hub:
    """A running hub with the scripted channel plugin."""

    client: Client
    plugin: ScriptedPlugin

    @property
    def app(self) -> Any:
        return self.client.app

    async def deliver(self, limit: int | None = None) -> int:
        attempted = await deliver_due(self.app, limit=limit)
        await self.app[appkeys.OBSERVERS].drain()
        return attempted


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def outbox_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "outbox_poll_seconds": 3600,
            "outbox_backoff_seconds": 30,
            "outbox_backoff_max_seconds": 600,
            "outbox_max_attempts": 3,
        }
    )


@pytest.fixture
async def hub(
    outbox_settings: Settings, script: Script, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Hub:
    # Settings (the database) first, so the app stops before the database is emptied.
    manager, plugin = scripted_manager(script)
    client = await aiohttp_client(create_app(outbox_settings, plugins=manager))
    return Hub(client, plugin)


async def stored(db: Sessions, queued: Queued) -> tuple[Message, OutboxItem]:
    async with db() as session:
        message = await session.get(Message, queued.message.id)
        item = await session.get(OutboxItem, queued.item.id)
    assert message is not None and item is not None
    return message, item


async def make_due(db: Sessions, item_id: int) -> None:
    async with db() as session:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()


async def events_during(hub: Hub, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    subscription = hub.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


# --- success ------------------------------------------------------------------------------


async def test_a_due_message_is_sent_with_its_content_and_the_provider_id_is_stored(
    hub: Hub, factory: Factory, db: Sessions, script: Script, outbox_settings: Settings
) -> None:
    channel = await scripted_channel(factory)
    contact = await factory.contact()
    conversation = await factory.conversation(channel, contact, thread_key="thread-9")
    inbound = await factory.message(conversation, "question?", external_id="wamid.in-1")
    queued = await queue_message(
        factory,
        channel,
        "Here is the invoice",
        conversation=conversation,
        subject="Invoice",
        reply_to_id=inbound.id,
    )
    await factory.add(
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id="+15550001")
    )
    content = b"%PDF-1.7 invoice"
    sha = await FileMediaStore.in_data_dir(outbox_settings.data_dir).put(content)
    attachment = Attachment(
        message_id=queued.message.id,
        sha256=sha,
        filename="invoice.pdf",
        content_type="application/pdf",
        size=len(content),
    )
    await factory.add(attachment)
    script.then("wamid.out-1")

    events = await events_during(hub, hub.deliver)

    [sent] = script.calls
    assert sent.message_id == queued.message.id
    assert sent.conversation_id == conversation.id
    assert sent.recipient_id == "+15550001"
    assert sent.idempotency_key == f"hub-msg-{queued.message.id}"
    assert (sent.text, sent.subject, sent.thread_key) == (
        "Here is the invoice",
        "Invoice",
        "thread-9",
    )
    assert sent.reply_to_external_id == "wamid.in-1"
    [file] = sent.attachments
    assert (file.filename, file.content_type, file.size, file.sha256) == (
        "invoice.pdf",
        "application/pdf",
        len(content),
        sha,
    )
    assert file.url is not None
    assert file.url.startswith(f"https://hub.example.test/media/{attachment.id}/")
    # The plugin read the bytes through its context, from the hub's media store.
    assert script.files == [content]

    message, item = await stored(db, queued)
    assert (message.status, message.external_id) == ("sent", "wamid.out-1")
    assert message.sent_at is not None
    assert (item.status, item.lease_owner, item.lease_expires_at) == ("done", None, None)
    updated = [e for e in events if e.type == "message.updated"]
    assert [(e.data["id"], e.data["status"]) for e in updated] == [(queued.message.id, "sent")]
    assert updated[0].scope is not None
    assert updated[0].scope.conversation_id == conversation.id


async def test_hook_hub_message_sent(hub: Hub, factory: Factory, script: Script) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then("provider-42")
    await hub.deliver()
    [notice] = hub.plugin.observed.sent
    assert (notice.message_id, notice.provider_id) == (queued.message.id, "provider-42")
    assert (notice.channel_id, notice.channel_type) == (queued.channel.id, "scripted")
    assert notice.conversation_id == queued.conversation.id
    assert hub.plugin.observed.failed == []


async def test_a_queued_message_is_delivered_by_the_worker_without_being_asked(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
    script: Script,
) -> None:
    manager, _ = scripted_manager(script)
    settings = outbox_settings.model_copy(update={"outbox_poll_seconds": 0.05})
    await aiohttp_client(create_app(settings, plugins=manager))
    queued = await queue_message(factory, await scripted_channel(factory))

    async def sent() -> None:
        message, _item = await stored(db, queued)
        assert message.status == "sent"

    await eventually(sent, timeout=10)
    assert len(script.calls) == 1


async def test_sending_through_the_api_wakes_the_worker_at_once(
    hub: Hub,
    factory: Factory,
    db: Sessions,
    script: Script,
    user_token: Callable[..., Awaitable[tuple[User, dict[str, str]]]],
) -> None:
    # The poll is an hour: only the message.created event can make this send happen.
    _, auth = await user_token("agent@example.com")
    queued = await queue_message(factory, await scripted_channel(factory))
    await hub.deliver()  # the queued one out of the way
    response = await hub.client.post(
        f"/api/v1/conversations/{queued.conversation.id}/messages",
        json={"text": "second"},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    message_id = (await response.json())["id"]
    await eventually(lambda: len(script.calls) == 2)
    assert [m.message_id for m in script.calls] == [queued.message.id, message_id]


# --- retries ------------------------------------------------------------------------------


async def test_retry_later_reschedules_no_earlier_than_the_provider_asked(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(RetryLater("rate limited", after=5000))
    before = utcnow()
    assert await hub.deliver() == 1

    message, item = await stored(db, queued)
    assert message.status == "pending"
    assert (item.status, item.attempts, item.last_error) == ("pending", 1, "rate limited")
    # The backoff alone (30 s, capped at 600 s) is far shorter than what was asked.
    assert item.next_attempt_at >= before + timedelta(seconds=5000)
    assert item.lease_owner is None
    assert await hub.deliver() == 0  # not due yet
    assert len(script.calls) == 1


async def test_retry_without_after_waits_the_exponential_backoff(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(RetryLater(), RetryLater())
    before = utcnow()
    await hub.deliver()
    _, first = await stored(db, queued)
    # Equal jitter: between half and all of 30 s after the first failure.
    assert before + timedelta(seconds=15) <= first.next_attempt_at
    assert first.next_attempt_at <= utcnow() + timedelta(seconds=30)
    await make_due(db, queued.item.id)
    before = utcnow()
    await hub.deliver()
    _, second = await stored(db, queued)
    assert second.attempts == 2
    assert before + timedelta(seconds=30) <= second.next_attempt_at  # doubled: 30..60 s
    assert second.next_attempt_at <= utcnow() + timedelta(seconds=60)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx.ConnectError("connection refused"), "network error: ConnectError"),
        (httpx.ReadTimeout("timed out"), "network error: ReadTimeout"),
        (ValueError("plugin bug"), "unexpected error in the plugin: ValueError: plugin bug"),
    ],
)
async def test_network_errors_and_plugin_exceptions_are_retried(
    hub: Hub,
    factory: Factory,
    db: Sessions,
    script: Script,
    error: Exception,
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(error)
    await hub.deliver()
    message, item = await stored(db, queued)
    assert message.status == "pending"
    assert (item.status, item.attempts) == ("pending", 1)
    assert item.last_error is not None and item.last_error.startswith(expected)
    if isinstance(error, ValueError):
        assert "Traceback" in caplog.text  # logged with its traceback


async def test_the_idempotency_key_is_the_same_on_every_attempt(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(httpx.ReadTimeout("lost answer"), "sent-at-last")
    await hub.deliver()
    await make_due(db, queued.item.id)
    await hub.deliver()
    keys = [m.idempotency_key for m in script.calls]
    assert keys == [f"hub-msg-{queued.message.id}"] * 2
    message, _ = await stored(db, queued)
    assert (message.status, message.external_id) == ("sent", "sent-at-last")


async def test_a_message_is_dead_lettered_after_the_maximum_attempts(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(*(RetryLater(f"busy {n}") for n in range(1, 4)))
    for _ in range(3):  # outbox_max_attempts = 3
        await make_due(db, queued.item.id)
        assert await hub.deliver() == 1
    message, item = await stored(db, queued)
    assert (item.status, item.attempts, item.last_error) == (
        "dead",
        3,
        "gave up after 3 attempts: busy 3",
    )
    assert message.status == "failed"
    assert message.failure_reason == "gave up after 3 attempts: busy 3"
    assert message.error_code == "dead_lettered"
    await make_due(db, queued.item.id)
    assert await hub.deliver() == 0  # a dead letter is never taken again by itself


async def test_hook_hub_message_failed(
    hub: Hub, factory: Factory, script: Script, db: Sessions
) -> None:
    refused = await queue_message(factory, await scripted_channel(factory))
    script.then(WindowClosed())
    await hub.deliver()
    dead = await queue_message(factory, await scripted_channel(factory))
    script.then(*(RetryLater("down") for _ in range(3)))
    for _ in range(3):
        await make_due(db, dead.item.id)
        await hub.deliver()

    first, second = hub.plugin.observed.failed
    assert (first.message_id, first.code, first.dead_lettered) == (
        refused.message.id,
        "window_closed",
        False,
    )
    assert first.reason == "the customer-service window is closed: send a template"
    assert (second.message_id, second.code, second.dead_lettered) == (
        dead.message.id,
        "dead_lettered",
        True,
    )
    assert second.reason == "gave up after 3 attempts: down"
    assert hub.plugin.observed.sent == []


# --- failures the agent reads -------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason", "code"),
    [
        (
            WindowClosed(),
            "the customer-service window is closed: send a template",
            "window_closed",
        ),
        (
            PermanentFailure("131026", "the recipient cannot receive this message"),
            "the recipient cannot receive this message",
            "131026",
        ),
    ],
)
async def test_a_permanent_failure_is_readable_on_the_message(
    hub: Hub,
    factory: Factory,
    db: Sessions,
    script: Script,
    user_token: Callable[..., Awaitable[tuple[User, dict[str, str]]]],
    error: Exception,
    reason: str,
    code: str,
) -> None:
    _, auth = await user_token("agent@example.com")
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(error)
    events = await events_during(hub, hub.deliver)

    response = await hub.client.get(f"/api/v1/messages/{queued.message.id}", headers=auth)
    assert response.status == 200
    body = await response.json()
    assert (body["status"], body["failure_reason"]) == ("failed", reason)
    _, item = await stored(db, queued)
    assert (item.status, item.attempts) == ("failed", 1)  # the attempt the provider refused
    [updated] = [e for e in events if e.type == "message.updated"]
    assert (updated.data["status"], updated.data["error_code"]) == ("failed", code)
    await make_due(db, queued.item.id)
    assert await hub.deliver() == 0  # never tried again by itself


async def test_bad_credentials_retry_and_mark_the_channel_broken_until_a_send_works(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(BadCredentials("token expired"), "ok-id")
    await hub.deliver()
    message, item = await stored(db, queued)
    async with db() as session:
        channel = await session.get(Channel, queued.channel.id)
    assert channel is not None
    assert channel.status == "error"
    assert channel.status_reason == (
        "sending failed: the provider refused the channel's credentials: token expired"
    )
    assert (message.status, item.status, item.attempts) == ("pending", "pending", 1)

    await make_due(db, queued.item.id)
    await hub.deliver()
    async with db() as session:
        channel = await session.get(Channel, queued.channel.id)
    assert channel is not None
    assert (channel.status, channel.status_reason) == ("ok", None)


async def test_a_disabled_channel_holds_its_messages_until_enabled(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    channel = await scripted_channel(factory, enabled=False)
    queued = await queue_message(factory, channel)
    assert await hub.deliver() == 0
    message, item = await stored(db, queued)
    assert (message.status, item.status, item.attempts, item.lease_owner) == (
        "pending",
        "pending",
        0,
        None,
    )
    assert script.calls == []

    async with db() as session:
        await session.execute(update(Channel).where(Channel.id == channel.id).values(enabled=True))
        await session.commit()
    assert await hub.deliver() == 1
    message, _ = await stored(db, queued)
    assert message.status == "sent"


async def test_a_deleted_channel_or_a_missing_plugin_fails_the_message_with_a_reason(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    deleted = await queue_message(
        factory, await scripted_channel(factory, enabled=False, deleted_at=utcnow())
    )
    uninstalled = await queue_message(factory, await factory.channel("not_installed"))
    assert await hub.deliver() == 2
    message, item = await stored(db, deleted)
    assert (message.status, message.failure_reason, message.error_code, item.status) == (
        "failed",
        "the channel has been deleted",
        "channel_deleted",
        "failed",
    )
    assert item.attempts == 0  # refused before any provider was asked
    message, _ = await stored(db, uninstalled)
    assert message.status == "failed"
    assert message.failure_reason == "the channel's type 'not_installed' is not installed"
    assert script.calls == []


async def test_a_contact_blocked_after_queueing_fails_the_message(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    async with db() as session:
        await session.execute(
            update(Contact)
            .where(Contact.id == queued.conversation.contact_id)
            .values(blocked=True, blocked_at=utcnow())
        )
        await session.execute(
            update(Conversation)
            .where(Conversation.id == queued.conversation.id)
            .values(contact_blocked=True)
        )
        await session.commit()
    await hub.deliver()
    message, _ = await stored(db, queued)
    assert (message.status, message.failure_reason) == ("failed", "the contact is blocked")
    assert script.calls == []


async def test_a_contact_without_an_address_on_the_channel_fails_the_message(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory), recipient=None)
    await hub.deliver()
    message, _ = await stored(db, queued)
    assert (message.status, message.error_code) == ("failed", "no_recipient")
    assert script.calls == []


# --- leases -------------------------------------------------------------------------------


async def test_a_row_leased_by_a_dead_worker_is_taken_again_after_the_lease_and_sent_once(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))
    async with db() as session:  # a worker leased it, then died before recording anything
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == queued.item.id)
            .values(lease_owner="dead-host:1:1", lease_expires_at=utcnow() + timedelta(seconds=60))
        )
        await session.commit()
    assert await hub.deliver() == 0
    assert script.calls == []

    async with db() as session:  # the lease runs out
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id == queued.item.id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    assert await hub.deliver() == 1
    assert await hub.deliver() == 0
    assert [m.message_id for m in script.calls] == [queued.message.id]
    message, item = await stored(db, queued)
    assert (message.status, item.status) == ("sent", "done")


async def test_a_worker_that_lost_its_lease_does_not_overwrite_the_newer_outcome(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    queued = await queue_message(factory, await scripted_channel(factory))

    async def another_worker_takes_over(_: OutboundMessage) -> None:
        # While this send hangs, its lease expires; another worker takes the row,
        # sends it and records its outcome.
        async with db() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == queued.item.id)
                .values(status="done", lease_owner=None, lease_expires_at=None)
            )
            await session.execute(
                update(Message)
                .where(Message.id == queued.message.id)
                .values(status="sent", external_id="by-the-other-worker")
            )
            await session.commit()

    script.during = another_worker_takes_over
    script.then(RetryLater("late failure"))
    events = await events_during(hub, hub.deliver)
    message, item = await stored(db, queued)
    assert (message.status, message.external_id) == ("sent", "by-the-other-worker")
    assert (item.status, item.attempts, item.last_error) == ("done", 0, None)
    assert [e for e in events if e.type == "message.updated"] == []


async def test_two_concurrent_passes_never_send_one_row_twice(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    # Two hub processes on one database, each with its own worker identity.
    script = Script(pause=0.01)
    first = await aiohttp_client(create_app(outbox_settings, plugins=scripted_manager(script)[0]))
    second = await aiohttp_client(create_app(outbox_settings, plugins=scripted_manager(script)[0]))
    assert first.app[OUTBOX].worker_id != second.app[OUTBOX].worker_id
    channel = await scripted_channel(factory)
    queued = [await queue_message(factory, channel, f"m{n}") for n in range(30)]

    # The apps' own workers may take a share too: their first pass can start late on a
    # busy machine and overlap the queueing, so the last of their sends may still run
    # when the two passes end.
    counts = await asyncio.gather(deliver_due(first.app), deliver_due(second.app))
    await eventually(lambda: len(script.calls) >= 30)

    sent_ids = [m.message_id for m in script.calls]
    assert sorted(sent_ids) == sorted(q.message.id for q in queued)  # each exactly once
    assert sum(counts) <= 30

    async def all_sent() -> None:
        for one in queued:
            message, item = await stored(db, one)
            assert (message.status, item.status) == ("sent", "done")

    await eventually(all_sent)


# --- limits -------------------------------------------------------------------------------


async def test_a_channels_concurrency_limit_is_respected(
    hub: Hub, factory: Factory, script: Script
) -> None:
    script.gather = 2
    limited = await scripted_channel(factory, settings={"max_concurrency": 2})
    for n in range(6):
        await queue_message(factory, limited, f"m{n}")
    assert await hub.deliver() == 6
    assert script.max_in_flight == 2


async def test_the_process_wide_limit_caps_sends_over_all_channels_and_passes(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
) -> None:
    script = Script()
    script.gather = 3
    settings = outbox_settings.model_copy(update={"outbox_concurrency": 3})
    client = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    for _ in range(4):
        channel = await scripted_channel(factory)
        for m in range(3):
            await queue_message(factory, channel, f"m{m}")
    # Two passes of one process at once share the cap, and so does the app's own worker,
    # whose first pass may overlap the queueing above and take a share.
    counts = await asyncio.gather(deliver_due(client.app), deliver_due(client.app))
    await eventually(lambda: len(script.calls) == 12)
    assert sum(counts) <= 12
    assert len({call.message_id for call in script.calls}) == 12  # each sent once
    assert script.max_in_flight == 3


async def test_deliver_due_attempts_at_most_limit_rows(
    hub: Hub, factory: Factory, script: Script
) -> None:
    channel = await scripted_channel(factory)
    for n in range(5):
        await queue_message(factory, channel, f"m{n}")
    assert await hub.deliver(limit=2) == 2
    assert len(script.calls) == 2
    assert await hub.deliver() == 3


# --- shutdown -----------------------------------------------------------------------------


async def _start_slow_send(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    seconds: float,
) -> tuple[Client, Queued]:
    """A hub whose worker is in the middle of a send lasting ``seconds``."""
    started = asyncio.Event()

    async def slow(_: OutboundMessage) -> str:
        started.set()
        await asyncio.sleep(seconds)
        return "finished-id"

    script = Script(slow)
    settings = settings.model_copy(update={"outbox_poll_seconds": 0.05})
    client = await aiohttp_client(create_app(settings, plugins=scripted_manager(script)[0]))
    queued = await queue_message(factory, await scripted_channel(factory))
    await asyncio.wait_for(started.wait(), timeout=30)
    return client, queued


async def test_stopping_the_hub_lets_a_send_in_flight_finish_and_record_its_outcome(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    client, queued = await _start_slow_send(aiohttp_client, outbox_settings, factory, 0.2)
    await client.close()
    message, item = await stored(db, queued)
    assert (message.status, message.external_id, item.status) == ("sent", "finished-id", "done")


async def test_a_send_outlasting_the_shutdown_grace_is_left_to_be_retried_after_its_lease(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    settings = outbox_settings.model_copy(update={"shutdown_timeout": 0.05})
    client, queued = await _start_slow_send(aiohttp_client, settings, factory, 30)
    await client.close()
    message, item = await stored(db, queued)
    assert (message.status, item.status, item.attempts) == ("pending", "pending", 0)
    assert item.lease_owner is not None  # taken again once the lease expires


# --- backoff and rate, with a fake clock --------------------------------------------------


def test_the_backoff_doubles_up_to_its_cap_with_equal_jitter_and_honours_after() -> None:
    def delay(attempts: int, jitter: float, after: float | None = None) -> float:
        return retry_delay(attempts, base=2, cap=100, after=after, rand=lambda: jitter)

    assert [delay(n, 1.0) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert [delay(n, 0.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]  # never under half
    assert delay(30, 1.0) == 100 and delay(10_000, 0.0) == 50  # capped, no overflow
    assert delay(1, 1.0, after=500) == 500  # the provider's wish beats the cap
    assert delay(3, 0.0, after=1) == 4  # but never shortens the backoff


class FakeTime:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_the_token_bucket_starts_at_most_rate_a_second_after_a_burst() -> None:
    time = FakeTime()
    bucket = TokenBucket(5, clock=time.clock, sleep=time.sleep)
    for _ in range(5):
        await bucket.take()
    assert time.now == 0  # a burst of one second's worth
    for _ in range(10):
        await bucket.take()
    assert time.now == pytest.approx(2.0)  # then one every 0.2 s


async def test_a_channels_own_rate_replaces_the_hub_default() -> None:
    time = FakeTime()
    limits = DeliveryLimits(
        total=10, channel_concurrency=4, channel_rate=100, clock=time.clock, sleep=time.sleep
    )
    for _ in range(5):
        async with limits.slot(1, rate=2):
            pass
    assert time.now == pytest.approx(1.5)  # burst of 2, then 3 more at 2 a second
    for _ in range(50):
        async with limits.slot(2):
            pass
    assert time.now == pytest.approx(1.5)  # the default 100 a second: no wait


async def test_a_channel_whose_stored_settings_no_longer_validate_is_marked_broken_and_retried(
    hub: Hub, factory: Factory, db: Sessions, script: Script
) -> None:
    channel = await scripted_channel(factory)
    async with db() as session:  # saved by an older version of the plugin
        await session.execute(
            update(Channel)
            .where(Channel.id == channel.id)
            .values(config_encrypted=factory.cipher.encrypt({"removed_field": "x"}))
        )
        await session.commit()
    queued = await queue_message(factory, channel)
    assert await hub.deliver() == 1
    message, item = await stored(db, queued)
    assert (message.status, item.status, item.attempts) == ("pending", "pending", 1)
    assert item.last_error is not None and "no longer valid" in item.last_error
    async with db() as session:
        stored_channel = await session.get(Channel, channel.id)
    assert stored_channel is not None and stored_channel.status == "error"
    assert script.calls == []


async def test_a_plugin_that_cannot_be_built_counts_attempts_and_is_dead_lettered(
    outbox_settings: Settings,
    aiohttp_client: Callable[..., Awaitable[Client]],
    factory: Factory,
    db: Sessions,
) -> None:
    manager, plugin = scripted_manager(Script())

    def broken_init(self: Any, config: Any, context: Any) -> None:
        raise RuntimeError("cannot start")

    plugin.channel_type.__init__ = broken_init  # type: ignore[method-assign]
    client = await aiohttp_client(create_app(outbox_settings, plugins=manager))
    queued = await queue_message(factory, await scripted_channel(factory))
    for _ in range(3):  # outbox_max_attempts
        await make_due(db, queued.item.id)
        assert await deliver_due(client.app) == 1
    message, item = await stored(db, queued)
    assert (item.status, item.attempts) == ("dead", 3)
    assert message.failure_reason == (
        "gave up after 3 attempts: unexpected error in the plugin: RuntimeError: cannot start"
    )
