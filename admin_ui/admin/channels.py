"""Channels: the list, one channel's page, disable / enable / replay held, delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.flash import Level
from admin_ui.i18n import gettext as _
from admin_ui.i18n import ngettext
from admin_ui.paging import list_url, page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub import appkeys
from hub.api.bodies import validate
from hub.api.context import path_id
from hub.api.schemas.channels import ChannelQuery
from hub.channels.admin import ChannelAdmin, ChannelChanges
from hub.channels.channel_queries import list_channels, live_channel
from hub.channels.channel_stats import failed_deliveries, held_requests
from hub.channels.registry import webhook_url
from hub.errors import HubError
from hub.inbox.channel_plugins import ChannelUnavailable
from hub.inbox.channel_settings import ChannelRouting, ChannelSettings
from hub.store.models import Channel

routes = web.RouteTableDef()
ITEM = r"/admin/channels/{channel_id:\d+}"
LIST_PARAMS = ("sort", "type", "enabled", "cursor", "limit")


def type_title(request: web.Request, type_name: str) -> str:
    """A channel type's title; its bare name when the type is not installed."""
    found = request.config_dict[appkeys.CHANNELS].types.get(type_name)
    return found.title if found is not None else type_name


def state_of(request: web.Request, channel: Channel) -> tuple[str, str | None]:
    """What the status column shows: enabled, disabled, connecting or error, with why."""
    if channel.status == "error":
        return "error", channel.status_reason or _("the channel reported an error")
    if request.config_dict[appkeys.CHANNELS].types.get(channel.type) is None:
        return "error", _("its type %(type)s is not installed: install the plugin again") % {
            "type": repr(channel.type)
        }
    if not channel.enabled:
        return "disabled", None
    if channel.status == "connecting":
        return "connecting", None
    return "enabled", None


@dataclass(frozen=True)
class ChannelRow:
    """One channel as the list and its page show it."""

    channel: Channel
    type_title: str
    state: str
    reason: str | None
    failed: int
    held: int
    polls: bool = False

    @property
    def last_inbound_at(self) -> datetime | None:
        """When the channel last received anything."""
        return self.channel.last_inbound_at

    @property
    def last_polled_at(self) -> datetime | None:
        """When the hub last asked a polling channel's provider for news (written at
        most once a minute): an admin sees the mailbox is read even when nothing came."""
        return self.channel.last_polled_at


def polls(request: web.Request, channel: Channel) -> bool:
    """Whether the hub polls the channel (an email mailbox) rather than waiting for
    webhooks; False when its plugin cannot be built (the status says why)."""
    try:
        return request.config_dict[appkeys.CHANNELS].for_channel(channel).polls()
    except ChannelUnavailable:
        return False


def _row(request: web.Request, channel: Channel, failed: int, held: int) -> ChannelRow:
    state, reason = state_of(request, channel)
    title = type_title(request, channel.type)
    return ChannelRow(channel, title, state, reason, failed, held, polls(request, channel))


async def _channel_id(request: web.Request) -> tuple[int, Channel]:
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
    return channel_id, channel


@routes.get("/admin/channels", name="admin.channels")
async def channel_list(request: web.Request) -> web.StreamResponse:
    """The channels, a page at a time, with their status and delivery figures."""
    given = {key: request.query[key] for key in LIST_PARAMS if request.query.get(key)}
    query = validate(ChannelQuery, {"limit": 25, **given})
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channels, next_cursor = await list_channels(
            db,
            sort=query.sort,
            type_=query.type,
            enabled=query.enabled,
            include_deleted=False,
            cursor=query.cursor,
            limit=query.limit,
        )
        ids = [c.id for c in channels]
        failed = await failed_deliveries(db, ids)
        held = await held_requests(db, ids)
    rows = [_row(request, c, failed.get(c.id, 0), held.get(c.id, 0)) for c in channels]
    base = {k: v for k, v in given.items() if k != "cursor"}

    def url(**changes: str | None) -> str:
        return list_url(page_url(request, "admin.channels"), {**base, **changes})

    types = request.config_dict[appkeys.CHANNELS].types.all()
    context = {
        "section": "channels",
        "rows": rows,
        "filtered": bool(query.type or query.enabled is not None),
        "sort": query.sort,
        "filters": {"type": given.get("type", ""), "enabled": given.get("enabled", "")},
        "type_options": [("", _("All types"))] + [(n, t.title) for n, t in types.items()],
        "sort_urls": {"name": url(sort=None), "created": url(sort="created")},
        "clear_url": url(type=None, enabled=None),
        **page_links(page_url(request, "admin.channels"), base, next_cursor, query.cursor),
    }
    return await render(request, "admin/channels/list.html", context)


@routes.get(ITEM, name="admin.channel")
async def channel_page(request: web.Request) -> web.StreamResponse:
    """One channel: its facts and what can be done with it."""
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
        failed = (await failed_deliveries(db, [channel_id])).get(channel_id, 0)
        held = (await held_requests(db, [channel_id])).get(channel_id, 0)
    row = _row(request, channel, failed, held)
    context = {
        "section": "channels",
        "row": row,
        "channel": channel,
        "routing": ChannelRouting.of(channel),
        "settings": ChannelSettings.of(channel),
        "webhook_url": webhook_url(request.config_dict[appkeys.SETTINGS], channel_id),
    }
    return await render(request, "admin/channels/show.html", context)


@routes.get(f"{ITEM}/disable", name="admin.channel.disable")
async def disable_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before disabling, saying what happens to messages arriving meanwhile."""
    channel_id, channel = await _channel_id(request)
    page = page_url(request, "admin.channel", channel_id=channel_id)
    if not channel.enabled:
        return redirect(
            request, page, ("info", _("%(name)s is disabled already.") % {"name": channel.name})
        )
    context = {
        "section": "channels",
        "heading": _("Disable %(name)s?") % {"name": channel.name},
        "message": _("%(name)s stops working until you enable it again.") % {"name": channel.name},
        "details": [
            _("Nothing is sent through it: replies agents write wait until it is enabled."),
            _(
                "Messages the provider delivers meanwhile are held in the inbound log; the "
                "provider is told they arrived (2xx), so it does not retry or give up."
            ),
            _(
                "After enabling it you can replay what was held, and those messages reach "
                "the inbox then, each once."
            ),
        ],
        "action": page_url(request, "admin.channel.disable", channel_id=channel_id),
        "confirm_label": _("Disable channel"),
        "cancel_url": page,
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(f"{ITEM}/disable")
async def disable(request: web.Request) -> web.StreamResponse:
    """Disable the channel: it keeps receiving webhooks and holds them."""
    viewer = viewer_of(request)
    channel_id = path_id(request, "channel_id", "channel")
    saved = await ChannelAdmin.of(request.config_dict).update(
        viewer, channel_id, ChannelChanges(enabled=False)
    )
    text = _("%(name)s is disabled. Messages arriving now are held; enable it to replay them.") % {
        "name": saved.channel.name
    }
    return redirect(
        request, page_url(request, "admin.channel", channel_id=channel_id), ("success", text)
    )


@routes.post(f"{ITEM}/enable", name="admin.channel.enable")
async def enable(request: web.Request) -> web.StreamResponse:
    """Enable the channel again and say how many held requests wait for a replay."""
    viewer = viewer_of(request)
    channel_id = path_id(request, "channel_id", "channel")
    saved = await ChannelAdmin.of(request.config_dict).update(
        viewer, channel_id, ChannelChanges(enabled=True)
    )
    async with request.config_dict[appkeys.SESSIONS]() as db:
        held = (await held_requests(db, [channel_id])).get(channel_id, 0)
    name = saved.channel.name
    if held:
        text = ngettext(
            "%(name)s is enabled. %(num)d request arrived while it was disabled and is held: "
            "use “Replay held” to bring it into the inbox.",
            "%(name)s is enabled. %(num)d requests arrived while it was disabled and are "
            "held: use “Replay held” to bring them into the inbox.",
            held,
        ) % {"name": name, "num": held}
    else:
        text = _("%(name)s is enabled. Nothing arrived while it was disabled.") % {"name": name}
    return redirect(
        request, page_url(request, "admin.channel", channel_id=channel_id), ("success", text)
    )


@routes.post(f"{ITEM}/replay-held", name="admin.channel.replay_held")
async def replay_held(request: web.Request) -> web.StreamResponse:
    """Replay what the channel held while disabled; say what became of it."""
    channel_id = path_id(request, "channel_id", "channel")
    page = page_url(request, "admin.channel", channel_id=channel_id)
    try:
        counts = await request.config_dict[appkeys.INBOUND].replay_held(channel_id)
    except HubError as err:
        if err.status != 409:
            raise
        return redirect(
            request,
            page,
            ("error", _("Nothing was replayed: %(reason)s.") % {"reason": err.message}),
        )
    if not counts.entries and not counts.failed:
        return redirect(request, page, ("info", _("Nothing was held: there is nothing to replay.")))
    text = " ".join(
        (
            ngettext(
                "Replayed %(num)d held request:", "Replayed %(num)d held requests:", counts.entries
            )
            % {"num": counts.entries},
            ngettext(
                "%(num)d new event stored, %(duplicates)d already in the inbox.",
                "%(num)d new events stored, %(duplicates)d already in the inbox.",
                counts.stored,
            )
            % {"num": counts.stored, "duplicates": counts.duplicates},
        )
    )
    if counts.unknown:
        text += " " + _("%(num)d status update(s) were for no message of ours.") % {
            "num": counts.unknown
        }
    level: Level = "success"
    if counts.failed:
        level = "warning"
        reasons = "; ".join(str(f["message"]) for f in counts.failures[:3])
        text += " " + _("%(num)d could not be replayed: %(reasons)s.") % {
            "num": counts.failed,
            "reasons": reasons,
        }
    return redirect(request, page, (level, text))


@routes.get(f"{ITEM}/delete", name="admin.channel.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting, naming the channel and saying what deleting does."""
    channel_id, channel = await _channel_id(request)
    page = page_url(request, "admin.channel", channel_id=channel_id)
    context = {
        "section": "channels",
        "heading": _("Delete %(name)s?") % {"name": channel.name},
        "message": _("Delete the channel %(name)s (%(type)s).")
        % {"name": channel.name, "type": type_title(request, channel.type)},
        "details": [
            _("Its conversations and messages stay in the inbox, readable as before."),
            _("It stops sending and receiving: replies can no longer go out through it."),
            _(
                "The provider's webhook calls to it are refused from now on (404); remove the "
                "webhook at the provider too."
            ),
            _("This cannot be undone: to use the account again, connect a new channel."),
        ],
        "action": page_url(request, "admin.channel.delete", channel_id=channel_id),
        "confirm_label": _("Delete channel"),
        "cancel_url": page,
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(f"{ITEM}/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the channel and go back to the list."""
    viewer = viewer_of(request)
    channel_id, channel = await _channel_id(request)
    await ChannelAdmin.of(request.config_dict).delete(viewer, channel_id)
    text = _("%(name)s is deleted. Its conversations stay readable in the inbox.") % {
        "name": channel.name
    }
    return redirect(request, page_url(request, "admin.channels"), ("success", text))
