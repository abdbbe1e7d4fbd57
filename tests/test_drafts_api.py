"""Drafts on the server: one per user and conversation, private to their writer, gone
when sent, announced to the writer's other tabs only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.auth.visibility import Viewer
from hub.events.event import HubEvent
from hub.store.models import Attachment, Conversation, Draft, User
from tests.conftest import log_in
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]


def draft_url(conversation_id: int) -> str:
    return f"/api/v1/conversations/{conversation_id}/draft"


async def published(client: Client, action: Callable[[], Awaitable[Any]]) -> list[HubEvent]:
    """The events the bus carries while ``action`` runs."""
    subscription = client.app[appkeys.BUS].subscribe()
    await action()
    subscription.close()
    return [event async for event in subscription]


async def drafts_in_store(db: Sessions) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Draft)) or 0)


async def error_of(response: Any) -> tuple[int, str]:
    body = await response.json()
    details = body["error"]["details"]
    return response.status, details[0]["field"] if isinstance(details, list) else body["error"][
        "code"
    ]


async def test_a_draft_is_saved_read_replaced_and_deleted(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    message = await factory.message(conversation, "where is my order?")
    url = draft_url(conversation.id)

    none = await client.get(url, headers=auth)
    assert (none.status, await none.read()) == (204, b"")

    saved = await client.put(
        url,
        json={"mode": "reply", "body": "It ships", "subject": "Order", "reply_to": message.id},
        headers=auth,
    )
    assert saved.status == 200, await saved.text()
    draft = await saved.json()
    assert draft["conversation_id"] == conversation.id
    assert (draft["mode"], draft["body"], draft["subject"]) == ("reply", "It ships", "Order")
    assert (draft["reply_to"], draft["channel_id"], draft["attachments"]) == (message.id, None, [])
    assert await (await client.get(url, headers=auth)).json() == draft

    replaced = await (
        await client.put(url, json={"mode": "comment", "body": "ask Bea"}, headers=auth)
    ).json()
    assert (replaced["mode"], replaced["body"], replaced["reply_to"]) == (
        "comment",
        "ask Bea",
        None,
    )
    assert replaced["updated_at"] >= draft["updated_at"]

    assert (await client.delete(url, headers=auth)).status == 204
    assert (await client.get(url, headers=auth)).status == 204
    assert (await client.delete(url, headers=auth)).status == 204  # nothing there: still fine


async def test_drafts_of_hidden_or_missing_conversations_are_404(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    _, boss = await user_token("boss@example.com", role="manager")
    channel = await factory.channel()
    hidden = await factory.conversation(channel)
    mine = await factory.conversation(channel, assignee_id=me.id)
    assert (
        await client.put(draft_url(hidden.id), json={"mode": "reply"}, headers=boss)
    ).status == 200

    for conversation_id in (hidden.id, 999_999):
        url = draft_url(conversation_id)
        assert (await client.get(url, headers=auth)).status == 404
        assert (
            await client.put(url, json={"mode": "reply", "body": "x"}, headers=auth)
        ).status == 404
        assert (await client.delete(url, headers=auth)).status == 404
    assert (await client.get(draft_url(mine.id), headers=auth)).status == 204
    assert (await client.get("/api/v1/conversations/abc/draft", headers=auth)).status == 404
    assert await drafts_in_store(db) == 1  # the manager's, untouched


async def test_each_user_has_their_own_draft(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, ana = await user_token("ana@example.com")
    _, bo = await user_token("bo@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = draft_url(conversation.id)

    await client.put(url, json={"mode": "reply", "body": "Ana's"}, headers=ana)
    await client.put(url, json={"mode": "comment", "body": "Bo's"}, headers=bo)

    assert (await (await client.get(url, headers=ana)).json())["body"] == "Ana's"
    assert (await (await client.get(url, headers=bo)).json())["body"] == "Bo's"
    await client.delete(url, headers=bo)
    assert (await (await client.get(url, headers=ana)).json())["body"] == "Ana's"
    listed = await (await client.get("/api/v1/drafts", headers=bo)).json()
    assert listed == {"items": [], "next_cursor": None}


async def test_sending_deletes_the_senders_draft_of_that_mode_only(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    me, auth = await user_token("me@example.com")
    _, other = await user_token("other@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = draft_url(conversation.id)
    base = f"/api/v1/conversations/{conversation.id}"
    await client.put(url, json={"mode": "comment", "body": "note"}, headers=auth)
    await client.put(url, json={"mode": "reply", "body": "theirs"}, headers=other)

    # A reply does not delete a comment draft, nor anyone else's draft.
    assert (await client.post(f"{base}/messages", json={"text": "hi"}, headers=auth)).status == 201
    assert (await client.get(url, headers=auth)).status == 200

    sent = None

    async def comment() -> None:
        nonlocal sent
        sent = await client.post(f"{base}/comments", json={"body": "note"}, headers=auth)

    events = await published(client, comment)
    assert sent is not None and sent.status == 201
    assert (await client.get(url, headers=auth)).status == 204
    gone = [e for e in events if e.type == "draft.updated"]
    assert [(e.data, e.user_ids) for e in gone] == [
        ({"conversation_id": conversation.id, "mode": None, "updated_at": None}, frozenset({me.id}))
    ]

    await client.put(url, json={"mode": "reply", "body": "answer"}, headers=auth)
    assert (
        await client.post(f"{base}/messages", json={"text": "answer"}, headers=auth)
    ).status == 201
    assert (await client.get(url, headers=auth)).status == 204
    assert (await (await client.get(url, headers=other)).json())["body"] == "theirs"
    assert await drafts_in_store(db) == 1


async def test_a_refused_send_keeps_the_draft(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = draft_url(conversation.id)
    await client.put(url, json={"mode": "reply", "body": "x"}, headers=auth)

    refused = await client.post(
        f"/api/v1/conversations/{conversation.id}/messages", json={"text": " "}, headers=auth
    )

    assert refused.status == 422
    assert (await client.get(url, headers=auth)).status == 200


async def test_saving_announces_draft_updated_to_the_writer_alone(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    colleague, _ = await user_token("colleague@example.com")
    conversation = await factory.conversation(await factory.channel())
    saved: dict[str, Any] = {}

    async def save() -> None:
        response = await client.put(
            draft_url(conversation.id), json={"mode": "reply", "body": "x"}, headers=auth
        )
        saved.update(await response.json())

    [event] = await published(client, save)
    assert event.type == "draft.updated"
    assert event.user_ids == frozenset({me.id})
    assert event.data == {
        "conversation_id": conversation.id,
        "mode": "reply",
        "updated_at": event.data["updated_at"],
    }
    assert event.data["updated_at"].replace("+00:00", "Z") == saved["updated_at"]
    assert event.visible_to(Viewer.of(me))
    assert not event.visible_to(Viewer(colleague.id, "owner", "all", frozenset()))


async def test_bad_drafts_are_422_naming_the_field(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    me, auth = await user_token("me@example.com")
    other, _ = await user_token("other@example.com")
    channel = await factory.channel()
    conversation = await factory.conversation(channel)
    elsewhere = await factory.conversation(channel)
    foreign_message = await factory.message(elsewhere, "not here")
    deleted_channel = await factory.channel(deleted_at=conversation.created_at)
    theirs = Attachment(
        uploaded_by=other.id, sha256="a" * 64, filename="a.txt", content_type="text/plain", size=1
    )
    await factory.add(theirs)
    url = draft_url(conversation.id)

    for body, field in [
        ({"body": "no mode"}, "mode"),
        ({"mode": "shout"}, "mode"),
        ({"mode": "reply", "body": "x" * 65_537}, "body"),
        ({"mode": "reply", "body": "nul\x00"}, "body"),
        ({"mode": "reply", "subject": "s" * 1001}, "subject"),
        ({"mode": "reply", "reply_to": foreign_message.id}, "reply_to"),
        ({"mode": "reply", "channel_id": 999_999}, "channel_id"),
        ({"mode": "reply", "channel_id": deleted_channel.id}, "channel_id"),
        ({"mode": "reply", "attachments": [theirs.id]}, "attachments"),
        ({"mode": "reply", "attachments": list(range(1, 52))}, "attachments"),
        ({"mode": "reply", "colour": "red"}, "colour"),
    ]:
        response = await client.put(url, json=body, headers=auth)
        assert await error_of(response) == (422, field), body
    assert await drafts_in_store(db) == 0

    mine = Attachment(
        uploaded_by=me.id, sha256="b" * 64, filename="b.txt", content_type="text/plain", size=1
    )
    await factory.add(mine)
    ok = await client.put(
        url,
        json={
            "mode": "reply",
            "body": "x" * 65_536,
            "channel_id": channel.id,
            "attachments": [mine.id],
        },
        headers=auth,
    )
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["attachments"] == [mine.id]


async def test_the_list_pages_the_callers_visible_drafts(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    channel = await factory.channel()
    visible = [await factory.conversation(channel, assignee_id=me.id) for _ in range(3)]
    for conversation in visible:
        response = await client.put(
            draft_url(conversation.id), json={"mode": "reply", "body": "x"}, headers=auth
        )
        assert response.status == 200
    # Reassigned away: the draft stays stored, but is no longer listed.
    async with db() as session:
        moved = await session.get_one(Conversation, visible[0].id)
        moved.assignee_id = None
        await session.commit()

    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        body = await (await client.get("/api/v1/drafts", params=params, headers=auth)).json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [d["conversation_id"] for d in seen] == [visible[2].id, visible[1].id]
    assert set(seen[0]) == {"conversation_id", "mode", "updated_at"}
    assert await drafts_in_store(db) == 3
    bad = await client.get("/api/v1/drafts", params={"cursor": "nonsense"}, headers=auth)
    assert await error_of(bad) == (422, "cursor")


async def test_drafts_go_with_their_conversation_and_their_user(
    client: Client, factory: Factory, user_token: UserToken, db: Sessions
) -> None:
    me, auth = await user_token("me@example.com")
    _, other = await user_token("other@example.com")
    channel = await factory.channel()
    first, second = await factory.conversation(channel), await factory.conversation(channel)
    for conversation in (first, second):
        for headers in (auth, other):
            await client.put(draft_url(conversation.id), json={"mode": "reply"}, headers=headers)
    assert await drafts_in_store(db) == 4

    async with db() as session:
        await session.execute(delete(Conversation).where(Conversation.id == first.id))
        await session.commit()
    assert await drafts_in_store(db) == 2

    async with db() as session:
        await session.execute(delete(User).where(User.id == me.id))
        await session.commit()
    async with db() as session:
        left = list(await session.scalars(select(Draft.conversation_id)))
    assert left == [second.id]


async def test_the_openapi_document_describes_the_empty_draft(client: Client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    read = doc["paths"]["/api/v1/conversations/{conversation_id}/draft"]["get"]
    assert {"200", "204", "404"} <= set(read["responses"])
    assert "content" not in read["responses"]["204"]


async def test_the_web_ui_saves_with_its_session_and_csrf_token(
    client: Client, factory: Factory, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("me@example.com")
    csrf = await log_in(client, "me@example.com")
    conversation = await factory.conversation(await factory.channel())
    url = draft_url(conversation.id)

    refused = await client.put(url, json={"mode": "reply", "body": "x"})
    saved = await client.put(
        url, json={"mode": "reply", "body": "x"}, headers={"X-CSRF-Token": csrf}
    )
    kept = await client.delete(url)
    deleted = await client.delete(url, headers={"X-CSRF-Token": csrf})

    assert (refused.status, saved.status, kept.status, deleted.status) == (403, 200, 403, 204)
