"""The webhook handler's cached channel row: reused for a moment, dropped at once by a
change in this process, by another process's ``channel.updated`` announcement, by a
bus resync, and after its time-to-live."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.registry import ChannelInstances
from hub.events.event import HubEvent
from hub.settings import Settings
from hub.store.crypto import ConfigCipher
from hub.store.models import Channel
from hub.testing import eventually
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


def instances(hub: Client) -> ChannelInstances:
    return hub.app[appkeys.CHANNELS]


async def rekey(db: Sessions, cipher: ConfigCipher, channel_id: int, token: str) -> None:
    """Change the channel's signing token behind the hub's back (as another process)."""
    async with db() as session:
        await session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(config_encrypted=cipher.encrypt({"token": token}))
        )
        await session.commit()


async def test_the_row_is_read_once_and_reused(hub: Client, factory: Factory) -> None:
    channel = await factory.channel("double", "Double")
    sessions = hub.app[appkeys.SESSIONS]

    first = await instances(hub).channel_row(sessions, channel.id)
    second = await instances(hub).channel_row(sessions, channel.id)

    assert first is not None and first is second
    assert await instances(hub).channel_row(sessions, channel.id + 1000) is None


async def test_another_process_rekeying_a_channel_applies_once_announced(
    hub: Client, factory: Factory, db: Sessions
) -> None:
    channel = await factory.channel("double", "Double")
    assert (await post(hub, channel.id, message("m1"))).status == 200

    await rekey(db, factory.cipher, channel.id, "new-token")
    # Not yet heard of: the cached row (and its plugin object) still answers.
    assert (await post(hub, channel.id, message("m2"))).status == 200
    await hub.app[appkeys.BUS].publish(HubEvent("channel.updated", {"id": channel.id}))
    await eventually(lambda: channel.id not in instances(hub)._rows)

    assert (await post(hub, channel.id, message("m3"))).status == 403
    assert (await post(hub, channel.id, message("m4"), token="new-token")).status == 200


async def test_a_bus_resync_drops_every_row(hub: Client, factory: Factory, db: Sessions) -> None:
    channel = await factory.channel("double", "Double")
    assert (await post(hub, channel.id, message("m1"))).status == 200
    await rekey(db, factory.cipher, channel.id, "new-token")

    await hub.app[appkeys.BUS].publish(HubEvent("resync", {}))
    await eventually(lambda: channel.id not in instances(hub)._rows)

    assert (await post(hub, channel.id, message("m2"))).status == 403


async def test_a_row_older_than_its_time_to_live_is_read_again(
    hub: Client, factory: Factory, db: Sessions
) -> None:
    channel = await factory.channel("double", "Double")
    assert (await post(hub, channel.id, message("m1"))).status == 200
    await rekey(db, factory.cipher, channel.id, "new-token")

    instances(hub).row_ttl = 0.0

    assert (await post(hub, channel.id, message("m2"))).status == 403


async def test_an_edit_through_the_api_applies_to_the_next_webhook(
    hub: Client, factory: Factory, db: Sessions
) -> None:
    channel = await factory.channel("double", "Double")
    assert (await post(hub, channel.id, message("m1"))).status == 200
    await rekey(db, factory.cipher, channel.id, "new-token")

    instances(hub).forget(channel.id)  # what every change through the channels API calls

    assert (await post(hub, channel.id, message("m2"))).status == 403
