"""Dead letters: outbound messages that failed for good; retry one or all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from admin_ui.admin.logs_filters import (
    Filters,
    back_to,
    channel_label,
    channel_names,
    channel_options,
    read_filters,
)
from admin_ui.i18n import N_, ngettext
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from hub.api.context import path_id, work
from hub.api.schemas.outbox import OutboxQuery
from hub.channels.outbox_admin import (
    RETRYABLE,
    OutboxStatus,
    count_retryable,
    delivery_contexts,
    list_outbox,
    retry_all,
    retry_delivery,
)
from hub.errors import HubError

routes = web.RouteTableDef()
LIST = "/admin/dead-letters"
FILTERS = ("channel_id", "status", "cursor")
STATUS_OPTIONS = [
    ("", N_("Dead and failed")),
    ("dead", N_("Dead: gave up after every retry")),
    ("failed", N_("Failed: refused, or not sendable")),
]


def _filters(values: Mapping[str, Any]) -> Filters:
    """The page's filters, validated by the REST API's outbox query; only the two
    retryable states are dead letters."""
    filters = read_filters(values, OutboxQuery, FILTERS)
    if filters.query is not None and filters.query.status not in (None, *RETRYABLE):
        filters.errors["status"] = _("choose dead or failed")
        filters.query = None
    return filters


def _statuses(filters: Filters) -> tuple[OutboxStatus, ...]:
    return RETRYABLE if filters.query.status is None else (filters.query.status,)


def _count(n: int) -> str:
    return ngettext("%(num)d delivery", "%(num)d deliveries", n) % {"num": n}


@routes.get(LIST, name="admin.dead_letters")
async def letters(request: web.Request) -> web.StreamResponse:
    """Dead and failed deliveries, newest first, with who they were for and why they
    failed; filtered by channel and state; paged."""
    filters = _filters(request.query)
    rows: list[Any] = []
    next_cursor = None
    async with work(request) as w:
        channels = await channel_names(w)
        if filters.query is not None:
            items, next_cursor = await list_outbox(
                w,
                statuses=_statuses(filters),
                channel_id=filters.query.channel_id,
                cursor=filters.query.cursor,
                limit=25,
            )
            contexts = await delivery_contexts(w, [item.message_id for item, _status in items])
            rows = [
                {
                    "item": item,
                    "conversation_id": conversation_id,
                    "context": contexts.get(item.message_id),
                    "channel": channel_label(channels.get(item.channel_id), item.channel_id),
                }
                for item, conversation_id in items
            ]
    listed = page_url(request, "admin.dead_letters")
    here = filters.url(listed)
    context = {
        "filters": filters,
        "rows": rows,
        "channel_options": channel_options(channels),
        "status_options": [(value, _(label)) for value, label in STATUS_OPTIONS],
        "here": here,
        "retry_all_url": filters.url(
            page_url(request, "admin.dead_letters.retry_all"), cursor=None
        ),
        **page_links(listed, filters.values, next_cursor, filters.values["cursor"]),
    }
    status = 422 if filters.errors else 200
    return await render(request, "admin/dead_letters/list.html", context, status)


@routes.post(LIST + "/{item_id}/retry", name="admin.dead_letter.retry")
async def retry_one(request: web.Request) -> web.StreamResponse:
    """Queue one dead or failed delivery again; one in another state is a notice."""
    item_id = path_id(request, "item_id", "outbox item")
    back = back_to((await request.post()).get("back"), page_url(request, "admin.dead_letters"))
    try:
        async with work(request) as w:
            await retry_delivery(w, item_id)
    except HubError as err:
        if err.status != 409:
            raise
        return redirect(
            request,
            back,
            (
                "error",
                _("Delivery #%(id)d was not retried: %(reason)s.")
                % {"id": item_id, "reason": err.message},
            ),
        )
    text = _("Delivery #%(id)d is queued again; it is tried at once.") % {"id": item_id}
    return redirect(request, back, ("success", text))


@routes.get(LIST + "/retry-all", name="admin.dead_letters.retry_all")
async def retry_all_confirm(request: web.Request) -> web.StreamResponse:
    """Ask first, saying how many deliveries "Retry all" would queue again."""
    filters = _filters(request.query)
    back = filters.url(page_url(request, "admin.dead_letters"), cursor=None)
    if filters.query is None:
        return redirect(request, back, ("error", _("Fix the filters first.")))
    async with work(request) as w:
        channels = await channel_names(w)
        count = await count_retryable(
            w, channel_id=filters.query.channel_id, statuses=_statuses(filters)
        )
    if count == 0:
        return redirect(request, back, ("info", _("There is nothing to retry.")))
    channel_id = filters.query.channel_id
    details = [
        _("Each is tried again at once, its attempts counted from zero."),
        _("Its message shows as pending to agents until it is sent, or fails again."),
    ]
    if channel_id is not None:
        details.append(
            _("Only deliveries of %(channel)s.")
            % {"channel": channel_label(channels.get(channel_id), channel_id)}
        )
    context = {
        "heading": _("Retry all dead letters?"),
        "message": _("%(deliveries)s will be queued again.") % {"deliveries": _count(count)},
        "details": details,
        "action": page_url(request, "admin.dead_letters.retry_all"),
        "confirm_label": _("Queue %(deliveries)s again") % {"deliveries": _count(count)},
        "cancel_url": back,
        "fields": {k: v for k, v in filters.values.items() if v and k != "cursor"},
        "danger": False,
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(LIST + "/retry-all")
async def retry_all_now(request: web.Request) -> web.StreamResponse:
    """Queue every dead letter matching the filters again; say how many."""
    filters = _filters(await request.post())
    back = filters.url(page_url(request, "admin.dead_letters"), cursor=None)
    if filters.query is None:
        return redirect(request, back, ("error", _("Fix the filters first.")))
    async with work(request) as w:
        count = await retry_all(w, channel_id=filters.query.channel_id, statuses=_statuses(filters))
    if count == 0:
        return redirect(request, back, ("info", _("There was nothing to retry.")))
    return redirect(
        request,
        back,
        ("success", _("%(deliveries)s queued again.") % {"deliveries": _count(count)}),
    )
