"""What the audit log records of a CRM connection: its name, state, settings and
config, each config field the CRM type's schema marks secret written as ``"***"``
(OAuth tokens too, by their names)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.channel_config import secret_fields
from hub.crm.env import CrmEnv
from hub.store.crypto import CredentialsUnreadable
from hub.store.models import CrmConnection


def facts(env: CrmEnv, connection: CrmConnection) -> dict[str, Any]:
    """The connection's audited fields, its config decrypted (redacted on record)."""
    try:
        config = env.instances.cipher.decrypt(connection.config_encrypted)
    except CredentialsUnreadable:
        config = {}
    return {
        "type": connection.type,
        "name": connection.name,
        "enabled": connection.enabled,
        "settings": connection.settings,
        "config": config,
    }


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
    kind = env.instances.types.get(connection.type)
    secrets = secret_fields(kind) if kind is not None else set()
    target = ("crm_connection", connection.id, connection.name)
    await audit.record_diff(db, actor, target, verb, before, after, secrets)
