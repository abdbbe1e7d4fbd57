"""Outgoing webhooks' events: which changes become which event, the envelope each
carries, and the delivery rows written in the same transaction as the change.

``record_deliveries`` is the unit of work's pre-commit hook (``hub.events.work``,
registered on the app's session factory by ``hub.wiring``): just before a change commits
it turns the change's realtime events and observer notices into one
``webhook_deliveries`` row per matching enabled subscription. The rows commit with the
change or not at all, so a process dying right after the commit loses no event.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.contract.notices import ConversationUpdated
from hub.events.work import Work
from hub.store.models import Contact, Conversation, WebhookDelivery, WebhookSubscription
from hub.store.types import utcnow

EVENT_TYPES: dict[str, str] = {
    "message.created": "A message was stored: a contact's or an agent's reply.",
    "conversation.created": "A conversation was opened.",
    "conversation.updated": "Any other change of a conversation: assigned, reopened, "
    "snoozed, labelled… (data.change says which).",
    "conversation.closed": "A conversation was closed.",
    "contact.updated": "A contact's details, fields or identities changed.",
}
"""Every event type a subscription may ask for, with what it means."""

TEST_EVENT = "webhook.test"
"""The type of the event ``POST /api/v1/webhooks/{id}/test`` sends (to that one URL)."""


@dataclass(frozen=True)
class Event:
    """One event about to be delivered: its type, the channel it belongs to (``None``:
    no channel, such as a contact's change) and its envelope."""

    type: str
    channel_id: int | None
    envelope: dict[str, Any]


def envelope(event_type: str, data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """The JSON every delivery carries: ``{id, type, created_at, data}``; ``id`` is new
    for each event, the same for each attempt and each subscription."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": event_type,
        "created_at": (at or utcnow()).isoformat(),
        "data": data,
    }


def wants(subscription: WebhookSubscription, event: Event) -> bool:
    """Whether ``subscription`` asked for ``event``: its type, and (when the subscription
    names channels and the event has one) its channel."""
    if event.type not in subscription.events:
        return False
    if subscription.channel_ids and event.channel_id is not None:
        return event.channel_id in subscription.channel_ids
    return True


def delivery_row(
    subscription_id: int, event: Event, now: datetime, retry_for: timedelta
) -> dict[str, Any]:
    """The values of a new pending delivery of ``event``."""
    return {
        "subscription_id": subscription_id,
        "event_id": event.envelope["id"],
        "event_type": event.type,
        "payload": event.envelope,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "give_up_at": now + retry_for,
    }


class DeliveryRecorder:
    """The pre-commit hook: writes the deliveries of the events of the units of work
    about to commit. ``retry_for`` is how long each is retried (``give_up_at``);
    ``on_subscriptions`` is told, each time it reads them, whether any subscription is
    enabled (the worker then knows whether a change's announcement is worth a pass)."""

    def __init__(self, retry_for: timedelta) -> None:
        self.retry_for = retry_for
        self.on_subscriptions: Callable[[bool], None] | None = None

    async def __call__(self, db: AsyncSession, works: Sequence[Work]) -> None:
        if not any(_may_matter(work) for work in works):
            return
        subscriptions = list(
            await db.scalars(
                select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
            )
        )
        if self.on_subscriptions is not None:
            self.on_subscriptions(bool(subscriptions))
        if not subscriptions:
            return
        wanted = {t for s in subscriptions for t in s.events}
        events = await events_of(db, works, wanted)
        now = utcnow()
        rows = [
            delivery_row(s.id, event, now, self.retry_for)
            for event in events
            for s in subscriptions
            if wants(s, event)
        ]
        if rows:
            await db.execute(insert(WebhookDelivery), rows)


def _may_matter(work: Work) -> bool:
    """Whether ``work`` carries anything a webhook may be sent for (if not, not even the
    subscriptions are read)."""
    return any(isinstance(n, ConversationUpdated) for n in work.notices) or any(
        e.type in ("message.created", "contact.updated") for e in work.events
    )


async def events_of(db: AsyncSession, works: Sequence[Work], wanted: set[str]) -> list[Event]:
    """The webhook events of ``works``' changes, of the types in ``wanted``, in order."""
    messages: list[dict[str, Any]] = []
    changes: list[ConversationUpdated] = []
    contact_ids: list[int] = []
    for work in works:
        if "message.created" in wanted:
            messages += [dict(e.data) for e in work.events if e.type == "message.created"]
        changes += [
            n
            for n in work.notices
            if isinstance(n, ConversationUpdated) and _conversation_type(n) in wanted
        ]
        if "contact.updated" in wanted:
            for e in work.events:
                contact_id = e.data.get("contact_id")
                if (
                    e.type == "contact.updated"
                    and isinstance(contact_id, int)
                    and contact_id not in contact_ids
                ):
                    contact_ids.append(contact_id)
    conversation_ids = {int(m["conversation_id"]) for m in messages} | {
        n.conversation_id for n in changes
    }
    conversations = await _conversations(db, conversation_ids)
    events: list[Event] = []
    for message in messages:
        conversation = conversations.get(int(message["conversation_id"]))
        if conversation is None:
            continue
        data: dict[str, Any] = {
            "message": _message(message, conversation),
            "conversation": conversation,
        }
        events.append(
            Event("message.created", conversation["channel_id"], envelope("message.created", data))
        )
    for notice in changes:
        conversation = conversations.get(notice.conversation_id)
        if conversation is None:
            continue
        event_type = _conversation_type(notice)
        data = {
            "conversation": conversation,
            "change": notice.change,
            "actor_id": notice.actor_id,
            "details": notice.data,
        }
        events.append(Event(event_type, conversation["channel_id"], envelope(event_type, data)))
    if contact_ids:
        for contact in await db.scalars(select(Contact).where(Contact.id.in_(contact_ids))):
            data = {"contact": contact_data(contact)}
            events.append(Event("contact.updated", None, envelope("contact.updated", data)))
    return events


def _conversation_type(notice: ConversationUpdated) -> str:
    if notice.change == "created":
        return "conversation.created"
    if notice.change == "closed":
        return "conversation.closed"
    return "conversation.updated"


async def _conversations(db: AsyncSession, ids: set[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    rows = await db.execute(
        select(
            Conversation.id,
            Conversation.channel_id,
            Conversation.contact_id,
            Conversation.status,
            Conversation.assignee_id,
            Conversation.team_id,
            Conversation.priority,
            Conversation.subject,
        ).where(Conversation.id.in_(ids))
    )
    return {
        row.id: {
            "id": row.id,
            "channel_id": row.channel_id,
            "contact_id": row.contact_id,
            "status": row.status,
            "assignee_id": row.assignee_id,
            "team_id": row.team_id,
            "priority": row.priority,
            "subject": row.subject,
        }
        for row in rows
    }


def _message(payload: dict[str, Any], conversation: dict[str, Any]) -> dict[str, Any]:
    """A message as webhooks carry it (a stable subset of the realtime payload)."""
    return {
        "id": payload["id"],
        "conversation_id": payload["conversation_id"],
        "channel_id": conversation["channel_id"],
        "direction": payload.get("direction"),
        "status": payload.get("status"),
        "text": payload.get("text"),
        "subject": payload.get("subject"),
        "sender_user_id": payload.get("sender_user_id"),
        "contact_id": conversation["contact_id"] if payload.get("direction") == "in" else None,
        "created_at": payload.get("created_at"),
        "attachments": payload.get("attachments", []),
    }


def contact_data(contact: Contact) -> dict[str, Any]:
    """A contact as webhooks carry it."""
    return {
        "id": contact.id,
        "name": contact.name,
        "email": contact.email,
        "phone": contact.phone,
        "country": contact.country,
        "language": contact.language,
        "blocked": contact.blocked,
        "fields": contact.fields,
    }
