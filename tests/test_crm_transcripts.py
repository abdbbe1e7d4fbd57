"""Transcripts of closed conversations on the linked CRM record, exactly once: not
doubled by a retry or a crash between the CRM's answer and the hub's write, and after a
reopen only what is new (nothing when nothing is)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.crm.transcripts import due_transcripts, idempotency_key, log_transcript
from hub.settings import Settings
from hub.store.models import Comment, Conversation, CrmTranscript, Message, User
from tests.crm_memory import ACCOUNTS, Account, engine_of, quiet_app
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def account() -> Iterator[Account]:
    ACCOUNTS["acme"] = account = Account()
    yield account
    ACCOUNTS.pop("acme", None)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    yield await aiohttp_client(quiet_app(settings))


@pytest.fixture
async def people(user_token: UserToken) -> tuple[User, dict[str, str]]:
    return await user_token("owner@example.com", name="Olga Owner", role="owner")


@pytest.fixture
async def talk(
    client: Client,
    account: Account,
    people: tuple[User, dict[str, str]],
    factory: Factory,
) -> tuple[int, Conversation, str]:
    """A connection, a linked contact, and an open conversation with two messages and
    an internal comment: (connection id, conversation, record id)."""
    owner, headers = people
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=headers,
    )
    record_id = account.add(email="ann@example.com", firstname="Ann")
    contact = await factory.contact("Ann Lee", email="ann@example.com")
    await client.get(f"/api/v1/contacts/{contact.id}/crm", headers=headers)
    await engine_of(client).idle()
    conversation = await factory.conversation(await factory.channel(name="Web chat"), contact)
    await factory.message(conversation, "Where is my order?")
    await factory.add(Comment(conversation_id=conversation.id, author_id=owner.id, body="VIP!"))
    await factory.message(
        conversation, "It ships today.", direction="out", status="sent", sender_user_id=owner.id
    )
    return (await made.json())["id"], conversation, record_id


async def close(client: Client, headers: dict[str, str], conversation_id: int) -> None:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/close", json={}, headers=headers
    )
    assert response.status == 200, await response.text()


async def last_message_id(db: Sessions, conversation_id: int) -> int:
    async with db() as session:
        found = await session.scalar(
            select(Message.id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
        )
        assert found is not None
        return found


async def test_a_closed_conversation_is_logged_once_without_comments(
    client: Client,
    talk: tuple[int, Conversation, str],
    people: tuple[User, dict[str, str]],
    account: Account,
    db: Sessions,
) -> None:
    connection_id, conversation, record_id = talk
    engine = engine_of(client)
    assert await due_transcripts(engine.env) == []  # open: nothing to log

    await close(client, people[1], conversation.id)
    first = await engine.log_transcripts()
    second = await engine.log_transcripts()
    direct = await log_transcript(engine.env, connection_id, conversation.id)

    assert (first, second, direct) == (1, 0, "nothing")
    [activity] = account.activities.values()
    assert activity["record"] == record_id
    assert activity["subject"] == f"Conversation #{conversation.id} on Web chat"
    assert "Ann Lee: Where is my order?" in activity["body"]
    assert "Olga Owner: It ships today." in activity["body"]
    assert "VIP" not in activity["body"]
    assert activity["key"] == idempotency_key(
        conversation.id, await last_message_id(db, conversation.id)
    )


async def test_reopened_and_closed_again_logs_only_what_is_new(
    client: Client,
    talk: tuple[int, Conversation, str],
    people: tuple[User, dict[str, str]],
    account: Account,
    factory: Factory,
) -> None:
    _, conversation, _ = talk
    headers = people[1]
    engine = engine_of(client)
    await close(client, headers, conversation.id)
    await engine.log_transcripts()

    await client.post(f"/api/v1/conversations/{conversation.id}/reopen", headers=headers)
    await close(client, headers, conversation.id)  # nothing new said
    nothing = await engine.log_transcripts()
    await client.post(f"/api/v1/conversations/{conversation.id}/reopen", headers=headers)
    await factory.message(conversation, "One more thing!")
    await close(client, headers, conversation.id)
    logged = await engine.log_transcripts()

    assert (nothing, logged) == (0, 1)
    bodies = [a["body"] for a in account.activities.values()]
    assert len(bodies) == 2
    assert "One more thing!" in bodies[1]
    assert "Where is my order?" not in bodies[1]


async def test_a_crash_between_the_crm_call_and_the_state_write_neither_skips_nor_doubles(
    client: Client,
    talk: tuple[int, Conversation, str],
    people: tuple[User, dict[str, str]],
    account: Account,
    db: Sessions,
) -> None:
    connection_id, conversation, _ = talk
    engine = engine_of(client)
    engine.env.calls.attempts = 1  # the call fails for good this run, as a crash would
    await close(client, people[1], conversation.id)
    account.crash_after_logging = 1  # the CRM logs it; its answer never arrives

    crashed = await log_transcript(engine.env, connection_id, conversation.id)
    async with db() as session:
        state = await session.scalar(select(CrmTranscript))
        assert state is not None
        pending = (state.pending_key, state.logged_message_id)
    retried = await engine.log_transcripts()  # the restart's sweep

    assert crashed == "failed"
    assert pending[0] is not None and pending[1] is None  # written before the call
    assert retried == 1
    assert len(account.activities) == 1  # the same key found the first activity
    async with db() as session:
        state = await session.scalar(select(CrmTranscript))
        assert state is not None
        assert state.pending_key is None
        assert state.logged_message_id == await last_message_id(db, conversation.id)
        assert state.activity_ids == ["note-1"]


async def test_an_unlinked_contact_or_a_disabled_transcript_setting_logs_nothing(
    client: Client,
    talk: tuple[int, Conversation, str],
    people: tuple[User, dict[str, str]],
    account: Account,
    factory: Factory,
) -> None:
    connection_id, conversation, _ = talk
    headers = people[1]
    stranger = await factory.conversation(await factory.channel(), await factory.contact("Zed"))
    await factory.message(stranger, "hi")
    await close(client, headers, stranger.id)
    await client.put(
        f"/api/v1/crm-connections/{connection_id}/settings",
        json={"transcripts": False},
        headers=headers,
    )
    await close(client, headers, conversation.id)

    engine = engine_of(client)
    outcome = await log_transcript(engine.env, connection_id, conversation.id)
    unlinked = await log_transcript(engine.env, connection_id, stranger.id)

    assert (outcome, unlinked) == ("skipped", "skipped")
    assert await due_transcripts(engine.env) == []
    assert account.activities == {}


async def test_closing_links_an_unlinked_contact_and_logs_through_the_listener(
    client: Client,
    talk: tuple[int, Conversation, str],
    people: tuple[User, dict[str, str]],
    account: Account,
    factory: Factory,
) -> None:
    engine = engine_of(client)
    record_id = account.add(email="new@example.com")
    newcomer = await factory.contact("Nia New", email="new@example.com")
    conversation = await factory.conversation(await factory.channel(), newcomer)
    await factory.message(conversation, "First time here")
    listener = asyncio.create_task(engine.listen(engine.env.bus))
    await asyncio.sleep(0)

    await close(client, people[1], conversation.id)
    for _ in range(200):
        await asyncio.sleep(0.01)
        await engine.idle()
        if account.activities:
            break
    listener.cancel()
    await asyncio.gather(listener, return_exceptions=True)

    [activity] = account.activities.values()
    assert activity["record"] == record_id
    assert "Nia New: First time here" in activity["body"]
