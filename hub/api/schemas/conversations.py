"""Bodies of the conversation endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.api.schemas.labels import LabelRef
from hub.api.schemas.sla import SlaStateOut
from hub.inbox.priority import Priority, name_of
from hub.inbox.view_counts import ViewCount
from hub.inbox.views import ConversationRow
from hub.store.models import Conversation, Label
from hub.store.types import MAX_ID, DbId


class ContactRef(BaseModel):
    """The contact of a conversation, as listed."""

    id: int
    name: str


class ConversationOut(BaseModel):
    """A conversation as the API shows it."""

    id: int
    status: Literal["open", "closed", "snoozed"]
    contact: ContactRef
    channel_id: int
    assignee_id: int | None
    team_id: int | None
    unread_count: int
    unanswered: bool
    subject: str | None
    last_message_at: datetime
    opened_at: datetime
    status_changed_at: datetime
    snoozed_until: datetime | None
    closed_at: datetime | None
    closing_note: str | None
    priority: Priority
    labels: list[LabelRef] = Field(description="by name")
    sla: SlaStateOut | None = Field(description="the SLA policy's due times; null without one")

    @classmethod
    def of(
        cls, conversation: Conversation, contact_name: str, labels: Sequence[Label] = ()
    ) -> ConversationOut:
        """Serialize a stored conversation with its labels."""
        c = conversation
        return cls(
            id=c.id,
            status=c.status,
            contact=ContactRef(id=c.contact_id, name=contact_name),
            channel_id=c.channel_id,
            assignee_id=c.assignee_id,
            team_id=c.team_id,
            unread_count=c.unread_count,
            unanswered=c.last_message_direction == "in",
            subject=c.subject,
            last_message_at=c.last_message_at,
            opened_at=c.opened_at,
            status_changed_at=c.status_changed_at,
            snoozed_until=c.snoozed_until,
            closed_at=c.closed_at,
            closing_note=c.closing_note,
            priority=name_of(c.priority),
            labels=[LabelRef.of(label) for label in labels],
            sla=SlaStateOut.of(c),
        )

    @classmethod
    def of_row(cls, row: ConversationRow, labels: Sequence[Label] = ()) -> ConversationOut:
        """Serialize a listed row with its labels."""
        return cls.of(row.conversation, row.contact_name, labels)


class ConversationQuery(BaseModel):
    """``GET /api/v1/conversations`` parameters."""

    model_config = ConfigDict(extra="forbid")

    view: str = Field(
        "all",
        description="all, mine, unassigned, blocked, sla (SLA at risk), team:<id> or custom:<id>",
    )
    status: Literal["open", "closed", "snoozed", "all"] = "open"
    sort: Literal["newest", "oldest", "longest", "shortest", "priority"] = Field(
        "newest",
        description="newest/oldest message first, longest/shortest time in the current "
        "status (open, closed or snoozed), or priority (urgent first, then newest message)",
    )
    label: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list,
        max_length=20,
        description="only conversations carrying any of these labels (repeat the parameter)",
    )
    priority: list[Priority] = Field(
        default_factory=list,
        max_length=5,
        description="only conversations with any of these priorities (repeat the parameter)",
    )
    unanswered: bool | None = Field(None, description="only (un)answered conversations")
    contact_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="only this contact's conversations"
    )
    cursor: str | None = Field(None, max_length=200)
    limit: int = Field(25, ge=1, le=100)


class AssignBody(BaseModel):
    """``POST /api/v1/conversations/{id}/assign``."""

    model_config = ConfigDict(extra="forbid")

    user_id: DbId | None = None
    team_id: DbId | None = None


class CloseBody(BaseModel):
    """``POST /api/v1/conversations/{id}/close``."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=5000)


class SnoozeBody(BaseModel):
    """``POST /api/v1/conversations/{id}/snooze``."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime


class PriorityBody(BaseModel):
    """``POST /api/v1/conversations/{id}/priority``."""

    model_config = ConfigDict(extra="forbid")

    priority: Priority = Field(description="none, low, medium, high or urgent")


class ViewCountOut(BaseModel):
    """One sidebar entry: open conversations and the new-message dot."""

    view: str
    name: str
    open: int
    unread: int

    @classmethod
    def of(cls, count: ViewCount) -> ViewCountOut:
        """Serialize a count."""
        return cls(view=count.view, name=count.name, open=count.open, unread=count.unread)


class CountsOut(BaseModel):
    """``GET /api/v1/inbox/counts``."""

    views: list[ViewCountOut]


class ViewSeenBody(BaseModel):
    """``POST /api/v1/inbox/seen``."""

    model_config = ConfigDict(extra="forbid")

    view: str = Field(
        max_length=40, description="the inbox opened: all, mine, unassigned or team:<id>"
    )
