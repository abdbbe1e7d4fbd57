"""Connecting a channel when an admin saves it: the type must be available, and
``connect`` (which reaches the provider) must accept the config; each way it can fail
becomes the error the admin sees, never a 500."""

from __future__ import annotations

import logging

import httpx

from hub.channels.channel_config import PluginType
from hub.channels.registry import ChannelInstances
from hub.contract.errors import BadCredentials, PermanentFailure, RetryLater
from hub.errors import HubError
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.store.models import Channel

log = logging.getLogger(__name__)
PROVIDER = ("provider_unavailable", "provider")  # a channel's service, when unreachable


def require_available(kind: PluginType, field: str = "type", what: str = "channel") -> None:
    """422 ``type_not_available`` naming ``field`` for a channel (or CRM, ``what``) type
    whose plugin is not built yet (``available``): its ``connect`` must not run, let
    alone pass."""
    if not kind.available:
        message = "not available yet: its plugin is not built yet"
        raise HubError(
            422,
            "type_not_available",
            f"the {kind.title} {what} type is {message}",
            [{"field": field, "message": message}],
        )


def connect_failure(
    err: Exception, what: str, type_name: str, unreachable: tuple[str, str]
) -> HubError:
    """The error an admin sees when a plugin's ``connect`` raised ``err`` (call it in the
    ``except`` block): 422 for what they must fix (credentials refused, a permanent
    failure), 502 ``unreachable`` (code, service) when the service could not be reached,
    502 ``plugin_error`` for anything else: a plugin bug, logged, never a 500."""
    if isinstance(err, BadCredentials):
        return HubError(422, "bad_credentials", str(err) or "credentials refused")
    if isinstance(err, PermanentFailure):
        return HubError(422, "connect_failed", err.message)
    if isinstance(err, RetryLater | httpx.HTTPError):
        code, service = unreachable
        return HubError(502, code, f"the {service} could not be reached, try again later: {err}")
    log.exception("%s: connect raised", what)
    return HubError(502, "plugin_error", f"the {type_name} plugin failed: {type(err).__name__}")


async def connect(instances: ChannelInstances, channel: Channel) -> None:
    """Build ``channel``'s plugin object and call its ``connect``, each failure mapped to
    the ``HubError`` the admin sees (422 for what they must fix, 502 for the provider's
    or the plugin's failure)."""
    kind = instances.types.get(channel.type)
    if kind is not None:
        require_available(kind, "config")
    try:
        instance = instances.for_channel(channel)
        await instance.connect()
    except ChannelUnavailable as err:
        raise HubError(422, "validation_error", err.reason) from None
    except Exception as err:
        raise connect_failure(err, f"channel {channel.id}", channel.type, PROVIDER) from None
    finally:
        # The object was built from a config that may never be stored.
        instances.forget(channel.id)
