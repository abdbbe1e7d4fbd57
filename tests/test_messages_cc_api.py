"""A reply's CC over the API: only where the channel can send copies, each entry a real
address (the 422 names it), at most 20, stored in the message's envelope for the outbox
and shown back; a new conversation takes a CC too."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.contract import hookimpl
from hub.contract.channel import Capabilities, ChannelType
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import ContactIdentity, Message, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LOGO = "<svg xmlns='http://www.w3.org/2000/svg'/>"


class _Config(BaseModel):
    pass


class MailChannel(ChannelType[_Config]):
    """Subjects and copies, as email has."""

    name, title, description, logo, Config = "mail_test", "Mail", "Mail.", LOGO, _Config
    capabilities = Capabilities(subject=True, cc=True)


class ChatChannel(ChannelType[_Config]):
    """No copies."""

    name, title, description, logo, Config = "chat_test", "Chat", "Chat.", LOGO, _Config


class _Plugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [MailChannel, ChatChannel]


@pytest.fixture
async def client(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    """The app with a channel that sends copies and one that does not."""
    manager = HubPluginManager(autoload=False)
    manager.register(_Plugin(), PluginInfo(name="cc", distribution="tests", version="0"))
    return await aiohttp_client(create_app(settings, plugins=manager))


async def _send(client: Client, auth: dict[str, str], conversation_id: int, **body: Any) -> Any:
    response = await client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": "hello", **body},
        headers=auth,
    )
    return response.status, await response.json()


async def _stored(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_cc_is_stored_in_the_envelope_once_per_address(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("mail_test"))
    status, body = await _send(
        client,
        auth,
        conversation.id,
        subject="Re: Order 42",
        cc=[" Bob@Example.com", "eve@x.test", "bob@example.com"],
    )
    assert status == 201, body
    assert body["envelope"] == {"cc": ["Bob@Example.com", "eve@x.test"]}
    async with db() as session:
        message = await session.get(Message, body["id"])
        assert message is not None and message.envelope == {"cc": ["Bob@Example.com", "eve@x.test"]}
        assert message.subject == "Re: Order 42"
    # Without CC there is no envelope at all.
    status, body = await _send(client, auth, conversation.id)
    assert status == 201 and body["envelope"] is None


@pytest.mark.parametrize(
    ("cc", "field", "words"),
    [
        (["ok@x.test", "not an address"], "cc.1", "is not an email address"),
        (["Bob <bob@x.test>"], "cc.0", "one address like name@example.com"),
        (["a@x.test, b@x.test"], "cc.0", "is not an email address"),
        (["a@x.test\r\nBcc: spy@evil.test"], "cc.0", "is not an email address"),
        ([f"u{i}@x.test" for i in range(21)], "cc", "at most 20"),
        (["a" * 250 + "@x.test"], "cc.0", "at most 254"),
        ("a@x.test", "cc", "list"),
    ],
)
async def test_a_bad_cc_is_a_precise_422_and_stores_nothing(
    client: Client,
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    cc: Any,
    field: str,
    words: str,
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("mail_test"))
    status, body = await _send(client, auth, conversation.id, cc=cc)
    assert status == 422, body
    detail = body["error"]["details"][0]
    assert detail["field"] == field and words in detail["message"], body
    assert await _stored(db) == 0


async def test_a_channel_without_copies_refuses_cc(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    conversation = await factory.conversation(await factory.channel("chat_test", "Live chat"))
    status, body = await _send(client, auth, conversation.id, cc=["bob@x.test"])
    assert status == 422
    assert body["error"]["details"][0]["field"] == "cc"
    assert "'Live chat' (Chat) cannot send copies" in body["error"]["message"]
    assert await _stored(db) == 0


async def test_a_new_conversation_takes_a_cc(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel("mail_test")
    contact = await factory.contact("Ada", email="ada@x.test")
    await factory.add(
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id="ada@x.test")
    )
    response = await client.post(
        "/api/v1/conversations",
        json={
            "contact_id": contact.id,
            "channel_id": channel.id,
            "subject": "Your order",
            "text": "hello",
            "cc": ["boss@x.test"],
        },
        headers=auth,
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["message"]["envelope"] == {"cc": ["boss@x.test"]}


async def test_the_composer_offers_cc_and_a_single_re_where_the_channel_has_them(
    client: Client, factory: Factory, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    mail = await factory.conversation(await factory.channel("mail_test"), subject="Order 42")
    await factory.message(mail, "first", subject="Order 42")
    await factory.message(mail, "second", subject="RE: Re: Order 42 (again)")
    chat = await factory.conversation(await factory.channel("chat_test"), subject="Order 42")

    async def composer(conversation_id: int) -> str:
        response = await client.get(
            f"/inbox/conversations/{conversation_id}/composer", headers=HTML
        )
        assert response.status == 200
        return await response.text()

    html = await composer(mail.id)
    assert 'name="cc" type="email" multiple' in html
    assert 'value="Re: Order 42 (again)"' in html
    other = await composer(chat.id)
    assert 'name="cc"' not in other and 'name="subject"' not in other
