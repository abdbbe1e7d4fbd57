"""The client's address behind a reverse proxy (``HUB_TRUSTED_PROXIES``), through the real
app: the test client connects from 127.0.0.1, so trusting 127.0.0.1 makes it the proxy,
and trusting only 10.0.0.0/8 makes it an untrusted client sending a spoofed header."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.api.proxies import forwarded_client
from hub.app import create_app
from hub.errors import HubError
from hub.settings import Settings, SettingsError, load_settings
from hub.store.models import User
from tests.audit_helpers import Sessions, entries
from tests.channel_doubles import TOKEN, manager
from tests.conftest import PASSWORD
from tests.factories import Factory

Client = TestClient[Any, Any]
AppClient = Callable[..., Awaitable[Client]]
MakeUser = Callable[..., Awaitable[User]]
LOGIN = "/api/v1/auth/login"


async def _client(aiohttp_client: AppClient, settings: Settings, trusted: str) -> Client:
    return await aiohttp_client(
        create_app(settings.model_copy(update={"trusted_proxies": trusted}))
    )


async def _audited_ip(client: Client, db: Sessions, forwarded_for: str) -> str | None:
    """Change one's password with this X-Forwarded-For; the audit entry's address."""
    headers = {"X-Forwarded-For": forwarded_for}
    login = {"email": "agent@example.com", "password": PASSWORD}
    response = await client.post(LOGIN, json=login, headers=headers)
    assert response.status == 200, await response.text()
    csrf = (await response.json())["csrf_token"]
    change = {"current_password": PASSWORD, "new_password": "pw-Tr0ub4dor-and-3"}
    answer = await client.post(
        "/api/v1/me/password", json=change, headers={**headers, "X-CSRF-Token": csrf}
    )
    assert answer.status == 204, await answer.text()
    (entry,) = await entries(db, "user.password_changed")
    return entry.ip


@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "ip"),
    [
        ("", "203.0.113.9", "127.0.0.1"),  # no proxy trusted: the header is ignored
        ("10.0.0.0/8", "203.0.113.9", "127.0.0.1"),  # spoofed by an untrusted peer
        ("127.0.0.1", "203.0.113.9", "203.0.113.9"),
        # Several hops: the client's own claim (left) loses to the last untrusted hop.
        ("127.0.0.1, 10.0.0.0/8", "198.51.100.1, 203.0.113.9, 10.1.2.3", "203.0.113.9"),
    ],
)
async def test_the_audit_entry_records_the_client_behind_a_trusted_proxy(
    aiohttp_client: AppClient,
    settings: Settings,
    make_user: MakeUser,
    db: Sessions,
    trusted: str,
    forwarded_for: str,
    ip: str,
) -> None:
    await make_user("agent@example.com")
    client = await _client(aiohttp_client, settings, trusted)
    assert await _audited_ip(client, db, forwarded_for) == ip


async def _failed_logins(client: Client, forwarded_for: str, count: int) -> list[int]:
    """Wrong passwords for as many different emails: only the address's count adds up."""
    statuses = []
    for n in range(count):
        login = {"email": f"nobody{n}.{forwarded_for}@example.com", "password": "wrong"}
        response = await client.post(LOGIN, json=login, headers={"X-Forwarded-For": forwarded_for})
        statuses.append(response.status)
    return statuses


async def test_behind_a_trusted_proxy_each_client_has_its_own_login_throttle(
    aiohttp_client: AppClient, settings: Settings
) -> None:
    client = await _client(aiohttp_client, settings, "127.0.0.0/8")
    assert await _failed_logins(client, "203.0.113.9", 6) == [401] * 5 + [429]
    # Another client behind the same proxy is not throttled by the first one's failures.
    assert await _failed_logins(client, "198.51.100.7", 1) == [401]


async def test_without_a_trusted_proxy_a_spoofed_header_does_not_dodge_the_throttle(
    aiohttp_client: AppClient, settings: Settings
) -> None:
    client = await _client(aiohttp_client, settings, "10.0.0.0/8")
    assert await _failed_logins(client, "203.0.113.9", 5) == [401] * 5
    # A new X-Forwarded-For per attempt is still the same peer, 127.0.0.1.
    assert await _failed_logins(client, "198.51.100.7", 1) == [429]


async def test_webhook_rejections_are_limited_per_client_behind_a_trusted_proxy(
    aiohttp_client: AppClient, settings: Settings, factory: Factory
) -> None:
    limited = settings.model_copy(
        update={"trusted_proxies": "127.0.0.1", "webhook_rejected_per_minute": 2}
    )
    client = await aiohttp_client(create_app(limited, plugins=manager()))
    channel = await factory.channel("double")

    async def junk(forwarded_for: str) -> int:
        headers = {"X-Test-Token": TOKEN, "X-Forwarded-For": forwarded_for}
        response = await client.post(f"/webhooks/{channel.id}", data=b"[]", headers=headers)
        return response.status

    assert [await junk("203.0.113.9") for _ in range(3)] == [400, 400, 429]
    # Another sender behind the same proxy is still heard.
    assert await junk("198.51.100.7") == 400


@pytest.mark.parametrize("forwarded_for", ["not-an-ip", "203.0.113.9,, 10.0.0.1", "", "1.2.3.4:80"])
async def test_a_malformed_header_from_a_trusted_proxy_is_a_400(
    aiohttp_client: AppClient, settings: Settings, forwarded_for: str
) -> None:
    client = await _client(aiohttp_client, settings, "127.0.0.1")
    response = await client.get("/api/v1/me", headers={"X-Forwarded-For": forwarded_for})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_forwarded_for"


async def test_a_malformed_header_from_an_untrusted_peer_is_ignored(
    aiohttp_client: AppClient, settings: Settings
) -> None:
    client = await _client(aiohttp_client, settings, "10.0.0.0/8")
    response = await client.get("/api/v1/me", headers={"X-Forwarded-For": "not-an-ip"})
    assert response.status == 401  # reached the handler: not logged in


def test_the_hops_are_read_from_the_right() -> None:
    proxies = Settings(trusted_proxies="10.0.0.0/8, 192.0.2.1").trusted_proxy_networks
    # Two headers are one list, in order; IPv4-mapped IPv6 is read as IPv4.
    assert forwarded_client(["203.0.113.9", "::ffff:10.0.0.5"], proxies) == "203.0.113.9"
    assert forwarded_client(["2001:db8::1, 192.0.2.1"], proxies) == "2001:db8::1"
    # Only proxies of ours: the left-most is the nearest to the client we know of.
    assert forwarded_client(["10.0.0.7, 192.0.2.1"], proxies) == "10.0.0.7"
    with pytest.raises(HubError):
        forwarded_client(["203.0.113.9, unknown"], proxies)


def test_a_bad_trusted_proxies_setting_is_named() -> None:
    with pytest.raises(SettingsError, match=r"HUB_TRUSTED_PROXIES: .*'10\.0\.0\.0/33'"):
        load_settings(trusted_proxies="127.0.0.1, 10.0.0.0/33")
