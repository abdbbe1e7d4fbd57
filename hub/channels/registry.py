"""Which channel types the hub can run, and the live plugin instance of each channel.

Types come from plugins (entry points) and from declarative definitions stored in the
database (``ChannelDefinition``); ``ChannelTypes`` holds both. ``ChannelInstances``
builds a channel's plugin object from its decrypted, validated config, and keeps it
until the channel row changes (``updated_at``), so a webhook does not decrypt and
validate the credentials on every request. It also keeps each channel's row for the
webhook handler (``channel_row``) for a moment, dropped on every change; when it
expires, the requests that miss it together share one read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract.channel import ChannelContext, ChannelType, FileReader
from hub.events.bus import EventBus
from hub.events.forget import CHANNEL_UPDATED, channel_of, forget_on_change
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.settings import Settings
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import Channel

# How long a cached channel row may serve webhooks without a change being heard of: the
# safety net should a ``channel.updated`` announcement from another process be lost.
ROW_TTL_SECONDS = 2.0


class _ReadAbandoned(Exception):
    """The request reading a row for others was cancelled: they read it themselves."""


class ChannelTypes:
    """Every channel type by name: the plugins' and the declarative ones."""

    def __init__(self, plugin_types: Mapping[str, type[ChannelType[Any]]]) -> None:
        self._plugin_types = dict(plugin_types)
        self._declared: dict[str, type[ChannelType[Any]]] = {}

    def get(self, name: str) -> type[ChannelType[Any]] | None:
        """The type called ``name``, or None when it is not installed or declared."""
        return self._plugin_types.get(name) or self._declared.get(name)

    def all(self) -> dict[str, type[ChannelType[Any]]]:
        """Every type by name, plugin types first, each group sorted by name."""
        return {
            **dict(sorted(self._plugin_types.items())),
            **dict(sorted(self._declared.items())),
        }

    def is_declared(self, name: str) -> bool:
        """Whether ``name`` is a declarative type (defined through the API)."""
        return name in self._declared

    @property
    def plugin_types(self) -> dict[str, type[ChannelType[Any]]]:
        """The types provided by installed plugins."""
        return dict(self._plugin_types)

    def set_declared(self, declared: Mapping[str, type[ChannelType[Any]]]) -> None:
        """Replace the declarative types (after loading or changing their definitions)."""
        self._declared = dict(declared)


def webhook_url(settings: Settings, channel_id: int) -> str:
    """The URL a provider posts this channel's webhooks to."""
    return f"{settings.base_url}/webhooks/{channel_id}"


def stored_config(config: BaseModel) -> dict[str, Any]:
    """A validated Config as JSON for encryption, secrets revealed (``model_dump`` would
    write ``SecretStr`` values as asterisks)."""
    revealed: dict[str, Any] = to_jsonable_python(_reveal(config.model_dump()))
    return revealed


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(item) for item in value]
    return value


class ChannelInstances:
    """Builds and caches the plugin object of each channel, and its row for webhooks."""

    def __init__(
        self,
        types: ChannelTypes,
        cipher: ConfigCipher,
        http: httpx.AsyncClient,
        settings: Settings,
        files: FileReader | None = None,
    ) -> None:
        self.types = types
        self._cipher = cipher
        self._http = http
        self._settings = settings
        # The media store, handed to each plugin's context for ``read_attachment``.
        self._files = files
        self._cache: dict[int, tuple[datetime, ChannelType[Any]]] = {}
        self._rows: dict[int, tuple[float, Channel]] = {}
        # The row reads under way, with the generation each began in: requests missing
        # the same row at once wait for that read instead of each opening a session.
        self._reads: dict[int, tuple[int, asyncio.Future[Channel | None]]] = {}
        # Bumped by every ``forget``: a row read that began before a change must not
        # be cached after it (it may hold the old config).
        self._generation = 0
        self.row_ttl = ROW_TTL_SECONDS

    async def channel_row(
        self, sessions: async_sessionmaker[AsyncSession], channel_id: int
    ) -> Channel | None:
        """The channel's row (detached), read at most every ``row_ttl`` seconds; None
        when there is no such channel. For the webhook handler, which would otherwise
        spend a session and a query per request; the committed state is checked again
        in the request's transaction (disabled, deleted), and every change made through
        the hub drops the row at once (``forget``, and ``follow_channel_changes`` in
        the other processes). Requests that miss together share one read."""
        while True:
            cached = self._rows.get(channel_id)
            if cached is not None and time.monotonic() - cached[0] < self.row_ttl:
                return cached[1]
            read = self._reads.get(channel_id)
            # A read begun before a change may return the old row: only join a read
            # begun since the last ``forget``.
            if read is None or read[0] != self._generation:
                return await self._read_row(sessions, channel_id)
            try:
                # Shielded: a waiter cancelled (its client gone) must not cancel the
                # read the others wait for.
                return await asyncio.shield(read[1])
            except _ReadAbandoned:
                continue

    async def _read_row(
        self, sessions: async_sessionmaker[AsyncSession], channel_id: int
    ) -> Channel | None:
        """Read the row for every request waiting on it, and cache it."""
        now = time.monotonic()
        generation = self._generation
        read: asyncio.Future[Channel | None] = asyncio.get_running_loop().create_future()
        self._reads[channel_id] = (generation, read)
        try:
            async with sessions() as db:
                channel = await db.get(Channel, channel_id)
        except BaseException as err:
            cancelled = isinstance(err, asyncio.CancelledError)
            read.set_exception(_ReadAbandoned() if cancelled else err)
            read.exception()  # retrieved: no "never retrieved" warning without waiters
            raise
        finally:
            if self._reads.get(channel_id, (0, None))[1] is read:
                del self._reads[channel_id]
        # Unknown ids are not cached: anyone can post to any id.
        if channel is not None and generation == self._generation:
            self._rows[channel_id] = (now, channel)
        read.set_result(channel)
        return channel

    def config_of(self, channel: Channel) -> BaseModel:
        """The channel's stored config, decrypted and validated by its type's Config."""
        channel_type = self._type_of(channel)
        try:
            return channel_type.Config.model_validate(
                self._cipher.decrypt(channel.config_encrypted)
            )
        except CredentialsUnreadable as err:
            raise ChannelUnavailable(channel.id, str(err)) from None
        except ValidationError as err:
            raise ChannelUnavailable(
                channel.id,
                f"its stored settings are no longer valid ({err.error_count()} "
                "errors): an admin must edit the channel",
            ) from None

    def for_channel(self, channel: Channel) -> ChannelType[Any]:
        """The plugin object serving ``channel``; raises ``ChannelUnavailable``."""
        channel_type = self._type_of(channel)
        cached = self._cache.get(channel.id)
        # A declared type rebuilt from a changed definition is a new class: rebuild too.
        if (
            cached is not None
            and cached[0] == channel.updated_at
            and type(cached[1]) is channel_type
        ):
            return cached[1]
        context = ChannelContext(
            channel_id=channel.id,
            webhook_url=webhook_url(self._settings, channel.id),
            http=self._http,
            files=self._files,
        )
        instance = channel_type(self.config_of(channel), context)
        self._cache[channel.id] = (channel.updated_at, instance)
        return instance

    def forget(self, channel_id: int) -> None:
        """Drop the cached object and row, e.g. after the channel was edited or deleted."""
        self._generation += 1
        self._cache.pop(channel_id, None)
        self._rows.pop(channel_id, None)

    def forget_rows(self) -> None:
        """Drop every cached row (e.g. when the bus may have missed announcements)."""
        self._generation += 1
        self._rows.clear()

    def _type_of(self, channel: Channel) -> type[ChannelType[Any]]:
        channel_type = self.types.get(channel.type)
        if channel_type is None:
            raise ChannelUnavailable(
                channel.id,
                f"its type {channel.type!r} is not installed: install the plugin "
                "that provides it, or delete the channel",
            )
        return channel_type


async def follow_channel_changes(bus: EventBus, instances: ChannelInstances) -> None:
    """Drop a channel's cached row and object whenever any process announces a change
    to it (``channel.updated``, sent on create, update and delete), and every row when
    the bus asks for a resync or this listener fell behind; runs until cancelled."""

    def forget(channel_id: int | None) -> None:
        if channel_id is None:
            instances.forget_rows()
        else:
            instances.forget(channel_id)

    await forget_on_change(bus, forget, {CHANNEL_UPDATED}, channel_of)
