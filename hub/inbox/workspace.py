"""Workspace-wide settings, stored as JSON values under keys, validated by one model."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.inbox.lookups import remember, remembered
from hub.store.models import WorkspaceSetting

SETTINGS_KEY = "workspace_settings"


class WorkspaceSettings(BaseModel):
    """Every workspace setting, with its default."""

    model_config = ConfigDict(extra="forbid")

    closing_notes: Literal["off", "optional", "mandatory"] = "optional"


async def load_workspace_settings(db: AsyncSession) -> WorkspaceSettings:
    """The current settings; keys never saved take their defaults (read once per unit
    of work: a page asks more than once)."""

    async def load() -> WorkspaceSettings:
        rows = await db.execute(
            select(WorkspaceSetting.key, WorkspaceSetting.value).where(
                WorkspaceSetting.key.in_(WorkspaceSettings.model_fields)
            )
        )
        return WorkspaceSettings.model_validate({key: value for key, value in rows.all()})

    return await remembered(db, SETTINGS_KEY, load)


async def save_workspace_settings(
    db: AsyncSession, changes: dict[str, object], *, actor: Viewer | None = None
) -> WorkspaceSettings:
    """Validate and store changed settings; the caller commits. A change by ``actor``
    (every change through the API or the admin pages) goes in the audit log."""
    current = await load_workspace_settings(db)
    updated = WorkspaceSettings.model_validate({**current.model_dump(), **changes})
    for key in changes:
        row = await db.get(WorkspaceSetting, key)
        value = getattr(updated, key)
        if row is None:
            db.add(WorkspaceSetting(key=key, value=value))
        else:
            row.value = value
    remember(db, SETTINGS_KEY, updated)
    if actor is not None:
        before, after = current.model_dump(mode="json"), updated.model_dump(mode="json")
        target = ("settings", "workspace", "Workspace settings")
        await audit.record_diff(db, actor, target, "updated", before, after)
    return updated
