"""The audit log records every change to the workspace's set-up (issue 17): who, when,
from where, what changed; a secret never appears in it, only ``"***"``. One test per
area, each through the API a person or an API token uses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import BaseModel, SecretStr

from hub.app import create_app
from hub.contract import PLUGIN_CONFIG, ChannelType, hookimpl
from hub.plugin_manager import HubPluginManager, PluginInfo
from hub.settings import Settings
from hub.store.models import User
from tests.audit_helpers import Sessions, entries, table_text
from tests.conftest import PASSWORD
from tests.crm_memory import ACCOUNTS, Account, quiet_app

Client = TestClient[Any, Any]
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


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return None if status == 204 else await response.json()


async def test_a_channel_change_records_who_when_where_and_never_its_secret(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    config = {"login": "hunter2-first", "region": "eu"}
    made = await ok(
        await client.post(
            "/api/v1/channels",
            json={"type": "vault", "name": "Desk", "config": config},
            headers=auth,
        ),
        201,
    )
    url = f"/api/v1/channels/{made['id']}"
    patch = {"name": "Front desk", "config": {"login": "hunter2-second", "region": "us"}}
    await ok(await client.patch(url, json=patch, headers=auth))
    await ok(await client.delete(url, headers=auth), 204)

    created, updated, deleted = await entries(db, "channel.")
    assert [created.action, updated.action, deleted.action] == [
        "channel.created",
        "channel.updated",
        "channel.deleted",
    ]
    assert created.actor_id == user.id
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


async def test_declared_channel_types_are_recorded(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    manifest = {"name": "acme", "title": "Acme", "base": "vault"}
    await ok(await client.post("/api/v1/channel-types", json=manifest, headers=auth), 201)
    url = "/api/v1/channel-types/acme"
    await ok(await client.patch(url, json={"title": "Acme chat"}, headers=auth))
    await ok(await client.delete(url, headers=auth), 204)
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
    answer = await client.post("/api/v1/me/password", json=change, headers={"X-CSRF-Token": csrf})
    assert answer.status == 204, await answer.text()
    (entry,) = await entries(db, "user.password_changed")
    assert (entry.actor_id, entry.target_id, entry.ip) == (user.id, str(user.id), "127.0.0.1")
    assert entry.changes == {"password": ["***", "***"]}
    text = await table_text(db)
    assert "Tr0ub4dor" not in text and PASSWORD not in text


async def test_an_update_that_changes_nothing_records_nothing(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    made = await ok(
        await client.post("/api/v1/labels", json={"name": "VIP", "colour": "red"}, headers=auth),
        201,
    )
    same = {"name": "VIP", "colour": "red"}
    await ok(await client.patch(f"/api/v1/labels/{made['id']}", json=same, headers=auth))
    assert [e.action for e in await entries(db, "label.")] == ["label.created"]


async def test_a_refused_change_records_nothing(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    body = {"name": "VIP", "colour": "red"}
    await ok(await client.post("/api/v1/labels", json=body, headers=auth), 201)
    taken = await client.post("/api/v1/labels", json=body, headers=auth)
    assert taken.status == 409
    assert len(await entries(db, "label.")) == 1


async def test_users_roles_and_passwords_are_recorded_without_the_password(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    new = {"email": "new@example.com", "name": "Nia", "password": "pw-Correct-Horse-1"}
    made = await ok(await client.post("/api/v1/users", json=new, headers=auth), 201)
    url = f"/api/v1/users/{made['id']}"
    await ok(await client.patch(url, json={"role": "manager"}, headers=auth))
    await ok(
        await client.post(f"{url}/password", json={"password": "pw-Battery-Staple-2"}, headers=auth)
    )
    created, promoted, password = await entries(db, "user.")
    assert created.changes["email"] == [None, "new@example.com"]
    assert created.changes["password"] == [None, "***"]
    assert promoted.changes == {"role": ["agent", "manager"]}
    assert password.action == "user.password_set"
    assert password.changes == {"password": ["***", "***"]}
    text = await table_text(db)
    assert "Correct-Horse" not in text and "Battery-Staple" not in text


async def test_teams_are_recorded(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    made = await ok(await client.post("/api/v1/teams", json={"name": "Support"}, headers=auth), 201)
    url = f"/api/v1/teams/{made['id']}"
    await ok(await client.patch(url, json={"name": "Care"}, headers=auth))
    await ok(await client.delete(url, headers=auth), 204)
    actions = [(e.action, e.changes) for e in await entries(db, "team.")]
    assert actions == [
        ("team.created", {"name": [None, "Support"]}),
        ("team.updated", {"name": ["Support", "Care"]}),
        ("team.deleted", {"name": ["Care", None]}),
    ]


async def test_api_tokens_are_recorded_without_their_value(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    made = await ok(await client.post("/api/v1/tokens", json={"name": "CI"}, headers=auth), 201)
    await ok(await client.delete(f"/api/v1/tokens/{made['id']}", headers=auth), 204)
    tokens = [e for e in await entries(db, "api_token.") if e.target_label == "CI"]
    assert [e.action for e in tokens] == ["api_token.created", "api_token.revoked"]
    assert tokens[0].actor_id == user.id
    plaintext = made["token"]
    assert plaintext[10:] not in await table_text(db)


async def test_settings_and_csat_settings_are_recorded(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    await ok(await client.patch("/api/v1/settings", json={"closing_notes": "off"}, headers=auth))
    survey = {"enabled": True, "question": "How did we do?", "scale": 5}
    await ok(await client.put("/api/v1/csat/settings", json=survey, headers=auth))
    (settings,) = await entries(db, "settings.")
    assert settings.changes == {"closing_notes": ["optional", "off"]}
    (csat,) = await entries(db, "csat_settings.")
    assert csat.changes["enabled"] == [False, True]


async def test_snippets_macros_and_rules_are_recorded(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    snippet = {"name": "Hi", "shortcut": "hi", "body": "Hello!"}
    made = await ok(await client.post("/api/v1/snippets", json=snippet, headers=auth), 201)
    await ok(await client.delete(f"/api/v1/snippets/{made['id']}", headers=auth), 204)
    note = [{"type": "add_comment", "text": "seen"}]
    macro = {"name": "Note", "actions": note, "shared": True}
    made = await ok(await client.post("/api/v1/macros", json=macro, headers=auth), 201)
    await ok(
        await client.patch(f"/api/v1/macros/{made['id']}", json={"name": "Noted"}, headers=auth)
    )
    rule = {"name": "Seen", "event": "assigned", "actions": note}
    made = await ok(await client.post("/api/v1/rules", json=rule, headers=auth), 201)
    await ok(
        await client.patch(f"/api/v1/rules/{made['id']}", json={"enabled": False}, headers=auth)
    )
    actions = [e.action for e in await entries(db) if not e.action.startswith("api_token")]
    assert actions == [
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
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions, user_token: UserToken
) -> None:
    _, auth = owner
    policy = {"name": "Gold", "first_response_minutes": 30}
    await ok(await client.post("/api/v1/sla-policies", json=policy, headers=auth), 201)
    week = {"monday": [{"opens": "09:00", "closes": "17:00"}]}
    hours = {"time_zone": "Europe/Berlin", "week": week}
    await ok(await client.put("/api/v1/business-hours/workspace", json=hours, headers=auth))
    await ok(await client.delete("/api/v1/business-hours/workspace", headers=auth), 204)
    await ok(await client.post("/api/v1/custom-inboxes", json={"name": "Mine"}, headers=auth), 201)
    colleague, _ = await user_token("colleague@example.com")
    shared = {"name": "Ours", "share": {"user_ids": [colleague.id]}}
    await ok(await client.post("/api/v1/custom-inboxes", json=shared, headers=auth), 201)
    actions = [e.action for e in await entries(db) if not e.action.startswith("api_token")]
    assert actions == [
        "sla_policy.created",
        "business_hours.created",
        "business_hours.deleted",
        "custom_inbox.created",  # the shared one only: a private inbox is its owner's
    ]
    inbox = (await entries(db, "custom_inbox."))[0]
    assert inbox.target_label == "Ours"
    assert inbox.changes["shared_user_ids"] == [None, [colleague.id]]


async def test_outgoing_webhooks_are_recorded_without_their_signing_secret(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    _, auth = owner
    body = {
        "url": "http://127.0.0.1:9/hook",
        "events": ["conversation.created"],
        "allow_private": True,
    }
    made = await ok(await client.post("/api/v1/webhooks", json=body, headers=auth), 201)
    url = f"/api/v1/webhooks/{made['id']}"
    await ok(await client.post(f"{url}/rotate-secret", headers=auth))
    await ok(await client.delete(url, headers=auth), 204)
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
    crm = await aiohttp_client(quiet_app(settings))
    _, auth = await user_token("boss@example.com", role="owner")
    config = {"account": "acme", "api_token": "good-token"}
    made = await ok(
        await crm.post(
            "/api/v1/crm-connections",
            json={"type": "memory", "name": "Sales", "config": config},
            headers=auth,
        ),
        201,
    )
    url = f"/api/v1/crm-connections/{made['id']}"
    await ok(await crm.patch(url, json={"name": "Sales EU"}, headers=auth))
    await ok(await crm.delete(url, headers=auth), 204)
    created, renamed, deleted = await entries(db, "crm_connection.")
    assert created.changes["config.api_token"] == [None, "***"]
    assert renamed.changes == {"name": ["Sales", "Sales EU"]}
    assert deleted.action == "crm_connection.deleted"
    assert "good-token" not in await table_text(db)
