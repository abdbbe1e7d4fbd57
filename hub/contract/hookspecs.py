"""Hook specifications of the ``hub`` plugin project.

Every hook here is documented in ``docs/plugins.md`` with its exact signature and has a
``test_hook_<name>`` test; ``tests/test_plugin_docs.py`` fails the suite otherwise.

Hooks are grouped by the phase in which the core calls them. A hook marked
``firstresult`` stops at the first implementation that returns something other than
``None``; the others collect every implementation's answer. Where a hook may return an
awaitable, the core awaits it; a ``firstresult`` hook must never be implemented with
``async def`` (a coroutine is never ``None``, so it would always win): decline with a
plain ``None``, or return an awaitable once the plugin has decided to answer.
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
from hub.contract.routing import Assignee, NewConversation

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


# -------------------------------------------------------------------------------------
# Startup: registration
# -------------------------------------------------------------------------------------
#
# Called once, synchronously, while the plugin manager loads (before the hub serves).


@hookspec
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:  # type: ignore[empty-body]
    """Return the channel types this plugin provides.

    Called once when the plugin manager loads. An invalid item (not a ``ChannelType``
    subclass, no ``name``/``title``/``description``/``logo``, no pydantic ``Config``, a
    name already taken) marks the plugin broken (reported in the log and ``hub plugins
    list``) without stopping the hub; so does an ``async def`` implementation.

    :return: a list of ``ChannelType`` subclasses, each with a unique ``name``; an empty
        list when the plugin provides none.
    """


@hookspec
def hub_register_crm_types() -> list[type[CrmType[Any]]]:  # type: ignore[empty-body]
    """Return the CRM types this plugin provides.

    Same rules as ``hub_register_channel_types``, for ``CrmType`` subclasses.

    :return: a list of ``CrmType`` subclasses, each with a unique ``name``; an empty list
        when the plugin provides none.
    """


# -------------------------------------------------------------------------------------
# Inbound: a contact's message became a conversation
# -------------------------------------------------------------------------------------
#
# Called inside the inbound transaction: an implementation must be quick, and what it
# answers is committed with the message.


@hookspec(firstresult=True)
def hub_route_conversation(
    conversation: NewConversation, candidates: tuple[Assignee, ...]
) -> Assignee | Awaitable[Assignee | None] | None:
    """Choose who gets a conversation just created by a contact's first message.

    The core's own rule (the channel's round robin) is a built-in
    implementation marked ``trylast``, so any plugin's answer comes first. Not called for
    a blocked contact's conversation. An answer naming no active user, or a team that
    does not exist, is logged and leaves the conversation unassigned; an exception is
    logged and the core's rule decides instead.

    :param conversation: the new conversation, its channel's routing mode and who the
        channel's round robin picked last.
    :param candidates: the active, available agents the channel's routing names (its
        users, and the members of its teams with the team they were reached through),
        in user id order; empty unless the mode is ``round_robin``.
    :return: the ``Assignee`` to assign it to, an awaitable resolving to one (or to
        ``None``: leave it unassigned), or ``None`` to let the next implementation
        decide. Stops at the first non-``None`` result.
    """


# -------------------------------------------------------------------------------------
# Observers: after a change is committed
# -------------------------------------------------------------------------------------
#
# An observer may be a plain function or a coroutine function. It runs after the change
# is committed and after the provider was answered, in the background: a slow observer
# delays nothing, and an exception is logged with the plugin's name and never reaches the
# pipe or the other observers. Its return value is ignored.


@hookspec
def hub_message_received(notice: MessageReceived) -> Awaitable[None] | None:
    """A contact's message was stored: for auto-replies, bots and AI helpers.

    Called once per stored message; not for a provider's re-delivery (a duplicate), nor
    for an event a disabled channel holds (it is called when the event is replayed).

    :param notice: the stored message, normalized, with the hub's ids of its channel,
        conversation, message and contact, and whether the conversation is new.
    :return: nothing, or an awaitable the core awaits in the background.
    """


@hookspec
def hub_message_sent(notice: MessageSent) -> Awaitable[None] | None:
    """The provider accepted an agent's message (the outbox stored its provider id).

    :param notice: the message's ids and the provider's id for it.
    :return: nothing, or an awaitable the core awaits in the background.
    """


@hookspec
def hub_message_failed(notice: MessageFailed) -> Awaitable[None] | None:
    """An agent's message failed for good: refused by the provider or dead-lettered.

    :param notice: the message's ids, the reason and code, and whether it was
        dead-lettered after its last attempt.
    :return: nothing, or an awaitable the core awaits in the background.
    """


@hookspec
def hub_message_status(notice: MessageStatusChanged) -> Awaitable[None] | None:
    """A provider reported that an agent's message was sent, delivered, read or failed.

    Called only for a status that moves the message forward (a late ``delivered`` after
    ``read`` is not reported).

    :param notice: the message's ids and its new ``status``.
    :return: nothing, or an awaitable the core awaits in the background.
    """


# -------------------------------------------------------------------------------------
# Conversations
# -------------------------------------------------------------------------------------


@hookspec
def hub_conversation_updated(notice: ConversationUpdated) -> Awaitable[None] | None:
    """A conversation was created, assigned, closed, reopened, snoozed, … (an observer).

    :param notice: the conversation's id, the ``change`` (its timeline event kind), who
        made it (``None``: the hub) and the event's data.
    :return: nothing, or an awaitable the core awaits in the background.
    """


# -------------------------------------------------------------------------------------
# CRM
# -------------------------------------------------------------------------------------
#
# No hooks yet: CRM types are registered at startup (``hub_register_crm_types``) and
# called by the core's sync engine through the ``CrmType`` methods.
