"""The demo's loopback service: where the demo channels POST agent replies.

It plays the bridged service and its customer: it verifies the hub's signature with the
channel's secret, answers the reply with an id (so it shows as sent), and a moment
later posts, signed, a "delivered" and a "read" status and the customer's answer to the
channel's webhook, the way a real service would.

Only a hub with the demo marker (``hub demo`` wrote it) answers at ``/demo/echo``, and
only for the channels it names; every other hub answers 404 as for any unknown path.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp import web
from sqlalchemy import select

from hub import appkeys
from hub.demo.customer import body_of, message_event, signed_headers, status_event, verify
from hub.demo.marker import read_marker
from hub.store.models import Channel, Contact, Conversation
from hub.store.types import utcnow

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
ECHO_PATH = "/demo/echo"
DELIVERED_AFTER = 0.5
ANSWER_AFTER = 2.0
ANSWERS = (
    "Thanks, that helps! 🙏",
    "Great, I'll wait for it then.",
    "Perfect — one more question: do you ship on weekends?",
    "Got it. Have a nice day!",
)


def echo_url(base_url: str) -> str:
    """The echo's URL on a hub reached at ``base_url`` (a demo channel's outbound URL)."""
    return base_url.rstrip("/") + ECHO_PATH


def _reply_of(raw: bytes) -> tuple[int, int, str]:
    """The conversation id, message id and recipient of a reply; ValueError if it is
    not one."""
    try:
        reply: Any = json.loads(raw)
        return (
            int(reply["conversation_id"]),
            int(reply["id"]),
            str(reply["recipient"]["id"]),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError("not a custom-channel reply") from err


@routes.post(ECHO_PATH)
async def echo(request: web.Request) -> web.Response:
    """Take a reply to a demo channel's customer; answer it a moment later."""
    settings = request.config_dict[appkeys.SETTINGS]
    marker = read_marker(settings)
    if marker is None:
        raise web.HTTPNotFound()
    raw = await request.read()
    try:
        conversation_id, message_id, recipient = _reply_of(raw)
    except ValueError:
        return web.json_response({"error": "not a reply of a demo channel"}, status=400)
    async with request.config_dict[appkeys.SESSIONS]() as db:
        found = (
            await db.execute(
                select(Channel, Contact.name)
                .join(Conversation, Conversation.channel_id == Channel.id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Conversation.id == conversation_id)
            )
        ).first()
    if found is None or found[0].id not in marker.channel_ids:
        raise web.HTTPNotFound()
    channel, contact_name = found
    config = request.config_dict[appkeys.CHANNELS].config_of(channel)
    secret = config.signing_secret.get_secret_value()  # type: ignore[attr-defined]
    if not verify(secret, request.headers, raw):
        return web.json_response({"error": "signature does not match"}, status=403)
    provider_id = f"echo-{message_id}"
    # The seeded history is delivered quietly; only what agents write now is answered.
    if marker.quiet_through is not None and message_id > marker.quiet_through:
        webhook = f"{settings.base_url.rstrip('/')}/webhooks/{channel.id}"
        answer = ANSWERS[message_id % len(ANSWERS)]
        customer = (recipient, contact_name)
        http = request.config_dict[appkeys.HTTP]
        _spawn(request.app, _play_customer(http, webhook, secret, provider_id, customer, answer))
    return web.json_response({"id": provider_id})


def _spawn(app: web.Application, work: Any) -> None:
    tasks = app[appkeys.DEMO_ANSWERS]
    task = asyncio.create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _play_customer(
    http: httpx.AsyncClient,
    webhook: str,
    secret: str,
    provider_id: str,
    customer: tuple[str, str],
    answer: str,
) -> None:
    """Delivered, then read and answered, as a customer's phone would."""
    await asyncio.sleep(DELIVERED_AFTER)
    await _post(http, webhook, secret, status_event(provider_id, "delivered"))
    await asyncio.sleep(ANSWER_AFTER)
    await _post(http, webhook, secret, status_event(provider_id, "read"))
    sender_id, name = customer
    await _post(http, webhook, secret, message_event(sender_id, name, answer, utcnow()))


async def _post(http: httpx.AsyncClient, url: str, secret: str, event: dict[str, Any]) -> None:
    body = body_of(event)
    try:
        response = await http.post(url, content=body, headers=signed_headers(secret, body))
        if response.status_code != 200:
            log.warning(
                "demo echo: the webhook answered %s: %s", response.status_code, response.text
            )
    except httpx.HTTPError as err:
        log.warning("demo echo: could not reach the webhook: %s", err)


async def answers_context(app: web.Application) -> AsyncIterator[None]:
    """Keep the customers' answers in flight; cancel them when the hub stops."""
    app[appkeys.DEMO_ANSWERS] = set()
    yield
    tasks = app[appkeys.DEMO_ANSWERS]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def add_echo(app: web.Application) -> None:
    """Mount the echo on the root app (it answers only on a demo hub)."""
    app.router.add_routes(routes)
    app.cleanup_ctx.append(answers_context)
