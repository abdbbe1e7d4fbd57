"""Groups of inbound messages shown as one message (Telegram albums).

A provider may send one thing the contact did as several messages that share a group
key (``InboundMessage.group_key``): each album item arrives as its own update. The first
item is stored as an ordinary message under the group's external id
(``intake.stored_external_id``); each later item adds its parts to that message. Every
stored part names its item (``source_external_id``), so a re-delivered item is a
duplicate and an edited one replaces only its own parts.

A later item is not a new message: it neither counts as unread nor makes a
``MessageReceived`` notice; clients hear ``message.updated``, as when media arrives.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hub.contract.models import InboundMessage
from hub.events.work import Work
from hub.inbox.intake_result import Intake
from hub.inbox.messages import announce_update
from hub.inbox.storable import key, parts_of, scrub
from hub.media.parts import BOOKKEEPING, part_is_pending
from hub.store.models import Channel, Conversation, Message
from hub.store.types import utcnow

SOURCE = "source_external_id"


async def load_group(work: Work, channel: Channel, external_id: str) -> Message | None:
    """The group's stored message, locked (PostgreSQL) and read afresh.

    The lock makes a later item wait for the media fetcher, which holds the row while it
    downloads and then writes the parts back: read before it, the item's parts would be
    lost when the fetcher writes its copy.
    """
    query = (
        select(Message)
        .where(Message.channel_id == channel.id, Message.external_id == external_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    message: Message | None = await work.db.scalar(query)
    return message


def text_ofparts_of(parts: list[dict[str, Any]]) -> str | None:
    """The message text of stored parts: their texts and captions, one per line (as
    ``intake`` makes it from an event's parts)."""
    pieces = [part.get("text") or part.get("caption") for part in parts]
    text = scrub("\n".join(p for p in pieces if isinstance(p, str) and p))
    return text or None


async def add_to_group(work: Work, message: Message, event: InboundMessage) -> Intake:
    """Add a later item of a group to the group's message; a known item is a duplicate,
    an edited one replaces its own parts."""
    source = key(event.external_id)
    parts = [dict(part) for part in message.parts or []]
    known = [index for index, part in enumerate(parts) if part.get(SOURCE) == source]
    new = parts_of(event)
    if known and not event.edited:
        return Intake("duplicate", message.id, message.conversation_id)
    if known:
        changed = _replace(parts, known, new)
        if changed is None:
            return Intake("duplicate", message.id, message.conversation_id)
        replaced = {
            "text": message.text,
            "parts": message.parts,
            "replaced_at": utcnow().isoformat(),
        }
        message.edit_history = [*(message.edit_history or []), replaced]
        parts = changed
    else:
        parts = [*parts, *new]
    # New lists: JSON columns track assignment, not mutation.
    message.parts = parts
    message.text = text_ofparts_of(parts)
    if any(part_is_pending(part) for part in parts):
        message.media_pending = True
    await work.db.flush()
    await _announce(work, message)
    return Intake("stored", message.id, message.conversation_id)


def _bare(part: dict[str, Any]) -> dict[str, Any]:
    # A part as the provider sent it: without what the media fetcher added to it.
    return {k: v for k, v in part.items() if k not in BOOKKEEPING}


def _replace(
    parts: list[dict[str, Any]], known: list[int], new: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """``parts`` with the item's parts (at ``known``) replaced by ``new`` where its first
    one was; None when nothing changed. An unchanged media part keeps its fetched file."""
    old = [parts[index] for index in known]
    if [_bare(part) for part in old] == new:
        return None
    kept = [
        old[index] if index < len(old) and _bare(old[index]) == part else part
        for index, part in enumerate(new)
    ]
    rest = [part for index, part in enumerate(parts) if index not in set(known)]
    at = known[0]
    return [*rest[:at], *kept, *rest[at:]]


async def _announce(work: Work, message: Message) -> None:
    conversation = await work.db.get_one(Conversation, message.conversation_id)
    await announce_update(work, message, conversation)
