"""CSAT through the real app: a closed conversation's contact is asked once on the
custom channel, their typed number is the answer (the conversation stays closed), and
the API lists it; the survey job's rules (window, re-close, race, turned off)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, ClassVar

import pytest
import respx
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.contract import Capabilities, ChannelType
from hub.events.work import Work
from hub.inbox.csat import send_surveys, survey
from hub.inbox.csat_settings import (
    load_csat_settings,
    rating_of_choice,
    rating_of_text,
    save_csat_settings,
)
from hub.store.models import Channel, Conversation, ConversationEvent, CsatSurvey, Message
from hub.store.types import utcnow
from hub.testing import eventually
from tests.factories import Factory
from tests.test_custom_channel_e2e import (
    SERVICE,
    create_channel,
    delivered,
    get_json,
    message_event,
    post_signed,
)

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def service() -> Iterator[respx.MockRouter]:
    """The custom channel's service, answering every delivery with a new id."""
    with respx.mock(assert_all_called=False) as router:
        counter = iter(range(1, 1000))
        router.post(SERVICE).mock(
            side_effect=lambda request: respx.MockResponse(200, json={"id": f"svc-{next(counter)}"})
        )
        yield router


@pytest.fixture
async def owner(user_token: Callable[..., Awaitable[Any]]) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return dict(headers)


async def turn_on(client: Client, auth: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"enabled": True, "question": "How did we do?", **extra}
    response = await client.put("/api/v1/csat/settings", json=body, headers=auth)
    assert response.status == 200, await response.text()
    out: dict[str, Any] = await response.json()
    return out


async def close(client: Client, conversation_id: int, auth: dict[str, str]) -> None:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/close", json={}, headers=auth
    )
    assert response.status == 200, await response.text()


async def csat_of(client: Client, conversation_id: int, auth: dict[str, str]) -> Any:
    return (await get_json(client, f"/api/v1/conversations/{conversation_id}/csat", auth))["survey"]


async def survey_messages(db: Sessions, conversation_id: int) -> list[Message]:
    async with db() as session:
        rows = await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "out")
            .order_by(Message.id)
        )
        return list(rows)


async def first_conversation(client: Client, auth: dict[str, str]) -> dict[str, Any]:
    items = (await get_json(client, "/api/v1/conversations?view=all", auth))["items"]
    conversation: dict[str, Any] = items[0]
    return conversation


async def asked(client: Client, conversation_id: int, auth: dict[str, str]) -> dict[str, Any]:
    """The survey, once the app's own job (woken by the close) has sent it."""

    async def check() -> dict[str, Any]:
        found = await csat_of(client, conversation_id, auth)
        assert found is not None, "no survey yet"
        return dict(found)

    return await eventually(check)


async def test_the_contact_is_asked_once_and_their_number_is_the_answer(
    client: Client, owner: dict[str, str], service: respx.MockRouter, db: Sessions
) -> None:
    await turn_on(client, owner)
    channel = await create_channel(client, owner)
    await post_signed(client, channel, message_event("m-1", "Where is my order?"))
    conversation = await first_conversation(client, owner)
    cid = conversation["id"]

    await close(client, cid, owner)
    found = await asked(client, cid, owner)
    assert (found["status"], found["scale"], found["rating"]) == ("sent", 5, None)
    sent = await delivered(client, found["message_id"], owner)
    assert sent["status"] == "sent"
    body = json.loads(service.calls.last.request.content)
    assert body["text"] == "How did we do?\n\nReply with a number from 1 to 5 (5 is best)."
    assert body["recipient"] == {"id": "u-42"}

    # Another run (another process, a retry) asks nobody again.
    channels = client.app[appkeys.CHANNELS]
    bus, observers = client.app[appkeys.BUS], client.app[appkeys.OBSERVERS]
    assert await send_surveys(db, bus, observers, channels) == 0

    unread_before = (await get_json(client, f"/api/v1/conversations/{cid}", owner))["unread_count"]
    status, answer = await post_signed(client, channel, message_event("m-2", " 4 "))
    assert (status, answer["result"]) == (200, "stored")
    found = await csat_of(client, cid, owner)
    assert (found["status"], found["rating"], found["answered_via"]) == ("answered", 4, "text")
    assert found["answered_at"] is not None
    after = await get_json(client, f"/api/v1/conversations/{cid}", owner)
    assert after["status"] == "closed", "an answer is no new work"
    assert after["unread_count"] == unread_before
    async with db() as session:
        conversations = list(await session.scalars(select(Conversation.id)))
    assert conversations == [cid], "nor a new conversation"
    messages = (await get_json(client, f"/api/v1/conversations/{cid}/messages", owner))["items"]
    assert messages[-1]["text"].strip() == "4"
    async with db() as session:
        kinds = list(
            await session.scalars(
                select(ConversationEvent.kind)
                .where(ConversationEvent.conversation_id == cid)
                .order_by(ConversationEvent.id)
            )
        )
        rated = await session.scalar(
            select(ConversationEvent.data).where(ConversationEvent.kind == "csat_rated")
        )
    assert kinds[-3:] == ["closed", "csat_sent", "csat_rated"]
    assert rated is not None and (rated["rating"], rated["scale"]) == (4, 5)

    # Reopened and closed again: still the one survey.
    response = await client.post(f"/api/v1/conversations/{cid}/reopen", headers=owner)
    assert response.status == 200
    await close(client, cid, owner)
    assert await send_surveys(db, bus, observers, channels) == 0
    assert len(await survey_messages(db, cid)) == 1

    # A later number is an ordinary message again (the survey took its answer).
    await post_signed(client, channel, message_event("m-3", "2"))
    found = await csat_of(client, cid, owner)
    assert found["rating"] == 4


async def test_words_are_no_answer_and_reopen_as_usual(
    client: Client, owner: dict[str, str], service: respx.MockRouter
) -> None:
    await turn_on(client, owner, scale=3)
    channel = await create_channel(client, owner)
    await post_signed(client, channel, message_event("m-1", "Hi"))
    cid = (await first_conversation(client, owner))["id"]
    await close(client, cid, owner)
    await asked(client, cid, owner)
    # 4 is off a 3-point scale; words are a new question.
    await post_signed(client, channel, message_event("m-2", "4"))
    found = await csat_of(client, cid, owner)
    assert (found["status"], found["rating"]) == ("sent", None)
    conversation = await get_json(client, f"/api/v1/conversations/{cid}", owner)
    assert conversation["status"] == "open"


async def test_nothing_is_asked_while_surveys_are_off_or_for_earlier_closes(
    client: Client, owner: dict[str, str], service: respx.MockRouter, db: Sessions
) -> None:
    channel = await create_channel(client, owner)
    await post_signed(client, channel, message_event("m-1", "Hi"))
    cid = (await first_conversation(client, owner))["id"]
    await close(client, cid, owner)
    channels = client.app[appkeys.CHANNELS]
    bus, observers = client.app[appkeys.BUS], client.app[appkeys.OBSERVERS]
    assert await send_surveys(db, bus, observers, channels) == 0
    # Turned on later: the conversation closed before is not asked.
    await turn_on(client, owner)
    assert await send_surveys(db, bus, observers, channels) == 0
    assert await csat_of(client, cid, owner) is None
    assert await survey_messages(db, cid) == []


class WindowConfig(BaseModel):
    """No settings."""


class WindowChannel(ChannelType[WindowConfig]):
    """A channel with WhatsApp's 24-hour window and reply buttons."""

    name: ClassVar[str] = "window_test"
    title: ClassVar[str] = "Window"
    description: ClassVar[str] = "test"
    logo: ClassVar[str] = "<svg/>"
    Config: ClassVar[type[BaseModel]] = WindowConfig
    capabilities: ClassVar[Capabilities] = Capabilities(window_hours=24, choices=10)

    async def send(self, message: Any) -> str:
        return "x"


class Plugins:
    """Every channel served by one plugin object."""

    def __init__(self, plugin: ChannelType[Any]) -> None:
        self.plugin = plugin

    def for_channel(self, channel: Channel) -> ChannelType[Any]:
        return self.plugin


@pytest.mark.parametrize("hours_ago, asked", [(2, True), (30, False)])
async def test_a_windowed_channel_is_asked_only_inside_the_window(
    db: Sessions, factory: Factory, hours_ago: int, asked: bool
) -> None:
    channel = await factory.channel()
    conversation = await factory.conversation(channel=channel, status="closed")
    async with db() as session:
        await session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(last_inbound_at=utcnow() - timedelta(hours=hours_ago))
        )
        await save_csat_settings(session, enabled=True, question="Rate us?", scale=5)
        await session.commit()
    plugin = WindowChannel(WindowConfig(), None)  # type: ignore[arg-type]
    async with db() as session:
        work = Work(session)
        settings = await load_csat_settings(session)
        closed = await session.get_one(Conversation, conversation.id)
        row = await survey(work, closed, settings, Plugins(plugin))
        await session.commit()
    assert row.status == ("sent" if asked else "skipped")
    async with db() as session:
        stored = await session.scalar(select(CsatSurvey))
        messages = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == "out")
        )
    assert stored is not None
    if asked:
        assert stored.skip_reason is None and messages == 1
        async with db() as session:
            message = await session.scalar(select(Message).where(Message.direction == "out"))
        assert message is not None and message.parts[0]["kind"] == "choices"
        assert [c["id"] for c in message.parts[0]["choices"]] == [f"csat:{n}" for n in range(1, 6)]
    else:
        assert stored.skip_reason == "outside the channel's 24-hour customer-service window"
        assert messages == 0
        assert stored.token is None


async def test_the_list_pages_and_filters(
    client: Client, owner: dict[str, str], service: respx.MockRouter
) -> None:
    await turn_on(client, owner)
    channel = await create_channel(client, owner)
    ids = []
    for n in range(3):
        sender = {"id": f"u-{n}", "name": f"Person {n}"}
        await post_signed(client, channel, {**message_event(f"m-{n}", "Hi"), "sender": sender})
    for conversation in (await get_json(client, "/api/v1/conversations?view=all", owner))["items"]:
        ids.append(conversation["id"])
        await close(client, conversation["id"], owner)
        await asked(client, conversation["id"], owner)
    first = await get_json(client, "/api/v1/csat?limit=2", owner)
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await get_json(client, f"/api/v1/csat?limit=2&cursor={first['next_cursor']}", owner)
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    listed = {i["conversation_id"] for i in first["items"] + second["items"]}
    assert listed == set(ids)
    assert (await get_json(client, "/api/v1/csat?status=answered", owner))["items"] == []
    future = (utcnow() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert (await get_json(client, f"/api/v1/csat?since={future}", owner))["items"] == []
    for bad in ("cursor=nope", "status=lost", "limit=0", "since=2026-01-02&until=2026-01-01"):
        response = await client.get(f"/api/v1/csat?{bad}", headers=owner)
        assert response.status == 422, bad


async def test_settings_are_validated(client: Client, owner: dict[str, str]) -> None:
    for body in (
        {"enabled": True, "question": "", "scale": 5},
        {"enabled": True, "question": "Rate?", "scale": 4},
        {"enabled": "yes please", "question": "Rate?"},
        {"enabled": True, "question": "Rate?", "colour": "red"},
    ):
        response = await client.put("/api/v1/csat/settings", json=body, headers=owner)
        assert response.status == 422, body
    settings = await get_json(client, "/api/v1/csat/settings", owner)
    assert (settings["enabled"], settings["since"]) == (False, None)
    on = await turn_on(client, owner, scale=3)
    assert (on["enabled"], on["scale"]) == (True, 3) and on["since"] is not None
    again = await turn_on(client, owner, question="Better?")
    assert again["since"] == on["since"], "saving while on keeps when it was turned on"


class MailChannel(ChannelType[WindowConfig]):
    """A mail-like channel: subjects, no buttons."""

    name: ClassVar[str] = "mail_test"
    title: ClassVar[str] = "Mail"
    description: ClassVar[str] = "test"
    logo: ClassVar[str] = "<svg/>"
    Config: ClassVar[type[BaseModel]] = WindowConfig
    capabilities: ClassVar[Capabilities] = Capabilities(subject=True)

    async def send(self, message: Any) -> str:
        return "x"


async def test_a_mail_channel_gets_the_answer_pages_link(db: Sessions, factory: Factory) -> None:
    channel = await factory.channel()
    conversation = await factory.conversation(channel=channel, status="closed")
    async with db() as session:
        await save_csat_settings(session, enabled=True, question="Rate us?", scale=5)
        await session.commit()
    plugin = MailChannel(WindowConfig(), None)  # type: ignore[arg-type]
    async with db() as session:
        settings = await load_csat_settings(session)
        closed = await session.get_one(Conversation, conversation.id)
        row = await survey(
            Work(session), closed, settings, Plugins(plugin), lambda t: f"https://hub.test/csat/{t}"
        )
        await session.commit()
        message = await session.get_one(Message, row.message_id)
    assert row.token is not None and len(row.token) >= 40
    assert f"https://hub.test/csat/{row.token}" in (message.text or "")
    assert "reply with a number from 1 to 5" in (message.text or "")
    assert message.parts == []


async def test_two_processes_at_once_ask_each_conversation_once(
    client: Client, owner: dict[str, str], db: Sessions, service: respx.MockRouter
) -> None:
    await turn_on(client, owner)
    channel = await create_channel(client, owner)
    for n in range(3):
        sender = {"id": f"u-{n}", "name": f"Person {n}"}
        await post_signed(client, channel, {**message_event(f"m-{n}", "Hi"), "sender": sender})
    async with db() as session:
        ids = list(await session.scalars(select(Conversation.id)))
        # Closed behind the bus's back: no wake, so only the two runs below ask.
        await session.execute(
            update(Conversation)
            .where(Conversation.id.in_(ids))
            .values(status="closed", status_changed_at=utcnow())
        )
        await session.commit()
    assert len(ids) == 3
    channels = client.app[appkeys.CHANNELS]
    bus, observers = client.app[appkeys.BUS], client.app[appkeys.OBSERVERS]
    done = await asyncio.gather(
        send_surveys(db, bus, observers, channels), send_surveys(db, bus, observers, channels)
    )
    assert sum(done) == 3
    for conversation_id in ids:
        assert len(await survey_messages(db, conversation_id)) == 1
    async with db() as session:
        statuses = list(await session.scalars(select(CsatSurvey.status)))
    assert statuses == ["sent"] * 3


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("4", 4),
        (" 5 ", 5),
        ("3/5", 3),
        ("1", 1),
        ("0", None),
        ("6", None),
        ("²", None),
        ("٤", None),
        ("44", None),
        ("4 stars", None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_which_typed_answers_are_ratings(text: str, rating: int | None) -> None:
    assert rating_of_text(text, 5) == rating


@pytest.mark.parametrize(
    ("choice_id", "rating"),
    [
        ("csat:4", 4),
        ("csat:5", 5),
        ("csat:6", None),
        ("csat:²", None),
        ("order_status", None),
        ("csat:", None),
        ("4", None),
    ],
)
def test_which_buttons_are_ratings(choice_id: str, rating: int | None) -> None:
    assert rating_of_choice(choice_id, 5) == rating


async def test_a_disabled_channel_is_not_asked(
    client: Client, owner: dict[str, str], service: respx.MockRouter, db: Sessions
) -> None:
    await turn_on(client, owner)
    channel = await create_channel(client, owner)
    await post_signed(client, channel, message_event("m-1", "Hi"))
    cid = (await first_conversation(client, owner))["id"]
    async with db() as session:
        await session.execute(
            update(Channel).where(Channel.id == channel["id"]).values(enabled=False)
        )
        await session.commit()
    await close(client, cid, owner)
    found = await asked(client, cid, owner)
    assert (found["status"], found["skip_reason"]) == ("skipped", "the channel is disabled")
    assert await survey_messages(db, cid) == []


async def test_a_channel_can_be_left_out(
    client: Client, owner: dict[str, str], service: respx.MockRouter, db: Sessions
) -> None:
    channel = await create_channel(client, owner)
    unknown = await client.put(
        "/api/v1/csat/settings",
        json={"enabled": True, "question": "Rate?", "off_channel_ids": [channel["id"] + 99]},
        headers=owner,
    )
    assert unknown.status == 422
    assert "off_channel_ids" in await unknown.text()
    on = await turn_on(client, owner, off_channel_ids=[channel["id"], channel["id"]])
    assert on["off_channel_ids"] == [channel["id"]]
    await post_signed(client, channel, message_event("m-1", "Hi"))
    cid = (await first_conversation(client, owner))["id"]
    await close(client, cid, owner)
    found = await asked(client, cid, owner)
    assert (found["status"], found["skip_reason"]) == (
        "skipped",
        "surveys are off for this channel",
    )
    assert await survey_messages(db, cid) == []
