"""Channel administration over HTTP: connect, list, read (masked), patch (merged), delete.

The channels are of a test-only type, ``probe``, injected through a plugin manager. Its
``connect`` and ``disconnect`` make real HTTP requests through the hub's shared client,
which ``respx`` answers at the transport layer, so the provider's answers (accepted,
refused, down) drive the hub exactly as a real plugin's would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.app import create_app
from hub.contract import (
    PLUGIN_CONFIG,
    BadCredentials,
    ChannelType,
    GeneratedSecret,
    HttpUrlText,
    RetryLater,
    generated_secret,
    hookimpl,
)
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import Channel, User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
PROVIDER = "https://provider.example.test"
MASK = "********"


class ProbeConfig(BaseModel):
    """A typical plugin Config: a secret to give, a secret to generate, a URL."""

    model_config = PLUGIN_CONFIG

    api_key: SecretStr = Field(title="API key")
    webhook_secret: GeneratedSecret = Field(default_factory=generated_secret())
    api_base_url: HttpUrlText = PROVIDER
    label: str = "probe"


class ProbeChannel(ChannelType[ProbeConfig]):
    """Checks its key with ``GET {api_base_url}/check``; removes its webhook on disconnect."""

    name = "probe"
    title = "Probe"
    description = "A test channel that checks its API key over HTTP."
    logo = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    Config = ProbeConfig
    extensible = True

    async def connect(self) -> None:
        """Map the provider's answer the way real plugins do."""
        response = await self.context.http.get(
            f"{self.config.api_base_url}/check",
            headers={"Authorization": f"Bearer {self.config.api_key.get_secret_value()}"},
        )
        if response.status_code == 401:
            raise BadCredentials(f"the provider refused the API key: {response.text}")
        if response.status_code >= 500:
            raise RetryLater(f"the provider answered {response.status_code}")

    async def disconnect(self) -> None:
        """Remove the webhook; a failure raises."""
        response = await self.context.http.post(f"{self.config.api_base_url}/disconnect")
        response.raise_for_status()


class PlainChannel(ChannelType[ProbeConfig]):
    """A type definitions may not build on (not extensible)."""

    name = "plain"
    title = "Plain"
    description = "A test channel that is not extensible."
    logo = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    Config = ProbeConfig


class _ProbePlugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [ProbeChannel, PlainChannel]


class UnbuiltChannel(ProbeChannel):
    """A type whose plugin is not built yet: its ``connect`` would even succeed."""

    name = "unbuilt"
    title = "Unbuilt"
    available = False


class _UnbuiltPlugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [UnbuiltChannel]


def probe_plugins() -> HubPluginManager:
    """A plugin manager holding only the test types."""
    manager = HubPluginManager(autoload=False)
    manager.register(_ProbePlugin(), PluginInfo(name="probe", distribution="tests", version="1"))
    return manager


@pytest.fixture
def provider() -> Iterator[respx.MockRouter]:
    """The provider: accepts any key and any disconnect unless a test says otherwise."""
    with respx.mock(base_url=PROVIDER, assert_all_called=False) as router:
        router.get("/check", name="check").respond(200, json={"ok": True})
        router.post("/disconnect", name="disconnect").respond(200)
        yield router


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    """The real app with the test channel types instead of the installed plugins."""
    yield await aiohttp_client(create_app(settings, plugins=probe_plugins()))


async def _create(client: Client, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"type": "probe", "name": "Support", "config": {"api_key": "key-1"}, **body}
    response = await client.post("/api/v1/channels", json=payload, headers=auth)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def _count_channels(db: async_sessionmaker[AsyncSession]) -> int:
    async with db() as session:
        return int(await session.scalar(select(func.count()).select_from(Channel)) or 0)


def _fields(body: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in body["error"]["details"]}


async def test_creating_a_channel_connects_it_and_reveals_its_secrets_once(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    subscription = client.app[appkeys.BUS].subscribe()
    created = await _create(client, auth)

    assert created["type"] == "probe" and created["name"] == "Support"
    assert created["enabled"] is True and created["status"] == "ok"
    assert created["webhook_url"] == f"https://hub.example.test/webhooks/{created['id']}"
    assert created["routing"] == {"mode": "unassigned", "user_ids": [], "team_ids": []}
    assert created["settings"]["closed_conversation"] == "reopen"
    generated = created["config"]["webhook_secret"]
    assert created["config"]["api_key"] == "key-1"
    assert len(generated) >= 40 and generated != MASK
    check = provider["check"]
    assert check.call_count == 1
    assert check.calls.last.request.headers["Authorization"] == "Bearer key-1"

    read = await (await client.get(f"/api/v1/channels/{created['id']}", headers=auth)).json()
    assert read["config"] == {
        "api_key": MASK,
        "webhook_secret": MASK,
        "api_base_url": PROVIDER,
        "label": "probe",
    }
    listed = await (await client.get("/api/v1/channels", headers=auth)).json()
    assert [item["config"]["api_key"] for item in listed["items"]] == [MASK]

    subscription.close()
    events = [(event.type, event.data["id"]) async for event in subscription]
    assert events == [("channel.updated", created["id"])]


async def test_refused_credentials_answer_422_and_store_nothing(
    client: Client,
    user_token: UserToken,
    provider: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    provider["check"].respond(401, text="unknown key")
    response = await client.post(
        "/api/v1/channels",
        json={"type": "probe", "name": "Support", "config": {"api_key": "wrong"}},
        headers=auth,
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "bad_credentials"
    assert "unknown key" in error["message"]
    assert await _count_channels(db) == 0


async def test_a_type_not_available_yet_is_neither_created_nor_connected(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    factory: Factory,
    user_token: UserToken,
    provider: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
) -> None:
    plugins = probe_plugins()
    plugins.register(_UnbuiltPlugin(), PluginInfo(name="unbuilt", distribution="t", version="1"))
    client = await aiohttp_client(create_app(settings, plugins=plugins))
    _, auth = await user_token("owner@example.com", role="owner")

    types = await (await client.get("/api/v1/channel-types", headers=auth)).json()
    assert {item["name"]: item["available"] for item in types["items"]} == {
        "plain": True,
        "probe": True,
        "unbuilt": False,
    }
    response = await client.post(
        "/api/v1/channels",
        json={"type": "unbuilt", "name": "Support", "config": {"api_key": "key-1"}},
        headers=auth,
    )
    assert response.status == 422
    error = (await response.json())["error"]
    assert error["code"] == "type_not_available"
    assert (
        error["message"]
        == "the Unbuilt channel type is not available yet: its plugin is not built yet"
    )
    assert _fields(await response.json()) == {"type"}
    assert await _count_channels(db) == 0
    assert provider["check"].call_count == 0  # never asked to connect

    # One stored before (by an older hub) cannot be connected with new settings either.
    old = await factory.channel("unbuilt", "Old")
    patched = await client.patch(
        f"/api/v1/channels/{old.id}", json={"config": {"api_key": "key-2"}}, headers=auth
    )
    assert patched.status == 422
    assert (await patched.json())["error"]["code"] == "type_not_available"
    assert provider["check"].call_count == 0
    renamed = await client.patch(f"/api/v1/channels/{old.id}", json={"name": "Older"}, headers=auth)
    assert renamed.status == 200  # nothing to connect: an admin may still tidy it up


@pytest.mark.parametrize(
    "answer",
    [httpx.Response(503), httpx.ConnectError("connection refused")],
    ids=["provider 503", "network error"],
)
async def test_an_unreachable_provider_answers_502_and_stores_nothing(
    client: Client,
    user_token: UserToken,
    provider: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
    answer: httpx.Response | Exception,
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    if isinstance(answer, Exception):
        provider["check"].mock(side_effect=answer)
    else:
        provider["check"].mock(return_value=answer)
    response = await client.post(
        "/api/v1/channels",
        json={"type": "probe", "name": "Support", "config": {"api_key": "k"}},
        headers=auth,
    )
    assert response.status == 502
    assert (await response.json())["error"]["code"] == "provider_unavailable"
    assert await _count_channels(db) == 0


async def test_a_bad_config_answers_422_naming_each_config_field(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await client.post(
        "/api/v1/channels",
        json={
            "type": "probe",
            "name": "Support",
            "config": {"api_base_url": "ftp://nope", "colour": "red"},
        },
        headers=auth,
    )
    assert response.status == 422
    body = await response.json()
    assert _fields(body) == {"config.api_key", "config.api_base_url", "config.colour"}
    assert "ftp://nope" not in body["error"]["message"]  # inputs stay out of errors

    unknown = await client.post(
        "/api/v1/channels", json={"type": "fax", "name": "x", "config": {}}, headers=auth
    )
    assert unknown.status == 422 and _fields(await unknown.json()) == {"type"}
    assert provider["check"].call_count == 0


async def test_a_config_patch_is_merged_and_a_masked_secret_is_kept(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    created = await _create(client, auth)
    item = f"/api/v1/channels/{created['id']}"

    response = await client.patch(
        item, json={"config": {"label": "renamed", "api_key": MASK}}, headers=auth
    )
    assert response.status == 200, await response.text()
    patched = await response.json()
    assert patched["config"]["label"] == "renamed"
    assert patched["config"]["api_key"] == MASK and patched["config"]["webhook_secret"] == MASK
    # The changed config was checked with the provider using the kept key.
    assert provider["check"].call_count == 2
    assert provider["check"].calls.last.request.headers["Authorization"] == "Bearer key-1"

    new_key = await client.patch(item, json={"config": {"api_key": "key-2"}}, headers=auth)
    assert (await new_key.json())["config"]["api_key"] == "key-2"  # what the admin just set
    assert provider["check"].calls.last.request.headers["Authorization"] == "Bearer key-2"
    read = await (await client.get(item, headers=auth)).json()
    assert read["config"]["label"] == "renamed" and read["config"]["api_key"] == MASK


async def test_an_empty_generated_secret_is_regenerated_and_shown_once(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    created = await _create(client, auth)
    old_secret = created["config"]["webhook_secret"]
    item = f"/api/v1/channels/{created['id']}"

    response = await client.patch(item, json={"config": {"webhook_secret": ""}}, headers=auth)
    patched = await response.json()
    new_secret = patched["config"]["webhook_secret"]
    assert new_secret not in (old_secret, MASK, "") and len(new_secret) >= 40
    assert patched["config"]["api_key"] == MASK  # not changed, so not shown
    read = await (await client.get(item, headers=auth)).json()
    assert read["config"]["webhook_secret"] == MASK


async def test_a_refused_config_patch_keeps_the_stored_config(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    created = await _create(client, auth)
    item = f"/api/v1/channels/{created['id']}"
    provider["check"].respond(401, text="revoked")

    response = await client.patch(
        item, json={"name": "Renamed", "config": {"api_key": "bad"}}, headers=auth
    )
    assert response.status == 422
    assert (await response.json())["error"]["code"] == "bad_credentials"
    provider["check"].respond(200)
    same = await client.patch(item, json={"config": {"label": "x"}}, headers=auth)
    assert provider["check"].calls.last.request.headers["Authorization"] == "Bearer key-1"
    assert (await same.json())["name"] == "Support"  # the refused patch changed nothing

    invalid = await client.patch(item, json={"config": {"api_base_url": "nope"}}, headers=auth)
    assert invalid.status == 422 and _fields(await invalid.json()) == {"config.api_base_url"}


async def test_disabling_keeps_the_channel_connected(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    created = await _create(client, auth)
    item = f"/api/v1/channels/{created['id']}"

    disabled = await client.patch(item, json={"enabled": False}, headers=auth)
    assert (await disabled.json())["enabled"] is False
    assert provider["disconnect"].call_count == 0
    assert provider["check"].call_count == 1  # no config change: no new connect
    enabled = await client.patch(item, json={"enabled": True, "name": "Sales"}, headers=auth)
    body = await enabled.json()
    assert body["enabled"] is True and body["name"] == "Sales"


async def test_deleting_soft_deletes_disconnects_and_then_answers_404(
    client: Client,
    user_token: UserToken,
    provider: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    kept = await _create(client, auth, name="Kept")
    gone = await _create(client, auth, name="Gone")
    item = f"/api/v1/channels/{gone['id']}"

    assert (await client.delete(item, headers=auth)).status == 204
    assert provider["disconnect"].call_count == 1
    assert (await client.get(item, headers=auth)).status == 404
    assert (await client.patch(item, json={"name": "x"}, headers=auth)).status == 404
    assert (await client.delete(item, headers=auth)).status == 404
    listed = await (await client.get("/api/v1/channels", headers=auth)).json()
    assert [c["id"] for c in listed["items"]] == [kept["id"]]
    everything = await client.get("/api/v1/channels?include_deleted=true", headers=auth)
    rows = {c["id"]: c for c in (await everything.json())["items"]}
    assert rows[gone["id"]]["deleted_at"] is not None and rows[gone["id"]]["enabled"] is False
    async with db() as session:
        assert await session.get(Channel, gone["id"]) is not None  # soft: the row stays


async def test_a_failing_disconnect_does_not_stop_the_deletion(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    created = await _create(client, auth)
    provider["disconnect"].respond(500)
    item = f"/api/v1/channels/{created['id']}"
    assert (await client.delete(item, headers=auth)).status == 204
    assert provider["disconnect"].call_count == 1
    assert (await client.get(item, headers=auth)).status == 404


async def test_agents_read_channels_without_config_and_cannot_change_them(
    client: Client, user_token: UserToken, provider: respx.MockRouter
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    _, agent = await user_token("agent@example.com", role="agent", visibility="assigned")
    created = await _create(client, owner)
    item = f"/api/v1/channels/{created['id']}"

    listed = await (await client.get("/api/v1/channels", headers=agent)).json()
    assert [(c["name"], c["config"]) for c in listed["items"]] == [("Support", None)]
    assert (await (await client.get(item, headers=agent)).json())["config"] is None
    body = {"type": "probe", "name": "Mine", "config": {"api_key": "k"}}
    assert (await client.post("/api/v1/channels", json=body, headers=agent)).status == 403
    for patch in ({"name": "x"}, {"config": {"label": "x"}}, {"routing": {"mode": "unassigned"}}):
        assert (await client.patch(item, json=patch, headers=agent)).status == 403
    assert (await client.delete(item, headers=agent)).status == 403
    assert provider["check"].call_count == 1
    assert (await client.get("/api/v1/channels")).status == 401


async def test_routing_and_settings_are_validated_and_settings_patches_merge(
    client: Client, user_token: UserToken, provider: respx.MockRouter, factory: Factory
) -> None:
    owner, auth = await user_token("owner@example.com", role="owner")
    team = await factory.team("Tier 1")
    bad = [
        ({"mode": "round_robin", "user_ids": [owner.id, 999]}, "routing.user_ids"),
        ({"mode": "round_robin", "team_ids": [999]}, "routing.team_ids"),
        ({"mode": "round_robin"}, "routing.user_ids"),
        ({"mode": "everyone"}, "routing.mode"),
    ]
    for routing, field in bad:
        response = await client.post(
            "/api/v1/channels",
            json={"type": "probe", "name": "S", "config": {"api_key": "k"}, "routing": routing},
            headers=auth,
        )
        assert response.status == 422, routing
        assert field in _fields(await response.json()), routing
    assert provider["check"].call_count == 0

    routing = {"mode": "round_robin", "user_ids": [owner.id], "team_ids": [team.id]}
    created = await _create(client, auth, routing=routing, settings={"closed_conversation": "new"})
    assert created["routing"] == routing
    item = f"/api/v1/channels/{created['id']}"
    patched = await client.patch(item, json={"settings": {"max_concurrency": 4}}, headers=auth)
    settings = (await patched.json())["settings"]
    assert settings == {
        "closed_conversation": "new",
        "max_concurrency": 4,
        "rate_per_second": None,
        "out_of_hours_reply": False,
        "out_of_hours_text": None,
    }
    for body, field in (
        ({"settings": {"max_concurrency": 0}}, "settings.max_concurrency"),
        ({"settings": {"rate_per_second": -1}}, "settings.rate_per_second"),
        ({"routing": {"mode": "round_robin", "user_ids": [12345]}}, "routing.user_ids"),
        ({"name": None}, "name"),
        ({"config": "not an object"}, "config"),
    ):
        response = await client.patch(item, json=body, headers=auth)
        assert response.status == 422, body
        assert field in _fields(await response.json()), body


async def test_the_list_pages_sorts_and_filters(
    client: Client, user_token: UserToken, factory: Factory
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    charlie = await factory.channel("probe", "charlie")
    alpha = await factory.channel("probe", "Alpha", enabled=False)
    bravo = await factory.channel("plain", "bravo")

    async def ids(query: str) -> tuple[list[int], str | None]:
        response = await client.get(f"/api/v1/channels?{query}", headers=auth)
        assert response.status == 200, await response.text()
        body = await response.json()
        return [item["id"] for item in body["items"]], body["next_cursor"]

    first, cursor = await ids("limit=2")
    assert first == [alpha.id, bravo.id] and cursor
    assert await ids(f"limit=2&cursor={cursor}") == ([charlie.id], None)
    first, cursor = await ids("sort=created&limit=2")
    assert first == [charlie.id, alpha.id] and cursor
    assert await ids(f"sort=created&limit=2&cursor={cursor}") == ([bravo.id], None)
    assert (await ids("type=plain"))[0] == [bravo.id]
    assert (await ids("enabled=false"))[0] == [alpha.id]
    assert (await ids("enabled=true&sort=created"))[0] == [charlie.id, bravo.id]
    for bad in ("sort=newest", "cursor=abc", "limit=0", "colour=red"):
        response = await client.get(f"/api/v1/channels?{bad}", headers=auth)
        assert response.status == 422, bad
    assert (await client.get("/api/v1/channels/abc", headers=auth)).status == 404
    assert (await client.get("/api/v1/channels/99999", headers=auth)).status == 404
