"""An agent retrying a failed reply: ``POST /api/v1/messages/{id}/retry`` puts it back
in the outbox (the worker then delivers it), for a message the caller may see only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.outbound import deliver_due
from hub.contract import PermanentFailure
from hub.settings import Settings
from hub.store.models import Contact, Message, OutboxItem, User
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
    quiet = settings.model_copy(update={"outbox_poll_seconds": 3600})
    return await aiohttp_client(create_app(quiet, plugins=scripted_manager(script)[0]))


async def refused(hub: Client, factory: Factory, script: Script, **kwargs: Any) -> Queued:
    """A reply the provider refused for good: the message ``failed``, its row too."""
    queued = await queue_message(factory, await scripted_channel(factory), **kwargs)
    script.then(PermanentFailure("470", "outside the allowed window"))
    assert await deliver_due(hub.app) == 1
    return queued


async def test_an_agent_retries_a_failed_reply_and_the_worker_delivers_it(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com", role="agent", visibility="all")
    queued = await refused(hub, factory, script)
    async with db() as session:
        failed = await session.get_one(Message, queued.message.id)
    assert failed.status == "failed" and failed.failure_reason

    subscription = hub.app[appkeys.BUS].subscribe()
    response = await hub.post(f"/api/v1/messages/{queued.message.id}/retry", headers=auth)
    subscription.close()
    assert response.status == 200, await response.text()
    body = await response.json()
    assert (body["id"], body["status"], body["failure_reason"]) == (
        queued.message.id,
        "pending",
        None,
    )
    events = [event async for event in subscription]
    assert [(e.type, e.data["status"]) for e in events] == [("message.updated", "pending")]

    script.then("delivered-now")

    async def delivered() -> None:
        async with db() as session:
            message = await session.get_one(Message, queued.message.id)
            item = await session.get_one(OutboxItem, queued.item.id)
        assert (message.status, message.external_id, item.status) == (
            "sent",
            "delivered-now",
            "done",
        )

    await eventually(delivered)
    assert len(script.calls) == 2


async def test_a_message_the_provider_reported_failed_after_sending_is_queued_again(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await queue_message(factory, await scripted_channel(factory))
    assert await deliver_due(hub.app) == 1
    async with db() as session:
        message = await session.get_one(Message, queued.message.id)
        message.status, message.failure_reason = "failed", "number unreachable"
        await session.commit()
    response = await hub.post(f"/api/v1/messages/{queued.message.id}/retry", headers=auth)
    assert response.status == 200, await response.text()
    async with db() as session:
        item = await session.get_one(OutboxItem, queued.item.id)
    assert (item.status, item.attempts) == ("pending", 0)


@pytest.mark.parametrize("state", ["pending", "sent", "inbound"])
async def test_only_a_failed_outgoing_message_can_be_retried(
    hub: Client, factory: Factory, script: Script, user_token: UserToken, state: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await queue_message(factory, await scripted_channel(factory))
    message_id = queued.message.id
    if state == "sent":
        assert await deliver_due(hub.app) == 1
    if state == "inbound":
        message_id = (await factory.message(queued.conversation, "hi")).id
    response = await hub.post(f"/api/v1/messages/{message_id}/retry", headers=auth)
    assert response.status == 409
    body = await response.json()
    assert body["error"]["code"] == "not_retryable"
    assert ("received" if state == "inbound" else state) in body["error"]["message"]


async def test_a_blocked_contacts_message_is_not_retried(
    hub: Client, factory: Factory, db: Sessions, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    queued = await refused(hub, factory, script)
    async with db() as session:
        conversation = await session.merge(queued.conversation)
        conversation.contact_blocked = True
        contact = await session.get_one(Contact, conversation.contact_id)
        contact.blocked = True
        await session.commit()
    response = await hub.post(f"/api/v1/messages/{queued.message.id}/retry", headers=auth)
    assert response.status == 409
    assert (await response.json())["error"]["code"] == "contact_blocked"


async def test_a_hidden_or_unknown_message_is_a_404(
    hub: Client, factory: Factory, script: Script, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com", role="agent", visibility="assigned")
    queued = await refused(hub, factory, script)
    for message_id in (str(queued.message.id), "999999", "abc"):
        response = await hub.post(f"/api/v1/messages/{message_id}/retry", headers=auth)
        assert response.status == 404, message_id
    async with hub.app[appkeys.SESSIONS]() as session:
        message = await session.get_one(Message, queued.message.id)
    assert message.status == "failed"
