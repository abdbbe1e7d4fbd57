"""Channel administration: create, update and delete channels; config merge and masking
(reading them: ``hub.channels.channel_queries``; connecting: ``hub.channels.connecting``).

``ChannelRouting`` and ``ChannelSettings`` are the validated shapes of a channel's
``routing`` and ``settings`` JSON; the inbound and outbound pipes read them with
``ChannelRouting.of(channel)`` / ``ChannelSettings.of(channel)``.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from aiohttp import ChainMapProxy, web
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels import channel_audit
from hub.channels.channel_config import (
    config_error,
    masked,
    merge_config,
    secret_fields,
    validate_config,
)
from hub.channels.channel_queries import check_routing, live_channel
from hub.channels.connecting import connect, require_available
from hub.channels.registry import ChannelInstances, stored_config
from hub.contract.channel import ChannelType
from hub.errors import Forbidden, HubError, Invalid
from hub.events.bus import EventBus
from hub.events.event import HubEvent
from hub.events.forget import CHANNEL_UPDATED
from hub.events.work import Work, unit_of_work
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.inbox.channel_settings import (
    ChannelRouting,
    ChannelSettings,
    routing_json,
    settings_json,
)
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import Channel, Conversation
from hub.store.types import utcnow

log = logging.getLogger(__name__)


# --- channels ------------------------------------------------------------------------


@dataclass(frozen=True)
class NewChannel:
    """What ``POST /api/v1/channels`` asks for."""

    type: str
    name: str
    config: dict[str, Any]
    enabled: bool = True
    routing: ChannelRouting | None = None
    settings: ChannelSettings | None = None


@dataclass(frozen=True)
class ChannelChanges:
    """A partial update of a channel; ``None`` leaves a part as it is. ``config`` is
    merged over the stored config, ``settings`` over the stored settings (only its
    given keys), ``routing`` replaces the stored routing."""

    name: str | None = None
    enabled: bool | None = None
    config: dict[str, Any] | None = None
    routing: ChannelRouting | None = None
    settings: dict[str, Any] | None = None


@dataclass(frozen=True)
class SavedChannel:
    """A channel just created or changed, and its config as the caller may see it."""

    channel: Channel
    config: dict[str, Any] | None


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or manager."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage channels")


def channel_event(channel: Channel) -> HubEvent:
    """The realtime event telling every user a channel was created, changed or deleted."""
    return HubEvent(
        CHANNEL_UPDATED,
        {
            "id": channel.id,
            "type": channel.type,
            "name": channel.name,
            "enabled": channel.enabled,
            "status": channel.status,
            "deleted": channel.deleted_at is not None,
        },
    )


class ChannelAdmin:
    """Creates, changes and deletes channels, talking to their plugins as it does.

    A plugin's ``connect`` reaches the provider over the network, so it never runs
    inside a transaction: on SQLite an open write transaction would hold up every
    webhook for as long as the provider takes to answer.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        instances: ChannelInstances,
        cipher: ConfigCipher,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._instances = instances
        self._cipher = cipher

    @classmethod
    def of(cls, app: web.Application | ChainMapProxy) -> ChannelAdmin:
        """The channel admin of a running hub app."""
        return cls(
            app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.CHANNELS], app[appkeys.CIPHER]
        )

    def _work(self) -> AbstractAsyncContextManager[Work]:
        return unit_of_work(self._sessions, self._bus)

    def channel_type(self, name: str, field: str = "type") -> type[ChannelType[Any]]:
        """The installed or declared type called ``name``; 422 naming ``field`` otherwise."""
        found = self._instances.types.get(name)
        if found is None:
            known = ", ".join(self._instances.types.all()) or "none"
            raise Invalid(field, f"no channel type {name!r} is installed (installed: {known})")
        return found

    def connectable_type(self, name: str, field: str = "type") -> type[ChannelType[Any]]:
        """The type called ``name``, if a channel of it may be connected: 422 naming
        ``field`` when it is not installed, ``type_not_available`` when not built yet."""
        found = self.channel_type(name, field)
        require_available(found, field)
        return found

    def visible_config(self, channel: Channel) -> dict[str, Any] | None:
        """The channel's config with secrets masked; ``None`` when it cannot be read
        (type not installed, or stored settings no longer valid: see ``status_reason``)."""
        try:
            return masked(self._instances.config_of(channel))
        except ChannelUnavailable:
            return None

    async def create(self, actor: Viewer, new: NewChannel) -> SavedChannel:
        """Validate, store and connect a channel; its config comes back with every
        secret revealed, this once. When ``connect`` fails nothing is kept."""
        require_admin(actor)
        config = validate_config(self.connectable_type(new.type), new.config)
        async with self._work() as w:
            routing = new.routing or ChannelRouting()
            await check_routing(w.db, routing)
            channel = Channel(
                type=new.type,
                name=new.name,
                config_encrypted=self._cipher.encrypt(stored_config(config)),
                enabled=new.enabled,
                # Not "ok" until the provider has accepted the credentials.
                status="connecting",
                routing=routing_json(routing),
                settings=settings_json(new.settings or ChannelSettings()),
            )
            w.db.add(channel)
        try:
            await connect(self._instances, channel)
        except HubError:
            await self._discard(channel.id)
            raise
        async with self._work() as w:
            channel = await live_channel(w.db, channel.id)
            channel.status, channel.status_reason = "ok", None
            await w.db.flush()
            after = channel_audit.facts(channel, self._cipher)
            await channel_audit.record(w.db, actor, "created", channel, {}, after, self._instances)
            w.emit(channel_event(channel))
        self._instances.forget(channel.id)
        return SavedChannel(channel, stored_config(config))

    async def update(self, actor: Viewer, channel_id: int, changes: ChannelChanges) -> SavedChannel:
        """Apply ``changes``; a changed config is validated whole and connected first,
        and nothing is stored when that fails. Disabling does not disconnect: a
        disabled channel still receives its webhooks and holds them."""
        require_admin(actor)
        new_config: BaseModel | None = None
        reveal: list[str] = []
        async with self._work() as w:
            channel = await live_channel(w.db, channel_id)
            seen_config = channel.config_encrypted
            if changes.config is not None:
                new_config, reveal = self._patched_config(channel, changes.config)
            if changes.routing is not None:
                await check_routing(w.db, changes.routing)
            new_settings = self._patched_settings(channel, changes.settings)
        encrypted = self._cipher.encrypt(stored_config(new_config)) if new_config else None
        if encrypted is not None:
            await connect(self._instances, _probe(channel, encrypted))
        async with self._work() as w:
            channel = await live_channel(w.db, channel_id)
            before = channel_audit.facts(channel, self._cipher)
            if encrypted is not None:
                if channel.config_encrypted != seen_config:
                    raise HubError(
                        409,
                        "edit_conflict",
                        "the channel's settings were changed by someone else meanwhile: "
                        "reload it and try again",
                    )
                channel.config_encrypted = encrypted
                channel.status, channel.status_reason = "ok", None
            if changes.name is not None:
                channel.name = changes.name
            if changes.enabled is not None:
                channel.enabled = changes.enabled
            if changes.routing is not None:
                channel.routing = routing_json(changes.routing)
            if new_settings is not None:
                channel.settings = new_settings
            await w.db.flush()
            after = channel_audit.facts(channel, self._cipher)
            await channel_audit.record(
                w.db, actor, "updated", channel, before, after, self._instances
            )
            w.emit(channel_event(channel))
        self._instances.forget(channel_id)
        shown = masked(new_config, reveal) if new_config else self.visible_config(channel)
        return SavedChannel(channel, shown)

    async def delete(self, actor: Viewer, channel_id: int) -> None:
        """Soft-delete a channel (its conversations stay readable), then disconnect it;
        a failing ``disconnect`` is logged, as the channel is gone either way."""
        require_admin(actor)
        async with self._work() as w:
            channel = await live_channel(w.db, channel_id)
            channel.deleted_at = utcnow()
            channel.enabled = False
            await w.db.flush()
            await audit.record(
                w.db, actor.actor_id, "channel.deleted", "channel", channel.id, channel.name
            )
            w.emit(channel_event(channel))
        try:
            await self._instances.for_channel(channel).disconnect()
        except Exception:  # a plugin or provider failure must not undo the deletion
            log.warning("channel %s: disconnect failed after deletion", channel_id, exc_info=True)
        finally:
            self._instances.forget(channel_id)

    def _patched_config(
        self, channel: Channel, patch: dict[str, Any]
    ) -> tuple[BaseModel, list[str]]:
        """The merged, validated config and the secrets this patch set (to reveal)."""
        channel_type = self._instances.types.get(channel.type)
        if channel_type is None:
            raise HubError(
                409,
                "type_not_installed",
                f"the channel's type {channel.type!r} is not installed, so its settings "
                "cannot be checked",
            )
        try:
            stored = self._cipher.decrypt(channel.config_encrypted)
        except CredentialsUnreadable:
            stored = {}  # the hub's secret changed: every credential must be given again
        config = validate_config(channel_type, merge_config(channel_type, stored, patch))
        revealed = stored_config(config)
        changed = [
            name
            for name in secret_fields(channel_type)
            if revealed.get(name) is not None and revealed.get(name) != stored.get(name)
        ]
        return config, changed

    @staticmethod
    def _patched_settings(channel: Channel, patch: dict[str, Any] | None) -> dict[str, Any] | None:
        if patch is None:
            return None
        merged = {**ChannelSettings.of(channel).model_dump(), **patch}
        try:
            return settings_json(ChannelSettings.model_validate(merged))
        except ValidationError as err:
            raise config_error(err, "settings") from None

    async def _discard(self, channel_id: int) -> None:
        """Remove a channel whose first connect failed, unless a webhook already made
        conversations on it (then it is soft-deleted so they stay readable)."""
        async with self._work() as w:
            used = await w.db.scalar(
                select(Conversation.id).where(Conversation.channel_id == channel_id).limit(1)
            )
            if used is None:
                await w.db.execute(delete(Channel).where(Channel.id == channel_id))
            else:
                await w.db.execute(
                    update(Channel)
                    .where(Channel.id == channel_id)
                    .values(deleted_at=utcnow(), enabled=False, status="error")
                )


def _probe(channel: Channel, encrypted: str) -> Channel:
    """An unsaved copy of ``channel`` with a new config, to connect before storing it."""
    return Channel(
        id=channel.id,
        type=channel.type,
        name=channel.name,
        config_encrypted=encrypted,
        updated_at=utcnow(),
    )
