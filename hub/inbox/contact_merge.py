"""Duplicate contacts: suggestions (shared email or phone) and merging two into one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.auth.visibility import ConversationScope, Viewer
from hub.errors import Invalid
from hub.events.work import Work
from hub.inbox.contact_fields import default_name
from hub.inbox.contacts import (
    announce_contact,
    contact_filter,
    decode_contact_cursor,
    encode_contact_cursor,
    get_contact,
    require_everything,
)
from hub.inbox.conversations import record
from hub.store.models import Contact, ContactIdentity, Conversation, CrmContactLink

Reason = Literal["email", "phone"]
REASONS: tuple[Reason, ...] = ("email", "phone")


@dataclass(frozen=True)
class MergeSuggestion:
    """Two contacts that look like one person: they share an email or a phone."""

    contact: Contact
    other: Contact
    reasons: tuple[Reason, ...]


async def merge_suggestions(
    db: AsyncSession,
    viewer: Viewer,
    *,
    contact_id: int | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[MergeSuggestion], str | None]:
    """Pairs of visible contacts sharing an email or phone; the newer duplicate first.

    ``contact`` is the older of the two (the natural one to keep), ``other`` the newer.
    Blocked and unblocked contacts pair like any others. ``contact_id`` keeps the pairs
    that contact is one of (a contact panel's suggestions).
    """
    a, b = aliased(Contact), aliased(Contact)
    query = select(a, b).where(
        a.id < b.id,
        or_(
            and_(a.email.is_not(None), a.email == b.email),
            and_(a.phone.is_not(None), a.phone == b.phone),
        ),
        contact_filter(viewer, a),
        contact_filter(viewer, b),
    )
    if contact_id is not None:
        query = query.where(or_(a.id == contact_id, b.id == contact_id))
    if cursor:
        last_other, last_contact = decode_contact_cursor(cursor, "pairs", int)
        query = query.where(or_(b.id < last_other, and_(b.id == last_other, a.id < last_contact)))
    rows = (await db.execute(query.order_by(b.id.desc(), a.id.desc()).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_contact_cursor("pairs", rows[-1][1].id, rows[-1][0].id)
    suggestions = [_suggestion(contact, other) for contact, other in rows]
    return suggestions, next_cursor


async def duplicates_of(
    db: AsyncSession, viewer: Viewer, contact: Contact, limit: int
) -> list[MergeSuggestion]:
    """The pairs ``merge_suggestions(contact_id=…)`` gives first, found by the contact's
    own email and phone (their indexes) rather than by pairing every contact: what a
    contact panel shows."""
    shared = [
        getattr(Contact, k) == getattr(contact, k)
        for k in REASONS
        if getattr(contact, k) is not None
    ]
    if not shared:
        return []
    others = await db.scalars(
        select(Contact)
        .where(Contact.id != contact.id, or_(*shared), contact_filter(viewer))
        .order_by(Contact.id.desc())
        .limit(limit)
    )
    pairs = [(contact, o) if contact.id < o.id else (o, contact) for o in others]
    return [_suggestion(older, newer) for older, newer in pairs]


def _suggestion(contact: Contact, other: Contact) -> MergeSuggestion:
    # Two empty values are no reason: only a shared email or phone is.
    reasons = tuple(
        k
        for k in REASONS
        if getattr(contact, k) is not None and getattr(contact, k) == getattr(other, k)
    )
    return MergeSuggestion(contact, other, reasons)


_FILLED = ("first_name", "last_name", "email", "phone", "avatar_url", "country", "language")


def _fill(keep: Contact, other: Contact) -> None:
    """Give ``keep`` whatever it lacks and ``other`` has; what ``keep`` has stays."""
    chosen = keep.name != default_name(keep)
    other_chosen = other.name != default_name(other)
    had_names = bool(keep.first_name or keep.last_name)
    for key in _FILLED:
        if not getattr(keep, key) and getattr(other, key):
            setattr(keep, key, getattr(other, key))
    keep.fields = {**(other.fields or {}), **(keep.fields or {})}
    if not chosen:
        # A name only derived from an email or phone yields to the other's chosen name.
        use_other = other_chosen and not had_names
        keep.name = other.name if use_other else default_name(keep)


async def merge(work: Work, viewer: Viewer, keep_id: int, other_id: int) -> Contact:
    """Fold ``other`` into ``keep``: identities, conversations and CRM links move, empty
    fields are filled, and ``other`` is deleted. Each moved conversation gets a "merged"
    event; it takes the kept contact's blocked state."""
    keep = await get_contact(work.db, viewer, keep_id)
    require_everything(viewer, "merge")
    if other_id == keep.id:
        raise Invalid("other_id", "a contact cannot be merged with itself")
    other = await work.db.get(Contact, other_id)
    if other is None:
        raise Invalid("other_id", "no contact with this id")

    # (channel, external id) is unique over all contacts, so identities cannot clash.
    await work.db.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == other.id)
        .values(contact_id=keep.id)
    )
    await _move_crm_links(work, keep.id, other.id)
    await work.db.execute(
        update(Contact).where(Contact.merged_into_id == other.id).values(merged_into_id=keep.id)
    )
    moved: Sequence[Conversation] = (
        await work.db.scalars(select(Conversation).where(Conversation.contact_id == other.id))
    ).all()
    for conversation in moved:
        previous = ConversationScope.of(conversation)
        conversation.contact_id = keep.id
        conversation.contact_blocked = keep.blocked
        record(work, conversation, "merged", viewer.id, previous, merged_contact_id=other.id)
    _fill(keep, other)
    # Write the moves before the delete, whose cascade would otherwise take them along.
    await work.db.flush()
    await work.db.delete(other)
    await work.db.flush()
    await announce_contact(work, keep.id, "merged", merged_contact_id=other.id)
    return keep


async def _move_crm_links(work: Work, keep_id: int, other_id: int) -> None:
    """Move CRM links; where both contacts are linked in one CRM, the kept link wins."""
    kept = set(
        await work.db.scalars(
            select(CrmContactLink.connection_id).where(CrmContactLink.contact_id == keep_id)
        )
    )
    if kept:
        await work.db.execute(
            delete(CrmContactLink).where(
                CrmContactLink.contact_id == other_id, CrmContactLink.connection_id.in_(kept)
            )
        )
    await work.db.execute(
        update(CrmContactLink)
        .where(CrmContactLink.contact_id == other_id)
        .values(contact_id=keep_id)
    )
