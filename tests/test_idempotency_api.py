"""No double sends: an ``Idempotency-Key`` makes a message, a comment or a new
conversation happen once, however often (and however concurrently) it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.events.event import HubEvent
from hub.inbox.idempotency import prune_idempotency_keys
from hub.settings import Settings
from hub.store.models import (
    Comment,
    ContactIdentity,
    Conversation,
    IdempotencyKey,
    Message,
    OutboxItem,
    User,
)
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]


async def count(db: Sessions, model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def keyed(auth: dict[str, str], key: str) -> dict[str, str]:
    return {**auth, "Idempotency-Key": key}


async def code_of(response: Any) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def test_a_repeat_with_the_same_key_answers_the_first_message_and_sends_nothing(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    body = {"text": "Your order shipped."}

    first = await client.post(url, json=body, headers=keyed(auth, "k-1"))
    subscription = client.app[appkeys.BUS].subscribe()
    again = await client.post(url, json=body, headers=keyed(auth, "k-1"))
    subscription.close()

    assert (first.status, again.status) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()
    assert (await count(db, Message), await count(db, OutboxItem)) == (1, 1)
    # The replay changed nothing, so it announced nothing.
    assert [event async for event in subscription] == []


async def test_without_a_key_each_post_sends(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    for _ in range(2):
        response = await client.post(url, json={"text": "hi"}, headers=auth)
        assert response.status == 201
        assert "Idempotent-Replayed" not in response.headers
    assert (await count(db, Message), await count(db, OutboxItem)) == (2, 2)


async def test_twins_in_flight_at_once_store_one_message(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"

    responses = await asyncio.gather(
        *(client.post(url, json={"text": "once"}, headers=keyed(auth, "twin")) for _ in range(5))
    )

    assert [r.status for r in responses] == [201] * 5
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    assert (
        await count(db, Message),
        await count(db, OutboxItem),
        await count(db, IdempotencyKey),
    ) == (1, 1, 1)


async def test_the_same_key_for_another_request_is_422_and_sends_nothing(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    elsewhere = await factory.conversation(channel)
    url = f"/api/v1/conversations/{conversation.id}/messages"
    assert (await client.post(url, json={"text": "a"}, headers=keyed(auth, "k"))).status == 201

    other_body = await client.post(url, json={"text": "b"}, headers=keyed(auth, "k"))
    other_target = await client.post(
        f"/api/v1/conversations/{elsewhere.id}/messages",
        json={"text": "a"},
        headers=keyed(auth, "k"),
    )

    assert await code_of(other_body) == (422, "idempotency_key_reused")
    assert await code_of(other_target) == (422, "idempotency_key_reused")
    assert await count(db, Message) == 1
    # The same body spelled otherwise (key order, an explicit default) is the same request.
    same = await client.post(url, json={"attachments": [], "text": "a"}, headers=keyed(auth, "k"))
    assert same.status == 201 and same.headers["Idempotent-Replayed"] == "true"


async def test_keys_are_each_callers_own_and_each_endpoints_own(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, mine = await user_token("me@example.com")
    _, theirs = await user_token("them@example.com")
    conversation = await factory.conversation(await factory.channel())
    base = f"/api/v1/conversations/{conversation.id}"

    a = await client.post(f"{base}/messages", json={"text": "hi"}, headers=keyed(mine, "same"))
    b = await client.post(f"{base}/messages", json={"text": "hi"}, headers=keyed(theirs, "same"))
    c = await client.post(f"{base}/comments", json={"body": "hi"}, headers=keyed(mine, "same"))

    assert [r.status for r in (a, b, c)] == [201, 201, 201]
    assert not any("Idempotent-Replayed" in r.headers for r in (a, b, c))
    assert (await a.json())["id"] != (await b.json())["id"]
    assert (await count(db, Message), await count(db, Comment)) == (2, 1)


async def test_malformed_keys_are_400(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    for bad in ("x" * 256, "", "tab\there", "caf\u00e9"):
        headers = {**auth, "Idempotency-Key": bad}
        response = await client.post(url, json={"text": "hi"}, headers=headers)
        assert await code_of(response) == (400, "invalid_idempotency_key"), repr(bad)
    twice = [*auth.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
    response = await client.post(url, json={"text": "hi"}, headers=twice)
    assert await code_of(response) == (400, "invalid_idempotency_key")
    assert await count(db, Message) == 0

    longest = await client.post(url, json={"text": "hi"}, headers=keyed(auth, "~ " + "x" * 253))
    assert longest.status == 201


async def test_a_refused_request_keeps_no_key_so_a_fixed_retry_sends(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"

    refused = await client.post(url, json={"text": "  "}, headers=keyed(auth, "retry"))
    assert refused.status == 422
    assert await count(db, IdempotencyKey) == 0

    fixed = await client.post(url, json={"text": "now with text"}, headers=keyed(auth, "retry"))
    assert fixed.status == 201 and "Idempotent-Replayed" not in fixed.headers
    assert await count(db, Message) == 1


async def test_comments_are_written_once_per_key(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/comments"

    first = await client.post(url, json={"body": "note"}, headers=keyed(auth, "c"))
    twins = await asyncio.gather(
        *(client.post(url, json={"body": "note"}, headers=keyed(auth, "c")) for _ in range(3))
    )
    other = await client.post(url, json={"body": "other"}, headers=keyed(auth, "c"))

    assert first.status == 201
    assert [r.status for r in twins] == [201, 201, 201]
    assert all(r.headers["Idempotent-Replayed"] == "true" for r in twins)
    assert {(await r.json())["id"] for r in twins} == {(await first.json())["id"]}
    assert await code_of(other) == (422, "idempotency_key_reused")
    assert await count(db, Comment) == 1


async def test_starting_a_conversation_happens_once_per_key(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel()
    contact = await factory.contact("Dana")
    await factory.add(
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id="d")
    )
    body = {"contact_id": contact.id, "channel_id": channel.id, "text": "Hi Dana"}

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/conversations", json=body, headers=keyed(auth, "s"))
            for _ in range(3)
        )
    )
    again = await client.post("/api/v1/conversations", json=body, headers=keyed(auth, "s"))

    assert [r.status for r in (*responses, again)] == [201] * 4
    started = [await r.json() for r in (*responses, again)]
    assert len({s["id"] for s in started}) == 1
    assert len({s["message"]["id"] for s in started}) == 1
    assert started[-1]["message"]["text"] == "Hi Dana"
    assert again.headers["Idempotent-Replayed"] == "true"
    counts = [await count(db, model) for model in (Conversation, Message, OutboxItem)]
    assert counts == [1, 1, 1]


async def test_expired_keys_are_pruned_and_then_send_again(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    for key in ("old", "new"):
        assert (await client.post(url, json={"text": "hi"}, headers=keyed(auth, key))).status == 201
    async with db() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(created_at=utcnow() - timedelta(hours=25))
        )
        await session.commit()

    assert await prune_idempotency_keys(db, keep_hours=24) == 1

    async with db() as session:
        assert list(await session.scalars(select(IdempotencyKey.key))) == ["new"]
    resent = await client.post(url, json={"text": "hi"}, headers=keyed(auth, "old"))
    assert resent.status == 201 and "Idempotent-Replayed" not in resent.headers
    assert await count(db, Message) == 3


async def test_the_hub_prunes_keys_past_the_configured_hours(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: Sessions,
) -> None:
    user = await make_user("me@example.com")
    now = utcnow()
    await factory.add(
        *(
            IdempotencyKey(
                user_id=user.id,
                scope="message",
                key=f"k{hours}",
                request_sha256="0" * 64,
                resource_kind="message",
                resource_id=1,
                created_at=now - timedelta(hours=hours),
            )
            for hours in (1, 3)
        )
    )

    # The workers run each job once at start, then periodically.
    await aiohttp_client(create_app(settings.model_copy(update={"idempotency_key_hours": 2})))

    async def only_the_recent_key_is_left() -> None:
        async with db() as session:
            assert list(await session.scalars(select(IdempotencyKey.key))) == ["k1"]

    await eventually(only_the_recent_key_is_left)


async def test_the_openapi_document_names_the_header_on_the_send_endpoints(
    client: Client,
) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    for path in (
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/comments",
        "/api/v1/conversations",
    ):
        operation = doc["paths"][path]["post"]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
        assert {"400", "409", "422"} <= set(operation["responses"])
    listed = doc["paths"]["/api/v1/conversations/{conversation_id}/messages"]["get"]
    assert all(p["in"] != "header" for p in listed["parameters"])


async def test_the_bus_subscription_used_above_hears_events(client: Client) -> None:
    """A subscription like the one the replay test reads does hear events, so its
    empty list means nothing was published, not a deaf subscription."""
    subscription = client.app[appkeys.BUS].subscribe()
    await client.app[appkeys.BUS].publish(HubEvent("ping", {}))
    subscription.close()
    assert [e.type async for e in subscription] == ["ping"]
