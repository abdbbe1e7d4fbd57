"""Workspace settings over HTTP: everyone reads them, owners and managers change them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub import appkeys
from hub.store.models import User
from tests.factories import Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]


async def test_everyone_reads_the_settings_with_defaults(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("agent@example.com", visibility="assigned")
    response = await client.get("/api/v1/settings", headers=auth)
    assert response.status == 200
    assert await response.json() == {"closing_notes": "optional"}
    assert (await client.get("/api/v1/settings")).status == 401


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("manager", 200), ("agent", 403)])
async def test_only_owners_and_managers_change_settings(
    client: Client, user_token: UserToken, role: str, status: int
) -> None:
    _, auth = await user_token("me@example.com", role=role)
    response = await client.patch(
        "/api/v1/settings", json={"closing_notes": "mandatory"}, headers=auth
    )
    assert response.status == status
    expected = "mandatory" if status == 200 else "optional"
    after = await (await client.get("/api/v1/settings", headers=auth)).json()
    assert after["closing_notes"] == expected


async def test_a_changed_setting_takes_effect_and_is_announced(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    conversation = await factory.conversation(await factory.channel())
    subscription = client.app[appkeys.BUS].subscribe()
    response = await client.patch("/api/v1/settings", json={"closing_notes": "off"}, headers=auth)
    assert await response.json() == {"closing_notes": "off"}
    subscription.close()
    events = [(e.type, e.data) async for e in subscription]
    assert events == [("settings.updated", {"closing_notes": "off"})]

    close = f"/api/v1/conversations/{conversation.id}/close"
    refused = await client.post(close, json={"note": "done"}, headers=auth)
    assert refused.status == 422
    # An empty patch changes nothing.
    unchanged = await client.patch("/api/v1/settings", json={}, headers=auth)
    assert await unchanged.json() == {"closing_notes": "off"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"closing_notes": "sometimes"}, "closing_notes"),
        ({"closing_notes": None}, "closing_notes"),
        ({"closing_notes": "off", "theme": "dark"}, "theme"),
        (["closing_notes"], "body"),
    ],
)
async def test_bad_settings_get_a_422_naming_the_key(
    client: Client, user_token: UserToken, body: Any, field: str
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    response = await client.patch("/api/v1/settings", json=body, headers=auth)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
    after = await (await client.get("/api/v1/settings", headers=auth)).json()
    assert after == {"closing_notes": "optional"}
