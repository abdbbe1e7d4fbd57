"""What the "New conversation" dialog needs from the server: the live channels, which of
them can reach a contact at a new address (their plugin implements ``address_of``) and
which need a template to write first; and a channel's template picker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from admin_ui.access import viewer_of
from admin_ui.i18n import gettext as _
from admin_ui.rendering import render_fragment
from hub import appkeys
from hub.api.context import path_id, work
from hub.channels.agent_signals import list_templates
from hub.contract.models import MessageTemplate
from hub.errors import HubError, NotFound
from hub.events.work import Work
from hub.inbox.channel_plugins import ChannelPlugins, ChannelUnavailable
from hub.store.models import Channel

routes = web.RouteTableDef()


@dataclass(frozen=True)
class DialogChannel:
    """An enabled channel as the dialog offers it."""

    id: int
    name: str
    title: str
    writes_first: bool
    """Its plugin reads an address an agent types (``address_of``)."""
    needs_template: bool
    """It has templates and a customer-service window: a contact who has not written
    within the window (anyone at a new address) is written to with a template."""


async def live_channels(w: Work) -> list[Channel]:
    """Every channel not deleted, by name: the inbox page reads them once for the new
    conversation dialog, the custom inbox dialog and its empty list."""
    rows = await w.db.scalars(
        select(Channel).where(Channel.deleted_at.is_(None)).order_by(Channel.name, Channel.id)
    )
    return list(rows)


def dialog_channels(live: Sequence[Channel], channels: ChannelPlugins) -> list[DialogChannel]:
    """The enabled ones of the ``live`` channels, in their order; one whose plugin
    cannot be built is left out, as nothing could be sent on it."""
    found: list[DialogChannel] = []
    for channel in live:
        if not channel.enabled:
            continue
        try:
            plugin = channels.for_channel(channel)
        except ChannelUnavailable:
            continue
        caps = plugin.capabilities
        needs_template = caps.templates and caps.window_hours is not None
        writes_first = plugin.supports("address_of")
        found.append(
            DialogChannel(channel.id, channel.name, plugin.title, writes_first, needs_template)
        )
    return found


@routes.get("/inbox/channels/{channel_id}/templates", name="inbox.channel_templates")
async def channel_templates(request: web.Request) -> web.StreamResponse:
    """A channel's template picker for the dialog (ids prefixed ``new-``); the
    provider's refusal or absence is said in the fragment, not as an error page."""
    viewer_of(request)
    channel_id = path_id(request, "channel_id", "channel")
    plugins = request.config_dict[appkeys.CHANNELS]
    async with work(request) as w:
        channel = await w.db.get(Channel, channel_id)
        if channel is None or channel.deleted_at is not None:
            raise NotFound("channel")
        name = channel.name
        problem: str | None = None
        try:
            has_templates = plugins.for_channel(channel).capabilities.templates
        except ChannelUnavailable as err:
            has_templates, problem = False, f"{name} cannot be used: {err.reason}"
        if not has_templates and problem is None:
            problem = f"{name} has no message templates."
    found: list[MessageTemplate] = []
    if has_templates:
        try:
            # Asked with no database session open: the provider may be slow.
            found = await list_templates(request.config_dict[appkeys.SESSIONS], plugins, channel_id)
        except HubError as err:
            problem = _("The templates could not be loaded: %(error)s") % {"error": err.message}
    context = {"prefix": "new-", "channel_name": name, "templates": found, "problem": problem}
    return await render_fragment(request, "inbox/_composer_templates.html", context)
