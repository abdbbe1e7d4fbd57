"""CRM connections administration: create (credentials checked with the CRM first, or
left ``connecting`` until the OAuth flow finishes), change, disable, delete, read the
field catalog, and choose the settings. Owners and managers only, like channels.

A plugin's ``connect`` reaches the CRM over the network, so it never runs inside a
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, select

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.channel_config import masked, merge_config, validate_config
from hub.channels.connecting import connect_failure, require_available
from hub.channels.registry import stored_config
from hub.contract.crm import CrmField, CrmTokens, CrmType, OAuthApp
from hub.crm import connection_audit
from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv, connection_or_404
from hub.crm.registry import CrmUnavailable
from hub.crm.settings import CrmSettings, catalog_of, settings_json
from hub.errors import Forbidden, HubError, Invalid
from hub.store.models import CrmConnection
from hub.store.types import utcnow

log = logging.getLogger(__name__)
UNREACHABLE = ("crm_unavailable", "CRM")  # connect_failure's code and service


@dataclass(frozen=True)
class NewConnection:
    """What ``POST /api/v1/crm-connections`` asks for."""

    type: str
    name: str
    config: dict[str, Any]
    enabled: bool = True
    settings: CrmSettings | None = None


@dataclass(frozen=True)
class ConnectionChanges:
    """A partial update; ``None`` leaves a part as it is; ``config`` is merged over the
    stored one (a secret sent back as ``MASK`` is kept)."""

    name: str | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = None


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or manager."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage CRM connections")


class CrmAdmin:
    """Creates, changes and deletes CRM connections, talking to their plugins."""

    def __init__(self, env: CrmEnv, on_create: Callable[[], None] | None = None) -> None:
        self.env = env
        # Told when a connection is stored: the engine stops skipping work it skipped
        # while the hub had no CRM.
        self.on_create = on_create

    def crm_type(self, name: str, field: str = "type") -> type[CrmType[Any]]:
        """The installed type ``name``, if it may be connected: 422 naming ``field``
        when it is not installed, ``type_not_available`` when not built yet."""
        kind = self.env.instances.types.get(name)
        if kind is None:
            known = ", ".join(sorted(self.env.instances.types)) or "none"
            raise Invalid(field, f"no CRM type {name!r} is installed (installed: {known})")
        require_available(kind, field, "CRM")
        return kind

    def oauth_of(
        self, connection: CrmConnection, config: BaseModel | None = None
    ) -> OAuthApp | None:
        """How the connection runs OAuth (its plugin's ``oauth_app``, which may depend on
        the config), or ``None`` for credentials that work as they are."""
        try:
            return self.env.instances.for_connection(connection, config=config).oauth_app()
        except CrmUnavailable:
            return None

    def visible_config(self, connection: CrmConnection) -> dict[str, Any] | None:
        """The config with secrets masked; ``None`` when it cannot be read."""
        try:
            return masked(self.env.instances.config_of(connection))
        except CrmUnavailable:
            return None

    async def all(
        self, actor: Viewer, *, cursor: int | None = None, limit: int = 50
    ) -> list[CrmConnection]:
        """Connections in the order they were made (ids after ``cursor``)."""
        require_admin(actor)
        conditions: list[ColumnElement[bool]] = []
        if cursor is not None:
            conditions.append(CrmConnection.id > cursor)
        async with self.env.sessions() as db:
            rows = await db.scalars(
                select(CrmConnection).where(*conditions).order_by(CrmConnection.id).limit(limit)
            )
            return list(rows)

    async def get(self, actor: Viewer, connection_id: int) -> CrmConnection:
        """One connection."""
        require_admin(actor)
        async with self.env.sessions() as db:
            return await connection_or_404(db, connection_id)

    async def create(self, actor: Viewer, new: NewConnection) -> CrmConnection:
        """Store a connection. Typed credentials are checked with the CRM first and
        nothing is kept when refused; an OAuth type waits (``connecting``) for its
        authorization (``oauth.start``)."""
        require_admin(actor)
        kind = self.crm_type(new.type)
        config = validate_config(kind, new.config)
        probe = CrmConnection(id=0, type=new.type, name=new.name)
        oauth = self.oauth_of(probe, config)
        if oauth is None:
            await self.connect(probe, config)
        async with self.env.sessions() as db:
            connection = CrmConnection(
                type=new.type,
                name=new.name,
                config_encrypted=self.env.instances.cipher.encrypt(stored_config(config)),
                enabled=new.enabled,
                status="ok" if oauth is None else "connecting",
                status_reason=None if oauth is None else "authorize the hub in the CRM",
                settings=settings_json(new.settings or CrmSettings()),
                catalog=[],
                failures=0,
            )
            db.add(connection)
            await db.flush()
            after = connection_audit.facts(self.env, connection)
            await connection_audit.record(db, self.env, actor, connection, "created", {}, after)
            await db.commit()
        if self.on_create is not None:
            self.on_create()
        if oauth is None:
            await self.refresh_catalog(connection.id, quiet=True)
            async with self.env.sessions() as db:
                connection = await connection_or_404(db, connection.id)
        return connection

    async def update(
        self, actor: Viewer, connection_id: int, changes: ConnectionChanges
    ) -> CrmConnection:
        """Apply ``changes``; a changed config is validated whole and (for typed
        credentials) connected first, nothing stored when that fails."""
        require_admin(actor)
        async with self.env.sessions() as db:
            connection = await connection_or_404(db, connection_id)
        encrypted: str | None = None
        reconnected = False
        if changes.config is not None:
            kind = self.crm_type(connection.type, "config")
            try:
                stored = self.env.instances.cipher.decrypt(connection.config_encrypted)
            except Exception:
                stored = {}  # the hub's secret changed: every credential is given again
            config = validate_config(kind, merge_config(kind, stored, changes.config))
            if self.oauth_of(connection, config) is None:
                await self.connect(connection, config)
                reconnected = True
            encrypted = self.env.instances.cipher.encrypt(stored_config(config))
        async with self.env.sessions() as db:
            connection = await connection_or_404(db, connection_id)
            before = connection_audit.facts(self.env, connection)
            if encrypted is not None:
                connection.config_encrypted = encrypted
            if reconnected:
                connection.status, connection.status_reason = "ok", None
                connection.retry_after, connection.failures = None, 0
            if changes.name is not None:
                connection.name = changes.name
            if changes.enabled is not None:
                connection.enabled = changes.enabled
            after = connection_audit.facts(self.env, connection)
            await connection_audit.record(db, self.env, actor, connection, "updated", before, after)
            await db.commit()
        return connection

    async def delete(self, actor: Viewer, connection_id: int) -> None:
        """Delete a connection with its links, cached values and history."""
        require_admin(actor)
        async with self.env.sessions() as db:
            connection = await connection_or_404(db, connection_id)
            target = ("crm_connection", connection.id, connection.name)
            await audit.record(db, actor.actor_id, "crm_connection.deleted", *target)
            await db.delete(connection)
            await db.commit()

    async def set_settings(
        self, actor: Viewer, connection_id: int, settings: CrmSettings
    ) -> CrmConnection:
        """Replace the settings; field names must be in the catalog (when read)."""
        require_admin(actor)
        async with self.env.sessions() as db:
            connection = await connection_or_404(db, connection_id)
            names = {f.name for f in catalog_of(connection)}
            if names:
                _check_names(settings, names)
            before = connection_audit.facts(self.env, connection)
            connection.settings = settings_json(settings)
            after = connection_audit.facts(self.env, connection)
            await connection_audit.record(db, self.env, actor, connection, "updated", before, after)
            await db.commit()
            return connection

    async def catalog(self, actor: Viewer, connection_id: int) -> list[CrmField]:
        """The CRM's contact fields, read now (and stored); the stored ones when the
        CRM cannot be reached and some were read before, else 502."""
        require_admin(actor)
        try:
            return await self.refresh_catalog(connection_id)
        except CrmCallFailed as err:
            async with self.env.sessions() as db:
                stored = catalog_of(await connection_or_404(db, connection_id))
            if stored:
                return stored
            raise HubError(502, "crm_unavailable", err.message) from None

    async def refresh_catalog(self, connection_id: int, *, quiet: bool = False) -> list[CrmField]:
        """Read the field catalog from the CRM and store it; ``quiet``: a failure
        is logged and the stored catalog answered."""
        async with self.env.sessions() as db:
            connection = await connection_or_404(db, connection_id)
        try:
            plugin = self.env.instances.for_connection(connection)
            fields = await self.env.calls.run(connection_id, plugin.field_catalog)
        except (CrmCallFailed, CrmUnavailable) as err:
            if not quiet:
                if isinstance(err, CrmUnavailable):
                    raise CrmCallFailed("unavailable", err.reason) from None
                raise
            log.warning("CRM connection %s: field catalog not read: %s", connection_id, err)
            return catalog_of(connection)
        async with self.env.sessions() as db:
            fresh = await connection_or_404(db, connection_id)
            fresh.catalog = [f.model_dump(mode="json") for f in fields]
            fresh.catalog_fetched_at = utcnow()
            await db.commit()
        return fields

    async def connect(
        self, connection: CrmConnection, config: BaseModel, tokens: CrmTokens | None = None
    ) -> None:
        """Build the plugin object and call ``connect``, mapping its errors to 422/502."""
        try:
            plugin = self.env.instances.for_connection(connection, config=config, tokens=tokens)
            await plugin.connect()
        except CrmUnavailable as err:
            raise HubError(422, "validation_error", err.reason) from None
        except Exception as err:
            what = f"CRM connection {connection.id}"
            raise connect_failure(err, what, connection.type, UNREACHABLE) from None


def _check_names(settings: CrmSettings, names: set[str]) -> None:
    for index, name in enumerate(settings.shown_fields or []):
        if name not in names:
            raise Invalid(f"shown_fields.{index}", f"the CRM has no field {name!r}")
    for index, name in enumerate(settings.editable_fields or []):
        if name not in names:
            raise Invalid(f"editable_fields.{index}", f"the CRM has no field {name!r}")
    for index, mapping in enumerate(settings.mapping):
        if mapping.crm_field not in names:
            raise Invalid(
                f"mapping.{index}.crm_field", f"the CRM has no field {mapping.crm_field!r}"
            )
