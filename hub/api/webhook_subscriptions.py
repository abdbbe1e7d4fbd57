"""Outgoing webhooks (event subscriptions): owners and managers subscribe URLs to
events, read each one's delivery log, redeliver, and send a test event. Deliveries are
signed and retried for a day (``docs/api/webhooks-out.md``)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from hub import appkeys
from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.webhooks_out import (
    DeliveryOut,
    DeliveryQuery,
    EventTypeOut,
    WebhookCreateBody,
    WebhookOut,
    WebhookPatchBody,
    WebhookWithSecretOut,
)
from hub.channels import webhook_subscriptions as subs
from hub.channels.webhook_events import EVENT_TYPES

api = ApiRoutes("webhooks")
ITEM = "/api/v1/webhooks/{webhook_id}"
DELIVERY = ITEM + "/deliveries/{delivery_id}"


def _retry_for(request: web.Request) -> timedelta:
    return timedelta(hours=request.config_dict[appkeys.SETTINGS].webhook_retry_hours)


def _wake(request: web.Request) -> None:
    worker = request.config_dict.get(appkeys.WEBHOOKS)
    if worker is not None:
        worker.wake.set()


@api.get("/api/v1/webhooks/event-types", response=Page[EventTypeOut], errors=(403,))
async def event_types(request: web.Request) -> web.Response:
    """The event types a webhook may subscribe to."""
    subs.require_admin(await current_viewer(request))
    return json_items([EventTypeOut(type=t, description=d) for t, d in EVENT_TYPES.items()])


@api.get("/api/v1/webhooks", response=Page[WebhookOut], errors=(403,))
async def list_(request: web.Request) -> web.Response:
    """Every webhook subscription (owners and managers)."""
    subs.require_admin(await current_viewer(request))
    async with work(request) as w:
        rows = await subs.list_subscriptions(w.db)
        out = [WebhookOut.of(row) for row in rows]
    return json_items(out)


@api.post(
    "/api/v1/webhooks",
    body=WebhookCreateBody,
    response=WebhookWithSecretOut,
    status=201,
    errors=(403, 409),
)
async def create(request: web.Request) -> web.Response:
    """Subscribe a URL to events (owners and managers). The answer carries the signing
    secret, shown only now. 422 naming `url` when it reaches a private address and
    `allow_private` is not set."""
    viewer = await current_viewer(request)
    body = await read_json(request, WebhookCreateBody)
    async with work(request) as w:
        row, secret = await subs.create_subscription(
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
        out = WebhookWithSecretOut(**WebhookOut.of(row).model_dump(), secret=secret)
    return json_model(out, 201)


@api.get(ITEM, response=WebhookOut, errors=(403,))
async def get(request: web.Request) -> web.Response:
    """One webhook subscription."""
    subs.require_admin(await current_viewer(request))
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        out = WebhookOut.of(await subs.get_subscription(w.db, webhook_id))
    return json_model(out)


@api.patch(ITEM, body=WebhookPatchBody, response=WebhookOut, errors=(403,))
async def update(request: web.Request) -> web.Response:
    """Change a webhook: its URL, events, channels, description, enabled, private
    addresses. Disabled, its pending deliveries wait until it is enabled again."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    body = await read_json(request, WebhookPatchBody)
    async with work(request) as w:
        row = await subs.update_subscription(w, viewer, webhook_id, body.changes())
        out = WebhookOut.of(row)
    _wake(request)
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a webhook and its delivery log; its pending deliveries are never sent."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        await subs.delete_subscription(w, viewer, webhook_id)
    return web.Response(status=204)


@api.post(ITEM + "/rotate-secret", response=WebhookWithSecretOut, errors=(403,))
async def rotate(request: web.Request) -> web.Response:
    """Give a webhook a new signing secret (in the answer, shown only now); every
    delivery from now on, retries included, is signed with it."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        row, secret = await subs.rotate_secret(
            w, viewer, request.config_dict[appkeys.CIPHER], webhook_id
        )
        out = WebhookWithSecretOut(**WebhookOut.of(row).model_dump(), secret=secret)
    return json_model(out)


@api.post(ITEM + "/test", response=DeliveryOut, status=202, errors=(403,))
async def test(request: web.Request) -> web.Response:
    """Send a `webhook.test` event to this webhook alone; its delivery is in the log
    like any other."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    async with work(request) as w:
        row = await subs.send_test(w, viewer, webhook_id, _retry_for(request))
        out = DeliveryOut.of(row)
    _wake(request)
    return json_model(out, 202)


@api.get(ITEM + "/deliveries", query=DeliveryQuery, response=Page[DeliveryOut], errors=(403,))
async def deliveries(request: web.Request) -> web.Response:
    """A webhook's delivery log, newest first: event, status, attempts, the last
    response code, the next attempt."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    query = read_query(request, DeliveryQuery)
    async with work(request) as w:
        rows, next_cursor = await subs.list_deliveries(
            w.db, viewer, webhook_id, status=query.status, cursor=query.cursor, limit=query.limit
        )
        out = [DeliveryOut.of(row) for row in rows]
    return json_items(out, next_cursor)


@api.get(DELIVERY, response=DeliveryOut, errors=(403,))
async def delivery(request: web.Request) -> web.Response:
    """One delivery, with the envelope it sends."""
    subs.require_admin(await current_viewer(request))
    webhook_id = path_id(request, "webhook_id", "webhook")
    delivery_id = path_id(request, "delivery_id", "delivery")
    async with work(request) as w:
        out = DeliveryOut.of(await subs.get_delivery(w.db, webhook_id, delivery_id))
    return json_model(out)


@api.post(DELIVERY + "/redeliver", response=DeliveryOut, status=202, errors=(403, 409))
async def redeliver(request: web.Request) -> web.Response:
    """Send a delivery again now, with the same event id, whatever its status; retried
    for another day if it fails. 409 while an attempt of it is in flight."""
    viewer = await current_viewer(request)
    webhook_id = path_id(request, "webhook_id", "webhook")
    delivery_id = path_id(request, "delivery_id", "delivery")
    async with work(request) as w:
        row = await subs.redeliver(w, viewer, webhook_id, delivery_id, _retry_for(request))
        out = DeliveryOut.of(row)
    _wake(request)
    return json_model(out, 202)
