"""Routing ``crm_owner``: a new conversation goes to the hub user whose email is the
linked CRM record's owner's (cached on the link); else it waits unassigned."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import (
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    CrmConnection,
    CrmContactLink,
    User,
)
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]
MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


async def known_contact(
    factory: Factory,
    channel: Channel,
    sender: str,
    owner_email: str | None,
    *,
    enabled: bool = True,
) -> Contact:
    """A contact who writes as ``sender`` on ``channel``, linked to a CRM record owned
    by ``owner_email``."""
    contact = await factory.contact(f"Contact {sender}")
    connection = CrmConnection(
        type="memory", name="Sales", config_encrypted="x", enabled=enabled, settings={}, catalog=[]
    )
    await factory.add(
        connection,
        ContactIdentity(contact_id=contact.id, channel_id=channel.id, external_id=sender),
    )
    await factory.add(
        CrmContactLink(
            connection_id=connection.id,
            contact_id=contact.id,
            external_id=f"r-{sender}",
            owner_external_id="o-1",
            owner_email=owner_email,
            cached={},
            conflicts={},
        )
    )
    return contact


async def assignee(db: Sessions) -> int | None:
    async with db() as session:
        return await session.scalar(select(Conversation.assignee_id))


async def test_the_crm_owner_gets_the_new_conversation(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser
) -> None:
    await make_user("someone@example.com")
    owner = await make_user("owner@example.com")
    channel = await factory.channel("double", routing={"mode": "crm_owner"})
    await known_contact(factory, channel, "u-1", "owner@example.com")

    response = await post(hub, channel.id, message("m-1", sender="u-1"))

    assert response.status == 200, await response.text()
    assert await assignee(db) == owner.id


@pytest.mark.parametrize("case", ["no_user", "inactive", "disabled", "unlinked"])
async def test_without_a_matching_active_user_it_waits_unassigned(
    hub: Client, factory: Factory, db: Sessions, make_user: MakeUser, case: str
) -> None:
    await make_user("owner@example.com", active=case != "inactive")
    channel = await factory.channel("double", routing={"mode": "crm_owner"})
    if case != "unlinked":
        email = "nobody@example.com" if case == "no_user" else "owner@example.com"
        await known_contact(factory, channel, "u-1", email, enabled=case != "disabled")

    await post(hub, channel.id, message("m-1", sender="u-1"))

    assert await assignee(db) is None
