"""A channel's routing and conversation defaults (also the connect wizard's second step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiMapping
from pydantic import ValidationError

from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import active_users, all_teams
from admin_ui.i18n import N_
from admin_ui.i18n import gettext as _
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import human_text
from hub import appkeys
from hub.api.bodies import validation_details
from hub.api.context import path_id
from hub.channels.admin import ChannelAdmin, ChannelChanges
from hub.channels.channel_queries import live_channel
from hub.errors import HubError
from hub.inbox.channel_settings import ChannelRouting, ChannelSettings
from hub.store.models import Channel

routes = web.RouteTableDef()
PATH = "/admin/channels/{channel_id}/routing"
NOBODY_CHOSEN = N_(
    "Choose at least one user or team to take turns, or pick another way to assign "
    "new conversations."
)


@dataclass
class RoutingForm:
    """What the routing form shows: the values (stored or typed) and any errors."""

    mode: str = "unassigned"
    user_ids: list[str] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)
    closed_conversation: str = "reopen"
    max_concurrency: str = ""
    rate_per_second: str = ""
    out_of_hours_reply: bool = False
    out_of_hours_text: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, channel: Channel) -> RoutingForm:
        """The channel's stored routing and settings, as the form shows them."""
        routing, settings = ChannelRouting.of(channel), ChannelSettings.of(channel)
        return cls(
            mode=routing.mode,
            user_ids=[str(i) for i in routing.user_ids],
            team_ids=[str(i) for i in routing.team_ids],
            closed_conversation=settings.closed_conversation,
            max_concurrency=_text(settings.max_concurrency),
            rate_per_second=_text(settings.rate_per_second),
            out_of_hours_reply=settings.out_of_hours_reply,
            out_of_hours_text=settings.out_of_hours_text or "",
        )

    @classmethod
    def posted(cls, form: MultiMapping[Any]) -> RoutingForm:
        """The values a submitted form carries, as typed."""
        return cls(
            mode=str(form.get("mode", "unassigned")),
            user_ids=_chosen(form, "user_ids"),
            team_ids=_chosen(form, "team_ids"),
            closed_conversation=str(form.get("closed_conversation", "reopen")),
            max_concurrency=str(form.get("max_concurrency", "")).strip(),
            rate_per_second=str(form.get("rate_per_second", "")).strip(),
            out_of_hours_reply=form.get("out_of_hours_reply") == "on",
            out_of_hours_text=str(form.get("out_of_hours_text", "")).strip(),
        )

    def validated(self) -> tuple[ChannelRouting, ChannelSettings] | None:
        """The routing and settings, or None with ``errors`` filled in."""
        routing = settings = None
        try:
            routing = ChannelRouting.model_validate(
                {
                    "mode": self.mode,
                    "user_ids": _ids(self.user_ids),
                    "team_ids": _ids(self.team_ids),
                }
            )
        except ValidationError as err:
            self._add(err)
        try:
            settings = ChannelSettings.model_validate(
                {
                    "closed_conversation": self.closed_conversation,
                    "max_concurrency": self.max_concurrency or None,
                    "rate_per_second": self.rate_per_second or None,
                    "out_of_hours_reply": self.out_of_hours_reply,
                    "out_of_hours_text": self.out_of_hours_text or None,
                }
            )
        except ValidationError as err:
            self._add(err)
        if self.out_of_hours_reply and not self.out_of_hours_text:
            self.errors["out_of_hours_text"] = _(
                "Write the reply to send, or untick the box above."
            )
        chosen = routing is not None and (routing.user_ids or routing.team_ids)
        if routing is not None and routing.mode == "round_robin" and not chosen:
            self.errors["user_ids"] = _(NOBODY_CHOSEN)
        if self.errors or routing is None or settings is None:
            return None
        return routing, settings

    def _add(self, err: ValidationError) -> None:
        for detail in validation_details(err):
            # "user_ids.0" → the field the form shows; the first message per field wins.
            name = detail["field"].split(".")[0]
            if name in ("", "body") and "out_of_hours_text" in detail["message"]:
                continue  # said beside the reply's text (``validated``)
            self.errors.setdefault(name, _friendly(name, detail["message"]))

    def add_service_error(self, err: HubError) -> None:
        """Put a 422 of the channel service beside the field it names."""
        for detail in err.details or [{"field": "", "message": err.message}]:
            name = str(detail["field"]).removeprefix("routing.").removeprefix("settings.")
            self.errors.setdefault(name or "mode", str(detail["message"]))


def _chosen(form: MultiMapping[Any], name: str) -> list[str]:
    return [str(v).strip() for v in form.getall(name, []) if str(v).strip()]


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _ids(values: list[str]) -> list[int | str]:
    # Ids stay text when they are not numbers, so validation names the field.
    return [int(v) if v.isdigit() and len(v) < 19 else v for v in values]


def _friendly(name: str, message: str) -> str:
    if name in ("user_ids", "team_ids"):
        return _("Choose from the list: one of the chosen entries does not exist.")
    if name == "max_concurrency":
        return _("Enter a whole number from 1 to 100, or leave it empty (%(reason)s).") % {
            "reason": human_text(message).lower()
        }
    if name == "rate_per_second":
        return _("Enter a number above 0, up to 10000, or leave it empty (%(reason)s).") % {
            "reason": human_text(message).lower()
        }
    return human_text(message)


async def _page(
    request: web.Request, channel: Channel, form: RoutingForm, status: int = 200
) -> web.Response:
    setup = request.query.get("setup") == "1"
    async with request.config_dict[appkeys.SESSIONS]() as db:
        users, teams = await active_users(db), await all_teams(db)
    context = {
        "section": "channels",
        "channel": channel,
        "form": form,
        "errors": form.errors,
        "users": users,
        "teams": teams,
        "setup": setup,
        "action": page_url(
            request,
            "admin.channel.routing",
            {"setup": "1" if setup else None},
            channel_id=channel.id,
        ),
    }
    return await render(request, "admin/channels/routing.html", context, status)


@routes.get(PATH, name="admin.channel.routing")
async def routing_form(request: web.Request) -> web.StreamResponse:
    """The routing form, filled with the channel's current routing and settings."""
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
    return await _page(request, channel, RoutingForm.of(channel))


@routes.post(PATH)
async def save_routing(request: web.Request) -> web.StreamResponse:
    """Validate and save the routing; show the form again with what to fix otherwise."""
    viewer = viewer_of(request)
    channel_id = path_id(request, "channel_id", "channel")
    async with request.config_dict[appkeys.SESSIONS]() as db:
        channel = await live_channel(db, channel_id)
    form = RoutingForm.posted(await request.post())
    valid = form.validated()
    if valid is None:
        return await _page(request, channel, form, 422)
    routing, settings = valid
    changes = ChannelChanges(routing=routing, settings=settings.model_dump())
    try:
        saved = await ChannelAdmin.of(request.config_dict).update(viewer, channel_id, changes)
    except HubError as err:
        if err.status != 422:
            raise
        form.add_service_error(err)
        return await _page(request, channel, form, 422)
    if request.query.get("setup") == "1":
        return redirect(
            request, page_url(request, "admin.channel.connected", channel_id=channel_id)
        )
    text = _("Routing of %(name)s saved.") % {"name": saved.channel.name}
    return redirect(
        request, page_url(request, "admin.channel", channel_id=channel_id), ("success", text)
    )
