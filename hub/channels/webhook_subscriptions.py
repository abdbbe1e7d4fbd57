"""Outgoing webhooks administered: subscriptions (a URL, the events it wants, an
optional channel filter, a signing secret) and their delivery log; owners and managers
only. Deliveries are written by ``hub.channels.webhook_events`` and sent by
``hub.channels.webhook_worker``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.channels.webhook_events import (
    EVENT_TYPES,
    TEST_EVENT,
    Event,
    delivery_row,
    envelope,
)
from hub.channels.webhook_guard import UnsafeAddress, check_url
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.work import Work
from hub.inbox.labels import check_description
from hub.store.crypto import ConfigCipher
from hub.store.models import Channel, WebhookDelivery, WebhookSubscription
from hub.store.paging import pack, unpack
from hub.store.types import utcnow

URL_MAX = 2000
SUBSCRIPTIONS_MAX = 100


@dataclass(frozen=True)
class SubscriptionChanges:
    """A partial update of a subscription; ``None`` leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    channel_ids: list[int] | None = None
    description: str | None = None
    enabled: bool | None = None
    allow_private: bool | None = None


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or a manager."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage webhooks")


def new_secret() -> str:
    """A fresh signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The custom channel's signature headers: ``X-Hub-Timestamp`` and
    ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Hub-Timestamp": ts, "X-Hub-Signature-256": f"sha256={digest}"}


def secret_of(cipher: ConfigCipher, subscription: WebhookSubscription) -> str:
    """The subscription's signing secret, decrypted."""
    return str(cipher.decrypt(subscription.secret)["secret"])


def check_url_text(url: str) -> str:
    """An http(s) URL with a host, at most 2000 characters; 422 naming ``url``."""
    value = url.strip()
    if len(value) > URL_MAX:
        raise Invalid("url", f"at most {URL_MAX} characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise Invalid("url", "not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid("url", "give an http:// or https:// URL with a host")
    if any(c.isspace() for c in value):
        raise Invalid("url", "a URL has no spaces")
    return value


async def check_reachable(url: str, allow_private: bool) -> None:
    """422 naming ``url`` when it reaches a private address and that is not allowed."""
    if allow_private:
        return
    try:
        await check_url(url)
    except UnsafeAddress as err:
        raise Invalid(
            "url", f"{err}; an admin may allow private addresses for this webhook"
        ) from None


def check_events(events: list[str]) -> list[str]:
    """At least one known event type, each once, in the order given."""
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise Invalid("events", f"unknown: {', '.join(unknown)}; one of {', '.join(EVENT_TYPES)}")
    kept = list(dict.fromkeys(events))
    if not kept:
        raise Invalid("events", "choose at least one event")
    return kept


async def check_channels(db: AsyncSession, channel_ids: list[int]) -> list[int]:
    """Ids of existing channels, each once; 422 naming ``channel_ids`` otherwise."""
    kept = list(dict.fromkeys(channel_ids))
    if kept:
        found = set(
            await db.scalars(
                select(Channel.id).where(Channel.id.in_(kept), Channel.deleted_at.is_(None))
            )
        )
        missing = [str(c) for c in kept if c not in found]
        if missing:
            raise Invalid("channel_ids", f"no channel {', '.join(missing)}")
    return kept


async def create_subscription(
    work: Work,
    actor: Viewer,
    cipher: ConfigCipher,
    *,
    url: str,
    events: list[str],
    channel_ids: list[int],
    description: str | None = None,
    enabled: bool = True,
    allow_private: bool = False,
) -> tuple[WebhookSubscription, str]:
    """Create a subscription; returns it and its secret (shown only now)."""
    require_admin(actor)
    count = await work.db.scalar(select(func.count()).select_from(WebhookSubscription))
    if (count or 0) >= SUBSCRIPTIONS_MAX:
        raise HubError(409, "too_many", f"at most {SUBSCRIPTIONS_MAX} webhooks")
    url = check_url_text(url)
    events = check_events(events)
    channel_ids = await check_channels(work.db, channel_ids)
    await check_reachable(url, allow_private)
    secret = new_secret()
    subscription = WebhookSubscription(
        url=url,
        events=events,
        channel_ids=channel_ids,
        description=check_description(description),
        enabled=enabled,
        allow_private=allow_private,
        secret=cipher.encrypt({"secret": secret}),
        created_by=actor.id,
    )
    work.db.add(subscription)
    await work.db.flush()
    await _record(work, actor, subscription, "created", {})
    return subscription, secret


async def get_subscription(db: AsyncSession, subscription_id: int) -> WebhookSubscription:
    """One subscription, or 404."""
    subscription = await db.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("webhook")
    return subscription


async def list_subscriptions(db: AsyncSession) -> list[WebhookSubscription]:
    """Every subscription, oldest first (there are at most 100)."""
    return list(await db.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


async def update_subscription(
    work: Work, actor: Viewer, subscription_id: int, changes: SubscriptionChanges
) -> WebhookSubscription:
    """Change a subscription. Disabling it stops its pending deliveries (they wait,
    unattempted, until it is enabled again); re-checks the URL unless private is allowed."""
    require_admin(actor)
    subscription = await get_subscription(work.db, subscription_id)
    before = audit.row_facts(subscription)
    if changes.url is not None:
        subscription.url = check_url_text(changes.url)
    if changes.events is not None:
        subscription.events = check_events(changes.events)
    if changes.channel_ids is not None:
        subscription.channel_ids = await check_channels(work.db, changes.channel_ids)
    if changes.description is not None:
        subscription.description = check_description(changes.description)
    if changes.allow_private is not None:
        subscription.allow_private = changes.allow_private
    if changes.enabled is not None:
        subscription.enabled = changes.enabled
        if changes.enabled:
            subscription.disabled_reason = None
    if changes.url is not None or changes.allow_private is False:
        await check_reachable(subscription.url, subscription.allow_private)
    await work.db.flush()
    await _record(work, actor, subscription, "updated", before)
    return subscription


async def rotate_secret(
    work: Work, actor: Viewer, cipher: ConfigCipher, subscription_id: int
) -> tuple[WebhookSubscription, str]:
    """Give a subscription a new secret (returned, shown only now); deliveries from
    now on, retries included, are signed with it."""
    require_admin(actor)
    subscription = await get_subscription(work.db, subscription_id)
    before = audit.row_facts(subscription)
    secret = new_secret()
    subscription.secret = cipher.encrypt({"secret": secret})
    await work.db.flush()
    await _record(work, actor, subscription, "secret_rotated", before)
    return subscription, secret


async def delete_subscription(work: Work, actor: Viewer, subscription_id: int) -> None:
    """Delete a subscription and its deliveries (pending ones are never sent)."""
    require_admin(actor)
    subscription = await get_subscription(work.db, subscription_id)
    target = ("webhook", subscription.id, subscription.url)
    await audit.record_diff(work.db, actor, target, "deleted", audit.row_facts(subscription), {})
    await work.db.delete(subscription)
    await work.db.flush()


async def _record(
    work: Work,
    actor: Viewer,
    subscription: WebhookSubscription,
    verb: str,
    before: dict[str, Any],
) -> None:
    # The secret column holds ciphertext, and its name marks it secret: "***" only.
    after = audit.row_facts(subscription)
    target = ("webhook", subscription.id, subscription.url)
    await audit.record_diff(work.db, actor, target, verb, before, after)


async def list_deliveries(
    db: AsyncSession,
    actor: Viewer,
    subscription_id: int,
    *,
    status: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[WebhookDelivery], str | None]:
    """A subscription's deliveries, newest first, paged by id."""
    require_admin(actor)
    await get_subscription(db, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if cursor:
        (last_id,) = unpack(cursor, int)
        query = query.where(WebhookDelivery.id < last_id)
    rows = list(await db.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    next_cursor = pack(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def get_delivery(db: AsyncSession, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """One delivery of a subscription, or 404."""
    delivery = await db.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound("delivery")
    return delivery


async def redeliver(
    work: Work, actor: Viewer, subscription_id: int, delivery_id: int, retry_for: timedelta
) -> WebhookDelivery:
    """Send a delivery again now, whatever its status, with the same event id; it is
    retried for another ``retry_for`` if it fails. 409 while an attempt is in flight."""
    require_admin(actor)
    await get_subscription(work.db, subscription_id)
    delivery = await get_delivery(work.db, subscription_id, delivery_id)
    now = utcnow()
    changed = await work.db.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            (WebhookDelivery.lease_expires_at.is_(None)) | (WebhookDelivery.lease_expires_at < now),
        )
        .values(
            status="pending",
            next_attempt_at=now,
            give_up_at=now + retry_for,
            delivered_at=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 1) == 0:
        raise HubError(409, "in_flight", "this delivery is being sent right now; try again")
    await work.db.refresh(delivery)
    return delivery


async def send_test(
    work: Work, actor: Viewer, subscription_id: int, retry_for: timedelta
) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to this subscription alone (even when disabled it
    waits; it goes out once enabled)."""
    require_admin(actor)
    subscription = await get_subscription(work.db, subscription_id)
    data: dict[str, Any] = {"webhook_id": subscription.id, "message": "a test event"}
    event = Event(TEST_EVENT, None, envelope(TEST_EVENT, data))
    delivery = WebhookDelivery(**delivery_row(subscription.id, event, utcnow(), retry_for))
    work.db.add(delivery)
    await work.db.flush()
    return delivery
