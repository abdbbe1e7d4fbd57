"""Saved filters of custom inboxes, and how they become SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hub.inbox.contact_contains import (
    RARE,
    contains,
    matching_contact_ids,
    rare_candidates,
    rare_matches,
)
from hub.inbox.priority import Priority, level
from hub.store.models import Contact, Conversation, ConversationLabel
from hub.store.types import DbId

ContactField = Literal["name", "first_name", "last_name", "email", "phone"]


class ContactCondition(BaseModel):
    """One condition on the contact: a standard field, or a custom one as ``fields.<key>``."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(
        pattern=r"^(name|first_name|last_name|email|phone|fields\.[A-Za-z0-9_]{1,64})$"
    )
    op: Literal["equals", "contains", "is_set", "is_not_set"]
    value: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _value_when_needed(self) -> ContactCondition:
        if self.op in ("equals", "contains") and not self.value:
            raise ValueError(f"op {self.op!r} needs a value")
        return self


class CustomInboxFilters(BaseModel):
    """What a custom inbox shows. Every given condition must hold (AND); lists are OR."""

    model_config = ConfigDict(extra="forbid")

    channel_ids: list[DbId] = Field(default_factory=list, max_length=100)
    statuses: list[Literal["open", "closed", "snoozed"]] = Field(default_factory=list)
    assignee_ids: list[DbId] = Field(default_factory=list, max_length=100)
    include_unassigned: bool = False
    team_ids: list[DbId] = Field(default_factory=list, max_length=100)
    unanswered: bool | None = None
    contact: list[ContactCondition] = Field(default_factory=list, max_length=20)
    last_activity_from: AwareDatetime | None = None
    last_activity_to: AwareDatetime | None = None
    label_ids: list[DbId] = Field(
        default_factory=list, max_length=100, description="carrying any of these labels"
    )
    priorities: list[Priority] = Field(
        default_factory=list, max_length=5, description="with any of these priorities"
    )


# A "contains" condition matching at most this many contacts is resolved to their ids
# first (through the trigram index), and the list is then read by those contacts'
# conversations; matching more, the contacts are common enough among conversations that
# walking the view's own order and testing each one finds a page sooner.
MAX_RESOLVED_CONTACTS = 2000


# Aliases made once: a new ``aliased()`` adapts its table's columns again on first use
# (about 1 ms a call, most of a custom inbox's own Python time). Reused, they render the
# same, and each use is a subquery of its own (siblings may share an alias).
_CONTACT = aliased(Contact, name="condition_contact")
_CONVERSATION = aliased(Conversation, name="by_contact")


def _field_column(contact: Any, field: str) -> Any:
    if field.startswith("fields."):
        return contact.fields[field.removeprefix("fields.")].as_string()
    return getattr(contact, field)


def contact_condition(condition: ContactCondition) -> ColumnElement[bool]:
    """The condition as written: a test of each conversation's contact, with no index
    (``filters_clause`` uses the trigram index where one serves)."""
    # An alias, so the subquery never correlates with a Contact the outer query joins.
    contact = _CONTACT
    column = _field_column(contact, condition.field)
    if condition.op == "is_set":
        clause = and_(column.is_not(None), column != "")
    elif condition.op == "is_not_set":
        clause = or_(column.is_(None), column == "")
    elif condition.op == "equals":
        clause = func.lower(column) == (condition.value or "").lower()
    else:
        clause = contains(column, condition.value or "")
    return exists(select(contact.id).where(contact.id == Conversation.contact_id, clause))


async def _resolved_condition(
    db: AsyncSession, condition: ContactCondition
) -> tuple[ColumnElement[bool], bool]:
    """The condition, with a "contains" on an indexed field looked up in its trigram
    index first: the same conversations as ``contact_condition``, found from the few
    matching contacts instead of by testing every conversation of the view. And whether
    it keeps a few contacts' conversations only (PostgreSQL; see ``InboxClause.few``)."""
    ids = None
    if condition.op == "contains":
        text = condition.value or ""
        few = None
        if RARE <= MAX_RESOLVED_CONTACTS:
            few = await rare_candidates(db, condition.field, text)
        if few is not None:
            # SQLite: the few candidates' conversations, by conversation id (see below),
            # and the definition tested only on the conversations the list keeps.
            other = _CONVERSATION
            by_candidates = Conversation.id.in_(select(other.id).where(other.contact_id.in_(few)))
            return and_(by_candidates, contact_condition(condition)), False
        matches = None
        if RARE <= MAX_RESOLVED_CONTACTS:
            matches = await rare_matches(db, condition.field, text)
        if matches is not None:  # PostgreSQL: the same, and exact
            return Conversation.contact_id.in_(matches), True
        ids = await matching_contact_ids(db, condition.field, text, MAX_RESOLVED_CONTACTS)
    if ids is None:
        return contact_condition(condition), False
    if not ids:
        return false(), False
    if db.get_bind().dialect.name == "postgresql":
        # One array parameter: an IN list of 800 parameters is bound, sent and planned
        # one by one on every call (about 1.5 ms of planning alone). Unnested, as a set:
        # "= ANY(array)" led the list's sort (InboxClause.few) to a scan of every
        # conversation (35 ms); from a set it reads each contact's by index.
        array_type: ARRAY[int] = ARRAY(Conversation.contact_id.type)
        array: BindParameter[list[int]] = bindparam(
            "contact_ids",
            sorted(ids),
            type_=array_type,  # type: ignore[arg-type]
        )
        return Conversation.contact_id.in_(select(func.unnest(array))), True
    # One expanding parameter: a list of literal values is coerced one by one when the
    # statement is built (about 10 ms for 800 ids).
    contacts: BindParameter[list[int]] = bindparam("contact_ids", sorted(ids), expanding=True)
    if db.get_bind().dialect.name != "sqlite":
        return Conversation.contact_id.in_(contacts), False
    # By conversation id, which every index of conversations holds: SQLite tests each
    # entry of the view's ordered walk without reading its row (a walk it takes however
    # few the contacts: 3 ms against 29 ms with "contact_id IN" over 100k
    # conversations). PostgreSQL plans the plain form better.
    other = _CONVERSATION
    return Conversation.id.in_(select(other.id).where(other.contact_id.in_(contacts))), False


@dataclass(frozen=True)
class InboxClause:
    """A custom inbox's SQL condition, and whether it keeps only the conversations of a
    few contacts (``few``: a "contains" found through the trigram index to match at
    most ``MAX_RESOLVED_CONTACTS`` contacts, on PostgreSQL). A list then reads those
    conversations and sorts them rather than walking the view's order: PostgreSQL
    estimates the walk cheaper, but it reads a row from the table for every
    conversation it passes (3,600 for a page of "@example7.", 6 ms; the sort 2 ms)."""

    clause: ColumnElement[bool]
    few: bool = False


async def filters_clause(db: AsyncSession, filters: CustomInboxFilters) -> ColumnElement[bool]:
    """SQL condition for a custom inbox's saved filters.

    A "contains" condition on a contact's field reads the trigram index first (one
    query): see ``_resolved_condition``."""
    return (await inbox_clause(db, filters)).clause


async def inbox_clause(db: AsyncSession, filters: CustomInboxFilters) -> InboxClause:
    """``filters_clause``, and whether it keeps a few contacts' conversations only."""
    clauses: list[ColumnElement[bool]] = []
    if filters.channel_ids:
        clauses.append(Conversation.channel_id.in_(filters.channel_ids))
    if filters.statuses:
        clauses.append(Conversation.status.in_(filters.statuses))
    if filters.assignee_ids or filters.include_unassigned:
        options: list[ColumnElement[bool]] = []
        if filters.assignee_ids:
            options.append(Conversation.assignee_id.in_(filters.assignee_ids))
        if filters.include_unassigned:
            options.append(Conversation.assignee_id.is_(None))
        clauses.append(or_(*options))
    if filters.team_ids:
        clauses.append(Conversation.team_id.in_(filters.team_ids))
    if filters.unanswered is not None:
        clauses.append(unanswered_clause(filters.unanswered))
    resolved = [await _resolved_condition(db, c) for c in filters.contact]
    clauses.extend(clause for clause, _ in resolved)
    if filters.last_activity_from is not None:
        clauses.append(Conversation.last_message_at >= filters.last_activity_from)
    if filters.last_activity_to is not None:
        clauses.append(Conversation.last_message_at <= filters.last_activity_to)
    if filters.label_ids:
        clauses.append(labels_clause(filters.label_ids))
    if filters.priorities:
        clauses.append(priorities_clause(filters.priorities))
    return InboxClause(and_(true(), *clauses), any(few for _, few in resolved))


def labels_clause(label_ids: Sequence[int]) -> ColumnElement[bool]:
    """Conversations carrying any of these labels."""
    return exists(
        select(ConversationLabel.label_id).where(
            ConversationLabel.conversation_id == Conversation.id,
            ConversationLabel.label_id.in_(list(label_ids)),
        )
    )


def priorities_clause(priorities: Sequence[Priority]) -> ColumnElement[bool]:
    """Conversations with any of these priorities."""
    return Conversation.priority.in_([level(p) for p in priorities])


def unanswered_clause(unanswered: bool = True) -> ColumnElement[bool]:
    """Unanswered: the last message is inbound and no reply followed."""
    if unanswered:
        return Conversation.last_message_direction == "in"
    return or_(
        Conversation.last_message_direction.is_(None), Conversation.last_message_direction != "in"
    )
