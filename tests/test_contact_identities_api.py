"""Reaching a contact on a channel they have not written on:
POST /api/v1/contacts/{id}/identities, the address read by the channel's plugin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Channel, ContactIdentity, User
from hub.store.types import utcnow
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]

CONFIGS: dict[str, dict[str, Any]] = {
    "custom_channel": {
        "outbound_url": "https://service.example.com/out",
        "signing_secret": "s" * 32,
    },
    "whatsapp": {
        "phone_number_id": "1234567890",
        "business_account_id": "9876543210",
        "access_token": "token",
        "app_secret": "secret",
        "verify_token": "v" * 32,
    },
    "telegram": {"bot_token": "123456:ABCdefGHIjklMNOpqrsTUVwxyz0123456789", "mode": "polling"},
}


async def channel(factory: Factory, type_: str, **kwargs: Any) -> Channel:
    row = await factory.channel(type_, name=f"My {type_}", **kwargs)
    row.config_encrypted = factory.cipher.encrypt(CONFIGS[type_])
    await factory.add(row)
    return row


def url(contact_id: int) -> str:
    return f"/api/v1/contacts/{contact_id}/identities"


async def post(client: Client, auth: dict[str, str], contact_id: int, **body: Any) -> Any:
    return await client.post(url(contact_id), json=body, headers=auth)


async def test_whatsapp_reads_a_phone_number_as_the_wa_id_digits(
    client: Client, factory: Factory, user_token: UserToken, db: async_sessionmaker[AsyncSession]
) -> None:
    _, auth = await user_token("me@example.com")
    wa = await channel(factory, "whatsapp")
    rosa = await factory.contact("Rosa")
    added = await post(client, auth, rosa.id, channel_id=wa.id, address="+49 151 2345-6789")
    assert added.status == 201, await added.text()
    body = await added.json()
    assert body["external_id"] == "4915123456789"
    assert (body["channel_id"], body["channel_type"], body["channel_name"]) == (
        wa.id,
        "whatsapp",
        "My whatsapp",
    )
    # The same number spelled otherwise is the identity she has: no change, 200.
    again = await post(client, auth, rosa.id, channel_id=wa.id, address="004915123456789")
    assert again.status == 200
    assert (await again.json())["id"] == body["id"]
    async with db() as session:
        rows = (await session.scalars(select(ContactIdentity))).all()
    assert [(r.contact_id, r.external_id) for r in rows] == [(rosa.id, "4915123456789")]
    listed = await client.get(url(rosa.id), headers=auth)
    assert [i["external_id"] for i in (await listed.json())["items"]] == ["4915123456789"]


async def test_custom_channel_takes_any_id_and_refuses_a_blank_or_long_one(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    custom = await channel(factory, "custom_channel")
    rosa = await factory.contact("Rosa")
    added = await post(client, auth, rosa.id, channel_id=custom.id, address="  user-42 ")
    assert added.status == 201
    assert (await added.json())["external_id"] == "user-42"
    for address in ("   ", "x" * 301):
        refused = await post(client, auth, rosa.id, channel_id=custom.id, address=address)
        assert refused.status == 422, address
        assert (await refused.json())["error"]["details"][0]["field"] == "address"


async def test_bad_address_and_channels_that_cannot_write_first_get_422(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    wa = await channel(factory, "whatsapp")
    telegram = await channel(factory, "telegram")
    gone = await channel(factory, "custom_channel", deleted_at=utcnow())
    broken = await factory.channel("custom_channel")  # its stored config does not validate
    rosa = await factory.contact("Rosa")
    cases = [
        ({"channel_id": wa.id, "address": "not a number"}, "address", "country code"),
        ({"channel_id": wa.id, "address": "+1 555"}, "address", "valid phone number"),
        ({"channel_id": telegram.id, "address": "@rosa"}, "address", "cannot write first"),
        ({"channel_id": 999_999, "address": "x"}, "channel_id", "no channel"),
        ({"channel_id": gone.id, "address": "x"}, "channel_id", "no channel"),
        ({"channel_id": broken.id, "address": "x"}, "channel_id", "cannot be used"),
        ({"channel_id": wa.id, "address": ""}, "address", ""),
        ({"channel_id": wa.id}, "address", ""),
        ({"channel_id": wa.id, "address": "+4915123456789", "extra": 1}, "extra", ""),
    ]
    for body, field, words in cases:
        refused = await post(client, auth, rosa.id, **body)
        assert refused.status == 422, body
        detail = (await refused.json())["error"]["details"][0]
        assert detail["field"] == field, body
        assert words in detail["message"], (body, detail)


async def test_another_contacts_address_is_a_409_naming_them(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    custom = await channel(factory, "custom_channel")
    first, rosa = await factory.contact("First"), await factory.contact("Rosa")
    await factory.add(ContactIdentity(contact_id=first.id, channel_id=custom.id, external_id="u1"))
    taken = await post(client, auth, rosa.id, channel_id=custom.id, address="u1")
    assert taken.status == 409
    error = (await taken.json())["error"]
    assert error["code"] == "identity_taken"
    assert error["details"] == {"contact_id": first.id}
    assert f"contact {first.id}" in error["message"]
    # The same id on another channel is someone else's business: fine.
    other = await channel(factory, "custom_channel")
    assert (await post(client, auth, rosa.id, channel_id=other.id, address="u1")).status == 201


async def test_a_hidden_contact_is_not_found_and_a_hidden_owner_is_not_named(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", visibility="assigned")
    colleague, _ = await user_token("colleague@example.com")
    custom = await channel(factory, "custom_channel")
    hidden, mine, owner = [await factory.contact(n) for n in ("Hidden", "Mine", "Owner")]
    await factory.conversation(custom, hidden, assignee_id=colleague.id)
    await factory.conversation(custom, mine, assignee_id=me.id)
    await factory.add(ContactIdentity(contact_id=owner.id, channel_id=custom.id, external_id="o"))
    missing = await post(client, auth, hidden.id, channel_id=custom.id, address="h")
    assert missing.status == 404
    assert (await post(client, auth, 999_999, channel_id=custom.id, address="h")).status == 404
    taken = await post(client, auth, mine.id, channel_id=custom.id, address="o")
    assert taken.status == 409
    error = (await taken.json())["error"]
    assert error["details"] == {"contact_id": None}
    assert "(contact" not in error["message"]


async def test_an_added_identity_lets_the_agent_start_a_conversation(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    custom = await channel(factory, "custom_channel")
    rosa = await factory.contact("Rosa")
    start = {"contact_id": rosa.id, "channel_id": custom.id, "text": "Hello Rosa"}
    refused = await client.post("/api/v1/conversations", json=start, headers=auth)
    assert refused.status == 422
    assert (await post(client, auth, rosa.id, channel_id=custom.id, address="rosa")).status == 201
    started = await client.post("/api/v1/conversations", json=start, headers=auth)
    assert started.status == 201, await started.text()
