"""The outbox over HTTP, for owners and managers: listing deliveries (dead letters above
all) and retrying a dead or failed one, which the worker then delivers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.outbound import deliver_due
from hub.contract import PermanentFailure, RetryLater
from hub.settings import Settings
from hub.store.models import Message, OutboxItem, User
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory
from tests.outbound_doubles import Queued, Script, queue_message, scripted_channel, scripted_manager

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def hub(
    settings: Settings, script: Script, aiohttp_client: Callable[..., Awaitable[Client]]
) -> Client:
    # Settings (the database) first, so the app stops before the database is emptied.
    quiet = settings.model_copy(
        update={"outbox_poll_seconds": 3600, "outbox_max_attempts": 2, "outbox_backoff_seconds": 30}
    )
    return await aiohttp_client(create_app(quiet, plugins=scripted_manager(script)[0]))


async def dead_letter(hub: Client, db: Sessions, script: Script, queued: Queued) -> None:
    """Fail the message's delivery until it is dead-lettered (two attempts)."""
    script.then(RetryLater("provider down"), RetryLater("provider still down"))
    for _ in range(2):
        async with db() as session:
            await session.execute(
                update(OutboxItem)
                .where(OutboxItem.id == queued.item.id)
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
            await session.commit()
        assert await deliver_due(hub.app) == 1


async def test_admins_list_deliveries_newest_first_with_their_state(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    channel = await scripted_channel(factory)
    older = await queue_message(factory, channel, "first")
    await dead_letter(hub, db, script, older)
    newer = await queue_message(factory, channel, "second")

    response = await hub.get("/api/v1/outbox", headers=auth)
    assert response.status == 200
    body = await response.json()
    assert [item["id"] for item in body["items"]] == [newer.item.id, older.item.id]
    dead = body["items"][1]
    assert {k: dead[k] for k in ("message_id", "conversation_id", "channel_id", "status")} == {
        "message_id": older.message.id,
        "conversation_id": older.conversation.id,
        "channel_id": channel.id,
        "status": "dead",
    }
    assert dead["attempts"] == 2
    assert dead["last_error"] == "gave up after 2 attempts: provider still down"
    assert dead["next_attempt_at"] and dead["updated_at"]
    assert body["items"][0]["status"] == "pending"
    assert body["next_cursor"] is None


async def test_the_list_filters_by_status_and_channel_and_pages(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("manager@example.com", role="manager")
    one, other = await scripted_channel(factory), await scripted_channel(factory)
    dead = await queue_message(factory, one, "dead")
    await dead_letter(hub, db, script, dead)
    pending_one = [await queue_message(factory, one, f"p{n}") for n in range(3)]
    await queue_message(factory, other, "elsewhere")

    response = await hub.get("/api/v1/outbox?status=dead", headers=auth)
    assert [i["id"] for i in (await response.json())["items"]] == [dead.item.id]

    seen: list[int] = []
    cursor = None
    while True:
        query = f"status=pending&channel_id={one.id}&limit=2"
        response = await hub.get(
            f"/api/v1/outbox?{query}" + (f"&cursor={cursor}" if cursor else ""), headers=auth
        )
        assert response.status == 200
        body = await response.json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [q.item.id for q in reversed(pending_one)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=lost", "status"),
        ("channel_id=abc", "channel_id"),
        ("channel_id=0", "channel_id"),
        ("limit=1000", "limit"),
        ("cursor=nonsense", "cursor"),
        ("colour=red", "colour"),
    ],
)
async def test_a_bad_list_query_is_a_422_naming_the_parameter(
    hub: Client, user_token: UserToken, query: str, field: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await hub.get(f"/api/v1/outbox?{query}", headers=auth)
    assert response.status == 422
    body = await response.json()
    assert body["error"]["details"][0]["field"] == field


async def test_agents_may_neither_list_nor_retry(
    hub: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com", role="agent")
    queued = await queue_message(factory, await scripted_channel(factory))
    assert (await hub.get("/api/v1/outbox", headers=auth)).status == 403
    retry = await hub.post(f"/api/v1/outbox/{queued.item.id}/retry", headers=auth)
    assert retry.status == 403
    assert (await hub.get("/api/v1/outbox")).status == 401


async def test_retrying_a_dead_letter_queues_it_again_and_the_worker_delivers_it(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await queue_message(factory, await scripted_channel(factory))
    await dead_letter(hub, db, script, queued)

    subscription = hub.app[appkeys.BUS].subscribe()
    response = await hub.post(f"/api/v1/outbox/{queued.item.id}/retry", headers=auth)
    subscription.close()
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["status"], body["attempts"], body["id"]) == ("pending", 0, queued.item.id)
    async with db() as session:
        message = await session.get(Message, queued.message.id)
    assert message is not None
    assert (message.status, message.failure_reason, message.error_code) == ("pending", None, None)
    events = [event async for event in subscription]
    assert [(e.type, e.data["status"]) for e in events] == [("message.updated", "pending")]

    # The event wakes the worker (whose poll is an hour): it delivers the message itself.
    script.then("delivered-now")

    async def delivered() -> None:
        async with db() as session:
            message = await session.get(Message, queued.message.id)
            item = await session.get(OutboxItem, queued.item.id)
        assert message is not None and item is not None
        assert (message.status, message.external_id, item.status) == (
            "sent",
            "delivered-now",
            "done",
        )

    await eventually(delivered)
    assert len(script.calls) == 3


async def test_a_refused_message_can_be_retried_too(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await queue_message(factory, await scripted_channel(factory))
    script.then(PermanentFailure("470", "outside the allowed window"))
    await deliver_due(hub.app)
    response = await hub.post(f"/api/v1/outbox/{queued.item.id}/retry", headers=auth)
    assert response.status == 200
    assert (await response.json())["status"] == "pending"


async def test_a_refused_message_counts_the_attempt_made_and_an_unsendable_one_none(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    channel = await scripted_channel(factory)
    refused = await queue_message(factory, channel)
    unsendable = await queue_message(factory, channel, recipient=None)
    script.then(PermanentFailure("470", "outside the allowed window"))
    await deliver_due(hub.app)

    response = await hub.get("/api/v1/outbox", params={"status": "failed"}, headers=auth)
    assert response.status == 200, await response.text()
    attempts = {item["id"]: item["attempts"] for item in (await response.json())["items"]}
    # The provider was asked once and said no; the other never reached a provider.
    assert attempts == {refused.item.id: 1, unsendable.item.id: 0}
    assert len(script.calls) == 1


@pytest.mark.parametrize("state", ["pending", "done"])
async def test_only_dead_or_failed_deliveries_can_be_retried(
    hub: Client, factory: Factory, db: Sessions, user_token: UserToken, state: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await queue_message(factory, await scripted_channel(factory))
    if state == "done":
        assert await deliver_due(hub.app) == 1
    response = await hub.post(f"/api/v1/outbox/{queued.item.id}/retry", headers=auth)
    assert response.status == 409
    body = await response.json()
    assert body["error"]["code"] == "not_retryable"
    assert state in body["error"]["message"]


@pytest.mark.parametrize("item_id", ["999999", "abc", "99999999999999999999"])
async def test_retrying_an_unknown_delivery_is_a_404(
    hub: Client, user_token: UserToken, item_id: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await hub.post(f"/api/v1/outbox/{item_id}/retry", headers=auth)
    assert response.status == 404
