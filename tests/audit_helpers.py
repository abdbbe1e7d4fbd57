"""The audit tests' shared set-up: calling the API as an owner (each call expected to
succeed), and reading the log back: the entries, the actions, and the whole table as
text (to prove a secret appears nowhere in it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import AuditEntry

Sessions = async_sessionmaker[AsyncSession]
Client = TestClient[Any, Any]
# Every test user logs in with an API token, whose creation is itself recorded.
LOGIN_TOKEN = "api_token."


@dataclass
class Api:
    """A test client with a user's headers; each call must answer ``status``."""

    client: Client
    headers: dict[str, str] = field(default_factory=dict)

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        """The answer's JSON (``None`` for a 204); fails the test on another status."""
        response = await self.client.request(method, path, json=body, headers=self.headers)
        assert response.status == status, await response.text()
        return None if status == 204 else await response.json()

    async def post(self, path: str, body: Any = None, status: int = 201) -> Any:
        """``POST``, expecting 201 unless told."""
        return await self.call("POST", path, body, status)

    async def patch(self, path: str, body: Any) -> Any:
        """``PATCH``, expecting 200."""
        return await self.call("PATCH", path, body)

    async def put(self, path: str, body: Any) -> Any:
        """``PUT``, expecting 200."""
        return await self.call("PUT", path, body)

    async def delete(self, path: str) -> None:
        """``DELETE``, expecting 204."""
        await self.call("DELETE", path, status=204)


async def entries(db: Sessions, action_prefix: str = "") -> list[AuditEntry]:
    """Every entry, oldest first; only those whose action starts with the prefix."""
    async with db() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [row for row in rows if row.action.startswith(action_prefix)]


async def actions(db: Sessions) -> list[str]:
    """The actions recorded, oldest first, less the test users' login tokens."""
    return [e.action for e in await entries(db) if not e.action.startswith(LOGIN_TOKEN)]


async def table_text(db: Sessions) -> str:
    """Every column of every entry, as one text."""
    rows = await entries(db)
    return "\n".join(
        json.dumps(
            {c.key: getattr(row, c.key) for c in AuditEntry.__table__.columns},
            default=str,
            ensure_ascii=False,
        )
        for row in rows
    )
