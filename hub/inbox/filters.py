"""Saved filters of custom inboxes, and how they become SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true
from sqlalchemy.orm import aliased

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


def _contact_condition(condition: ContactCondition) -> ColumnElement[bool]:
    # An alias, so the subquery never correlates with a Contact the outer query joins.
    contact = aliased(Contact)
    if condition.field.startswith("fields."):
        column = contact.fields[condition.field.removeprefix("fields.")].as_string()
    else:
        column = getattr(contact, condition.field)
    if condition.op == "is_set":
        clause = and_(column.is_not(None), column != "")
    elif condition.op == "is_not_set":
        clause = or_(column.is_(None), column == "")
    elif condition.op == "equals":
        clause = func.lower(column) == (condition.value or "").lower()
    else:
        pattern = (
            "%" + (condition.value or "").lower().replace("%", r"\%").replace("_", r"\_") + "%"
        )
        clause = func.lower(column).like(pattern, escape="\\")
    return exists(select(contact.id).where(contact.id == Conversation.contact_id, clause))


def filters_clause(filters: CustomInboxFilters) -> ColumnElement[bool]:
    """SQL condition for a custom inbox's saved filters."""
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
    clauses.extend(_contact_condition(c) for c in filters.contact)
    if filters.last_activity_from is not None:
        clauses.append(Conversation.last_message_at >= filters.last_activity_from)
    if filters.last_activity_to is not None:
        clauses.append(Conversation.last_message_at <= filters.last_activity_to)
    if filters.label_ids:
        clauses.append(labels_clause(filters.label_ids))
    if filters.priorities:
        clauses.append(priorities_clause(filters.priorities))
    return and_(true(), *clauses)


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
