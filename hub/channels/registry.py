"""Which channel types the hub can run, and the live plugin instance of each channel.

Types come from plugins (entry points) and from declarative definitions stored in the
database (``ChannelDefinition``); ``ChannelTypes`` holds both. ``ChannelInstances``
builds a channel's plugin object from its decrypted, validated config, and keeps it
until the channel row changes (``updated_at``), so a webhook does not decrypt and
validate the credentials on every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import to_jsonable_python

from hub.contract.channel import ChannelContext, ChannelType
from hub.settings import Settings
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import Channel


class ChannelUnavailable(Exception):
    """A channel's plugin object cannot be built: its type is not installed, or its
    stored config no longer validates. ``reason`` says which, for the admin."""

    def __init__(self, channel_id: int, reason: str) -> None:
        super().__init__(f"channel {channel_id}: {reason}")
        self.channel_id = channel_id
        self.reason = reason


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
    """Builds and caches the plugin object of each channel."""

    def __init__(
        self,
        types: ChannelTypes,
        cipher: ConfigCipher,
        http: httpx.AsyncClient,
        settings: Settings,
    ) -> None:
        self.types = types
        self._cipher = cipher
        self._http = http
        self._settings = settings
        self._cache: dict[int, tuple[datetime, ChannelType[Any]]] = {}

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
        )
        instance = channel_type(self.config_of(channel), context)
        self._cache[channel.id] = (channel.updated_at, instance)
        return instance

    def forget(self, channel_id: int) -> None:
        """Drop the cached object, e.g. after the channel was edited or deleted."""
        self._cache.pop(channel_id, None)

    def _type_of(self, channel: Channel) -> type[ChannelType[Any]]:
        channel_type = self.types.get(channel.type)
        if channel_type is None:
            raise ChannelUnavailable(
                channel.id,
                f"its type {channel.type!r} is not installed: install the plugin "
                "that provides it, or delete the channel",
            )
        return channel_type
