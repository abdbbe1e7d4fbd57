"""Declarative channel types in the database: the ``channel_definitions`` table's
manifests (``hub.channels.manifest``) created, changed and deleted by owners and
managers, and ``load_declared``, which keeps ``ChannelTypes`` in step with them.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.channels import channel_audit
from hub.channels.admin import require_admin
from hub.channels.manifest import ChannelManifest, ManifestChanges, build_channel_type
from hub.channels.registry import ChannelTypes, stored_config
from hub.contract.channel import ChannelType
from hub.errors import HubError, Invalid, NotFound
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import Channel, ChannelDefinition

log = logging.getLogger(__name__)


async def load_declared(
    sessions_or_db: AsyncSession | async_sessionmaker[AsyncSession], types: ChannelTypes
) -> None:
    """Read every stored definition and make ``types`` declare exactly those.

    A definition whose base plugin is not installed (or no longer extensible), or whose
    manifest no longer validates, is skipped with a warning: its channels then report
    their type as not installed rather than taking the hub down.
    """
    if isinstance(sessions_or_db, AsyncSession):
        rows = list(await sessions_or_db.scalars(select(ChannelDefinition)))
    else:
        async with sessions_or_db() as db:
            rows = list(await db.scalars(select(ChannelDefinition)))
    declared: dict[str, type[ChannelType[Any]]] = {}
    for row in rows:
        if row.name in types.plugin_types:
            log.warning("channel definition %r is shadowed by a plugin type", row.name)
            continue
        try:
            manifest = ChannelManifest.model_validate(row.manifest)
            declared[row.name] = build_channel_type(manifest, extensible_base(types, manifest))
        except (ValidationError, ValueError) as err:
            log.warning("channel definition %r is not loaded: %s", row.name, err)
    types.set_declared(declared)


async def load_declared_at_start(
    sessions: async_sessionmaker[AsyncSession], types: ChannelTypes
) -> None:
    """``load_declared`` for app start: a database not migrated or not reachable yet is
    logged, not fatal, so ``/readyz`` can say what is wrong (a fresh database has no
    definitions; one reachable later gets them at the next start or definition change)."""
    try:
        await load_declared(sessions, types)
    except (SQLAlchemyError, OSError) as err:
        log.warning("channel definitions not loaded: %s", err)


def extensible_base(types: ChannelTypes, manifest: ChannelManifest) -> type[ChannelType[Any]]:
    """The plugin type ``manifest`` builds on; ``ValueError`` when it cannot be one."""
    base = types.plugin_types.get(manifest.base)
    if base is None:
        raise ValueError(f"base type {manifest.base!r} is not installed")
    if not base.extensible:
        raise ValueError(f"base type {manifest.base!r} does not allow definitions")
    return base


def _plugin_type_error(name: str) -> HubError:
    return HubError(
        409,
        "plugin_type",
        f"the channel type {name!r} is provided by an installed plugin: it can only be "
        "changed by upgrading or uninstalling that plugin",
    )


def _built(types: ChannelTypes, manifest: ChannelManifest) -> type[ChannelType[Any]]:
    try:
        base = extensible_base(types, manifest)
    except ValueError as err:
        raise Invalid("base", str(err)) from None
    try:
        return build_channel_type(manifest, base)
    except ValueError as err:
        raise Invalid("credentials", str(err)) from None


async def create_definition(
    db: AsyncSession, actor: Viewer, types: ChannelTypes, manifest: ChannelManifest
) -> type[ChannelType[Any]]:
    """Store a new declarative type (owners and managers); 409 when the name is taken.

    The caller reloads ``types`` with ``load_declared`` once the transaction commits.
    """
    require_admin(actor)
    if manifest.name in types.plugin_types:
        raise _plugin_type_error(manifest.name)
    built = _built(types, manifest)
    taken = HubError(
        409,
        "name_taken",
        f"a channel type called {manifest.name!r} is already defined",
        [{"field": "name", "message": "taken"}],
    )
    if await db.scalar(select(ChannelDefinition.id).where(ChannelDefinition.name == manifest.name)):
        raise taken
    db.add(ChannelDefinition(name=manifest.name, manifest=manifest.model_dump(mode="json")))
    try:
        await db.flush()  # the unique index settles a race the check above can lose
    except IntegrityError:
        raise taken from None
    after = manifest.model_dump(mode="json")
    await channel_audit.record_definition(db, actor, "created", manifest.name, {}, after)
    return built


async def _definition(db: AsyncSession, types: ChannelTypes, name: str) -> ChannelDefinition:
    if name in types.plugin_types:
        raise _plugin_type_error(name)
    row = await db.scalar(select(ChannelDefinition).where(ChannelDefinition.name == name))
    if row is None:
        raise NotFound("channel type")
    return row


async def update_definition(
    db: AsyncSession,
    actor: Viewer,
    types: ChannelTypes,
    cipher: ConfigCipher,
    name: str,
    changes: ManifestChanges,
) -> tuple[type[ChannelType[Any]], list[int]]:
    """Change a declarative type's title, description, logo, credentials or capabilities;
    return the new type and the ids of its channels (their plugin objects are stale).

    The stored config of each channel of the type is carried over: values of removed
    credentials are dropped and new defaults filled in. Refused (409
    ``definition_in_use``) when a channel would no longer have valid settings, e.g. a new
    required credential without a default: the admin edits those channels first.
    """
    require_admin(actor)
    row = await _definition(db, types, name)
    try:
        manifest = ChannelManifest.model_validate(row.manifest).changed(changes)
    except ValidationError as err:
        message = err.errors()[0]["msg"]
        details = [{"field": "body", "message": message}]
        raise HubError(422, "validation_error", message, details) from None
    built = _built(types, manifest)
    fields = built.Config.model_fields
    broken = []
    channels = list(
        await db.scalars(select(Channel).where(Channel.type == name, Channel.deleted_at.is_(None)))
    )
    for channel in channels:
        try:
            stored = cipher.decrypt(channel.config_encrypted)
            kept = {key: value for key, value in stored.items() if key in fields}
            config = built.Config.model_validate(kept)
        except (ValidationError, CredentialsUnreadable):
            broken.append({"field": f"channels.{channel.id}", "message": channel.name})
            continue
        channel.config_encrypted = cipher.encrypt(stored_config(config))
    if broken:
        raise HubError(
            409,
            "definition_in_use",
            f"{len(broken)} channel(s) of this type would no longer have valid settings: "
            "give new required fields a default, or edit those channels first",
            broken,
        )
    before = dict(row.manifest)
    row.manifest = manifest.model_dump(mode="json")
    await db.flush()
    await channel_audit.record_definition(db, actor, "updated", name, before, row.manifest)
    return built, [channel.id for channel in channels]


async def delete_definition(
    db: AsyncSession, actor: Viewer, types: ChannelTypes, name: str
) -> None:
    """Delete a declarative type; 409 ``type_in_use`` while a channel uses it."""
    require_admin(actor)
    row = await _definition(db, types, name)
    used = await db.scalar(
        select(func.count())
        .select_from(Channel)
        .where(Channel.type == name, Channel.deleted_at.is_(None))
    )
    if used:
        raise HubError(
            409,
            "type_in_use",
            f"{used} channel(s) use the type {name!r}: delete them first",
        )
    await channel_audit.record_definition(db, actor, "deleted", name, dict(row.manifest), {})
    await db.delete(row)
    await db.flush()
