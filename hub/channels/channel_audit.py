"""What the audit log records of a channel: its name, state, routing, settings and
config, each config field the type's schema marks secret written as ``"***"``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.channel_config import secret_fields_of
from hub.channels.registry import ChannelInstances
from hub.store.crypto import ConfigCipher
from hub.store.models import Channel


def facts(channel: Channel, cipher: ConfigCipher) -> dict[str, Any]:
    """The channel's audited fields, its stored config decrypted (redacted on record)."""
    fields = {
        "type": channel.type,
        "name": channel.name,
        "enabled": channel.enabled,
        "routing": channel.routing,
        "settings": channel.settings,
    }
    return audit.config_facts(cipher, channel.config_encrypted, fields)


async def record(
    db: AsyncSession,
    actor: Viewer,
    verb: str,
    channel: Channel,
    before: dict[str, Any],
    after: dict[str, Any],
    instances: ChannelInstances,
) -> None:
    """Record ``channel.<verb>`` with the difference of ``before`` and ``after``."""
    secrets = secret_fields_of(instances.types.get(channel.type))
    target = ("channel", channel.id, channel.name)
    await audit.record_diff(db, actor, target, verb, before, after, secrets)


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
