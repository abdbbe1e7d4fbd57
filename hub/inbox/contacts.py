"""Contacts: create, read, update, delete, search, merge, block — each as visibility allows.

Who sees a contact follows from the conversations: owners, managers and unrestricted
agents see every contact; a restricted agent sees a contact only through a conversation
they may see (``conversation_filter``). A hidden contact is "not found", like a missing
one. Deleting, merging, blocking and unblocking are for viewers who see everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import AliasedClass

from hub.auth.visibility import ConversationScope, Viewer, can_see, conversation_filter
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.contact_contains import contains, fts_query, narrowed
from hub.inbox.contact_fields import (
    PHONE_QUERY,
    ContactChanges,
    check_region,
    default_name,
    normalize_country,
    normalize_email,
    normalize_language,
    normalize_phone,
)
from hub.inbox.conversations import record, set_contact_blocked
from hub.store.models import Channel, Contact, ContactIdentity, Conversation
from hub.store.paging import bad_cursor, pack, unpack
from hub.store.types import utcnow

ContactSort = Literal["name", "newest"]


def _apply(contact: Contact, changes: ContactChanges, default_region: str | None) -> None:
    given = changes.model_fields_set
    if default_region is not None:
        default_region = check_region(default_region)
    # A name that followed the other fields keeps following them; a chosen one stays.
    follows = contact.name == default_name(contact)
    for key in ("first_name", "last_name", "avatar_url"):
        if key in given:
            setattr(contact, key, getattr(changes, key) or None)
    if "email" in given:
        contact.email = normalize_email(changes.email) if changes.email else None
    if "phone" in given:
        contact.phone = normalize_phone(changes.phone, default_region) if changes.phone else None
    if "country" in given:
        contact.country = normalize_country(changes.country) if changes.country else None
    if "language" in given:
        contact.language = normalize_language(changes.language) if changes.language else None
    if "fields" in given:
        merged = dict(contact.fields or {}) if changes.fields is not None else {}
        for key, value in (changes.fields or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact.fields = merged  # a new object, so the JSON column is seen as changed
    if "name" in given and changes.name:
        contact.name = changes.name
    elif "name" in given or follows:
        contact.name = default_name(contact)
    if not contact.name:
        raise Invalid("name", "give a name, first_name, last_name, email or phone")


# --- visibility ----------------------------------------------------------------------


def contact_filter(
    viewer: Viewer, contact: type[Contact] | AliasedClass[Contact] = Contact
) -> ColumnElement[bool]:
    """SQL condition: the contacts ``viewer`` may see (one visible conversation suffices)."""
    if viewer.sees_everything:
        return true()
    return exists(
        select(Conversation.id).where(
            Conversation.contact_id == contact.id, conversation_filter(viewer)
        )
    )


async def visible_conversation_ids(db: AsyncSession, viewer: Viewer, contact_id: int) -> list[int]:
    """The ids of a contact's conversations the viewer may see.

    Read by the contact alone and judged by the visibility rule's Python twin
    (``can_see``): a contact has few conversations, while the rule as SQL beside the
    contact lets SQLite (which keeps no statistics) walk every unblocked conversation in
    time order instead of the contact's index (0.3 s each on the 100k bench seed)."""
    rows = await db.execute(
        select(
            Conversation.id,
            Conversation.assignee_id,
            Conversation.team_id,
            Conversation.contact_blocked,
        ).where(Conversation.contact_id == contact_id)
    )
    return [
        row_id
        for row_id, assignee_id, team_id, blocked in rows.all()
        if can_see(viewer, ConversationScope(row_id, assignee_id, team_id, blocked))
    ]


async def get_contact(db: AsyncSession, viewer: Viewer, contact_id: int) -> Contact:
    """The contact if the viewer may see it; 404 otherwise (hidden = not found)."""
    contact = await db.get(Contact, contact_id)
    if contact is None or (
        not viewer.sees_everything and not await visible_conversation_ids(db, viewer, contact_id)
    ):
        raise NotFound("contact")
    return contact


def require_everything(viewer: Viewer, action: str) -> None:
    if not viewer.sees_everything:
        raise Forbidden(
            f"only owners, managers and agents who see all contacts may {action} a contact"
        )


# --- announcing changes --------------------------------------------------------------

# Whoever sees one of these conversations hears of the change; a contact with more has
# them announced for its most recent ones (where a contact panel is likely open).
ANNOUNCED_CONVERSATIONS = 100


async def announce_contact(work: Work, contact_id: int, change: str, **data: Any) -> None:
    """Emit ``contact.updated`` to whoever may see one of the contact's conversations, one
    event per conversation (each has its own scope), so open contact panels refresh."""
    rows = await work.db.scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact_id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(ANNOUNCED_CONVERSATIONS)
    )
    for conversation in rows:
        payload = {
            "contact_id": contact_id,
            "conversation_id": conversation.id,
            "change": change,
            **data,
        }
        work.emit(HubEvent("contact.updated", payload, scope=ConversationScope.of(conversation)))


# --- create, update, delete ----------------------------------------------------------


async def create_contact(
    work: Work, changes: ContactChanges, default_region: str | None = None
) -> Contact:
    """Create a contact (anyone may); 422 naming the field for a bad email or phone."""
    contact = Contact(name="", fields={}, blocked=False)
    _apply(contact, changes, default_region)
    work.db.add(contact)
    await work.db.flush()
    return contact


async def update_contact(
    work: Work,
    viewer: Viewer,
    contact_id: int,
    changes: ContactChanges,
    default_region: str | None = None,
) -> Contact:
    """Change the given fields of a visible contact."""
    contact = await get_contact(work.db, viewer, contact_id)
    _apply(contact, changes, default_region)
    await work.db.flush()
    await announce_contact(work, contact.id, "updated")
    return contact


async def delete_contact(work: Work, viewer: Viewer, contact_id: int) -> None:
    """Delete a contact and, through the database's cascade, its conversations."""
    contact = await get_contact(work.db, viewer, contact_id)
    require_everything(viewer, "delete")
    for conversation in await work.db.scalars(
        select(Conversation).where(Conversation.contact_id == contact.id)
    ):
        scope = ConversationScope.of(conversation)
        work.emit(HubEvent("conversation.deleted", {"conversation_id": conversation.id}, scope))
        work.emit(HubEvent("counts.changed", {}, scope=scope))
    await work.db.delete(contact)
    await work.db.flush()


# --- block ---------------------------------------------------------------------------


async def set_blocked(work: Work, viewer: Viewer, contact_id: int, blocked: bool) -> Contact:
    """Block or unblock: the contact's conversations move to (or back from) the
    Blocked-contacts inbox, each with a timeline event."""
    contact = await get_contact(work.db, viewer, contact_id)
    require_everything(viewer, "block" if blocked else "unblock")
    if contact.blocked == blocked:
        code, state = ("already_blocked", "blocked") if blocked else ("not_blocked", "not blocked")
        raise HubError(409, code, f"the contact is {state}")
    contact.blocked = blocked
    contact.blocked_at = utcnow() if blocked else None
    await set_contact_blocked(work, contact.id, blocked)
    for conversation in await work.db.scalars(
        select(Conversation).where(Conversation.contact_id == contact.id)
    ):
        # Who could see it before the change must hear of it too, to drop it from lists.
        previous = replace(ConversationScope.of(conversation), contact_blocked=not blocked)
        record(work, conversation, "blocked" if blocked else "unblocked", viewer.id, previous)
    await work.db.flush()
    await announce_contact(work, contact.id, "blocked" if blocked else "unblocked")
    return contact


# --- identities ----------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityRow:
    """Who a contact is on one channel, with the channel's type and name."""

    identity: ContactIdentity
    channel_type: str
    channel_name: str


async def list_identities(db: AsyncSession, viewer: Viewer, contact_id: int) -> list[IdentityRow]:
    """A visible contact's identities, one per (channel, external id), oldest first."""
    contact = await get_contact(db, viewer, contact_id)
    result = await db.execute(
        select(ContactIdentity, Channel.type, Channel.name)
        .join(Channel, Channel.id == ContactIdentity.channel_id)
        .where(ContactIdentity.contact_id == contact.id)
        .order_by(ContactIdentity.id)
    )
    return [IdentityRow(identity, kind, name) for identity, kind, name in result.all()]


# --- search and paging ---------------------------------------------------------------


def encode_contact_cursor(kind: str, value: str | int, row_id: int) -> str:
    """An opaque cursor of one sort: its name, the sort value and the last row's id."""
    return pack(kind, value, row_id)


def decode_contact_cursor(cursor: str, kind: str, value_type: type[str] | type[int]) -> Any:
    """``(value, id)`` of a cursor of this kind; 422 naming ``cursor`` for anything else."""
    # The newest-first sort keeps its time as text: a datetime, checked to have a zone.
    expected = datetime if kind == "newest" else value_type
    got_kind, value, row_id = unpack(cursor, str, expected, int)
    if got_kind != kind:
        raise bad_cursor("not a cursor this API gave out for this sort")
    return value, row_id


NAME_FIELDS = ("name", "first_name", "last_name", "email")


def _search_terms(q: str) -> tuple[list[ColumnElement[bool]], list[tuple[tuple[str, ...], str]]]:
    text = q.strip().lower()
    options = [contains(getattr(Contact, field), text) for field in NAME_FIELDS]
    terms: list[tuple[tuple[str, ...], str]] = [(NAME_FIELDS, text)]
    # Leading zeros are a trunk (0151…) or international (0049…) prefix, never in E.164.
    digits = re.sub(r"\D", "", text).lstrip("0")
    if digits and PHONE_QUERY.match(text):
        options.append(Contact.phone.like(f"%{digits}%"))
        terms.append((("phone",), digits))
    return options, terms


def search_definition(q: str) -> ColumnElement[bool]:
    """Case-insensitive substring match on name, first/last name or email; a query that
    looks like a phone number matches the digits of the stored E.164 phone, so
    ``+49 151 2345`` and ``0151 2345`` both find ``+4915123456789``. As written, with
    no index: ``search_clause`` is what queries use."""
    if not q.strip():
        return true()
    return or_(*_search_terms(q)[0])


async def search_clause(db: AsyncSession, q: str) -> ColumnElement[bool]:
    """``search_definition``, narrowed on SQLite by the trigram index first
    (``contact_contains``): the same contacts, found without testing every one."""
    if not q.strip():
        return true()
    options, terms = _search_terms(q)
    return and_(narrowed(Contact.id, await fts_query(db, terms)), or_(*options))


async def list_contacts(
    db: AsyncSession,
    viewer: Viewer,
    *,
    q: str | None = None,
    sort: ContactSort = "name",
    blocked: bool | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> tuple[list[Contact], str | None]:
    """One page of the contacts the viewer may see, by name (A to Z) or newest first."""
    # The name key comes from SQL, so the cursor compares exactly as the ORDER BY does.
    key = func.lower(Contact.name) if sort == "name" else Contact.created_at
    query = select(Contact, key).where(contact_filter(viewer), await search_clause(db, q or ""))
    if blocked is not None:
        query = query.where(Contact.blocked.is_(blocked))
    if cursor:
        value, last_id = decode_contact_cursor(cursor, sort, str)
        if sort == "name":
            query = query.where(or_(key > value, and_(key == value, Contact.id > last_id)))
        else:
            query = query.where(or_(key < value, and_(key == value, Contact.id < last_id)))
    order = (key, Contact.id) if sort == "name" else (key.desc(), Contact.id.desc())
    rows = (await db.execute(query.order_by(*order).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, last_key = rows[-1]
        value = last_key if sort == "name" else last.created_at.isoformat()
        next_cursor = encode_contact_cursor(sort, value, last.id)
    return [contact for contact, _ in rows], next_cursor
