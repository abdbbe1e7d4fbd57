"""The conditions of automation rules: a registry of condition types.

Each type is a pydantic model (its ``type`` and fields) and an ``async`` test of the
facts of one conversation at one moment (``Facts``). A rule's conditions all have to
hold (AND). The registry (``CONDITION_TYPES``) is a plain dict so a condition type can
be added by one entry without touching the rules or the runner; stored
conditions of a type the hub no longer knows make the rule fail its run, not crash.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.errors import Invalid
from hub.events.work import Work
from hub.inbox.business_hours import is_open
from hub.inbox.priority import Priority, level
from hub.store.models import Contact, Conversation
from hub.store.types import DbId

CONDITIONS_MAX = 20
IDS_MAX = 50
VALUE_MAX = 200
# A pattern is matched against at most this much of a message: Python's re has no
# timeout, so the input is what bounds a pathological pattern's work.
REGEX_INPUT_MAX = 2000
CONTACT_FIELDS = ("name", "email", "phone", "country", "language")


@dataclass(frozen=True)
class Facts:
    """What conditions look at: the conversation as it is now, its contact, the labels
    on it, the text of the customer message in question (the one that arrived, or the
    last one for events without a message) and when."""

    conversation: Conversation
    contact: Contact | None
    text: str
    label_ids: frozenset[int]
    at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


class _Condition(BaseModel):
    """Every condition: nothing beyond its own fields (a typo is a 422)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ChannelIs(_Condition):
    """The conversation is on one of these channels."""

    type: Literal["channel"] = "channel"
    channel_ids: list[DbId] = Field(min_length=1, max_length=IDS_MAX)


class ContactField(_Condition):
    """A contact field (``name``, ``email``, ``phone``, ``country``, ``language``, or a
    custom field's key) equals or contains a value, ignoring case."""

    type: Literal["contact_field"] = "contact_field"
    field: str = Field(min_length=1, max_length=100)
    op: Literal["equals", "contains"] = "equals"
    value: str = Field(max_length=VALUE_MAX)


class MessageText(_Condition):
    """The customer's message contains a text (ignoring case) or matches a regular
    expression (Python syntax, searched anywhere, ignoring case)."""

    type: Literal["message_text"] = "message_text"
    op: Literal["contains", "matches"] = "contains"
    value: str = Field(min_length=1, max_length=VALUE_MAX)

    @field_validator("value")
    @classmethod
    def _compiles(cls, value: str, info: Any) -> str:
        if info.data.get("op") == "matches":
            try:
                re.compile(value)
            # A repeat count past the engine's limit ("a{4294967296}") is an
            # OverflowError, a deep nesting a RecursionError: bad patterns all the same.
            except (re.error, OverflowError, RecursionError) as error:
                raise ValueError(f"not a valid regular expression: {error}") from error
        return value


class Labels(_Condition):
    """The conversation carries any of the labels, or none of them."""

    type: Literal["labels"] = "labels"
    op: Literal["has_any", "has_none"] = "has_any"
    label_ids: list[DbId] = Field(min_length=1, max_length=IDS_MAX)


class PriorityIs(_Condition):
    """The priority is exactly, or at least, a level."""

    type: Literal["priority"] = "priority"
    op: Literal["is", "at_least"] = "is"
    priority: Priority


class TeamIs(_Condition):
    """The conversation's team is one of these (``none`` true: it has no team)."""

    type: Literal["team"] = "team"
    op: Literal["is", "none"] = "is"
    team_ids: list[DbId] = Field(default_factory=list, max_length=IDS_MAX)


class AssigneeIs(_Condition):
    """The conversation is assigned to one of these users, or to nobody."""

    type: Literal["assignee"] = "assignee"
    op: Literal["is", "unassigned"] = "is"
    user_ids: list[DbId] = Field(default_factory=list, max_length=IDS_MAX)


class BusinessHoursAre(_Condition):
    """At the moment of the event, the business hours of the conversation's team (else
    the workspace default) are open, or closed. No hours set at all: always open."""

    type: Literal["business_hours"] = "business_hours"
    op: Literal["open", "closed"] = "closed"


Test = Callable[[Work, Facts, Any], Awaitable[bool]]


@dataclass(frozen=True)
class ConditionType:
    """One kind of condition: its model and its test."""

    model: type[_Condition] | type[BaseModel]
    holds: Test
    title: str


def _folded(value: object) -> str:
    return str(value).casefold() if value is not None else ""


async def _channel(_: Work, facts: Facts, c: ChannelIs) -> bool:
    return facts.conversation.channel_id in c.channel_ids


async def _contact_field(_: Work, facts: Facts, c: ContactField) -> bool:
    contact = facts.contact
    if contact is None:
        return False
    raw = getattr(contact, c.field) if c.field in CONTACT_FIELDS else contact.fields.get(c.field)
    have, want = _folded(raw), _folded(c.value)
    return have == want if c.op == "equals" else bool(want) and want in have


async def _message_text(_: Work, facts: Facts, c: MessageText) -> bool:
    text = facts.text[:REGEX_INPUT_MAX] if c.op == "matches" else facts.text
    if c.op == "contains":
        return c.value.casefold() in text.casefold()
    return re.search(c.value, text, re.IGNORECASE) is not None


async def _labels(_: Work, facts: Facts, c: Labels) -> bool:
    carried = bool(facts.label_ids & set(c.label_ids))
    return carried if c.op == "has_any" else not carried


async def _priority(_: Work, facts: Facts, c: PriorityIs) -> bool:
    have = facts.conversation.priority
    return have == level(c.priority) if c.op == "is" else have >= level(c.priority)


async def _team(_: Work, facts: Facts, c: TeamIs) -> bool:
    team_id = facts.conversation.team_id
    return team_id is None if c.op == "none" else team_id in c.team_ids


async def _assignee(_: Work, facts: Facts, c: AssigneeIs) -> bool:
    user_id = facts.conversation.assignee_id
    return user_id is None if c.op == "unassigned" else user_id in c.user_ids


async def _business_hours(work: Work, facts: Facts, c: BusinessHoursAre) -> bool:
    now_open = await is_open(work.db, facts.conversation.team_id, facts.at)
    return now_open == (c.op == "open")


CONDITION_TYPES: dict[str, ConditionType] = {
    "channel": ConditionType(ChannelIs, _channel, "Channel is"),
    "contact_field": ConditionType(ContactField, _contact_field, "Contact field"),
    "message_text": ConditionType(MessageText, _message_text, "Message text"),
    "labels": ConditionType(Labels, _labels, "Labels"),
    "priority": ConditionType(PriorityIs, _priority, "Priority"),
    "team": ConditionType(TeamIs, _team, "Team"),
    "assignee": ConditionType(AssigneeIs, _assignee, "Assignee"),
    "business_hours": ConditionType(BusinessHoursAre, _business_hours, "Business hours"),
}


def parse_conditions(raw: Sequence[object], field_name: str = "conditions") -> list[BaseModel]:
    """Stored or posted conditions, typed; 422 naming the condition's field otherwise."""
    if len(raw) > CONDITIONS_MAX:
        raise Invalid(field_name, f"at most {CONDITIONS_MAX} conditions")
    parsed: list[BaseModel] = []
    for index, item in enumerate(raw):
        where = f"{field_name}[{index}]"
        kind = item.get("type") if isinstance(item, dict) else None
        condition_type = CONDITION_TYPES.get(kind) if isinstance(kind, str) else None
        if condition_type is None:
            known = ", ".join(sorted(CONDITION_TYPES))
            raise Invalid(f"{where}.type", f"give a condition type: one of {known}")
        try:
            parsed.append(condition_type.model.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            loc = ".".join(str(part) for part in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise Invalid(f"{where}.{loc}" if loc else where, message) from error
    _check_ops(parsed, field_name)
    return parsed


def _check_ops(parsed: list[BaseModel], field_name: str) -> None:
    """The list fields an ``is`` needs (a team or assignee condition naming nobody)."""
    for index, condition in enumerate(parsed):
        if isinstance(condition, TeamIs) and condition.op == "is" and not condition.team_ids:
            raise Invalid(f"{field_name}[{index}].team_ids", "choose at least one team")
        if isinstance(condition, AssigneeIs) and condition.op == "is" and not condition.user_ids:
            raise Invalid(f"{field_name}[{index}].user_ids", "choose at least one user")


async def all_hold(work: Work, facts: Facts, conditions: Sequence[BaseModel]) -> bool:
    """Whether every condition holds (no conditions: always)."""
    for condition in conditions:
        kind = str(getattr(condition, "type", ""))
        if not await CONDITION_TYPES[kind].holds(work, facts, condition):
            return False
    return True
