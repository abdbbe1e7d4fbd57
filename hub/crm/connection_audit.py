"""What the audit log records of a CRM connection: its name, state, settings and
config, each config field the CRM type's schema marks secret written as ``"***"``
(OAuth tokens too, by their names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.channel_config import secret_fields_of
from hub.crm.env import CrmEnv
from hub.store.models import CrmConnection


def facts(env: CrmEnv, connection: CrmConnection) -> dict[str, Any]:
    """The connection's audited fields, its config decrypted (redacted on record)."""
    fields = {
        "type": connection.type,
        "name": connection.name,
        "enabled": connection.enabled,
        "settings": connection.settings,
    }
    return audit.config_facts(env.instances.cipher, connection.config_encrypted, fields)


async def record(
    db: AsyncSession,
    env: CrmEnv,
    actor: Viewer,
    connection: CrmConnection,
    verb: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Record ``crm_connection.<verb>`` with the difference of ``before`` and ``after``."""
    secrets = secret_fields_of(env.instances.types.get(connection.type))
    target = ("crm_connection", connection.id, connection.name)
    await audit.record_diff(db, actor, target, verb, before, after, secrets)
