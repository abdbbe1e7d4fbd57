"""A message that arrives alone (20 a second: each its own group-commit batch) is cheap:
the set-based intake with no savepoint, and no read of the rules or of the channel's
out-of-hours setting per message; those are held in memory and dropped when any hub
process announces a change, so the next message sees it (one process and two over the
Redis bus)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub import appkeys
from hub.app import create_app
from hub.automation.rule_runner import BUILTIN_NAME as RULES_NAME
from hub.automation.rule_runner import RuleRunner
from hub.inbox.out_of_hours import BUILTIN_NAME as OUT_OF_HOURS_NAME
from hub.inbox.out_of_hours import OutOfHoursReplies
from hub.settings import Settings
from hub.store.models import ConversationLabel, Message, User
from hub.testing import eventually
from tests.factories import Factory
from tests.statements import recorded
from tests.test_custom_channel_e2e import create_channel, message_event, post_signed
from tests.test_out_of_hours import closed_now_week, custom_channel, replying, set_hours

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
RULES = "/api/v1/rules"
MESSAGE_SQL = re.compile(
    r"SAVEPOINT|\b(FROM|INTO|UPDATE) (channels|messages|contact_identities|conversations"
    r"|inbound_log|webhook_subscriptions|realtime_events|rules)\b"
)


def runner_of(client: Client) -> RuleRunner:
    plugin = client.app[appkeys.PLUGINS].pm.get_plugin(RULES_NAME)
    runner: RuleRunner = plugin.runner
    return runner


def replies_of(client: Client) -> OutOfHoursReplies:
    replies: OutOfHoursReplies = client.app[appkeys.PLUGINS].pm.get_plugin(OUT_OF_HOURS_NAME)
    return replies


def hold_long(client: Client) -> None:
    """No age limit within a test: a slow machine must not make a held answer expire."""
    runner_of(client).rules_of.ttl = 3600
    replies_of(client).replies_on.ttl = 3600


async def inbound(client: Client, channel: dict[str, Any], external_id: str) -> str:
    """POST one message alone (written now) and wait for its observers; the webhook's
    result."""
    event = message_event(external_id, "hello", timestamp=datetime.now(UTC).isoformat())
    status, body = await post_signed(client, channel, event)
    assert status == 200, body
    await client.app[appkeys.OBSERVERS].drain()
    result: str = body["result"]
    return result


async def stored(client: Client, external_id: str) -> int:
    async with client.app[appkeys.SESSIONS]() as db:
        return int(
            await db.scalar(
                select(func.count()).select_from(Message).where(Message.external_id == external_id)
            )
            or 0
        )


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


async def test_a_lone_message_costs_one_set_based_batch_and_no_observer_read(
    client: Client, owner: dict[str, str]
) -> None:
    channel = await create_channel(client, owner)
    hold_long(client)
    # The first message creates the contact and conversation; the second is a known
    # sender's, as most are. Both are read their rules and setting once, then held.
    for warm_up in ("w-1", "w-2"):
        assert await inbound(client, channel, warm_up) == "stored"
    committer = client.app[appkeys.INBOUND].committer
    fast_before = committer.stats.fast
    reads_before = (runner_of(client).rules_of.reads, replies_of(client).replies_on.reads)

    with recorded(client.app[appkeys.ENGINE]) as seen:
        assert await inbound(client, channel, "m-1") == "stored"

    # Only the message's own statements: not a background job's that ran meanwhile, nor
    # the channel's last_inbound_at (written at most once a second), nor PostgreSQL's
    # advisory lock of the realtime log.
    statements = [s for s in seen if MESSAGE_SQL.search(s) and not s.startswith("UPDATE channels")]
    # Before: SAVEPOINT and RELEASE around the per-message lookups, then a read of the
    # rules and one of the channel's setting, each in a session of its own: 14.
    # Now: the batch's four lookups (channel, message id, identity with contact,
    # conversation), three writes (message, log row, conversation), the outgoing
    # webhooks' subscriptions and the realtime log's append.
    assert not [s for s in statements if "SAVEPOINT" in s or "FROM rules" in s]
    assert len(statements) == 9, statements
    assert committer.stats.fast == fast_before + 1
    assert (runner_of(client).rules_of.reads, replies_of(client).replies_on.reads) == reads_before
    assert await stored(client, "m-1") == 1


async def test_the_same_message_alone_twice_is_stored_once(
    client: Client, owner: dict[str, str]
) -> None:
    channel = await create_channel(client, owner)
    assert await inbound(client, channel, "w-1") == "stored"
    assert await inbound(client, channel, "m-1") == "stored"
    assert await inbound(client, channel, "m-1") == "duplicate"
    assert await stored(client, "m-1") == 1


async def test_a_rule_change_is_seen_by_the_next_message(
    client: Client, owner: dict[str, str]
) -> None:
    channel = await create_channel(client, owner)
    hold_long(client)
    runner = runner_of(client)
    label = await client.post(
        "/api/v1/labels", json={"name": "Seen", "colour": "blue"}, headers=owner
    )
    label_id = (await label.json())["id"]

    async def labelled() -> bool:
        async with client.app[appkeys.SESSIONS]() as db:
            return bool(await db.scalar(select(func.count()).select_from(ConversationLabel)))

    # The first message reads the rules of conversation_created and message_received.
    assert await inbound(client, channel, "m-1") == "stored"
    reads = runner.rules_of.reads
    assert await inbound(client, channel, "m-2") == "stored"
    assert runner.rules_of.reads == reads  # held: no read for the second message
    response = await client.post(
        RULES,
        json={
            "name": "Label",
            "event": "message_received",
            "actions": [{"type": "add_labels", "label_ids": [label_id]}],
        },
        headers=owner,
    )
    assert response.status == 201, await response.text()
    rule = await response.json()

    assert await inbound(client, channel, "m-3") == "stored"
    assert await labelled()
    assert runner.rules_of.reads == reads + 1

    # Switched off, and the label taken away: the next message must not put it back.
    patched = await client.patch(f"{RULES}/{rule['id']}", json={"enabled": False}, headers=owner)
    assert patched.status == 200, await patched.text()
    async with client.app[appkeys.SESSIONS]() as db:
        await db.execute(ConversationLabel.__table__.delete())
        await db.commit()
    assert await inbound(client, channel, "m-4") == "stored"
    assert await inbound(client, channel, "m-5") == "stored"
    assert not await labelled()
    assert runner.rules_of.reads == reads + 2


async def test_switching_the_out_of_hours_reply_on_is_seen_by_the_next_message(
    client: Client, owner: dict[str, str], factory: Factory
) -> None:
    channel = await custom_channel(client, owner, replying(on=False))
    await set_hours(factory, await closed_now_week())
    hold_long(client)

    async def replies() -> int:
        async with client.app[appkeys.SESSIONS]() as db:
            count = await db.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "out")
            )
            return int(count or 0)

    assert await inbound(client, channel, "m-1") == "stored"
    assert await inbound(client, channel, "m-2") == "stored"
    assert await replies() == 0
    assert replies_of(client).replies_on.reads == 1
    response = await client.patch(
        f"/api/v1/channels/{channel['id']}", json={"settings": replying()}, headers=owner
    )
    assert response.status == 200, await response.text()

    assert await inbound(client, channel, "m-3") == "stored"
    assert await replies() == 1
    assert replies_of(client).replies_on.reads == 2


async def test_a_rule_changed_through_another_process_is_seen_by_the_next_message(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    owner: dict[str, str],
    redis_url: str,
) -> None:
    # Two hub processes on one database and one Redis bus: webhooks to the first, the
    # rule written through the second.
    shared = settings.model_copy(update={"bus_url": redis_url})
    webhooks = await aiohttp_client(create_app(shared))
    admin = await aiohttp_client(create_app(shared))
    channel = await create_channel(admin, owner)
    hold_long(webhooks)
    runner = runner_of(webhooks)
    assert await inbound(webhooks, channel, "m-1") == "stored"
    reads = runner.rules_of.reads

    response = await admin.post(
        RULES,
        json={
            "name": "Close",
            "event": "message_received",
            "actions": [{"type": "set_priority", "priority": "high"}],
        },
        headers=owner,
    )
    assert response.status == 201, await response.text()

    # The announcement crosses Redis: once it has, the held rules are gone.
    async def dropped() -> None:
        assert not runner.rules_of._held

    await eventually(dropped, timeout=10)
    assert await inbound(webhooks, channel, "m-2") == "stored"
    assert runner.rules_of.reads == reads + 1
    runs = await (
        await admin.get(f"{RULES}/{(await response.json())['id']}/runs", headers=owner)
    ).json()
    assert len(runs["items"]) == 1
    await asyncio.sleep(0)
