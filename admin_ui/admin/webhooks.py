"""Outgoing webhooks: list them, create and edit them (URL, events, channel filter,
enabled, private addresses), show a new or rotated secret once, send a test event, read
a webhook's delivery log and redeliver, delete after a confirmation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from admin_ui import show_once
from admin_ui.access import viewer_of
from admin_ui.admin.people_forms import PAGE_SIZE, FormState, failed, id_list, text
from admin_ui.i18n import gettext as _
from admin_ui.paging import page_links
from admin_ui.rendering import redirect, render
from admin_ui.urls import page_url
from admin_ui.wording import validate_form
from hub import appkeys
from hub.api.context import path_id, work
from hub.api.schemas.webhooks_out import DeliveryQuery, WebhookCreateBody, WebhookPatchBody
from hub.channels import webhook_subscriptions as subs
from hub.channels.webhook_events import EVENT_TYPES
from hub.errors import HubError
from hub.store.models import Channel

routes = web.RouteTableDef()
HOOK = r"/admin/webhooks/{webhook_id:\d+}"
FIELDS = ("url", "description", "events", "channel_ids", "enabled", "allow_private")
COOKIE = "hub_webhook_secret"
SECRET_SECONDS = 300


def _retry_for(request: web.Request) -> timedelta:
    return timedelta(hours=request.config_dict[appkeys.SETTINGS].webhook_retry_hours)


def _wake(request: web.Request) -> None:
    worker = request.config_dict.get(appkeys.WEBHOOKS)
    if worker is not None:
        worker.wake.set()


async def _channels(request: web.Request) -> list[tuple[int, str]]:
    async with work(request) as w:
        rows = await w.db.execute(
            select(Channel.id, Channel.name)
            .where(Channel.deleted_at.is_(None))
            .order_by(Channel.name, Channel.id)
        )
        return [(row.id, row.name) for row in rows]


@routes.get("/admin/webhooks", name="admin.webhooks")
async def list_webhooks(request: web.Request) -> web.StreamResponse:
    """Every webhook: its URL, events, channels and whether it is on."""
    async with work(request) as w:
        rows = await subs.list_subscriptions(w.db)
    names = dict(await _channels(request))
    context = {"webhooks": rows, "channel_names": names, "section": "webhooks"}
    return await render(request, "admin/webhooks/list.html", context)


async def _form_page(
    request: web.Request, webhook_id: int | None, state: FormState | None = None, status: int = 200
) -> web.Response:
    hook = None
    if webhook_id is not None:
        async with work(request) as w:
            hook = await subs.get_subscription(w.db, webhook_id)
    if state is None:
        state = FormState(
            {
                "url": hook.url if hook else "",
                "description": (hook.description or "") if hook else "",
                "events": list(hook.events) if hook else ["message.created"],
                "channel_ids": list(hook.channel_ids) if hook else [],
                "enabled": hook.enabled if hook else True,
                "allow_private": hook.allow_private if hook else False,
            }
        )
    context = {
        "hook": hook,
        "event_types": EVENT_TYPES,
        "channels": await _channels(request),
        "values": state.values,
        "chosen_events": [str(v) for v in state.values.get("events", [])],  # type: ignore[attr-defined]
        "chosen_channels": [str(v) for v in state.values.get("channel_ids", [])],  # type: ignore[attr-defined]
        "errors": state.errors,
        "message": state.message,
        "section": "webhooks",
    }
    return await render(request, "admin/webhooks/form.html", context, status)


def _posted(form: Any) -> dict[str, object]:
    return {
        "url": text(form, "url"),
        "description": text(form, "description"),
        "events": [v for v in form.getall("events", []) if isinstance(v, str)],
        "channel_ids": id_list(form, "channel_ids"),
        "enabled": text(form, "enabled") == "on",
        "allow_private": text(form, "allow_private") == "on",
    }


def _secret_page(request: web.Request, webhook_id: int) -> str:
    return page_url(request, "admin.webhook.secret", webhook_id=webhook_id)


def _carry_secret(
    request: web.Request, response: web.StreamResponse, webhook_id: int, secret: str
) -> None:
    path = _secret_page(request, webhook_id)
    show_once.carry(
        request,
        response,
        cookie=COOKIE,
        path=path,
        bound_to={"webhook_id": webhook_id, "user_id": viewer_of(request).id},
        value=secret,
        max_age=SECRET_SECONDS,
    )


@routes.get("/admin/webhooks/new", name="admin.webhooks.new")
async def new_form(request: web.Request) -> web.StreamResponse:
    """The form to subscribe a URL to events."""
    return await _form_page(request, None)


@routes.post("/admin/webhooks/new")
async def create(request: web.Request) -> web.StreamResponse:
    """Create the webhook, then show its secret once."""
    viewer = viewer_of(request)
    values = _posted(await request.post())
    try:
        body = validate_form(WebhookCreateBody, values)
        async with work(request) as w:
            hook, secret = await subs.create_subscription(
                w,
                viewer,
                request.config_dict[appkeys.CIPHER],
                url=body.url,
                events=body.events,
                channel_ids=body.channel_ids,
                description=body.description,
                enabled=body.enabled,
                allow_private=body.allow_private,
            )
            hook_id = hook.id
    except HubError as err:
        return await _form_page(request, None, failed(err, values, FIELDS), err.status)
    response = redirect(
        request, _secret_page(request, hook_id), ("success", _("Created the webhook."))
    )
    _carry_secret(request, response, hook_id, secret)
    return response


@routes.get(HOOK + "/secret", name="admin.webhook.secret")
async def secret_page(request: web.Request) -> web.StreamResponse:
    """A new or rotated secret, shown this once (a reload no longer shows it)."""
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        hook = await subs.get_subscription(w.db, webhook_id)
    bound_to = {"webhook_id": webhook_id, "user_id": viewer_of(request).id}
    secret = show_once.take(request, cookie=COOKIE, bound_to=bound_to)
    context = {"hook": hook, "secret": secret, "section": "webhooks"}
    page = await render(request, "admin/webhooks/secret.html", context)
    show_once.forget(request, page, cookie=COOKIE, path=_secret_page(request, webhook_id))
    return page


@routes.get(HOOK, name="admin.webhook")
async def edit_form(request: web.Request) -> web.StreamResponse:
    """A webhook's page: change it, rotate its secret, send a test event."""
    return await _form_page(request, path_id(request, "webhook_id", "webhook"))


@routes.post(HOOK)
async def update(request: web.Request) -> web.StreamResponse:
    """Save the webhook."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    values = _posted(await request.post())
    try:
        body = validate_form(WebhookPatchBody, values)
        async with work(request) as w:
            await subs.update_subscription(w, viewer, webhook_id, body.changes())
    except HubError as err:
        if err.status == 404:
            raise
        return await _form_page(request, webhook_id, failed(err, values, FIELDS), err.status)
    _wake(request)
    return redirect(
        request, page_url(request, "admin.webhooks"), ("success", _("Saved the webhook."))
    )


@routes.post(HOOK + "/rotate", name="admin.webhook.rotate")
async def rotate(request: web.Request) -> web.StreamResponse:
    """Give the webhook a new secret and show it once."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        _hook, secret = await subs.rotate_secret(
            w, viewer, request.config_dict[appkeys.CIPHER], webhook_id
        )
    response = redirect(
        request, _secret_page(request, webhook_id), ("success", _("The webhook has a new secret."))
    )
    _carry_secret(request, response, webhook_id, secret)
    return response


@routes.post(HOOK + "/test", name="admin.webhook.test")
async def send_test(request: web.Request) -> web.StreamResponse:
    """Queue a test event to this webhook; its delivery log shows how it went."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        await subs.send_test(w, viewer, webhook_id, _retry_for(request))
    _wake(request)
    return redirect(
        request,
        page_url(request, "admin.webhook.deliveries", webhook_id=webhook_id),
        ("success", _("Sent a test event.")),
    )


@routes.get(HOOK + "/deliveries", name="admin.webhook.deliveries")
async def deliveries(request: web.Request) -> web.StreamResponse:
    """The delivery log, newest first: event, status, attempts, response code, next try."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    status = request.query.get("status") or None
    cursor = request.query.get("cursor") or None
    query = validate_form(DeliveryQuery, {"status": status, "cursor": cursor})
    async with work(request) as w:
        hook = await subs.get_subscription(w.db, webhook_id)
        rows, next_cursor = await subs.list_deliveries(
            w.db, viewer, webhook_id, status=query.status, cursor=query.cursor, limit=PAGE_SIZE
        )
    path = page_url(request, "admin.webhook.deliveries", webhook_id=webhook_id)
    context: dict[str, Any] = {
        "hook": hook,
        "deliveries": rows,
        "status": status or "",
        "section": "webhooks",
        **page_links(path, {"status": status}, next_cursor, cursor),
    }
    return await render(request, "admin/webhooks/deliveries.html", context)


@routes.post(HOOK + r"/deliveries/{delivery_id:\d+}/redeliver", name="admin.webhook.redeliver")
async def redeliver(request: web.Request) -> web.StreamResponse:
    """Send a delivery again now, with the same event id."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    delivery_id = path_id(request, "delivery_id", "delivery")
    log_page = page_url(request, "admin.webhook.deliveries", webhook_id=webhook_id)
    try:
        async with work(request) as w:
            await subs.redeliver(w, viewer, webhook_id, delivery_id, _retry_for(request))
    except HubError as err:
        if err.status == 404:
            raise
        return redirect(request, log_page, ("error", err.message))
    _wake(request)
    return redirect(
        request,
        log_page,
        ("success", _("Delivery %(num)s is being sent again.") % {"num": delivery_id}),
    )


@routes.get(HOOK + "/delete", name="admin.webhook.delete")
async def delete_confirm(request: web.Request) -> web.StreamResponse:
    """Ask before deleting a webhook."""
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        hook = await subs.get_subscription(w.db, webhook_id)
    context = {
        "heading": _("Delete this webhook?"),
        "message": _("The webhook to %(url)s will be deleted.") % {"url": hook.url},
        "details": [
            _("Its delivery log goes with it."),
            _("Events waiting to be delivered or retried are never sent."),
            _("To pause it instead, turn it off on its page."),
        ],
        "action": page_url(request, "admin.webhook.delete", webhook_id=webhook_id),
        "confirm_label": _("Delete webhook"),
        "cancel_url": page_url(request, "admin.webhook", webhook_id=webhook_id),
        "section": "webhooks",
    }
    return await render(request, "admin/confirm.html", context)


@routes.post(HOOK + "/delete")
async def delete(request: web.Request) -> web.StreamResponse:
    """Delete the webhook (after the confirmation page)."""
    viewer = viewer_of(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        await subs.delete_subscription(w, viewer, webhook_id)
    return redirect(
        request, page_url(request, "admin.webhooks"), ("success", _("Deleted the webhook."))
    )
