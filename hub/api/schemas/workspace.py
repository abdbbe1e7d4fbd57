"""Bodies of the workspace settings endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.inbox.workspace import WorkspaceSettings


def _patch_model() -> type[BaseModel]:
    # Built from WorkspaceSettings so a new setting is patchable (and documented in the
    # OpenAPI document) without touching this module. Every field is optional; a field
    # given must hold a valid value (no null), and an unknown key is refused.
    fields: dict[str, Any] = {
        name: (info.annotation, Field(None, description=info.description))
        for name, info in WorkspaceSettings.model_fields.items()
    }
    return create_model(
        "WorkspaceSettingsPatch",
        __config__=ConfigDict(extra="forbid"),
        __doc__="``PATCH /api/v1/settings``: the settings to change; the others stay.",
        **fields,
    )


WorkspaceSettingsPatch = _patch_model()
