"""The set-based intake: the common inbound messages of a batch in a few statements.

Most webhooks under load are plain messages from senders the hub already knows, into
their open conversation. Taken one by one (``hub.inbox.intake``), each costs an ORM
flush for its id, an INSERT of its log row and an UPDATE of its conversation — on
SQLite each statement several round trips to the driver's thread. Here the group
committer hands the whole batch over once (after ``prefetch``) and every such request
is taken together: one multi-row ``INSERT … RETURNING id`` for the messages, one
executemany for the log rows, one for the conversations. Their realtime events,
observer notices and answers are exactly those of the per-message path
(``announce_message``).

Only what needs no decision is taken: a request qualifies when every one of its events
is a new message (no edit, no reply or reaction to look up, no thread key) from a known
sender whose profile brings nothing new, whose contact is neither merged nor blocked and
has an open conversation on the enabled channel. A sender with any other event in the
batch, and any provider id that appears twice in it, leave all their requests to the
per-message path, which runs after this in the same transaction. Should another process
have stored one of the ids meanwhile, the unique constraint fails the INSERT and the
committer runs the batch again the careful way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from hub.contract.models import InboundMessage
from hub.events.work import Work
from hub.inbox.intake import (
    announce_message,
    mark_inbound,
    message_row,
    reply_target,
    sender_unchanged,
)
from hub.inbox.intake_batch import BatchIndex, Delivery, Key
from hub.inbox.message_notices import NewMessage, notify_assignees
from hub.inbox.storable import key, log_row
from hub.store.models import Channel, Contact, Conversation, InboundLogEntry, Message
from hub.store.types import utcnow

MESSAGES: Table = Message.__table__  # type: ignore[assignment]
LOG: Table = InboundLogEntry.__table__  # type: ignore[assignment]
CONVERSATIONS: Table = Conversation.__table__  # type: ignore[assignment]

# One executemany for every touched conversation; unread_count is incremented in SQL.
TOUCH = (
    update(CONVERSATIONS)
    .where(CONVERSATIONS.c.id == bindparam("b_id"))
    .values(
        last_message_at=bindparam("b_last_message_at"),
        last_inbound_at=bindparam("b_now"),
        last_message_direction="in",
        unread_count=CONVERSATIONS.c.unread_count + bindparam("b_unread"),
        updated_at=bindparam("b_now"),
    )
)


@dataclass(frozen=True)
class _Item:
    event: InboundMessage
    contact: Contact
    conversation: Conversation


@dataclass(frozen=True)
class _Plan:
    position: int
    delivery: Delivery
    channel: Channel
    items: list[_Item]


def _item(index: BatchIndex, channel: Channel, event: Any) -> _Item | None:
    """The event as a fast item, or None when it needs the per-message path."""
    if not isinstance(event, InboundMessage) or event.edited or event.thread_key is not None:
        return None
    if event.group_key is not None:
        return None  # an album item may join a stored message: hub.inbox.intake_groups
    if event.references or event.thread_hints or event.automated is not None:
        return None  # threaded by what it names (hub.inbox.intake_threads)
    if reply_target(event) is not None:
        return None
    known, existing = index.message((channel.id, key(event.external_id)))
    if not known or existing is not None:
        return None
    known, identity = index.identity((channel.id, key(event.sender_id)))
    if not known or identity is None:
        return None
    contact = index.contacts.get(identity.contact_id)
    if contact is None or contact.merged_into_id is not None or contact.blocked:
        return None
    if not sender_unchanged(identity, contact, event.sender):
        return None
    known, _, live = index.live_and_latest(channel.id, contact.id)
    if not known or live is None or live.status != "open":
        return None
    return _Item(event, contact, live)


def _keys(delivery: Delivery) -> tuple[list[Key], list[Key]]:
    """The (channel, message id) and (channel, sender id) keys of a request's messages."""
    messages = [e for e in delivery.events if isinstance(e, InboundMessage)]
    return (
        [(delivery.channel_id, key(e.external_id)) for e in messages],
        [(delivery.channel_id, key(e.sender_id)) for e in messages],
    )


def plan(index: BatchIndex, hints: Sequence[Any]) -> list[_Plan]:
    """The requests of the batch the set-based path takes, in batch order."""
    deliveries = [(p, h) for p, h in enumerate(hints) if isinstance(h, Delivery)]
    seen_ids: Counter[Key] = Counter()
    for _, delivery in deliveries:
        seen_ids.update(_keys(delivery)[0])
    slow_senders: set[Key] = set()
    slow_contacts: set[int] = set()
    candidates: list[_Plan] = []
    for position, delivery in deliveries:
        message_keys, sender_keys = _keys(delivery)
        channel = index.channels.get(delivery.channel_id)
        items: list[_Item | None] = []
        # The same provider id twice in the batch: a duplicate or an edit, in order.
        usable = channel is not None and channel.deleted_at is None and channel.enabled
        if channel is not None and usable and all(seen_ids[k] == 1 for k in message_keys):
            items = [_item(index, channel, event) for event in delivery.events]
        if channel is not None and items and all(items):
            candidates.append(_Plan(position, delivery, channel, [i for i in items if i]))
            continue
        # Everything this request's senders send in the batch takes the ordinary path,
        # in order, so no fast write overtakes theirs (message ids are timeline order).
        slow_senders.update(sender_keys)
        for sender in sender_keys:
            _, identity = index.identity(sender)
            if identity is not None:
                slow_contacts.add(identity.contact_id)
    return [
        candidate
        for candidate in candidates
        if not any(s in slow_senders for s in _keys(candidate.delivery)[1])
        and not any(i.contact.id in slow_contacts for i in candidate.items)
    ]


def _logged(delivery: Delivery) -> Sequence[Any]:
    """The events the request's log row records: all of them, also for a last chunk."""
    return delivery.events if delivery.logged_events is None else delivery.logged_events


async def take_fast(db: AsyncSession, hints: list[Any]) -> dict[int, tuple[Work, Any]]:
    """Take the batch's common requests together; their (Work, outcome) by position.

    Runs in the batch's transaction after ``prefetch``; without its index, takes none.
    """
    index = BatchIndex.of(db)
    if index is None:
        return {}
    plans = plan(index, hints)
    if not plans:
        return {}
    now = utcnow()
    rows = [
        {**message_row(p.channel, i.conversation, i.event, now), "reply_to_id": None}
        for p in plans
        for i in p.items
    ]
    inserted = await db.execute(
        insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True), rows
    )
    ids = list(inserted.scalars())
    logs = [
        log_row(p.channel.id, p.delivery.request, "stored", 200, None, _logged(p.delivery))
        for p in plans
        if p.delivery.logged
    ]
    if logs:
        await db.execute(insert(LOG), logs)
    await _touch_conversations(db, plans, rows, now)
    for channel in {p.channel.id: p.channel for p in plans}.values():
        await mark_inbound(Work(db), channel, now)
    results: dict[int, tuple[Work, Any]] = {}
    new: list[NewMessage] = []
    numbered = iter(zip(ids, rows, strict=True))
    for p in plans:
        work = Work(db)
        for item in p.items:
            message_id, row = next(numbered)
            index.forget_message((p.channel.id, row["external_id"]))
            message = Message(id=message_id, **row)
            announce_message(
                work, p.channel, message, item.conversation, item.contact.id, False, item.event
            )
            new.append(NewMessage(work, item.conversation, message_id, row["text"]))
        results[p.position] = (work, "stored")
    await notify_assignees(db, new)
    return results


async def _touch_conversations(
    db: AsyncSession, plans: list[_Plan], rows: list[dict[str, Any]], now: datetime
) -> None:
    """Move each touched conversation's last message, inbound time and unread count, in
    the database and on its loaded object (later jobs of the batch read that)."""
    touched: dict[int, tuple[Conversation, datetime, int]] = {}
    items = (i for p in plans for i in p.items)
    for item, row in zip(items, rows, strict=True):
        conversation = item.conversation
        last, unread = touched.get(
            conversation.id, (conversation, conversation.last_message_at, 0)
        )[1:]
        touched[conversation.id] = (conversation, max(last, row["created_at"]), unread + 1)
    await db.execute(
        TOUCH,
        [
            {"b_id": cid, "b_last_message_at": last, "b_now": now, "b_unread": unread}
            for cid, (_, last, unread) in touched.items()
        ],
    )
    for conversation, last, unread in touched.values():
        set_committed_value(conversation, "last_message_at", last)
        set_committed_value(conversation, "last_inbound_at", now)
        set_committed_value(conversation, "last_message_direction", "in")
        set_committed_value(conversation, "unread_count", (conversation.unread_count or 0) + unread)
        set_committed_value(conversation, "updated_at", now)
