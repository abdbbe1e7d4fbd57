"""Bodies and answers of the outgoing-webhook endpoints (``/api/v1/webhooks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas.people import PatchBody
from hub.channels.webhook_events import EVENT_TYPES
from hub.channels.webhook_subscriptions import URL_MAX, SubscriptionChanges
from hub.inbox.labels import DESCRIPTION_MAX
from hub.store.models import WebhookDelivery, WebhookSubscription
from hub.store.types import DbId

EVENTS = ", ".join(EVENT_TYPES)


class WebhookOut(BaseModel):
    """A webhook subscription (never its secret, shown only when created or rotated)."""

    id: int
    url: str
    description: str | None
    events: list[str] = Field(description=f"of {EVENTS}")
    channel_ids: list[int] = Field(description="empty: every channel")
    enabled: bool
    allow_private: bool = Field(description="may reach private, loopback, link-local addresses")
    disabled_reason: str | None = Field(description="why the hub disabled it (a 410 Gone)")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookSubscription) -> WebhookOut:
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            events=list(row.events),
            channel_ids=list(row.channel_ids),
            enabled=row.enabled,
            allow_private=row.allow_private,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class WebhookWithSecretOut(WebhookOut):
    """A subscription just created or whose secret was rotated, with the secret: keep
    it, it is not shown again."""

    secret: str = Field(description="the signing secret; shown only now")


class WebhookCreateBody(BaseModel):
    """``POST /api/v1/webhooks``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: str = Field(min_length=1, max_length=URL_MAX, description="an http(s) URL")
    events: list[str] = Field(min_length=1, max_length=20, description=f"of {EVENTS}")
    channel_ids: list[DbId] = Field(
        default_factory=list, max_length=100, description="only these channels' events"
    )
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    enabled: bool = True
    allow_private: bool = Field(
        False, description="allow private, loopback and link-local addresses (SSRF guard off)"
    )


class WebhookPatchBody(PatchBody):
    """``PATCH /api/v1/webhooks/{webhook_id}``: an empty ``description`` clears it."""

    url: str | None = Field(None, min_length=1, max_length=URL_MAX)
    events: list[str] | None = Field(None, min_length=1, max_length=20)
    channel_ids: list[DbId] | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=DESCRIPTION_MAX)
    enabled: bool | None = None
    allow_private: bool | None = None

    def changes(self) -> SubscriptionChanges:
        """The fields given, as a domain update."""
        return SubscriptionChanges(**self.model_dump(include=self.model_fields_set))


class EventTypeOut(BaseModel):
    """An event type a webhook may subscribe to."""

    type: str
    description: str


class DeliveryQuery(BaseModel):
    """``GET /api/v1/webhooks/{webhook_id}/deliveries`` parameters."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["pending", "delivered", "failed"] | None = None
    cursor: str | None = Field(None, max_length=300)
    limit: int = Field(25, ge=1, le=100)


class DeliveryOut(BaseModel):
    """One event sent (or to be sent) to one webhook, and how its attempts went."""

    id: int
    webhook_id: int
    event_id: str = Field(description="the envelope's id and the Idempotency-Key header")
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status_code: int | None = Field(description="the receiver's last HTTP status")
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="while pending")
    give_up_at: datetime = Field(description="a pending delivery fails after this")
    delivered_at: datetime | None
    payload: dict[str, Any] = Field(description="the envelope sent")

    @classmethod
    def of(cls, row: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=row.id,
            webhook_id=row.subscription_id,
            event_id=row.event_id,
            event_type=row.event_type,
            status=row.status,
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            created_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
            give_up_at=row.give_up_at,
            delivered_at=row.delivered_at,
            payload=row.payload,
        )
