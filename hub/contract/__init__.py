"""What plugins see: hookspecs, the channel and CRM bases, normalized models and errors.

A plugin imports only from here; everything else in ``hub`` may change between releases.
"""

from hub.contract.channel import Capabilities, ChannelContext, ChannelType, PollResult
from hub.contract.config import (
    ADVANCED,
    PLUGIN_CONFIG,
    EmptyIsDefault,
    GeneratedSecret,
    HttpUrlCheck,
    HttpUrlText,
    generated_secret,
)
from hub.contract.crm import CrmChanges, CrmContext, CrmField, CrmType
from hub.contract.errors import (
    BadCredentials,
    PermanentFailure,
    PluginError,
    RetryLater,
    WebhookRejected,
    WindowClosed,
)
from hub.contract.hookspecs import hookimpl
from hub.contract.models import (
    ContactCardPart,
    ContentPart,
    CrmRecord,
    InboundEvent,
    InboundMessage,
    LocationPart,
    MediaPart,
    OutboundAttachment,
    OutboundMessage,
    ReactionPart,
    SenderProfile,
    StatusUpdate,
    StickerPart,
    TextPart,
    UnsupportedPart,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

__all__ = [
    "ADVANCED",
    "PLUGIN_CONFIG",
    "BadCredentials",
    "Capabilities",
    "ChannelContext",
    "ChannelType",
    "ContactCardPart",
    "ContentPart",
    "CrmChanges",
    "CrmContext",
    "CrmField",
    "CrmRecord",
    "CrmType",
    "EmptyIsDefault",
    "GeneratedSecret",
    "HttpUrlCheck",
    "HttpUrlText",
    "InboundEvent",
    "InboundMessage",
    "LocationPart",
    "MediaPart",
    "OutboundAttachment",
    "OutboundMessage",
    "PermanentFailure",
    "PluginError",
    "PollResult",
    "ReactionPart",
    "RetryLater",
    "SenderProfile",
    "StatusUpdate",
    "StickerPart",
    "TextPart",
    "UnsupportedPart",
    "WebhookRejected",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookResult",
    "WindowClosed",
    "generated_secret",
    "hookimpl",
]
