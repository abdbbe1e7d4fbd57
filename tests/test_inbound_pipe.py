"""The inbound pipe end to end: webhook → plugin → inbound log → contact, conversation,
message and events, answered after commit; held, replayed, deduplicated, observed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.appkeys import INBOUND
from hub.channels.media_jobs import MediaFetchOptions
from hub.events.event import HubEvent
from hub.settings import Settings
from hub.store.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    InboundLogEntry,
    Message,
    User,
)
from hub.store.types import utcnow
from tests.channel_doubles import Broken, Recorder, manager, message, post, status
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def hub(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, recorder: Recorder
) -> Client:
    # The broken observer is registered first: it must not keep the recorder from hearing.
    return await aiohttp_client(create_app(settings, plugins=manager(Broken(), recorder)))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double", "Double")


async def count(db: Sessions, model: Any, *where: Any) -> int:
    async with db() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return int(await session.scalar(query) or 0)


async def rows(db: Sessions, model: Any, *where: Any) -> list[Any]:
    async with db() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def observers_done(hub: Client) -> None:
    await hub.app[appkeys.OBSERVERS].drain()


async def test_a_first_message_creates_contact_conversation_and_message(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    subscription = hub.app[appkeys.BUS].subscribe()
    response = await post(hub, channel.id, message("m1", text="Hi there", name="Ada"))

    assert response.status == 200, await response.text()
    assert (await response.json())["result"] == "stored"
    subscription.close()
    published: list[HubEvent] = [event async for event in subscription]
    [contact] = await rows(db, Contact)
    [identity] = await rows(db, ContactIdentity)
    [conversation] = await rows(db, Conversation)
    [stored] = await rows(db, Message)
    [entry] = await rows(db, InboundLogEntry)
    assert contact.name == "Ada"
    assert (identity.channel_id, identity.external_id) == (channel.id, "user-1")
    assert conversation.status == "open" and conversation.assignee_id is None
    assert conversation.unread_count == 1 and conversation.last_message_direction == "in"
    assert (stored.direction, stored.status, stored.text) == ("in", "received", "Hi there")
    assert stored.parts == [{"kind": "text", "text": "Hi there"}]
    assert stored.media_pending is False
    assert (entry.result, entry.status_code, entry.event_count) == ("stored", 200, 1)
    assert entry.events is not None and entry.events[0]["external_id"] == "m1"
    assert {"message.created", "conversation.updated", "counts.changed"} <= {
        e.type for e in published
    }
    created = next(e for e in published if e.type == "message.created")
    assert created.data["id"] == stored.id and created.data["parts"] == stored.parts
    async with db() as session:
        refreshed = await session.get_one(Channel, channel.id)
        assert refreshed.last_inbound_at is not None


async def test_a_retried_delivery_is_stored_once(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    first = await post(hub, channel.id, message("m1"))
    again = await post(hub, channel.id, message("m1"))

    assert (first.status, again.status) == (200, 200)
    assert (await again.json())["result"] == "duplicate"
    assert await count(db, Message) == 1
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 1
    results = [e.result for e in await rows(db, InboundLogEntry)]
    assert results == ["stored", "duplicate"]


async def test_concurrent_identical_posts_store_one_message(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    responses = await asyncio.gather(*(post(hub, channel.id, message("same")) for _ in range(8)))

    assert [r.status for r in responses] == [200] * 8
    assert await count(db, Message) == 1
    assert await count(db, Contact) == 1
    results = sorted(e.result for e in await rows(db, InboundLogEntry))
    assert results == ["duplicate"] * 7 + ["stored"]


async def test_requests_arriving_together_share_commits_and_all_are_stored(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    stats = hub.app[INBOUND].committer.stats
    before = stats.batches
    responses = await asyncio.gather(
        *(post(hub, channel.id, message(f"m{i}", sender=f"s{i}")) for i in range(30))
    )

    assert [r.status for r in responses] == [200] * 30
    # Every answer came after its commit: all 30 are there once the answers are in.
    assert await count(db, Message) == 30
    assert stats.batches - before < 30
    assert stats.largest > 1


async def test_a_changed_profile_name_updates_the_providers_name_only(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, message("m1", sender="a", name="Ada"))
    await post(hub, channel.id, message("m2", sender="b", name="Bob"))
    async with db() as session:  # an agent renames Bob: that name is theirs now
        await session.execute(update(Contact).where(Contact.name == "Bob").values(name="Robert"))
        await session.commit()

    await post(hub, channel.id, message("m3", sender="a", name="Ada L."))
    await post(hub, channel.id, message("m4", sender="b", name="Bobby"))

    names = sorted(c.name for c in await rows(db, Contact))
    assert names == ["Ada L.", "Robert"]
    assert await count(db, Conversation) == 2


async def test_a_new_contacts_sender_name_is_split_into_first_and_last_name(
    hub: Client, channel: Channel, db: Sessions, user_token: UserToken
) -> None:
    senders = {
        "ada": {"name": "Ada Lovelace"},
        "king": {"name": "  Ada   King Lovelace "},
        "cher": {"name": "Cher"},
        "rocket": {"name": "🚀 Ada - Lovelace"},
        "number": {"name": "+44 20 7946 0958"},
        "mail": {"name": "ann@example.com"},
        "fallback": {"phone": "+12025550123"},
    }
    for index, (sender, profile) in enumerate(senders.items()):
        await post(hub, channel.id, {**message(f"m{index}", sender=sender), "sender": profile})
    identities = {i.external_id: i.contact_id for i in await rows(db, ContactIdentity)}
    contacts = {c.id: c for c in await rows(db, Contact)}
    names = {
        sender: (contacts[identities[sender]].first_name, contacts[identities[sender]].last_name)
        for sender in senders
    }
    assert names == {
        "ada": ("Ada", "Lovelace"),
        "king": ("Ada", "King Lovelace"),
        "cher": ("Cher", None),
        "rocket": ("Ada", "Lovelace"),
        "number": (None, None),
        "mail": (None, None),
        "fallback": (None, None),
    }

    # What an agent meets: the greeting snippet now has a first name to say.
    _, auth = await user_token("owner@example.com", role="owner")
    snippet = await hub.post(
        "/api/v1/snippets",
        json={"name": "Hi", "shortcut": "hi", "body": "Hi $contact.first_name, thanks!"},
        headers=auth,
    )
    [conversation] = await rows(db, Conversation, Conversation.contact_id == identities["ada"])
    rendered = await hub.post(
        f"/api/v1/snippets/{(await snippet.json())['id']}/render",
        json={"conversation_id": conversation.id},
        headers=auth,
    )
    assert (await rendered.json())["text"] == "Hi Ada, thanks!"


async def test_a_changed_profile_name_splits_again_unless_an_agent_set_the_names(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, message("m1", sender="a", name="Ada Lovelace"))
    await post(hub, channel.id, message("m2", sender="b", name="Bob Smith"))
    await post(hub, channel.id, message("m3", sender="c", name="Cy Young"))
    async with db() as session:  # an agent corrects Bob's first name: the names are theirs
        await session.execute(
            update(Contact).where(Contact.first_name == "Bob").values(first_name="Robert")
        )
        # Cy was taken in before names were split: nothing to protect.
        await session.execute(
            update(Contact)
            .where(Contact.first_name == "Cy")
            .values(first_name=None, last_name=None)
        )
        await session.commit()

    await post(hub, channel.id, message("m4", sender="a", name="Ada King"))
    await post(hub, channel.id, message("m5", sender="b", name="Bobby Smith"))
    await post(hub, channel.id, message("m6", sender="c", name="Cyrus Young"))

    names = sorted((c.name, c.first_name, c.last_name) for c in await rows(db, Contact))
    assert names == [
        ("Ada King", "Ada", "King"),
        ("Bobby Smith", "Robert", "Smith"),
        ("Cyrus Young", "Cyrus", "Young"),
    ]


async def test_messages_thread_by_thread_key_else_per_contact(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, message("m1", sender="a", thread_key="t1"))
    await post(hub, channel.id, message("m2", sender="b", thread_key="t1"))  # same thread
    await post(hub, channel.id, message("m3", sender="a", thread_key="t2"))  # new thread
    await post(hub, channel.id, message("m4", sender="c"))
    await post(hub, channel.id, message("m5", sender="c"))

    conversations = await rows(db, Conversation)
    assert [c.thread_key for c in conversations] == ["t1", "t2", None]
    by_conversation = {
        c.id: [m.external_id for m in await rows(db, Message, Message.conversation_id == c.id)]
        for c in conversations
    }
    assert list(by_conversation.values()) == [["m1", "m2"], ["m3"], ["m4", "m5"]]


@pytest.mark.parametrize(("setting", "expected_conversations"), [("reopen", 1), ("new", 2)])
async def test_a_message_to_a_closed_conversation_reopens_or_starts_new(
    hub: Client,
    channel: Channel,
    db: Sessions,
    setting: str,
    expected_conversations: int,
) -> None:
    async with db() as session:
        await session.execute(
            update(Channel)
            .where(Channel.id == channel.id)
            .values(settings={"closed_conversation": setting})
        )
        await session.commit()
    await post(hub, channel.id, message("m1"))
    async with db() as session:
        await session.execute(update(Conversation).values(status="closed", closed_at=utcnow()))
        await session.commit()

    await post(hub, channel.id, message("m2"))

    conversations = await rows(db, Conversation)
    assert len(conversations) == expected_conversations
    assert conversations[-1].status == "open"
    kinds = [e.kind for e in await rows(db, ConversationEvent)]
    if setting == "reopen":
        assert kinds == ["created", "reopened"]
    else:
        assert kinds == ["created", "created"] and conversations[0].status == "closed"


async def test_a_message_wakes_a_snoozed_conversation(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, message("m1"))
    async with db() as session:
        await session.execute(update(Conversation).values(status="snoozed", snoozed_until=utcnow()))
        await session.commit()

    await post(hub, channel.id, message("m2"))

    [conversation] = await rows(db, Conversation)
    assert conversation.status == "open" and conversation.snoozed_until is None
    assert [e.kind for e in await rows(db, ConversationEvent)] == ["created", "unsnoozed"]


async def test_a_conversation_starts_in_its_timeline_at_its_first_message(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    """The provider wrote the message a moment before the hub received it; the timeline
    (in time order, an event before a message at the same time) starts the conversation
    there, not after the message."""
    written = utcnow() - timedelta(seconds=2)
    await post(hub, channel.id, message("m1", timestamp=written.isoformat()))

    [event] = await rows(db, ConversationEvent)
    [first] = await rows(db, Message)
    assert event.kind == "created" and event.created_at == first.created_at == written
    timeline = sorted([(event.created_at, "event"), (first.created_at, "message")])
    assert [kind for _, kind in timeline] == ["event", "message"]


async def test_a_blocked_contacts_message_is_stored_without_counting_unread(
    hub: Client, channel: Channel, db: Sessions, factory: Factory
) -> None:
    await post(hub, channel.id, message("m1"))
    async with db() as session:
        await session.execute(update(Contact).values(blocked=True))
        await session.execute(update(Conversation).values(contact_blocked=True, unread_count=0))
        await session.commit()

    response = await post(hub, channel.id, message("m2"))

    assert response.status == 200
    assert await count(db, Message) == 2
    [conversation] = await rows(db, Conversation)
    assert conversation.unread_count == 0 and conversation.contact_blocked is True


async def test_an_edit_replaces_the_text_and_keeps_the_old_one(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    await post(hub, channel.id, message("m1", text="helo"))
    edited = message("m1", text="hello", edited=True)

    first = await post(hub, channel.id, edited)
    again = await post(hub, channel.id, edited)

    assert [(await r.json())["result"] for r in (first, again)] == ["stored", "duplicate"]
    [stored] = await rows(db, Message)
    assert stored.text == "hello"
    assert [h["text"] for h in stored.edit_history] == ["helo"]


async def test_media_marks_the_message_pending_and_reply_to_is_resolved(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    recorder: Recorder,
    channel: Channel,
    db: Sessions,
) -> None:
    # The fetcher off: it would take the pending media up (and clear the flag) as soon
    # as the message is stored, racing the check below.
    app = create_app(settings, plugins=manager(recorder))
    app[appkeys.MEDIA_FETCH_OPTIONS] = MediaFetchOptions(background=False)
    hub = await aiohttp_client(app)
    await post(hub, channel.id, message("m1"))
    photo = {
        "kind": "media",
        "media_kind": "image",
        "url": "https://x.test/a.jpg",
        "caption": "look",
    }
    await post(
        hub,
        channel.id,
        message(
            "m2",
            parts=[photo, {"kind": "unsupported", "raw_type": "poll"}],
            reply_to_external_id="m1",
        ),
    )

    first, second = await rows(db, Message)
    assert second.media_pending is True and second.reply_to_id == first.id
    assert second.text == "look"
    assert second.parts[1] == {"kind": "unsupported", "raw_type": "poll", "description": ""}


async def test_a_disabled_channel_holds_events_until_replayed(
    hub: Client, channel: Channel, db: Sessions, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    async with db() as session:
        await session.execute(update(Channel).values(enabled=False))
        await session.commit()

    response = await post(hub, channel.id, message("m1"), message("m2"))
    refused = await hub.post(f"/api/v1/channels/{channel.id}/replay-held", headers=auth)

    assert response.status == 200
    assert (await response.json())["result"] == "held"
    assert await count(db, Message) == 0
    [entry] = await rows(db, InboundLogEntry)
    assert (entry.result, entry.event_count) == ("held", 2)
    assert refused.status == 409

    async with db() as session:
        await session.execute(update(Channel).values(enabled=True))
        await session.commit()
    replayed = await hub.post(f"/api/v1/channels/{channel.id}/replay-held", headers=auth)
    again = await hub.post(f"/api/v1/channels/{channel.id}/replay-held", headers=auth)

    assert replayed.status == 200, await replayed.text()
    body = await replayed.json()
    assert (body["entries"], body["stored"], body["duplicates"]) == (1, 2, 0)
    assert (await again.json())["entries"] == 0  # nothing held any more
    assert await count(db, Message) == 2
    [entry] = await rows(db, InboundLogEntry)
    assert entry.replayed_at is not None and entry.result == "stored"


async def test_replaying_an_entry_again_stores_nothing_twice(
    hub: Client, channel: Channel, db: Sessions, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    await post(hub, channel.id, message("m1"), message("m2"))
    [entry] = await rows(db, InboundLogEntry)

    first = await hub.post(f"/api/v1/inbound-log/{entry.id}/replay", headers=auth)
    second = await hub.post(f"/api/v1/inbound-log/{entry.id}/replay", headers=auth)

    for response in (first, second):
        assert response.status == 200
        assert (await response.json())["duplicates"] == 2
    assert await count(db, Message) == 2


async def test_a_deleted_channel_answers_404_and_is_logged(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    async with db() as session:
        await session.execute(update(Channel).values(deleted_at=utcnow()))
        await session.commit()

    response = await post(hub, channel.id, message("m1"))
    unknown = await post(hub, channel.id + 1000, message("m1"))

    assert (response.status, unknown.status) == (404, 404)
    assert (await response.json())["error"]["code"] == "not_found"
    [entry] = await rows(db, InboundLogEntry)  # the unknown id is not logged
    assert (entry.result, entry.status_code, entry.channel_id) == ("rejected", 404, channel.id)
    assert await count(db, Message) == 0


@pytest.mark.parametrize(
    ("label", "token", "body", "expected"),
    [
        ("unsigned", None, b'{"events": []}', 401),
        ("wrongly signed", "wrong", b'{"events": []}', 403),
        ("malformed", "secret-token", b'{"events": ', 400),
        ("invalid event", "secret-token", b'{"events": [{"kind": "message"}]}', 400),
        ("not UTF-8", "secret-token", b"\xff\xfe", 400),
    ],
)
async def test_bad_requests_are_refused_logged_as_rejected_and_leave_the_inbox_alone(
    hub: Client,
    channel: Channel,
    db: Sessions,
    label: str,
    token: str | None,
    body: bytes,
    expected: int,
) -> None:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Test-Token"] = token

    response = await hub.post(f"/webhooks/{channel.id}", data=body, headers=headers)

    assert response.status == expected, label
    error = (await response.json())["error"]
    assert error["message"]
    [entry] = await rows(db, InboundLogEntry)
    assert (entry.result, entry.status_code, entry.events) == ("rejected", expected, None)
    assert bytes(entry.body) == body
    assert await count(db, Message) == 0 and await count(db, Contact) == 0


async def test_an_oversized_body_is_413_and_logged_rejected(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    channel: Channel,
    db: Sessions,
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    hub = await aiohttp_client(create_app(small, plugins=manager()))

    response = await post(hub, channel.id, message("m1", text="x" * 4096))

    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"
    [entry] = await rows(db, InboundLogEntry)
    assert (entry.result, entry.status_code) == ("rejected", 413)
    assert await count(db, Message) == 0


async def test_a_plugin_exception_is_503_plugin_error_never_500(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    response = await hub.post(
        f"/webhooks/{channel.id}",
        data=b'{"boom": true}',
        headers={"X-Test-Token": "secret-token"},
    )

    assert response.status == 503
    body = await response.json()
    assert body["error"]["code"] == "plugin_error" and "Traceback" not in str(body)
    [entry] = await rows(db, InboundLogEntry)
    assert entry.result == "error" and "blew up" in (entry.reason or "")


async def test_a_channel_whose_type_is_not_installed_is_503(
    hub: Client, factory: Factory, db: Sessions
) -> None:
    orphan = await factory.channel("not_installed")

    response = await post(hub, orphan.id, message("m1"))

    assert response.status == 503
    assert (await response.json())["error"]["code"] == "channel_unavailable"
    [entry] = await rows(db, InboundLogEntry)
    assert entry.result == "error"


async def test_a_handshake_gets_the_plugins_response(hub: Client, channel: Channel) -> None:
    response = await hub.get(f"/webhooks/{channel.id}?challenge=abc123")

    assert response.status == 200
    assert await response.text() == "abc123"


async def _outbound(factory: Factory, channel: Channel, **kwargs: Any) -> Message:
    conversation = await factory.conversation(channel)
    return await factory.message(conversation, "reply", direction="out", external_id="p1", **kwargs)


async def test_statuses_only_move_forward(
    hub: Client, channel: Channel, db: Sessions, factory: Factory
) -> None:
    await _outbound(factory, channel, status="sent")

    for value in ("delivered", "read", "delivered", "failed"):
        response = await post(hub, channel.id, status("p1", value))
        assert response.status == 200

    [stored] = await rows(db, Message)
    assert stored.status == "read"
    assert stored.delivered_at is not None and stored.read_at is not None
    assert stored.failure_reason is None
    results = [e.result for e in await rows(db, InboundLogEntry)]
    assert results == ["stored", "stored", "duplicate", "duplicate"]


async def test_failed_can_follow_sent_with_its_reason(
    hub: Client, channel: Channel, db: Sessions, factory: Factory
) -> None:
    await _outbound(factory, channel, status="sent")

    await post(hub, channel.id, status("p1", "failed", reason="number blocked", error_code="131"))

    [stored] = await rows(db, Message)
    assert (stored.status, stored.failure_reason, stored.error_code) == (
        "failed",
        "number blocked",
        "131",
    )


async def test_a_status_of_an_unknown_message_is_logged_with_a_reason(
    hub: Client, channel: Channel, db: Sessions
) -> None:
    response = await post(hub, channel.id, status("nobody-knows", "delivered"))

    assert response.status == 200
    [entry] = await rows(db, InboundLogEntry)
    assert entry.result == "stored" and "unknown message" in (entry.reason or "")


async def test_hook_hub_message_received(
    hub: Client, channel: Channel, db: Sessions, recorder: Recorder
) -> None:
    response = await post(hub, channel.id, message("m1", text="hi"))
    await post(hub, channel.id, message("m1", text="hi"))  # a duplicate is not announced
    await observers_done(hub)

    assert response.status == 200  # the broken observer did not break the answer
    [notice] = recorder.received
    [stored] = await rows(db, Message)
    assert (notice.message_id, notice.channel_id, notice.channel_type) == (
        stored.id,
        channel.id,
        "double",
    )
    assert notice.new_conversation is True and notice.message.external_id == "m1"


async def test_hook_hub_message_status(
    hub: Client, channel: Channel, db: Sessions, factory: Factory, recorder: Recorder
) -> None:
    sent = await _outbound(factory, channel, status="sent")

    response = await post(hub, channel.id, status("p1", "read"))
    await observers_done(hub)

    assert response.status == 200
    [notice] = recorder.statuses
    assert (notice.message_id, notice.status, notice.conversation_id) == (
        sent.id,
        "read",
        sent.conversation_id,
    )
