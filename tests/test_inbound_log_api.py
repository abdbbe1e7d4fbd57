"""The inbound-log API: owners and managers read raw requests (credentials masked),
filter and page them, and replay them."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import Channel, User
from tests.channel_doubles import manager, message, post
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


@pytest.fixture
async def hub(aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=manager()))


@pytest.fixture
async def channel(factory: Factory) -> Channel:
    return await factory.channel("double")


@pytest.fixture
async def owner(user_token: UserToken) -> dict[str, str]:
    return (await user_token("owner@example.com", role="owner"))[1]


async def test_the_log_lists_newest_first_with_filters_and_paging(
    hub: Client, channel: Channel, owner: dict[str, str]
) -> None:
    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m1"))
    await post(hub, channel.id, message("m2"), token="wrong")

    first = await hub.get("/api/v1/inbound-log?limit=2", headers=owner)
    body = await first.json()
    rest = await hub.get(
        "/api/v1/inbound-log", params={"cursor": body["next_cursor"]}, headers=owner
    )
    rejected = await hub.get("/api/v1/inbound-log?result=rejected", headers=owner)
    other = await hub.get(f"/api/v1/inbound-log?channel_id={channel.id + 1}", headers=owner)

    assert first.status == 200
    assert [i["result"] for i in body["items"]] == ["rejected", "duplicate"]
    assert [i["result"] for i in (await rest.json())["items"]] == ["stored"]
    assert [i["status_code"] for i in (await rejected.json())["items"]] == [403]
    assert (await other.json())["items"] == []


async def test_an_entry_shows_its_body_and_masks_static_credentials(
    hub: Client, channel: Channel, owner: dict[str, str]
) -> None:
    await post(hub, channel.id, message("m1", text="héllo"))
    await hub.post(f"/webhooks/{channel.id}", data=b"\xff\x00", headers={"X-Test-Token": "x"})
    listed = (await (await hub.get("/api/v1/inbound-log", headers=owner)).json())["items"]
    binary, text = listed

    one = await (await hub.get(f"/api/v1/inbound-log/{text['id']}", headers=owner)).json()

    assert one["body_encoding"] == "text" and "h\\u00e9llo" in one["body"]
    assert one["headers"]["X-Test-Token"] == "********"
    assert one["events"][0]["external_id"] == "m1"
    assert binary["body_encoding"] == "base64"
    assert base64.b64decode(binary["body"]) == b"\xff\x00"


async def test_agents_may_not_read_or_replay_the_log(
    hub: Client, channel: Channel, user_token: UserToken
) -> None:
    _, agent = await user_token("agent@example.com")

    listed = await hub.get("/api/v1/inbound-log", headers=agent)
    replay = await hub.post("/api/v1/inbound-log/1/replay", headers=agent)
    held = await hub.post(f"/api/v1/channels/{channel.id}/replay-held", headers=agent)

    assert (listed.status, replay.status, held.status) == (403, 403, 403)


async def test_a_rejected_entry_has_nothing_to_replay(
    hub: Client, channel: Channel, owner: dict[str, str]
) -> None:
    await post(hub, channel.id, message("m1"), token=None)
    [entry] = (await (await hub.get("/api/v1/inbound-log", headers=owner)).json())["items"]

    response = await hub.post(f"/api/v1/inbound-log/{entry['id']}/replay", headers=owner)

    assert response.status == 409
    assert (await response.json())["error"]["message"] == "nothing verified to replay"


async def test_missing_entries_and_channels_are_404(hub: Client, owner: dict[str, str]) -> None:
    for response in (
        await hub.get("/api/v1/inbound-log/999", headers=owner),
        await hub.get("/api/v1/inbound-log/abc", headers=owner),
        await hub.post("/api/v1/inbound-log/999/replay", headers=owner),
        await hub.post("/api/v1/channels/999/replay-held", headers=owner),
    ):
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_bad_filters_and_cursors_are_422(hub: Client, owner: dict[str, str]) -> None:
    for query in ("result=lost", "channel_id=x", "cursor=nonsense", "limit=0"):
        response = await hub.get(f"/api/v1/inbound-log?{query}", headers=owner)
        assert response.status == 422, query
