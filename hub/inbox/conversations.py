"""Conversation state changes: assign, unassign, close, reopen, snooze, read.

Each change writes a timeline event with its actor and time, and emits realtime events
that go out after the transaction commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from hub.auth.visibility import ConversationScope, Viewer, can_see
from hub.contract.notices import ConversationChange, ConversationUpdated
from hub.errors import HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox import sla_clocks
from hub.inbox.notification_settings import wants
from hub.inbox.workspace import load_workspace_settings
from hub.store.models import Conversation, ConversationEvent, Notification, Team, User
from hub.store.types import utcnow


async def get_visible(work: Work, viewer: Viewer, conversation_id: int) -> Conversation:
    """The conversation if the viewer may see it; 404 otherwise (hidden = not found).

    Loaded by id, so a conversation this unit of work already holds costs no query (a
    pane asks for it from its header, timeline, draft and composer), and judged by the
    visibility rule's Python twin (``can_see``, proven equal to ``conversation_filter``).
    A query would return that same held object, with the same values, anyway.
    """
    conversation = await work.db.get(Conversation, conversation_id)
    if conversation is None or not can_see(viewer, ConversationScope.of(conversation)):
        raise NotFound("conversation")
    return conversation


def record(
    work: Work,
    conversation: Conversation,
    kind: ConversationChange,
    actor_id: int | None,
    previous: ConversationScope | None = None,
    at: datetime | None = None,
    **data: Any,
) -> None:
    """Write a timeline event and announce the change to whoever may see it. A change
    an automation rule makes names the rule (``data["rule"]``, the notice's ``rule_id``).
    ``at`` is the event's time when it is not when the session writes it."""
    if work.rule is not None:
        data = {**data, "rule": work.rule.name, "rule_id": work.rule.id}
    event = ConversationEvent(
        conversation_id=conversation.id, kind=kind, actor_id=actor_id, data=data
    )
    if at is not None:
        event.created_at = at
    work.db.add(event)
    scope = ConversationScope.of(conversation)
    work.emit(
        HubEvent(
            "conversation.updated",
            {"conversation_id": conversation.id, "event": kind, "actor_id": actor_id, **data},
            scope=scope,
            previous=previous if previous != scope else None,
        )
    )
    work.emit(HubEvent("counts.changed", {}, scope=scope, previous=previous))
    work.observe(
        ConversationUpdated(
            conversation_id=conversation.id,
            change=kind,
            actor_id=actor_id,
            data=data,
            rule_id=work.rule.id if work.rule is not None else None,
        )
    )


async def notify(
    work: Work, user_id: int, kind: str, conversation: Conversation | None, **data: Any
) -> None:
    """Store a notification for one user and push it to them, unless their notification
    settings turn that kind off. One an automation rule causes names it (``rule``)."""
    if not await wants(work.db, user_id, kind):
        return
    if work.rule is not None:
        data = {**data, "rule": work.rule.name}
    work.db.add(
        Notification(
            user_id=user_id,
            kind=kind,
            conversation_id=conversation.id if conversation else None,
            data=data,
        )
    )
    payload = {"kind": kind, "conversation_id": conversation.id if conversation else None, **data}
    work.emit(HubEvent("notification", payload, user_ids=frozenset({user_id})))


def _set_status(conversation: Conversation, status: str, at: datetime) -> None:
    conversation.status = status
    conversation.status_changed_at = at


async def check_assignee(work: Work, user_id: int | None, team_id: int | None) -> None:
    """422 unless the user is active, the team exists, and the user is in the team when
    both are given (checked once per conversation, and once up front by a bulk assign)."""
    if user_id is None and team_id is None:
        raise Invalid("user_id", "give a user_id or a team_id (to unassign, use unassign)")
    assignee = await work.db.get(User, user_id) if user_id is not None else None
    if user_id is not None and (assignee is None or not assignee.is_active):
        raise Invalid("user_id", "no active user with this id")
    if team_id is not None:
        team = await work.db.get(Team, team_id)
        if team is None:
            raise Invalid("team_id", "no team with this id")
        if assignee is not None and team_id not in {t.id for t in assignee.teams}:
            raise Invalid("user_id", f"{assignee.name} is not a member of {team.name}")


async def check_closing_note(work: Work, note: str | None) -> str | None:
    """The closing note as stored (blank is none), or 422 when the workspace's
    ``closing_notes`` setting asks for one or forbids it."""
    note = (note or "").strip() or None
    mode = (await load_workspace_settings(work.db)).closing_notes
    if mode == "mandatory" and note is None:
        raise Invalid("note", "a closing note is required in this workspace")
    if mode == "off" and note is not None:
        raise Invalid("note", "closing notes are turned off in this workspace")
    return note


async def assign(
    work: Work, viewer: Viewer, conversation_id: int, user_id: int | None, team_id: int | None
) -> Conversation:
    """Assign to a user and/or a team. The user must be active; when a team is given
    too, the user must belong to it."""
    # Visibility first: a hidden conversation is 404 whatever the body says.
    conversation = await get_visible(work, viewer, conversation_id)
    await check_assignee(work, user_id, team_id)
    previous = ConversationScope.of(conversation)
    conversation.assignee_id = user_id
    conversation.team_id = team_id
    record(
        work, conversation, "assigned", viewer.actor_id, previous, user_id=user_id, team_id=team_id
    )
    if user_id is not None and user_id != viewer.id:
        await notify(work, user_id, "assigned", conversation, by=viewer.actor_id)
    return conversation


async def unassign(work: Work, viewer: Viewer, conversation_id: int) -> Conversation:
    """Remove the user and team: the conversation goes to Unassigned."""
    conversation = await get_visible(work, viewer, conversation_id)
    previous = ConversationScope.of(conversation)
    conversation.assignee_id = None
    conversation.team_id = None
    record(work, conversation, "unassigned", viewer.actor_id, previous)
    return conversation


async def close(work: Work, viewer: Viewer, conversation_id: int, note: str | None) -> Conversation:
    """Close, with a closing note as the workspace's ``closing_notes`` setting says."""
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.status == "closed":
        raise HubError(409, "already_closed", "the conversation is closed already")
    note = await check_closing_note(work, note)
    now = utcnow()
    _set_status(conversation, "closed", now)
    conversation.closed_at = now
    conversation.closing_note = note
    conversation.snoozed_until = None
    sla_clocks.closed(conversation)
    record(work, conversation, "closed", viewer.actor_id, note=note)
    return conversation


async def reopen(work: Work, viewer: Viewer, conversation_id: int) -> Conversation:
    """Reopen a closed or snoozed conversation."""
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.status == "open":
        raise HubError(409, "already_open", "the conversation is open already")
    if conversation.merged_into_id is not None:
        # Its timeline lives in the target now: reopening it would start an empty twin.
        raise HubError(
            409,
            "merged",
            f"this conversation was merged into #{conversation.merged_into_id}: reopen that one",
        )
    now = utcnow()
    _set_status(conversation, "open", now)
    conversation.opened_at = now
    conversation.closed_at = None
    conversation.snoozed_until = None
    record(work, conversation, "reopened", viewer.actor_id)
    return conversation


async def snooze(work: Work, viewer: Viewer, conversation_id: int, until: datetime) -> Conversation:
    """Hide from the Open tab until ``until``; it comes back by itself then.

    Only an open or snoozed (re-timed) conversation: a closed one is refused (409) rather
    than left half closed, with its ``closed_at`` and closing note under a snooze.
    """
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.status == "closed":
        raise HubError(
            409,
            "conversation_closed",
            "a closed conversation cannot be snoozed: reopen it first",
        )
    if conversation.contact_blocked:
        raise HubError(409, "contact_blocked", "a blocked contact's conversation cannot be snoozed")
    if until <= utcnow():
        raise Invalid("until", "must be in the future")
    _set_status(conversation, "snoozed", utcnow())
    conversation.snoozed_until = until
    record(work, conversation, "snoozed", viewer.actor_id, until=until.isoformat())
    return conversation


async def unsnooze(work: Work, viewer: Viewer, conversation_id: int) -> Conversation:
    """Bring a snoozed conversation back to Open now."""
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.status != "snoozed":
        raise HubError(409, "not_snoozed", "the conversation is not snoozed")
    _wake(work, conversation, actor_id=viewer.actor_id)
    return conversation


def _wake(work: Work, conversation: Conversation, actor_id: int | None) -> None:
    _set_status(conversation, "open", utcnow())
    conversation.snoozed_until = None
    record(work, conversation, "unsnoozed", actor_id, by="timer" if actor_id is None else "user")


async def wake_due_snoozes(work: Work, limit: int = 200) -> list[int]:
    """Reopen conversations whose snooze ended; notify their assignees. Returns their ids."""
    due = await work.db.scalars(
        select(Conversation)
        # "Snoozed" as "neither open nor closed", which no index serves, so the query walks
        # ix_conversations_snoozed_until (the due ones, in order; every way out of a snooze
        # clears the time) where an equality sent SQLite, which keeps no statistics, to
        # every snoozed conversation and a sort (tests/test_sla_job_plans.py).
        .where(
            Conversation.status.not_in(("open", "closed")),
            Conversation.snoozed_until <= utcnow(),
        )
        .order_by(Conversation.snoozed_until)
        .limit(limit)
        # Several hub processes run this job: each takes rows the others have not locked,
        # so a conversation wakes (and notifies) once. SQLite, one writer, ignores it.
        .with_for_update(skip_locked=True)
    )
    woken = []
    for conversation in due:
        _wake(work, conversation, actor_id=None)
        # A blocked contact's conversations raise no notifications.
        if conversation.assignee_id is not None and not conversation.contact_blocked:
            await notify(work, conversation.assignee_id, "snooze_ended", conversation)
        woken.append(conversation.id)
    return woken


async def mark_read(work: Work, viewer: Viewer, conversation_id: int) -> Conversation:
    """The assignee (or anyone, while unassigned) has read the conversation."""
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.unread_count and conversation.assignee_id in (None, viewer.id):
        conversation.unread_count = 0
        work.emit(HubEvent("counts.changed", {}, scope=ConversationScope.of(conversation)))
    return conversation


async def set_contact_blocked(work: Work, contact_id: int, blocked: bool) -> None:
    """Copy a contact's blocked flag onto its conversations (every view filters on it)."""
    await work.db.execute(
        update(Conversation)
        .where(Conversation.contact_id == contact_id)
        .values(contact_blocked=blocked)
    )
