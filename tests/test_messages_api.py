"""Messages over HTTP: listing, sending (pending + outbox, one transaction), fetching one,
starting a conversation, and the merged timeline."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import messages
from hub.store.models import (
    Attachment,
    Channel,
    Comment,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    Message,
    OutboxItem,
    User,
)
from hub.store.types import utcnow
from tests.factories import BASE_TIME, Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


async def error_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    details = body["error"]["details"]
    field = details[0]["field"] if isinstance(details, list) else body["error"]["code"]
    return response.status, field


async def published(client: Client, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    """The events the bus carries while ``action`` runs."""
    subscription = client.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


async def count(db: async_sessionmaker[AsyncSession], model: Any) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- listing and fetching ---------------------------------------------------------------


async def test_messages_are_listed_oldest_first_with_keyset_paging(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    made = [await factory.message(conversation, f"m{i}", external_id=f"x{i}") for i in range(5)]
    url = f"/api/v1/conversations/{conversation.id}/messages"

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get(url, params=params, headers=auth)).json()
        seen += [m["id"] for m in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [m.id for m in made]
    newest = await (await client.get(url, params={"order": "desc"}, headers=auth)).json()
    assert [m["id"] for m in newest["items"]] == [m.id for m in reversed(made)]

    first = newest["items"][-1]
    assert first["direction"] == "in"
    assert first["text"] == "m0"
    assert first["status"] == "received"
    assert first["external_id"] == "x0"
    assert first["attachments"] == []
    assert first["reply_to"] is None
    assert {"created_at", "sender_user_id", "subject", "failure_reason"} <= set(first)


async def test_bad_paging_parameters_are_422_naming_them(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    for path in ("messages", "comments", "timeline"):
        url = f"/api/v1/conversations/{conversation.id}/{path}"
        for params, field in [
            ({"cursor": "nonsense"}, "cursor"),
            ({"cursor": "WzEsMl0"}, "cursor"),  # [1, 2]: well-formed, not ours
            ({"limit": "0"}, "limit"),
            ({"order": "sideways"}, "order"),
            ({"page": "2"}, "page"),
        ]:
            response = await client.get(url, params=params, headers=auth)
            assert await error_of(response) == (422, field), (path, params)


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def test_forged_timeline_cursors_are_422_not_500(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/timeline"
    for forged in (
        ["0001-01-01T00:00:00+05:00", "message", 1],
        ["2026-01-01T00:00:00", "message", 1],
        ["2026-01-01T00:00:00+00:00", "letter", 1],
        ["2026-01-01T00:00:00+00:00", "message", 2**63],
        ["2026-01-01T00:00:00+00:00", "message", True],
        {"at": "2026-01-01T00:00:00+00:00"},
    ):
        response = await client.get(url, params={"cursor": cursor_of(forged)}, headers=auth)
        assert await error_of(response) == (422, "cursor"), forged
    fine = cursor_of(["2026-01-01T00:00:00+00:00", "message", 1])
    assert (await client.get(url, params={"cursor": fine}, headers=auth)).status == 200


async def test_hidden_conversations_messages_are_404(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    channel = await factory.channel()
    mine = await factory.conversation(channel, assignee_id=me.id)
    other = await factory.conversation(channel)
    visible = await factory.message(mine)
    hidden = await factory.message(other)

    assert (await client.get(f"/api/v1/messages/{visible.id}", headers=auth)).status == 200
    assert (await client.get(f"/api/v1/messages/{hidden.id}", headers=auth)).status == 404
    assert (await client.get("/api/v1/messages/424242", headers=auth)).status == 404
    url = f"/api/v1/conversations/{other.id}"
    assert (await client.get(f"{url}/messages", headers=auth)).status == 404
    assert (await client.get(f"{url}/timeline", headers=auth)).status == 404
    sent = await client.post(f"{url}/messages", json={"text": "hi"}, headers=auth)
    assert sent.status == 404


# --- sending ------------------------------------------------------------------------------


async def test_sending_stores_a_pending_message_with_exactly_one_outbox_row(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(
        channel, assignee_id=me.id, last_message_direction="in", unread_count=3
    )
    url = f"/api/v1/conversations/{conversation.id}"
    response = None

    async def send() -> None:
        nonlocal response
        response = await client.post(
            f"{url}/messages", json={"text": "Hello Dana", "subject": "Re: order"}, headers=auth
        )

    events = await published(client, send)
    assert response is not None and response.status == 201
    sent = await response.json()
    assert sent["direction"] == "out"
    assert sent["status"] == "pending"
    assert sent["sender_user_id"] == me.id
    assert (sent["text"], sent["subject"]) == ("Hello Dana", "Re: order")

    async with db() as session:
        outbox = (await session.scalars(select(OutboxItem))).all()
        stored = await session.get(Conversation, conversation.id)
    assert [(o.message_id, o.channel_id, o.status) for o in outbox] == [
        (sent["id"], channel.id, "pending")
    ]
    assert stored is not None
    assert stored.last_message_direction == "out"
    assert stored.last_message_at > BASE_TIME
    assert stored.unread_count == 0
    fetched = await (await client.get(url, headers=auth)).json()
    assert fetched["unanswered"] is False

    created = [e for e in events if e.type == "message.created"]
    assert [e.data["id"] for e in created] == [sent["id"]]
    assert created[0].scope is not None
    assert created[0].scope.conversation_id == conversation.id


async def test_a_failed_outbox_insert_leaves_no_message_either(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())

    def broken_enqueue(work: Work, message: Message) -> OutboxItem:
        # A row the database refuses (no such channel): the insert fails at flush.
        item = OutboxItem(message_id=message.id, channel_id=987654)
        work.db.add(item)
        return item

    monkeypatch.setattr(messages, "enqueue_delivery", broken_enqueue)
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages", json={"text": "hi"}, headers=auth
    )
    assert response.status == 500
    assert (await count(db, Message), await count(db, OutboxItem)) == (0, 0)


async def test_an_attachment_claimed_meanwhile_rolls_back_the_message_and_outbox_row(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    form = aiohttp.FormData()
    form.add_field("file", b"x", filename="a.txt")
    upload = await client.post("/api/v1/attachments", data=form, headers=auth)
    attachment_id = (await upload.json())["id"]

    async def lose_the_race(work: Work, viewer: Any, ids: list[int]) -> None:
        # The early check passes, then another request attaches the upload first.
        other = Comment(conversation_id=conversation.id, body="first")
        work.db.add(other)
        await work.db.flush()
        await work.db.execute(
            update(Attachment).where(Attachment.id == attachment_id).values(comment_id=other.id)
        )

    monkeypatch.setattr(messages, "check_attachments", lose_the_race)
    response = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages",
        json={"text": "hi", "attachments": [attachment_id]},
        headers=auth,
    )
    assert await error_of(response) == (422, "attachments")
    assert (await count(db, Message), await count(db, OutboxItem)) == (0, 0)
    assert await count(db, Comment) == 0  # the whole transaction went


async def test_a_message_needs_text_or_attachments(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}/messages"
    for body, field in [
        ({}, "text"),
        ({"text": "   \n"}, "text"),
        ({"text": None, "attachments": []}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"text": "x" * 70_000}, "text"),
        ({"text": 5}, "text"),
        ({"text": "hi", "subject": "s" * 1001}, "subject"),
        ({"text": "hi", "colour": "red"}, "colour"),
        ({"text": "hi", "reply_to": 10**30}, "reply_to"),
        ({"text": "hi", "reply_to": True}, "reply_to"),
    ]:
        response = await client.post(url, json=body, headers=auth)
        assert await error_of(response) == (422, field), body
    assert await count(db, Message) == 0


async def test_reply_to_must_be_a_message_of_the_same_conversation(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    elsewhere = await factory.conversation(channel)
    here = await factory.message(conversation)
    there = await factory.message(elsewhere)
    url = f"/api/v1/conversations/{conversation.id}/messages"

    for reply_to in (there.id, 999999):
        response = await client.post(url, json={"text": "hi", "reply_to": reply_to}, headers=auth)
        assert await error_of(response) == (422, "reply_to")
    response = await client.post(url, json={"text": "hi", "reply_to": here.id}, headers=auth)
    assert response.status == 201
    assert (await response.json())["reply_to"] == here.id


async def test_sending_to_a_closed_conversation_reopens_it_first(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel(), status="closed")
    url = f"/api/v1/conversations/{conversation.id}"
    response = await client.post(f"{url}/messages", json={"text": "one more thing"}, headers=auth)
    assert response.status == 201
    assert (await (await client.get(url, headers=auth)).json())["status"] == "open"
    timeline = await (await client.get(f"{url}/timeline", headers=auth)).json()
    assert [(i["type"], i.get("kind")) for i in timeline["items"]] == [
        ("event", "reopened"),
        ("message", None),
    ]
    assert timeline["items"][0]["actor_id"] == me.id


async def test_a_snoozed_conversation_stays_snoozed_when_replied_to(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(
        await factory.channel(), status="snoozed", snoozed_until=utcnow() + timedelta(hours=1)
    )
    url = f"/api/v1/conversations/{conversation.id}"
    assert (await client.post(f"{url}/messages", json={"text": "hi"}, headers=auth)).status == 201
    assert (await (await client.get(url, headers=auth)).json())["status"] == "snoozed"


async def test_blocked_contacts_and_deleted_channels_refuse_messages(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    channel = await factory.channel()
    blocked = await factory.conversation(channel, await factory.contact(blocked=True))
    gone = await factory.conversation(await factory.channel(deleted_at=utcnow()))
    disabled = await factory.conversation(await factory.channel(enabled=False))

    for conversation, code in ((blocked, "contact_blocked"), (gone, "channel_deleted")):
        response = await client.post(
            f"/api/v1/conversations/{conversation.id}/messages", json={"text": "hi"}, headers=auth
        )
        assert await error_of(response) == (409, code)
    # A disabled channel takes the message; the outbox holds it until re-enabled.
    response = await client.post(
        f"/api/v1/conversations/{disabled.id}/messages", json={"text": "hi"}, headers=auth
    )
    assert response.status == 201
    assert await count(db, OutboxItem) == 1


# --- starting a conversation ---------------------------------------------------------------


async def identity(factory: Factory, contact: Contact, channel: Channel) -> None:
    await factory.add(
        ContactIdentity(
            contact_id=contact.id, channel_id=channel.id, external_id=f"ext-{contact.id}"
        )
    )


async def test_starting_a_conversation_assigns_it_and_queues_its_first_message(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    me, auth = await user_token("me@example.com")
    channel = await factory.channel()
    contact = await factory.contact("Dana")
    await identity(factory, contact, channel)

    response = await client.post(
        "/api/v1/conversations",
        json={"contact_id": contact.id, "channel_id": channel.id, "text": "Hi Dana!"},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    body = await response.json()
    assert body["contact"] == {"id": contact.id, "name": "Dana"}
    assert (body["status"], body["assignee_id"], body["channel_id"]) == ("open", me.id, channel.id)
    assert body["unanswered"] is False
    assert body["message"]["status"] == "pending"
    assert body["message"]["text"] == "Hi Dana!"
    assert body["message"]["conversation_id"] == body["id"]

    async with db() as session:
        outbox = (await session.scalars(select(OutboxItem))).all()
        events = (
            await session.scalars(select(ConversationEvent).order_by(ConversationEvent.id))
        ).all()
    assert [o.message_id for o in outbox] == [body["message"]["id"]]
    assert [(e.kind, e.actor_id) for e in events] == [("created", me.id), ("assigned", me.id)]

    timeline = await (
        await client.get(f"/api/v1/conversations/{body['id']}/timeline", headers=auth)
    ).json()
    assert [i.get("kind", i["type"]) for i in timeline["items"]] == [
        "created",
        "assigned",
        "message",
    ]
    mine = await (
        await client.get("/api/v1/conversations", params={"view": "mine"}, headers=auth)
    ).json()
    assert [c["id"] for c in mine["items"]] == [body["id"]]


async def test_starting_a_conversation_checks_contact_and_channel(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    channel = await factory.channel()
    disabled = await factory.channel(enabled=False)
    deleted = await factory.channel(deleted_at=utcnow())
    elsewhere = await factory.channel()
    contact = await factory.contact()
    blocked = await factory.contact(blocked=True)
    for c in (contact, blocked):
        for ch in (channel, disabled, deleted):
            await factory.add(
                ContactIdentity(contact_id=c.id, channel_id=ch.id, external_id=f"{c.id}-{ch.id}")
            )

    def start(**body: Any) -> Any:
        return client.post(
            "/api/v1/conversations",
            json={"contact_id": contact.id, "channel_id": channel.id, "text": "hi", **body},
            headers=auth,
        )

    cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
        ({"channel_id": elsewhere.id}, (422, "contact_id")),
        ({"channel_id": disabled.id}, (422, "channel_id")),
        ({"channel_id": deleted.id}, (422, "channel_id")),
        ({"channel_id": 999999}, (422, "channel_id")),
        ({"contact_id": 999999}, (404, "not_found")),
        ({"contact_id": blocked.id}, (409, "contact_blocked")),
        ({"text": ""}, (422, "text")),
        ({"reply_to": 1}, (422, "reply_to")),
        ({"contact_id": "1"}, (422, "contact_id")),
        ({"channel_id": 2**63}, (422, "channel_id")),
    ]
    for body, expected in cases:
        assert await error_of(await start(**body)) == expected, body
    missing = await client.post("/api/v1/conversations", json={"text": "hi"}, headers=auth)
    assert (await missing.json())["error"]["details"][0]["field"] in ("contact_id", "channel_id")
    assert (await count(db, Conversation), await count(db, Message)) == (0, 0)

    assert (await start()).status == 201
    # One open thread per contact and channel: a second would split inbound replies…
    again = await start()
    assert await error_of(again) == (409, "conversation_exists")
    existing = (await again.json())["error"]["details"]["conversation_id"]
    assert isinstance(existing, int)
    # …unless a subject starts a new thread, as on email.
    assert (await start(subject="New order")).status == 201


async def test_restricted_agents_start_conversations_only_with_contacts_they_see(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    sms, email = await factory.channel(), await factory.channel()
    known, stranger = await factory.contact(), await factory.contact()
    await factory.conversation(sms, known, assignee_id=me.id, status="closed")
    await factory.conversation(sms, stranger)
    for contact in (known, stranger):
        await identity(factory, contact, email)

    refused = await client.post(
        "/api/v1/conversations",
        json={"contact_id": stranger.id, "channel_id": email.id, "text": "hi"},
        headers=auth,
    )
    assert refused.status == 404
    started = await client.post(
        "/api/v1/conversations",
        json={"contact_id": known.id, "channel_id": email.id, "text": "hi"},
        headers=auth,
    )
    assert started.status == 201
    conversation_id = (await started.json())["id"]
    # Assigned to them, so they see what they started.
    seen = await client.get(f"/api/v1/conversations/{conversation_id}", headers=auth)
    assert seen.status == 200


# --- the timeline ------------------------------------------------------------------------------


async def test_the_timeline_merges_messages_comments_and_events_in_time_order(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = f"/api/v1/conversations/{conversation.id}"
    t = BASE_TIME
    await factory.message(conversation, "first", created_at=t + timedelta(seconds=1))
    await factory.add(
        ConversationEvent(
            conversation_id=conversation.id,
            kind="assigned",
            actor_id=me.id,
            data={"user_id": me.id},
            created_at=t + timedelta(seconds=2),
        )
    )
    await factory.add(
        Comment(
            conversation_id=conversation.id,
            author_id=me.id,
            body="note",
            created_at=t + timedelta(seconds=3),
        ),
        # Same time as the comment: kinds sort comment < event < message at equal times.
        ConversationEvent(
            conversation_id=conversation.id,
            kind="closed",
            actor_id=me.id,
            created_at=t + timedelta(seconds=3),
        ),
    )
    await factory.message(conversation, "second", created_at=t + timedelta(seconds=3))
    await factory.message(conversation, "third", created_at=t + timedelta(seconds=4))
    expected = [
        ("message", "first"),
        ("event", "assigned"),
        ("comment", "note"),
        ("event", "closed"),
        ("message", "second"),
        ("message", "third"),
    ]

    def label(item: dict[str, Any]) -> tuple[str, str]:
        return item["type"], item.get("text") or item.get("body") or item.get("kind")

    whole = await (await client.get(f"{url}/timeline", headers=auth)).json()
    assert [label(i) for i in whole["items"]] == expected
    assert whole["next_cursor"] is None
    assert all("at" in i for i in whole["items"])
    assert whole["items"][1]["data"] == {"user_id": me.id}

    for order, want in (("asc", expected), ("desc", list(reversed(expected)))):
        seen: list[tuple[str, str]] = []
        cursor = None
        while True:
            params = {"limit": "2", "order": order, **({"cursor": cursor} if cursor else {})}
            response = await client.get(f"{url}/timeline", params=params, headers=auth)
            assert response.status == 200, await response.text()
            body = await response.json()
            assert len(body["items"]) <= 2
            seen += [label(i) for i in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == want, order
