"""Bodies and answers of the channel and channel-type endpoints."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, StrictBool

from hub.api.schemas.people import NamePageQuery, PatchBody
from hub.channels.admin import ChannelChanges, NewChannel
from hub.channels.manifest import ChannelManifest, ManifestChanges, base_name, manifest_of
from hub.contract.channel import Capabilities, ChannelType
from hub.contract.models import MessageTemplate
from hub.inbox.channel_settings import ChannelRouting, ChannelSettings
from hub.store.models import Channel

log = logging.getLogger(__name__)
CONFIG_DESCRIPTION = (
    "the type's Config (see `config_schema` of its channel type); secrets read back as "
    '"********"; null for agents, and when the stored settings cannot be read'
)


class ChannelTypeOut(BaseModel):
    """An installed (plugin) or declared (manifest) channel type and its config form."""

    name: str
    title: str
    description: str
    logo: str = Field(description="an SVG document; show it as <img>, never inline")
    config_schema: dict[str, Any] = Field(description="the JSON Schema of the type's Config")
    capabilities: Capabilities
    source: Literal["plugin", "definition"]
    available: bool = Field(
        description="false while the type's plugin is not built yet: it cannot be connected"
    )
    extensible: bool = Field(description="whether definitions may use this type as their base")
    base: str | None = Field(description="the type a definition runs on; null for plugins")
    manifest: ChannelManifest | None = Field(description="a definition's manifest")

    @classmethod
    def of(cls, channel_type: type[ChannelType[Any]], declared: bool) -> ChannelTypeOut:
        """Describe ``channel_type``; ``declared`` when it comes from a definition."""
        return cls(
            name=channel_type.name,
            title=channel_type.title,
            description=channel_type.description,
            logo=channel_type.logo,
            config_schema=_config_schema(channel_type),
            capabilities=channel_type.capabilities,
            source="definition" if declared else "plugin",
            available=channel_type.available,
            extensible=channel_type.extensible,
            base=base_name(channel_type) if declared else None,
            manifest=manifest_of(channel_type) if declared else None,
        )


def _config_schema(channel_type: type[ChannelType[Any]]) -> dict[str, Any]:
    try:
        return channel_type.Config.model_json_schema()
    except PydanticUserError:  # a plugin Config pydantic cannot describe: no form, no 500
        log.warning("channel type %s: its Config has no JSON Schema", channel_type.name)
        return {}


class ChannelTypePatchBody(ManifestChanges, PatchBody):
    """``PATCH /api/v1/channel-types/{name}``: each part given replaces the old one
    (``credentials`` as a whole list); the name and base cannot change."""


class ChannelOut(BaseModel):
    """A channel as the API shows it."""

    id: int
    type: str
    name: str
    enabled: bool
    status: str = Field(description="ok, connecting or error")
    status_reason: str | None
    webhook_url: str = Field(description="where the provider posts this channel's webhooks")
    config: dict[str, Any] | None = Field(description=CONFIG_DESCRIPTION)
    routing: ChannelRouting
    settings: ChannelSettings
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None
    deleted_at: datetime | None

    @classmethod
    def of(cls, channel: Channel, webhook_url: str, config: dict[str, Any] | None) -> ChannelOut:
        """Serialize a stored channel with the config the caller may see."""
        return cls(
            id=channel.id,
            type=channel.type,
            name=channel.name,
            enabled=channel.enabled,
            status=channel.status,
            status_reason=channel.status_reason,
            webhook_url=webhook_url,
            config=config,
            routing=ChannelRouting.of(channel),
            settings=ChannelSettings.of(channel),
            created_at=channel.created_at,
            updated_at=channel.updated_at,
            last_inbound_at=channel.last_inbound_at,
            deleted_at=channel.deleted_at,
        )


class ChannelQuery(NamePageQuery):
    """``GET /api/v1/channels`` parameters."""

    sort: Literal["name", "created"] = Field("name", description="by name, or oldest first")
    type: str | None = Field(None, max_length=100, description="only channels of this type")
    enabled: bool | None = Field(None, description="only enabled (true) or disabled (false)")
    include_deleted: bool = Field(False, description="also list deleted channels")


class ChannelCreateBody(BaseModel):
    """``POST /api/v1/channels``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str = Field(min_length=1, max_length=100, description="a channel type's name")
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(
        default_factory=dict, description="the type's Config; empty secrets are generated"
    )
    enabled: StrictBool = True
    routing: ChannelRouting | None = Field(None, description='default {"mode": "unassigned"}')
    settings: ChannelSettings | None = None

    def new(self) -> NewChannel:
        """As a domain request."""
        return NewChannel(
            type=self.type,
            name=self.name,
            config=self.config,
            enabled=self.enabled,
            routing=self.routing,
            settings=self.settings,
        )


class ChannelPatchBody(PatchBody):
    """``PATCH /api/v1/channels/{channel_id}``: ``config`` and ``settings`` are merged
    over the stored ones (a secret sent as "********" is kept, "" regenerates a generated
    one); ``routing`` replaces the stored routing."""

    name: str | None = Field(None, min_length=1, max_length=200)
    enabled: StrictBool | None = None
    config: dict[str, Any] | None = None
    routing: ChannelRouting | None = None
    settings: ChannelSettings | None = None

    def changes(self) -> ChannelChanges:
        """The parts given, as a domain update."""
        settings = (
            self.settings.model_dump(include=self.settings.model_fields_set)
            if self.settings is not None
            else None
        )
        return ChannelChanges(
            name=self.name,
            enabled=self.enabled,
            config=self.config,
            routing=self.routing,
            settings=settings,
        )


class TemplatesOut(BaseModel):
    """``GET /api/v1/channels/{channel_id}/templates``: the approved templates;
    ``parameters`` is how many ``{{n}}`` values a template's body takes."""

    items: list[MessageTemplate]
