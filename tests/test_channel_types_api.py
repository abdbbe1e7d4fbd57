"""Channel types over HTTP: the plugins' types, and declarative ones made from a manifest.

A declared type runs on an extensible plugin type (here the test-only ``probe`` of
``test_channels_api``), adds its own credential form, and its channels are created,
masked and connected like any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.channels.manifest import DEFAULT_LOGO, LOGO_MAX_BYTES
from hub.channels.type_sync import types_changed
from hub.settings import Settings
from hub.store.models import ChannelDefinition, User
from hub.testing import eventually
from tests.test_channels_api import MASK, PROVIDER, probe_plugins

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><circle r="4"/></svg>'


def acme_manifest(**overrides: Any) -> dict[str, Any]:
    """A full manifest: every credential type, and capabilities."""
    return {
        "name": "acme_chat",
        "title": "Acme Chat",
        "description": "Acme's in-app chat.",
        "logo": LOGO,
        "base": "probe",
        "credentials": [
            {"name": "acme_token", "title": "Acme token", "type": "secret", "required": True},
            {
                "name": "region",
                "title": "Region",
                "type": "choice",
                "choices": ["eu", "us"],
                "default": "eu",
            },
            {"name": "acme_url", "title": "Acme URL", "type": "url"},
            {"name": "max_retries", "title": "Retries", "type": "integer", "default": 3},
            {"name": "sandbox", "title": "Sandbox", "type": "boolean", "default": False},
            {"name": "workspace", "title": "Workspace", "description": "As shown in Acme"},
        ],
        "capabilities": {"reply_to": True, "max_text_length": 2000},
        **overrides,
    }


@pytest.fixture
def provider() -> Iterator[respx.MockRouter]:
    """The provider behind the probe base type: accepts every key."""
    with respx.mock(base_url=PROVIDER, assert_all_called=False) as router:
        router.get("/check", name="check").respond(200)
        router.post("/disconnect", name="disconnect").respond(200)
        yield router


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    """The real app with the test channel types instead of the installed plugins."""
    yield await aiohttp_client(create_app(settings, plugins=probe_plugins()))


async def _declare(client: Client, auth: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/channel-types", json=acme_manifest(**overrides), headers=auth
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def _fields(body: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in body["error"]["details"]}


async def test_every_plugin_type_is_listed_with_its_config_schema(
    client: Client, user_token: UserToken
) -> None:
    _, agent = await user_token("agent@example.com", role="agent")
    response = await client.get("/api/v1/channel-types", headers=agent)
    items = {item["name"]: item for item in (await response.json())["items"]}
    assert list(items) == ["plain", "probe"]
    probe = items["probe"]
    assert probe["source"] == "plugin" and probe["extensible"] is True and probe["base"] is None
    assert probe["logo"].startswith("<svg") and probe["title"] == "Probe"
    assert probe["config_schema"]["required"] == ["api_key"]
    assert probe["config_schema"]["properties"]["api_key"]["writeOnly"] is True
    assert items["plain"]["extensible"] is False

    one = await (await client.get("/api/v1/channel-types/probe", headers=agent)).json()
    assert one == probe
    assert (await client.get("/api/v1/channel-types/fax", headers=agent)).status == 404
    assert (await client.get("/api/v1/channel-types")).status == 401


async def test_a_declared_type_gets_its_own_form_and_channels(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="manager")
    declared = await _declare(client, auth)
    assert declared["source"] == "definition" and declared["base"] == "probe"
    assert declared["extensible"] is False and declared["logo"] == LOGO
    assert declared["capabilities"]["reply_to"] is True
    assert declared["capabilities"]["max_text_length"] == 2000
    assert declared["manifest"]["credentials"][0]["name"] == "acme_token"
    schema = declared["config_schema"]
    # The base's fields, then the manifest's credentials.
    assert list(schema["properties"])[:2] == ["api_key", "webhook_secret"]
    assert {"acme_token", "region", "acme_url", "max_retries", "sandbox", "workspace"} <= set(
        schema["properties"]
    )
    assert set(schema["required"]) == {"api_key", "acme_token"}
    assert schema["properties"]["acme_token"]["writeOnly"] is True
    assert schema["properties"]["region"]["enum"] == ["eu", "us"]
    listed = await (await client.get("/api/v1/channel-types", headers=auth)).json()
    assert [item["name"] for item in listed["items"]] == ["plain", "probe", "acme_chat"]

    bad = await client.post(
        "/api/v1/channels",
        json={
            "type": "acme_chat",
            "name": "Acme",
            "config": {"api_key": "k", "region": "asia", "acme_url": "nope"},
        },
        headers=auth,
    )
    assert bad.status == 422
    assert _fields(await bad.json()) == {"config.acme_token", "config.region", "config.acme_url"}

    response = await client.post(
        "/api/v1/channels",
        json={"type": "acme_chat", "name": "Acme", "config": {"api_key": "k", "acme_token": "t"}},
        headers=auth,
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    assert created["config"]["acme_token"] == "t" and created["config"]["region"] == "eu"
    assert provider["check"].call_count == 1  # the base type's connect ran
    read = await client.get(f"/api/v1/channels/{created['id']}", headers=auth)
    config = (await read.json())["config"]
    assert config["acme_token"] == MASK and config["api_key"] == MASK
    assert config["max_retries"] == 3 and config["workspace"] is None


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"name": "probe"}, 409, None),  # a plugin type's name
        ({"name": "Acme"}, 422, "name"),
        ({"name": "a"}, 422, "name"),
        ({"base": "plain"}, 422, "base"),  # not extensible
        ({"base": "custom_channel"}, 422, "base"),  # not installed in this hub
        ({"logo": "<html><body/></html>"}, 422, "logo"),
        ({"logo": "not xml"}, 422, "logo"),
        ({"logo": '<!DOCTYPE svg [<!ENTITY a "b">]><svg>&a;</svg>'}, 422, "logo"),
        ({"logo": f"<svg>{' ' * LOGO_MAX_BYTES}</svg>"}, 422, "logo"),
        ({"credentials": [{"name": "api_key", "title": "Clash"}]}, 422, "credentials"),
        ({"credentials": [{"name": "x", "title": "X"}, {"name": "x", "title": "Y"}]}, 422, None),
        ({"credentials": [{"name": "c", "title": "C", "type": "choice"}]}, 422, None),
        (
            {"credentials": [{"name": "s", "title": "S", "type": "secret", "default": "x"}]},
            422,
            None,
        ),
        (
            {"credentials": [{"name": "n", "title": "N", "type": "integer", "default": "1"}]},
            422,
            None,
        ),
        ({"credentials": [{"name": "u", "title": "U", "type": "url", "default": "x"}]}, 422, None),
        ({"credentials": [{"name": "Bad-Name", "title": "B"}]}, 422, None),
        ({"capabilities": {"teleport": True}}, 422, None),
        # Media limits are keyed by the contract's file kinds only.
        ({"capabilities": {"media": {"photo": 1000}}}, 422, None),
    ],
)
async def test_a_bad_manifest_is_refused(
    client: Client,
    user_token: UserToken,
    change: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await client.post(
        "/api/v1/channel-types", json=acme_manifest(**change), headers=auth
    )
    assert response.status == status, await response.text()
    if field is not None:
        assert field in _fields(await response.json())
    listed = await (await client.get("/api/v1/channel-types", headers=auth)).json()
    assert "acme_chat" not in [item["name"] for item in listed["items"]]


async def test_a_definition_name_is_taken_once_and_the_logo_has_a_default(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    minimal = {"name": "tiny", "title": "Tiny", "base": "probe"}
    response = await client.post("/api/v1/channel-types", json=minimal, headers=auth)
    assert response.status == 201
    assert (await response.json())["logo"] == DEFAULT_LOGO
    again = await client.post("/api/v1/channel-types", json=minimal, headers=auth)
    assert again.status == 409 and (await again.json())["error"]["code"] == "name_taken"


async def test_patching_a_definition_changes_its_form_unless_channels_would_break(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    await _declare(client, auth)
    item = "/api/v1/channel-types/acme_chat"
    renamed = await client.patch(item, json={"title": "Acme Messenger"}, headers=auth)
    assert renamed.status == 200
    assert (await renamed.json())["title"] == "Acme Messenger"
    read = await (await client.get(item, headers=auth)).json()
    assert read["title"] == "Acme Messenger" and read["manifest"]["base"] == "probe"

    channel = await client.post(
        "/api/v1/channels",
        json={"type": "acme_chat", "name": "Acme", "config": {"api_key": "k", "acme_token": "t"}},
        headers=auth,
    )
    assert channel.status == 201
    required = [{"name": "acme_token", "title": "Token", "type": "secret", "required": True}]
    breaking = [*required, {"name": "tenant", "title": "Tenant", "required": True}]
    refused = await client.patch(item, json={"credentials": breaking}, headers=auth)
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "definition_in_use"
    compatible = [*required, {"name": "tenant", "title": "Tenant", "default": "main"}]
    accepted = await client.patch(item, json={"credentials": compatible}, headers=auth)
    assert accepted.status == 200, await accepted.text()
    properties = (await accepted.json())["config_schema"]["properties"]
    assert "tenant" in properties and "region" not in properties
    # The channel's stored config was carried over: removed values dropped, defaults added.
    channel_item = f"/api/v1/channels/{(await channel.json())['id']}"
    config = (await (await client.get(channel_item, headers=auth)).json())["config"]
    assert config["tenant"] == "main" and "region" not in config
    assert config["acme_token"] == MASK

    for bad in ({"name": "other"}, {"base": "plain"}, {"title": None}, {"logo": "<p/>"}):
        assert (await client.patch(item, json=bad, headers=auth)).status == 422, bad
    missing = await client.patch("/api/v1/channel-types/nope", json={"title": "x"}, headers=auth)
    assert missing.status == 404


async def test_plugin_types_cannot_be_changed_or_deleted(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    item = "/api/v1/channel-types/probe"
    for response in (
        await client.patch(item, json={"title": "Mine"}, headers=auth),
        await client.delete(item, headers=auth),
    ):
        assert response.status == 409
        error = (await response.json())["error"]
        assert error["code"] == "plugin_type" and "plugin" in error["message"]
    assert (await client.delete("/api/v1/channel-types/nope", headers=auth)).status == 404


async def test_a_definition_in_use_cannot_be_deleted_until_its_channels_are(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    await _declare(client, auth)
    created = await client.post(
        "/api/v1/channels",
        json={"type": "acme_chat", "name": "Acme", "config": {"api_key": "k", "acme_token": "t"}},
        headers=auth,
    )
    channel_id = (await created.json())["id"]
    item = "/api/v1/channel-types/acme_chat"
    refused = await client.delete(item, headers=auth)
    assert refused.status == 409 and (await refused.json())["error"]["code"] == "type_in_use"

    assert (await client.delete(f"/api/v1/channels/{channel_id}", headers=auth)).status == 204
    assert (await client.delete(item, headers=auth)).status == 204
    assert (await client.get(item, headers=auth)).status == 404
    again = await client.post(
        "/api/v1/channels",
        json={"type": "acme_chat", "name": "Acme", "config": {"api_key": "k", "acme_token": "t"}},
        headers=auth,
    )
    assert again.status == 422


async def test_agents_cannot_declare_change_or_delete_types(
    client: Client, user_token: UserToken
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    _, agent = await user_token("agent@example.com", role="agent")
    await _declare(client, owner)
    item = "/api/v1/channel-types/acme_chat"
    post = await client.post(
        "/api/v1/channel-types", json=acme_manifest(name="other"), headers=agent
    )
    assert post.status == 403
    assert (await client.patch(item, json={"title": "x"}, headers=agent)).status == 403
    assert (await client.delete(item, headers=agent)).status == 403
    assert (await (await client.get(item, headers=agent)).json())["title"] == "Acme Chat"


async def test_stored_definitions_are_served_when_the_hub_starts(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    db: async_sessionmaker[AsyncSession],
    user_token: UserToken,
) -> None:
    async with db() as session:
        session.add(ChannelDefinition(name="acme_chat", manifest=acme_manifest()))
        # A definition whose base is gone is skipped, not fatal.
        session.add(ChannelDefinition(name="orphan", manifest=acme_manifest(base="gone")))
        await session.commit()
    client = await aiohttp_client(create_app(settings, plugins=probe_plugins()))
    _, auth = await user_token("owner@example.com", role="owner")
    listed = await (await client.get("/api/v1/channel-types", headers=auth)).json()
    assert [item["name"] for item in listed["items"]] == ["plain", "probe", "acme_chat"]


async def test_a_definition_stored_by_another_process_is_served_once_announced(
    client: Client, db: async_sessionmaker[AsyncSession], user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    # Another hub process stores a definition and announces it on the shared bus.
    async with db() as session:
        session.add(ChannelDefinition(name="acme_chat", manifest=acme_manifest()))
        await session.commit()
    assert (await client.get("/api/v1/channel-types/acme_chat", headers=auth)).status == 404
    await client.app[appkeys.BUS].publish(types_changed())

    async def served() -> None:
        response = await client.get("/api/v1/channel-types/acme_chat", headers=auth)
        assert response.status == 200
        assert (await response.json())["title"] == "Acme Chat"

    await eventually(served)
