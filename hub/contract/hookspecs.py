"""Hook specifications of the ``hub`` plugin project.

Every hook here is documented in ``docs/plugins.md`` with its exact signature and has a
``test_hook_<name>`` test; ``tests/test_plugin_docs.py`` fails the suite otherwise.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pluggy

from hub.contract.channel import ChannelType
from hub.contract.crm import CrmType
from hub.contract.notices import (
    ConversationUpdated,
    MessageFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
)

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


# --- startup: registration -----------------------------------------------------------


@hookspec
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:  # type: ignore[empty-body]
    """Return the channel types this plugin provides.

    Called once when the plugin manager loads. Each item must be a ``ChannelType``
    subclass with a unique ``name`` and a pydantic ``Config``; an invalid one marks the
    plugin broken (reported in the log and ``hub plugins list``) without stopping the hub.
    """


@hookspec
def hub_register_crm_types() -> list[type[CrmType[Any]]]:  # type: ignore[empty-body]
    """Return the CRM types this plugin provides.

    Same rules as ``hub_register_channel_types``, for ``CrmType`` subclasses.
    """


# --- observers: after a change is committed ----------------------------------------------
#
# An observer may be a plain function or a coroutine function. It runs after the change
# is committed and after the provider was answered, in the background: a slow observer
# delays nothing, and an exception is logged with the plugin's name and never reaches the
# pipe or the other observers.


@hookspec
def hub_message_received(notice: MessageReceived) -> Awaitable[None] | None:
    """A contact's message was stored: for auto-replies, bots and AI helpers.

    Called once per stored message; not for a provider's re-delivery (a duplicate), nor
    for an event a disabled channel holds (it is called when the event is replayed).
    """


@hookspec
def hub_message_sent(notice: MessageSent) -> Awaitable[None] | None:
    """The provider accepted an agent's message (the outbox stored its provider id)."""


@hookspec
def hub_message_failed(notice: MessageFailed) -> Awaitable[None] | None:
    """An agent's message failed for good: refused by the provider or dead-lettered."""


@hookspec
def hub_message_status(notice: MessageStatusChanged) -> Awaitable[None] | None:
    """A provider reported that an agent's message was delivered, read or failed."""


@hookspec
def hub_conversation_updated(notice: ConversationUpdated) -> Awaitable[None] | None:
    """A conversation was created, assigned, closed, reopened, snoozed, …"""
