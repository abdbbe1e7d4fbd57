"""Connecting a channel when an admin saves it: the type must be available, and
``connect`` (which reaches the provider) must accept the config; each way it can fail
becomes the error the admin sees, never a 500."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from hub.channels.registry import ChannelInstances
from hub.contract.channel import ChannelType
from hub.contract.errors import BadCredentials, PermanentFailure, RetryLater
from hub.errors import HubError
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.store.models import Channel

log = logging.getLogger(__name__)


def require_available(kind: type[ChannelType[Any]], field: str = "type") -> None:
    """422 ``type_not_available`` naming ``field`` for a type whose plugin is not built
    yet (``ChannelType.available``): its ``connect`` must not run, let alone pass."""
    if not kind.available:
        message = "not available yet: its plugin is not built yet"
        raise HubError(
            422,
            "type_not_available",
            f"the {kind.title} channel type is {message}",
            [{"field": field, "message": message}],
        )


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
    except BadCredentials as err:
        raise HubError(422, "bad_credentials", str(err) or "credentials refused") from None
    except PermanentFailure as err:
        raise HubError(422, "connect_failed", err.message) from None
    except (RetryLater, httpx.HTTPError) as err:
        raise HubError(
            502,
            "provider_unavailable",
            f"the provider could not be reached, try again later: {err}",
        ) from None
    except Exception as err:  # a plugin bug is the plugin's failure, never a 500
        log.exception("channel %s: connect raised", channel.id)
        raise HubError(
            502, "plugin_error", f"the {channel.type} plugin failed: {type(err).__name__}"
        ) from None
    finally:
        # The object was built from a config that may never be stored.
        instances.forget(channel.id)
