"""What the audit log records of a channel: its name, state, routing, settings and
config, each config field the type's schema marks secret written as ``"***"``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.channel_config import secret_fields
from hub.channels.registry import ChannelInstances
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import Channel


def facts(channel: Channel, cipher: ConfigCipher) -> dict[str, Any]:
    """The channel's audited fields, its stored config decrypted (redacted on record)."""
    try:
        config = cipher.decrypt(channel.config_encrypted)
    except CredentialsUnreadable:
        config = {}  # the hub's key changed: nothing readable to compare
    return {
        "type": channel.type,
        "name": channel.name,
        "enabled": channel.enabled,
        "routing": channel.routing,
        "settings": channel.settings,
        "config": config,
    }


def secrets_of(instances: ChannelInstances, channel: Channel) -> set[str]:
    """The config fields the channel's type marks secret (none known if not installed:
    then only the names that look secret are redacted)."""
    kind = instances.types.get(channel.type)
    return secret_fields(kind) if kind is not None else set()


async def record(
    db: AsyncSession,
    actor: Viewer,
    action: str,
    channel: Channel,
    before: dict[str, Any],
    after: dict[str, Any],
    secrets: set[str],
) -> None:
    """Record ``channel.<action>`` with the difference of ``before`` and ``after``."""
    await audit.record(
        db,
        actor.actor_id,
        f"channel.{action}",
        "channel",
        channel.id,
        channel.name,
        audit.diff(before, after, secrets),
    )


def manifest_facts(manifest: dict[str, Any]) -> dict[str, Any]:
    """A declarative type's audited fields: its manifest (which holds no secret: secret
    credentials take no default), the logo as its size rather than its SVG text."""
    facts = dict(manifest)
    if facts.get("logo"):
        facts["logo"] = f"{len(str(facts['logo']))} characters of SVG"
    return facts


async def record_definition(
    db: AsyncSession,
    actor: Viewer,
    verb: str,
    name: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """Record ``channel_type.<verb>`` of the declarative type ``name``."""
    changes = audit.diff(manifest_facts(before), manifest_facts(after))
    await audit.record(
        db, actor.actor_id, f"channel_type.{verb}", "channel_type", name, name, changes
    )
