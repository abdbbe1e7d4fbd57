"""What the outcome of one delivery attempt does to the message, its outbox row and its
channel, and whom it tells. Runs inside the unit of work that holds the row's lease."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from hub.auth.visibility import ConversationScope
from hub.channels.backoff import retry_delay
from hub.channels.outbound_message import Delivery
from hub.contract.notices import MessageFailed, MessageSent
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.messages import message_payload
from hub.settings import Settings
from hub.store.models import Message, OutboxItem
from hub.store.types import utcnow

# The channel's status_reason when the outbox marked it broken; a later successful send
# clears only a reason of ours, not one the admin pages or the inbound pipe set.
CHANNEL_ERROR_PREFIX = "sending failed: "
ERROR_MAX = 2000
EXTERNAL_ID_MAX = 300


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message; ``provider_id`` is its id there."""

    provider_id: str | None


@dataclass(frozen=True)
class Retry:
    """A transient failure: try again after the backoff, no earlier than ``after``.
    ``channel_error`` marks the channel broken, for the admin to see."""

    error: str
    after: float | None = None
    channel_error: str | None = None


@dataclass(frozen=True)
class Failed:
    """Refused for good: the message is marked failed with ``reason`` (for the agent)."""

    reason: str
    code: str


Outcome = Sent | Retry | Failed


async def renew_lease(
    work: Work, item_id: int, lease: str, seconds: float | None
) -> OutboxItem | None:
    """The row, if it still carries ``lease`` and is pending; None if another worker took
    it. With ``seconds``, the lease is extended to that long from now.

    The check is a conditional UPDATE, so it also locks the row (PostgreSQL) or takes
    the write lock (SQLite) for the rest of the transaction: nobody can take the row
    between this check and the writes that follow it.
    """
    values: dict[str, Any] = {"lease_owner": lease}
    if seconds is not None:
        values["lease_expires_at"] = utcnow() + timedelta(seconds=seconds)
    result = await work.db.execute(
        update(OutboxItem)
        .where(
            OutboxItem.id == item_id,
            OutboxItem.lease_owner == lease,
            OutboxItem.status == "pending",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return None
    return await work.db.get(OutboxItem, item_id, populate_existing=True)


def hold(item: OutboxItem) -> None:
    """Release the row's lease, so any worker may take it when it is due."""
    item.lease_owner = None
    item.lease_expires_at = None


async def record_outcome(
    work: Work, settings: Settings, delivery: Delivery, outcome: Outcome
) -> None:
    """Apply ``outcome`` to the leased row of ``delivery`` and announce it after commit."""
    if isinstance(outcome, Sent):
        await _sent(work, delivery, outcome)
    elif isinstance(outcome, Retry):
        _retry(work, settings, delivery, outcome)
    else:
        fail_message(work, delivery, outcome.reason, outcome.code)


async def _sent(work: Work, delivery: Delivery, outcome: Sent) -> None:
    message, item, channel = delivery.message, delivery.item, delivery.channel
    provider_id = outcome.provider_id[:EXTERNAL_ID_MAX] if outcome.provider_id else None
    if provider_id is not None:
        # (channel, external id) is unique; a provider that reuses an id must not make
        # the outcome unrecordable, which would send the message again after the lease.
        taken = await work.db.scalar(
            select(Message.id).where(
                Message.channel_id == channel.id,
                Message.external_id == provider_id,
                Message.id != message.id,
            )
        )
        if taken is not None:
            provider_id = None
    message.status = "sent"
    message.external_id = provider_id
    message.sent_at = utcnow()
    message.failure_reason = None
    message.error_code = None
    item.status = "done"
    item.last_error = None
    hold(item)
    if channel.status == "error" and (channel.status_reason or "").startswith(CHANNEL_ERROR_PREFIX):
        # A send went through: the connection the outbox reported broken works again.
        channel.status = "ok"
        channel.status_reason = None
    scope = ConversationScope.of(delivery.conversation)
    work.emit(
        HubEvent("message.updated", message_payload(message, delivery.attachments), scope=scope)
    )
    work.observe(
        MessageSent(
            channel_id=channel.id,
            channel_type=channel.type,
            conversation_id=message.conversation_id,
            message_id=message.id,
            provider_id=provider_id or "",
        )
    )


def _retry(work: Work, settings: Settings, delivery: Delivery, outcome: Retry) -> None:
    item, channel = delivery.item, delivery.channel
    attempts = item.attempts + 1
    item.attempts = attempts
    item.last_error = outcome.error[:ERROR_MAX]
    hold(item)
    if outcome.channel_error is not None:
        channel.status = "error"
        channel.status_reason = (CHANNEL_ERROR_PREFIX + outcome.channel_error)[:ERROR_MAX]
    if attempts >= settings.outbox_max_attempts:
        reason = f"gave up after {attempts} attempts: {outcome.error}"
        fail_message(work, delivery, reason, "dead_lettered", dead=True)
        return
    delay = retry_delay(
        attempts,
        base=settings.outbox_backoff_seconds,
        cap=settings.outbox_backoff_max_seconds,
        after=outcome.after,
    )
    item.next_attempt_at = utcnow() + timedelta(seconds=delay)


def fail_message(
    work: Work, delivery: Delivery, reason: str, code: str, *, dead: bool = False
) -> None:
    """Mark the message failed with ``reason`` and its row ``failed`` (refused) or
    ``dead`` (out of attempts); both can be retried by an admin."""
    message, item, channel = delivery.message, delivery.item, delivery.channel
    item.status = "dead" if dead else "failed"
    item.last_error = reason[:ERROR_MAX]
    hold(item)
    message.status = "failed"
    message.failure_reason = reason[:ERROR_MAX]
    message.error_code = code[:100]
    scope = ConversationScope.of(delivery.conversation)
    work.emit(
        HubEvent("message.updated", message_payload(message, delivery.attachments), scope=scope)
    )
    work.observe(
        MessageFailed(
            channel_id=channel.id,
            channel_type=channel.type,
            conversation_id=message.conversation_id,
            message_id=message.id,
            reason=message.failure_reason,
            code=code,
            dead_lettered=dead,
        )
    )
