"""The audit log records every change to the workspace's set-up (issue 17): who, when,
from where, what changed; a secret never appears in it, only ``"***"``. One test per
area, each through the API a person or an API token uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from hub.app import create_app
from hub.contract import PLUGIN_CONFIG, ChannelType, hookimpl
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import User
from tests.audit_helpers import Api, Client, Sessions, actions, entries, table_text
from tests.conftest import PASSWORD
from tests.crm_memory import ACCOUNTS, Account, quiet_app

UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
AppClient = Callable[..., Awaitable[Client]]
BROWSER = {"User-Agent": "AuditTest/1.0"}


class VaultConfig(BaseModel):
    """A config whose secret's name does not say so: only the schema marks it."""

    model_config = PLUGIN_CONFIG
    login: SecretStr
    region: str = "eu"


class VaultChannel(ChannelType[VaultConfig]):
    """A channel that connects without a network."""

    name = "vault"
    title = "Vault"
    description = "A test channel with a secret."
    logo = '<svg xmlns="http://www.w3.org/2000/svg"/>'
    Config = VaultConfig
    extensible = True

    async def connect(self) -> None:
        """Accept any credentials."""


class _VaultPlugin:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType[Any]]]:
        return [VaultChannel]


def vault_plugins() -> HubPluginManager:
    manager = HubPluginManager(autoload=False)
    manager.register(_VaultPlugin(), PluginInfo(name="vault", distribution="tests", version="1"))
    return manager


@pytest.fixture
async def client(aiohttp_client: AppClient, settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings, plugins=vault_plugins()))


@pytest.fixture
async def owner(user_token: UserToken) -> tuple[User, dict[str, str]]:
    user, headers = await user_token("owner@example.com", role="owner", name="Olive Owner")
    return user, {**headers, **BROWSER}


@pytest.fixture
def api(client: Client, owner: tuple[User, dict[str, str]]) -> Api:
    """The owner calling the vault hub's API."""
    return Api(client, owner[1])


async def test_a_channel_change_records_who_when_where_and_never_its_secret(
    api: Api, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    config = {"login": "hunter2-first", "region": "eu"}
    made = await api.post("/api/v1/channels", {"type": "vault", "name": "Desk", "config": config})
    url = f"/api/v1/channels/{made['id']}"
    patch = {"name": "Front desk", "config": {"login": "hunter2-second", "region": "us"}}
    await api.patch(url, patch)
    await api.delete(url)

    created, updated, deleted = await entries(db, "channel.")
    assert [created.action, updated.action, deleted.action] == [
        "channel.created",
        "channel.updated",
        "channel.deleted",
    ]
    assert created.actor_id == owner[0].id
    assert created.actor_label == "Olive Owner <owner@example.com>"
    assert (created.token_name, created.user_agent) == ("test", "AuditTest/1.0")
    assert created.token_id is not None and created.ip
    assert (created.target_type, created.target_id) == ("channel", str(made["id"]))
    assert created.changes["config.login"] == [None, "***"]
    assert created.changes["name"] == [None, "Desk"]
    assert updated.target_label == "Front desk"
    assert updated.changes["name"] == ["Desk", "Front desk"]
    assert updated.changes["config.region"] == ["eu", "us"]
    assert updated.changes["config.login"] == ["***", "***"]
    text = await table_text(db)
    assert "hunter2" not in text


async def test_declared_channel_types_are_recorded(api: Api, db: Sessions) -> None:
    await api.post("/api/v1/channel-types", {"name": "acme", "title": "Acme", "base": "vault"})
    url = "/api/v1/channel-types/acme"
    await api.patch(url, {"title": "Acme chat"})
    await api.delete(url)
    created, updated, deleted = await entries(db, "channel_type.")
    assert created.changes["title"] == [None, "Acme"]
    assert (updated.target_id, updated.changes["title"]) == ("acme", ["Acme", "Acme chat"])
    assert deleted.action == "channel_type.deleted"


async def test_a_user_changing_their_own_password_is_recorded_without_it(
    client: Client, make_user: Callable[..., Awaitable[User]], db: Sessions
) -> None:
    user = await make_user("agent@example.com")
    login = {"email": "agent@example.com", "password": PASSWORD}
    response = await client.post("/api/v1/auth/login", json=login)
    csrf = (await response.json())["csrf_token"]
    change = {"current_password": PASSWORD, "new_password": "pw-Tr0ub4dor-and-3"}
    await Api(client, {"X-CSRF-Token": csrf}).call("POST", "/api/v1/me/password", change, 204)
    (entry,) = await entries(db, "user.password_changed")
    assert (entry.actor_id, entry.target_id, entry.ip) == (user.id, str(user.id), "127.0.0.1")
    assert entry.changes == {"password": ["***", "***"]}
    text = await table_text(db)
    assert "Tr0ub4dor" not in text and PASSWORD not in text


async def test_an_update_that_changes_nothing_records_nothing(api: Api, db: Sessions) -> None:
    made = await api.post("/api/v1/labels", {"name": "VIP", "colour": "red"})
    await api.patch(f"/api/v1/labels/{made['id']}", {"name": "VIP", "colour": "red"})
    assert await actions(db) == ["label.created"]


async def test_a_refused_change_records_nothing(api: Api, db: Sessions) -> None:
    body = {"name": "VIP", "colour": "red"}
    await api.post("/api/v1/labels", body)
    await api.post("/api/v1/labels", body, status=409)
    assert await actions(db) == ["label.created"]


async def test_users_roles_and_passwords_are_recorded_without_the_password(
    api: Api, db: Sessions
) -> None:
    new = {"email": "new@example.com", "name": "Nia", "password": "pw-Correct-Horse-1"}
    made = await api.post("/api/v1/users", new)
    url = f"/api/v1/users/{made['id']}"
    await api.patch(url, {"role": "manager"})
    await api.call("POST", f"{url}/password", {"password": "pw-Battery-Staple-2"})
    created, promoted, password = await entries(db, "user.")
    assert created.changes["email"] == [None, "new@example.com"]
    assert created.changes["password"] == [None, "***"]
    assert promoted.changes == {"role": ["agent", "manager"]}
    assert password.action == "user.password_set"
    assert password.changes == {"password": ["***", "***"]}
    text = await table_text(db)
    assert "Correct-Horse" not in text and "Battery-Staple" not in text


async def test_teams_are_recorded(api: Api, db: Sessions) -> None:
    made = await api.post("/api/v1/teams", {"name": "Support"})
    url = f"/api/v1/teams/{made['id']}"
    await api.patch(url, {"name": "Care"})
    await api.delete(url)
    assert [(e.action, e.changes) for e in await entries(db, "team.")] == [
        ("team.created", {"name": [None, "Support"]}),
        ("team.updated", {"name": ["Support", "Care"]}),
        ("team.deleted", {"name": ["Care", None]}),
    ]


async def test_api_tokens_are_recorded_without_their_value(
    api: Api, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    made = await api.post("/api/v1/tokens", {"name": "CI"})
    await api.delete(f"/api/v1/tokens/{made['id']}")
    tokens = [e for e in await entries(db, "api_token.") if e.target_label == "CI"]
    assert [e.action for e in tokens] == ["api_token.created", "api_token.revoked"]
    assert tokens[0].actor_id == owner[0].id
    plaintext = made["token"]
    assert plaintext[10:] not in await table_text(db)


async def test_settings_and_csat_settings_are_recorded(api: Api, db: Sessions) -> None:
    await api.patch("/api/v1/settings", {"closing_notes": "off"})
    await api.put("/api/v1/csat/settings", {"enabled": True, "question": "How?", "scale": 5})
    (settings,) = await entries(db, "settings.")
    assert settings.changes == {"closing_notes": ["optional", "off"]}
    (csat,) = await entries(db, "csat_settings.")
    assert csat.changes["enabled"] == [False, True]


async def test_snippets_macros_and_rules_are_recorded(api: Api, db: Sessions) -> None:
    made = await api.post("/api/v1/snippets", {"name": "Hi", "shortcut": "hi", "body": "Hello!"})
    await api.delete(f"/api/v1/snippets/{made['id']}")
    note = [{"type": "add_comment", "text": "seen"}]
    made = await api.post("/api/v1/macros", {"name": "Note", "actions": note, "shared": True})
    await api.patch(f"/api/v1/macros/{made['id']}", {"name": "Noted"})
    made = await api.post("/api/v1/rules", {"name": "Seen", "event": "assigned", "actions": note})
    await api.patch(f"/api/v1/rules/{made['id']}", {"enabled": False})
    assert await actions(db) == [
        "snippet.created",
        "snippet.deleted",
        "macro.created",
        "macro.updated",
        "rule.created",
        "rule.updated",
    ]
    rule_update = (await entries(db, "rule.updated"))[0]
    assert rule_update.changes == {"enabled": [True, False]}


async def test_sla_policies_business_hours_and_shared_inboxes_are_recorded(
    api: Api, db: Sessions, user_token: UserToken
) -> None:
    await api.post("/api/v1/sla-policies", {"name": "Gold", "first_response_minutes": 30})
    week = {"monday": [{"opens": "09:00", "closes": "17:00"}]}
    hours = "/api/v1/business-hours/workspace"
    await api.put(hours, {"time_zone": "Europe/Berlin", "week": week})
    await api.delete(hours)
    await api.post("/api/v1/custom-inboxes", {"name": "Mine"})
    colleague, _ = await user_token("colleague@example.com")
    await api.post(
        "/api/v1/custom-inboxes", {"name": "Ours", "share": {"user_ids": [colleague.id]}}
    )
    assert await actions(db) == [
        "sla_policy.created",
        "business_hours.created",
        "business_hours.deleted",
        "custom_inbox.created",  # the shared one only: a private inbox is its owner's
    ]
    inbox = (await entries(db, "custom_inbox."))[0]
    assert inbox.target_label == "Ours"
    assert inbox.changes["shared_user_ids"] == [None, [colleague.id]]


async def test_outgoing_webhooks_are_recorded_without_their_signing_secret(
    api: Api, db: Sessions
) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["conversation.created"]}
    made = await api.post("/api/v1/webhooks", {**hook, "allow_private": True})
    url = f"/api/v1/webhooks/{made['id']}"
    await api.call("POST", f"{url}/rotate-secret")
    await api.delete(url)
    created, rotated, deleted = await entries(db, "webhook.")
    assert created.changes["url"] == [None, "http://127.0.0.1:9/hook"]
    assert created.changes["secret"] == [None, "***"]
    assert (rotated.action, rotated.changes) == (
        "webhook.secret_rotated",
        {"secret": ["***", "***"]},
    )
    assert deleted.action == "webhook.deleted"
    assert made["secret"] not in await table_text(db)


@pytest.fixture
def account() -> Any:
    ACCOUNTS["acme"] = account = Account()
    yield account
    ACCOUNTS.pop("acme", None)


async def test_crm_connections_are_recorded_without_their_credentials(
    aiohttp_client: AppClient,
    settings: Settings,
    user_token: UserToken,
    db: Sessions,
    account: Account,
) -> None:
    _, auth = await user_token("boss@example.com", role="owner")
    crm = Api(await aiohttp_client(quiet_app(settings)), auth)
    config = {"account": "acme", "api_token": "good-token"}
    made = await crm.post(
        "/api/v1/crm-connections", {"type": "memory", "name": "Sales", "config": config}
    )
    url = f"/api/v1/crm-connections/{made['id']}"
    await crm.patch(url, {"name": "Sales EU"})
    await crm.delete(url)
    created, renamed, deleted = await entries(db, "crm_connection.")
    assert created.changes["config.api_token"] == [None, "***"]
    assert renamed.changes == {"name": ["Sales", "Sales EU"]}
    assert deleted.action == "crm_connection.deleted"
    assert "good-token" not in await table_text(db)
