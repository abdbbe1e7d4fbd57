"""Transcripts of closed conversations, logged on the linked CRM record exactly once.

A conversation's state row (``crm_transcripts``) says up to which message it is logged.
Before calling the CRM the run writes what it is about to log (``pending_*``, with an
idempotency key made of the conversation id and its last message id) and commits; after
the CRM answers it moves ``logged_message_id`` on and clears the pending part. A run that
finds a pending part (a crash, a timeout, a restart in between) repeats exactly that
call with the same key, and the plugin finds the activity it made instead of making
another. Reopened and closed again, only the messages after the last transcript are
logged; nothing when there are none. Internal comments are never logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.crm.calls import CrmCallFailed
from hub.crm.env import CrmEnv
from hub.crm.links import link_of
from hub.crm.settings import CrmSettings
from hub.store.models import (
    Channel,
    Contact,
    Conversation,
    CrmConnection,
    CrmContactLink,
    CrmTranscript,
    Message,
    User,
)
from hub.store.types import utcnow

log = logging.getLogger(__name__)
Outcome = Literal["logged", "nothing", "skipped", "failed"]
SWEEP_DAYS = 30  # closed conversations older than this are not looked at again
SWEEP_BATCH = 100
MAX_BODY = 60_000  # characters; a very long conversation's transcript is cut


@dataclass(frozen=True)
class _Pending:
    first_id: int
    last_id: int
    key: str


def idempotency_key(conversation_id: int, last_message_id: int) -> str:
    """The stable key of the transcript that ends with ``last_message_id``."""
    return f"inbox-hub:conversation:{conversation_id}:through:{last_message_id}"


async def log_transcript(env: CrmEnv, connection_id: int, conversation_id: int) -> Outcome:
    """Log what is new in a closed conversation on its contact's record (see the
    module doc)."""
    async with env.sessions() as db:
        connection = await db.get(CrmConnection, connection_id)
        conversation = await db.get(Conversation, conversation_id)
        if connection is None or conversation is None or conversation.status != "closed":
            return "skipped"
        if not CrmSettings.of(connection).transcripts:
            return "skipped"
        link = await link_of(db, connection_id, conversation.contact_id)
        if link is None:
            return "skipped"
        pending = await _claim(db, connection_id, conversation_id)
        if pending is None:
            await db.commit()
            return "nothing"
        await db.commit()  # the pending part is durable before the CRM hears of it
        subject, body, happened_at = await _transcript(db, conversation, pending)
        external_id = link.external_id
    plugin = env.instances.for_connection(connection)
    try:
        activity_id = await env.calls.run(
            connection_id,
            lambda: plugin.log_conversation(
                external_id,
                subject=subject,
                body=body,
                happened_at=happened_at,
                idempotency_key=pending.key,
            ),
        )
    except CrmCallFailed as err:
        await _note(env, connection_id, conversation_id, err.message)
        return "failed"
    await _done(env, connection_id, conversation_id, pending, activity_id)
    return "logged"


async def _claim(db: AsyncSession, connection_id: int, conversation_id: int) -> _Pending | None:
    """The pending part to (re)do: the stored one, or a new one for the messages after
    the last transcript; ``None`` when nothing is new."""
    state = await db.scalar(
        select(CrmTranscript).where(
            CrmTranscript.connection_id == connection_id,
            CrmTranscript.conversation_id == conversation_id,
        )
    )
    if state is not None and state.pending_key and state.pending_message_id:
        return _Pending(state.pending_first_id or 0, state.pending_message_id, state.pending_key)
    after = (state.logged_message_id or 0) if state is not None else 0
    bounds = (
        await db.execute(
            select(func.min(Message.id), func.max(Message.id)).where(
                Message.conversation_id == conversation_id, Message.id > after
            )
        )
    ).one()
    if bounds[1] is None:
        return None
    pending = _Pending(bounds[0], bounds[1], idempotency_key(conversation_id, bounds[1]))
    if state is None:
        state = CrmTranscript(
            connection_id=connection_id, conversation_id=conversation_id, activity_ids=[]
        )
        db.add(state)
    state.pending_first_id = pending.first_id
    state.pending_message_id = pending.last_id
    state.pending_key = pending.key
    return pending


async def _transcript(
    db: AsyncSession, conversation: Conversation, pending: _Pending
) -> tuple[str, str, datetime]:
    """The subject, the text and the time of the transcript of ``pending``'s messages."""
    channel = await db.get(Channel, conversation.channel_id)
    contact = await db.get(Contact, conversation.contact_id)
    rows = await db.execute(
        select(Message, User.name)
        .outerjoin(User, User.id == Message.sender_user_id)
        .where(
            Message.conversation_id == conversation.id,
            Message.id >= pending.first_id,
            Message.id <= pending.last_id,
        )
        .order_by(Message.id)
    )
    lines: list[str] = []
    happened_at = conversation.closed_at or utcnow()
    for message, agent in rows.all():
        who = (contact.name if contact else None) or "Contact"
        if message.direction == "out":
            who = agent or "Agent"
        text = (message.text or "").strip() or _parts_summary(message.parts)
        lines.append(f"[{message.created_at:%Y-%m-%d %H:%M} UTC] {who}: {text}")
        happened_at = message.created_at
    body = "\n".join(lines)
    if len(body) > MAX_BODY:
        body = body[: MAX_BODY - 20] + "\n[… cut]"
    where = f" on {channel.name}" if channel else ""
    subject = conversation.subject or f"Conversation #{conversation.id}{where}"
    return subject, body, happened_at


def _parts_summary(parts: list[dict[str, object]] | None) -> str:
    kinds = [str(p.get("type", "attachment")) for p in parts or []]
    return f"[{', '.join(kinds)}]" if kinds else "[no text]"


async def _note(env: CrmEnv, connection_id: int, conversation_id: int, message: str) -> None:
    async with env.sessions() as db:
        state = await db.scalar(
            select(CrmTranscript).where(
                CrmTranscript.connection_id == connection_id,
                CrmTranscript.conversation_id == conversation_id,
            )
        )
        if state is not None:
            state.last_error = message
            await db.commit()


async def _done(
    env: CrmEnv, connection_id: int, conversation_id: int, pending: _Pending, activity_id: str
) -> None:
    async with env.sessions() as db:
        state = await db.scalar(
            select(CrmTranscript).where(
                CrmTranscript.connection_id == connection_id,
                CrmTranscript.conversation_id == conversation_id,
            )
        )
        if state is None or state.pending_key != pending.key:
            return  # another run finished it meanwhile
        state.logged_message_id = pending.last_id
        state.pending_first_id = state.pending_message_id = state.pending_key = None
        state.last_error = None
        state.activity_ids = [*(state.activity_ids or []), activity_id]
        await db.commit()


async def due_transcripts(env: CrmEnv) -> list[tuple[int, int]]:
    """(connection id, conversation id) of closed conversations, closed in the last
    ``SWEEP_DAYS``, of linked contacts, with messages not yet logged or a pending part."""
    since = utcnow() - timedelta(days=SWEEP_DAYS)
    async with env.sessions() as db:
        connections = await db.scalars(
            select(CrmConnection).where(
                CrmConnection.enabled.is_(True), CrmConnection.status == "ok"
            )
        )
        logging_ids = [c.id for c in connections if CrmSettings.of(c).transcripts]
    if not logging_ids:
        return []
    last_message = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .scalar_subquery()
    )
    query = (
        select(CrmContactLink.connection_id, Conversation.id)
        .join(CrmContactLink, CrmContactLink.contact_id == Conversation.contact_id)
        .outerjoin(
            CrmTranscript,
            and_(
                CrmTranscript.connection_id == CrmContactLink.connection_id,
                CrmTranscript.conversation_id == Conversation.id,
            ),
        )
        .where(
            Conversation.status == "closed",
            Conversation.closed_at >= since,
            CrmContactLink.connection_id.in_(logging_ids),
            or_(
                CrmTranscript.id.is_(None),
                CrmTranscript.pending_key.is_not(None),
                func.coalesce(CrmTranscript.logged_message_id, 0) < last_message,
            ),
        )
        # A transcript that keeps failing goes to the back (its row's updated_at moves).
        .order_by(func.coalesce(CrmTranscript.updated_at, Conversation.closed_at))
        .limit(SWEEP_BATCH)
    )
    async with env.sessions() as db:
        return [(c, v) for c, v in (await db.execute(query)).all()]
