"""CRM connections over HTTP: connect with typed credentials (checked first) or OAuth
(PKCE S256, single-use state), read masked, change, disable, delete; the field catalog
and the settings; refreshed OAuth tokens saved at once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract import CrmTokens
from hub.settings import Settings
from hub.store.crypto import ConfigCipher
from hub.store.models import CrmConnection, CrmOAuthState, User
from hub.store.types import utcnow
from tests.crm_memory import ACCOUNTS, Account, engine_of, quiet_app

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]
MASK = "********"


@pytest.fixture
def account() -> Iterator[Account]:
    ACCOUNTS["acme"] = account = Account()
    yield account
    ACCOUNTS.pop("acme", None)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    client = await aiohttp_client(quiet_app(settings))
    engine_of(client)
    yield client


@pytest.fixture
async def admin(user_token: UserToken) -> dict[str, str]:
    _, headers = await user_token("owner@example.com", role="owner")
    return headers


async def connect(client: Client, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    payload = {"type": "memory", "name": "Sales", "config": {"account": "acme"}, **body}
    response = await client.post("/api/v1/crm-connections", json=payload, headers=admin)
    assert response.status == 201, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def test_a_token_connection_is_checked_stored_masked_and_reads_its_catalog(
    client: Client, admin: dict[str, str], account: Account, db: Sessions, settings: Settings
) -> None:
    made = await connect(client, admin)

    assert made["status"] == "ok" and made["oauth"] is False
    assert made["config"]["api_token"] == MASK
    assert account.calls[:2] == ["connect", "field_catalog"]
    async with db() as session:
        row = await session.get(CrmConnection, made["id"])
        assert row is not None
        stored = ConfigCipher(settings.secret_key or "").decrypt(row.config_encrypted)
        assert stored["api_token"] == "good-token"  # encrypted, not masked
        assert [f["name"] for f in row.catalog][:2] == ["firstname", "lastname"]
    listed = await (await client.get("/api/v1/crm-connections", headers=admin)).json()
    assert [c["id"] for c in listed["items"]] == [made["id"]]


async def test_refused_credentials_store_nothing(
    client: Client, admin: dict[str, str], account: Account, db: Sessions
) -> None:
    response = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "S", "config": {"account": "acme", "api_token": "nope"}},
        headers=admin,
    )

    assert response.status == 422
    assert (await response.json())["error"]["code"] == "bad_credentials"
    async with db() as session:
        assert await session.scalar(select(func.count()).select_from(CrmConnection)) == 0


async def test_agents_may_not_manage_connections(
    client: Client, user_token: UserToken, account: Account
) -> None:
    _, agent = await user_token("agent@example.com")

    listed = await client.get("/api/v1/crm-connections", headers=agent)
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "S", "config": {"account": "acme"}},
        headers=agent,
    )

    assert (listed.status, made.status) == (403, 403)


async def test_unknown_type_and_bad_config_name_the_field(
    client: Client, admin: dict[str, str], account: Account
) -> None:
    unknown = await client.post(
        "/api/v1/crm-connections", json={"type": "nope", "name": "S"}, headers=admin
    )
    missing = await client.post(
        "/api/v1/crm-connections", json={"type": "memory", "name": "S"}, headers=admin
    )

    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"][0]["field"] == "type"
    assert missing.status == 422
    assert (await missing.json())["error"]["details"][0]["field"] == "config.account"


async def test_patch_disable_and_delete(
    client: Client, admin: dict[str, str], account: Account
) -> None:
    made = await connect(client, admin)
    url = f"/api/v1/crm-connections/{made['id']}"

    refused = await client.patch(url, json={"config": {"api_token": "wrong"}}, headers=admin)
    kept = await client.patch(
        url, json={"name": "CRM", "enabled": False, "config": {"api_token": MASK}}, headers=admin
    )
    deleted = await client.delete(url, headers=admin)
    gone = await client.get(url, headers=admin)

    assert refused.status == 422
    assert kept.status == 200
    body = await kept.json()
    assert (body["name"], body["enabled"], body["status"]) == ("CRM", False, "ok")
    assert (deleted.status, gone.status) == (204, 404)


async def test_settings_are_validated_against_the_catalog(
    client: Client, admin: dict[str, str], account: Account
) -> None:
    made = await connect(client, admin)
    url = f"/api/v1/crm-connections/{made['id']}/settings"

    default = await (await client.get(url, headers=admin)).json()
    unknown = await client.put(
        url, json={"shown_fields": ["firstname", "shoe_size"]}, headers=admin
    )
    bad_hub = await client.put(
        url, json={"mapping": [{"hub_field": "age", "crm_field": "score"}]}, headers=admin
    )
    good = await client.put(
        url,
        json={
            "shown_fields": ["firstname", "company", "score"],
            "editable_fields": ["company", "score"],
            "mapping": [{"hub_field": "country", "crm_field": "country", "direction": "both"}],
            "linking": {"create_when_missing": True},
        },
        headers=admin,
    )

    assert default["shown_fields"] is None and default["linking"]["create_when_missing"] is False
    assert unknown.status == 422
    assert (await unknown.json())["error"]["details"][0]["field"] == "shown_fields.1"
    assert bad_hub.status == 422
    assert good.status == 200
    assert (await good.json())["editable_fields"] == ["company", "score"]


async def test_the_field_catalog_is_read_from_the_crm(
    client: Client, admin: dict[str, str], account: Account
) -> None:
    made = await connect(client, admin)

    response = await client.get(f"/api/v1/crm-connections/{made['id']}/fields", headers=admin)

    fields = (await response.json())["items"]
    assert {f["name"]: f["type"] for f in fields}["lifecyclestage"] == "enum"
    assert account.calls.count("field_catalog") == 2


# --- OAuth ------------------------------------------------------------------------------


async def _start(client: Client, admin: dict[str, str]) -> tuple[int, dict[str, list[str]]]:
    made = await connect(client, admin, type="memory_oauth")
    assert made["status"] == "connecting"
    response = await client.post(f"/api/v1/crm-connections/{made['id']}/oauth/start", headers=admin)
    assert response.status == 200, await response.text()
    url = (await response.json())["authorization_url"]
    assert url.startswith("https://crm.example.test/oauth/authorize?")
    return made["id"], parse_qs(urlsplit(url).query)


async def test_oauth_with_pkce_stores_encrypted_tokens_and_connects(
    client: Client, admin: dict[str, str], account: Account, db: Sessions, settings: Settings
) -> None:
    connection_id, query = await _start(client, admin)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["crm.read crm.write"]
    assert query["redirect_uri"] == [
        "https://hub.example.test/api/v1/crm-connections/oauth/callback"
    ]
    account.codes["the-code"] = query["code_challenge"][0]

    response = await client.get(
        "/api/v1/crm-connections/oauth/callback",
        params={"code": "the-code", "state": query["state"][0]},
        headers=admin,
    )
    again = await client.get(
        "/api/v1/crm-connections/oauth/callback",
        params={"code": "the-code", "state": query["state"][0]},
        headers=admin,
    )

    assert response.status == 200, await response.text()
    assert (await response.json())["status"] == "ok"
    assert again.status == 400  # a state is spent on first use
    assert (await again.json())["error"]["code"] == "oauth_state_invalid"
    async with db() as session:
        row = await session.get(CrmConnection, connection_id)
        assert row is not None and row.tokens_encrypted
        assert "at-" not in row.tokens_encrypted
        tokens = ConfigCipher(settings.secret_key or "").decrypt(row.tokens_encrypted)
        assert tokens["access_token"] in account.access_tokens


async def test_oauth_state_is_checked_and_expires(
    client: Client, admin: dict[str, str], account: Account, db: Sessions
) -> None:
    _, query = await _start(client, admin)
    account.codes["c"] = query["code_challenge"][0]

    forged = await client.get(
        "/api/v1/crm-connections/oauth/callback", params={"code": "c", "state": "x"}, headers=admin
    )
    async with db() as session:
        await session.execute(
            update(CrmOAuthState).values(created_at=utcnow() - timedelta(minutes=11))
        )
        await session.commit()
    expired = await client.get(
        "/api/v1/crm-connections/oauth/callback",
        params={"code": "c", "state": query["state"][0]},
        headers=admin,
    )

    assert forged.status == 400
    assert expired.status == 400
    assert (await expired.json())["error"]["code"] == "oauth_state_expired"
    assert "exchange_code" not in account.calls


async def test_a_wrong_verifier_is_refused(
    client: Client, admin: dict[str, str], account: Account
) -> None:
    _, query = await _start(client, admin)
    verifier_digest = hashlib.sha256(b"someone else's verifier").digest()
    account.codes["c"] = base64.urlsafe_b64encode(verifier_digest).rstrip(b"=").decode()

    response = await client.get(
        "/api/v1/crm-connections/oauth/callback",
        params={"code": "c", "state": query["state"][0]},
        headers=admin,
    )

    assert response.status == 422


async def test_a_refreshed_token_is_saved_at_once_and_a_revoked_one_puts_it_in_error(
    client: Client, admin: dict[str, str], account: Account, db: Sessions, settings: Settings
) -> None:
    connection_id, query = await _start(client, admin)
    account.codes["c"] = query["code_challenge"][0]
    await client.get(
        "/api/v1/crm-connections/oauth/callback",
        params={"code": "c", "state": query["state"][0]},
        headers=admin,
    )
    cipher = ConfigCipher(settings.secret_key or "")
    account.access_tokens.clear()  # every access token expired

    fields = await client.get(f"/api/v1/crm-connections/{connection_id}/fields", headers=admin)

    assert fields.status == 200
    async with db() as session:
        row = await session.get(CrmConnection, connection_id)
        assert row is not None and row.tokens_encrypted
        saved = CrmTokens.model_validate(cipher.decrypt(row.tokens_encrypted))
    assert saved.access_token in account.access_tokens  # the refreshed one, stored
    assert saved.refresh_token in account.refresh_tokens  # rotated, and not lost

    account.access_tokens.clear()
    account.refresh_tokens.clear()  # revoked: invalid_grant
    engine = engine_of(client)
    await engine.admin.refresh_catalog(connection_id, quiet=True)

    got = await (await client.get(f"/api/v1/crm-connections/{connection_id}", headers=admin)).json()
    assert got["status"] == "error"
    assert "invalid_grant" in got["status_reason"]
    assert "reconnect" in got["status_reason"]
