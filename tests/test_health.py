"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


async def test_healthz_answers_ok(client: TestClient[Any, Any]) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: TestClient[Any, Any]) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"] == {"database": "ok", "migrations": "ok"}
