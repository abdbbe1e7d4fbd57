"""What every part of the CRM engine shares: the database, the bus, the plugin objects,
the call runner, and a small cache of CRM owners' emails."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract.crm import CrmType
from hub.crm.calls import CrmCallFailed, CrmCalls
from hub.crm.registry import CrmInstances
from hub.errors import NotFound
from hub.events.bus import EventBus
from hub.events.work import Work, unit_of_work
from hub.store.models import CrmConnection

OWNER_TTL_SECONDS = 3600.0


@dataclass
class CrmEnv:
    """The engine's shared parts."""

    sessions: async_sessionmaker[AsyncSession]
    bus: EventBus
    instances: CrmInstances
    calls: CrmCalls
    # (connection id, owner external id) → (looked up at, email): owners rarely change.
    owners: dict[tuple[int, str], tuple[float, str | None]] = field(default_factory=dict)

    def work(self) -> AbstractAsyncContextManager[Work]:
        """A unit of work on the hub's database."""
        return unit_of_work(self.sessions, self.bus)

    async def owner_email(
        self, connection_id: int, plugin: CrmType[Any], owner_external_id: str | None
    ) -> str | None:
        """The CRM owner's email, cached for an hour; ``None`` when unknown or the CRM
        cannot say right now (routing then falls back)."""
        if not owner_external_id:
            return None
        key = (connection_id, owner_external_id)
        cached = self.owners.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < OWNER_TTL_SECONDS:
            return cached[1]
        try:
            email = await self.calls.run(
                connection_id, lambda: plugin.owner_email(owner_external_id), max_wait=5.0
            )
        except CrmCallFailed:
            return cached[1] if cached else None
        email = email.strip().lower() if email else None
        self.owners[key] = (now, email)
        return email


async def connection_or_404(db: AsyncSession, connection_id: int) -> CrmConnection:
    """The connection; 404 when there is none."""
    connection = await db.get(CrmConnection, connection_id)
    if connection is None:
        raise NotFound("CRM connection")
    return connection


async def active_connections(db: AsyncSession) -> list[CrmConnection]:
    """Enabled connections, in id order (those in error included: they show why)."""
    rows = await db.scalars(
        select(CrmConnection).where(CrmConnection.enabled.is_(True)).order_by(CrmConnection.id)
    )
    return list(rows)
