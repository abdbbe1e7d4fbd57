"""Service levels on conversations: applying a policy, starting its clocks, and the
breach job.

A conversation with a policy (``conversations.sla_policy_id``) has up to three clocks,
each a due time while it runs:

- **first response**: from the contact's first message, until an agent's first reply
  after it;
- **next response**: from the contact's first message after an agent's reply, until the
  next agent reply;
- **resolution**: from the conversation's opening (creation, or its last reopening,
  ``opened_at``), until it is closed.

Replies and closing stop clocks at once (``hub.inbox.sla_clocks``). Starting one needs
the policy and the "add minutes" clock, so it is done here: when a policy is applied
(every clock from the conversation's messages), and by the breach job
(``check_slas``), which starts the clocks a contact's message or a reopening calls for
since (each counted from the message's or the reopening's own time, so the job's
interval never moves a due time) and then marks every due time passed as breached, once.
Snoozing pauses nothing: the contact is still waiting.

The clock is a parameter: ``calendar_minutes`` by default; a policy with
``business_hours`` uses the ``business`` clock given (the business-hours module's
``add_open_minutes``, with the conversation's team), by default ``hub_clocks()``'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.visibility import ConversationScope, Viewer
from hub.errors import NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.inbox.business_hours import add_open_minutes
from hub.inbox.conversations import get_visible, notify, record
from hub.inbox.sla_policies import get_policy
from hub.inbox.sla_status import AT_RISK_MINUTES, TARGETS
from hub.store.models import Conversation, Message, SlaPolicy, TeamMembership, User
from hub.store.types import utcnow

Clock = Callable[[AsyncSession, int | None, datetime, int], Awaitable[datetime]]
"""Add ``minutes`` to ``start`` for a team (``db``, ``team_id``, ``start``, ``minutes``)."""

Q = TypeVar("Q", bound=Select)  # type: ignore[type-arg]
# The statuses whose clocks run (an index range, where "!= closed" is none).
RUNNING = ("open", "snoozed")
# How many conversations one run of the job starts clocks for or marks breached.
BATCH = 200


async def calendar_minutes(
    db: AsyncSession, team_id: int | None, start: datetime, minutes: int
) -> datetime:
    """The calendar clock: ``minutes`` later, nights and weekends included."""
    return start + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Clocks:
    """The clocks SLA code counts with: calendar minutes, and the business-hours clock
    for policies that ask for it (the team's hours, else the workspace default's; tests
    give another)."""

    business: Clock = add_open_minutes

    def of(self, policy: SlaPolicy) -> Clock:
        """The clock a policy counts in."""
        return self.business if policy.business_hours else calendar_minutes


def hub_clocks() -> Clocks:
    """The clocks the hub counts with wherever none are given (applying a policy by
    hand, by a macro or a rule; the SLA job): business hours from
    ``hub.inbox.business_hours``."""
    return Clocks()


def _agent_reply() -> list[object]:
    return [Message.direction == "out", Message.sender_user_id.is_not(None)]


async def _first(db: AsyncSession, conversation_id: int, *where: object) -> datetime | None:
    at: datetime | None = await db.scalar(
        select(func.min(Message.created_at)).where(
            Message.conversation_id == conversation_id,
            *where,  # type: ignore[arg-type]
        )
    )
    return at


async def _waits(db: AsyncSession, conversation: Conversation) -> tuple[datetime | None, bool]:
    """Since when the contact waits for a reply (None: not waiting), and whether that is
    their first wait (no agent reply yet after their first message). A wait counts from
    the conversation's opening at the earliest: closed without a reply and reopened, the
    contact's old message does not make the new wait late from the start."""
    cid = conversation.id
    first_in = await _first(db, cid, Message.direction == "in")
    if first_in is None:
        return None, False
    replied = await _first(db, cid, *_agent_reply(), Message.created_at >= first_in)
    if replied is None:
        return max(first_in, conversation.opened_at), True
    last_reply = await db.scalar(
        select(func.max(Message.created_at)).where(
            Message.conversation_id == cid,
            *_agent_reply(),  # type: ignore[arg-type]
        )
    )
    waiting = await _first(db, cid, Message.direction == "in", Message.created_at > last_reply)
    return (None if waiting is None else max(waiting, conversation.opened_at)), False


async def _start_replies(
    db: AsyncSession, conversation: Conversation, policy: SlaPolicy, clock: Clock
) -> bool:
    """Start the first or next response clock if the contact waits; whether one started."""
    since, first = await _waits(db, conversation)
    minutes = policy.first_response_minutes if first else policy.next_response_minutes
    if since is None or minutes is None:
        return False
    due = await clock(db, conversation.team_id, since, minutes)
    if first:
        conversation.first_response_due_at = due
        conversation.first_response_breached_at = None
    else:
        conversation.next_response_due_at = due
        conversation.next_response_breached_at = None
    return True


async def _start_resolution(
    db: AsyncSession, conversation: Conversation, policy: SlaPolicy, clock: Clock
) -> bool:
    if policy.resolution_minutes is None or conversation.status == "closed":
        return False
    start = conversation.opened_at
    conversation.resolution_due_at = await clock(
        db, conversation.team_id, start, policy.resolution_minutes
    )
    conversation.resolution_breached_at = None
    return True


def _clear(conversation: Conversation) -> None:
    conversation.first_response_due_at = None
    conversation.next_response_due_at = None
    conversation.resolution_due_at = None
    conversation.first_response_breached_at = None
    conversation.next_response_breached_at = None
    conversation.resolution_breached_at = None


async def apply_policy(
    work: Work,
    viewer: Viewer | None,
    conversation_id: int,
    policy_id: int,
    clocks: Clocks | None = None,
) -> bool:
    """Put a policy on a conversation and start its clocks from the conversation's
    messages and opening (targets counted from then, not from now: a policy applied
    late can be breached at once, and the next run of the job says so). ``viewer`` None
    is the hub itself (a rule), which sees every conversation. The same policy again is
    no change (False). 404 for an unknown policy or a conversation the viewer cannot see."""
    if viewer is not None:
        conversation = await get_visible(work, viewer, conversation_id)
    else:
        found = await work.db.get(Conversation, conversation_id)
        if found is None:
            raise NotFound("conversation")
        conversation = found
    policy = await get_policy(work.db, policy_id)
    if conversation.sla_policy_id == policy.id:
        return False
    clock = (clocks or hub_clocks()).of(policy)
    _clear(conversation)
    conversation.sla_policy_id = policy.id
    if conversation.status != "closed":  # closed: nothing runs until it reopens
        await _start_replies(work.db, conversation, policy, clock)
        await _start_resolution(work.db, conversation, policy, clock)
    record(
        work,
        conversation,
        "sla_applied",
        viewer.actor_id if viewer else None,
        policy_id=policy.id,
        name=policy.name,
    )
    return True


async def remove_policy(work: Work, viewer: Viewer, conversation_id: int) -> bool:
    """Take the policy off a conversation, with its due times and breach markers;
    False when it had none."""
    conversation = await get_visible(work, viewer, conversation_id)
    if conversation.sla_policy_id is None:
        return False
    conversation.sla_policy_id = None
    _clear(conversation)
    record(work, conversation, "sla_removed", viewer.actor_id)
    return True


# --- the job ---------------------------------------------------------------------------


def _locked(query: Q) -> Q:
    # Several hub processes run the job: each takes rows the others have not locked, so
    # a breach is marked (and notified) once. SQLite, one writer, ignores it. No order:
    # an ORDER BY id would walk the primary key past every conversation to find a few.
    return query.limit(BATCH).with_for_update(skip_locked=True, of=Conversation)


def _announce(work: Work, conversation: Conversation, event: str = "sla_started") -> None:
    """Open inboxes redraw the conversation's due times (no timeline event: a clock
    starting, or a due time coming near, is no news; its breach is)."""
    scope = ConversationScope.of(conversation)
    data = {"conversation_id": conversation.id, "event": event, "actor_id": None}
    work.emit(HubEvent("conversation.updated", data, scope=scope))
    work.emit(HubEvent("counts.changed", {}, scope=scope))


async def start_clocks(work: Work, clocks: Clocks) -> list[int]:
    """Start the clocks a contact's message or a reopening calls for since the last run:
    open or snoozed conversations waiting for a reply with no reply clock running, or
    without a resolution clock. Returns the conversations whose clocks started."""
    waiting = and_(
        Conversation.last_message_direction == "in",
        Conversation.first_response_due_at.is_(None),
        Conversation.next_response_due_at.is_(None),
        or_(
            SlaPolicy.first_response_minutes.is_not(None),
            SlaPolicy.next_response_minutes.is_not(None),
        ),
        # Looked at once per new message: a wait the policy sets no target for (a next
        # reply under a first-reply-only policy) is not looked at again every run.
        or_(
            Conversation.sla_checked_at.is_(None),
            Conversation.last_message_at > Conversation.sla_checked_at,
        ),
    )
    unresolved = and_(
        Conversation.resolution_due_at.is_(None), SlaPolicy.resolution_minutes.is_not(None)
    )
    # The policies' ids, so each is looked up on ix_conversations_sla_policy_status: left
    # to a join, SQLite (no statistics) walked every running conversation to find those
    # with a policy, 0.1-0.4 s on 100k conversations, every run.
    policy_ids = list(await work.db.scalars(select(SlaPolicy.id)))
    if not policy_ids:
        return []
    rows = await work.db.execute(
        _locked(
            select(Conversation, SlaPolicy)
            .join(SlaPolicy, SlaPolicy.id == Conversation.sla_policy_id)
            .where(
                Conversation.sla_policy_id.in_(policy_ids),
                Conversation.status.in_(RUNNING),
                or_(waiting, unresolved),
            )
        )
    )
    started = []
    for conversation, policy in rows.all():
        clock = clocks.of(policy)
        changed = False
        if conversation.first_response_due_at is None and conversation.next_response_due_at is None:
            changed = await _start_replies(work.db, conversation, policy, clock)
            # The last message time seen, not now: a message committed after this read
            # moves last_message_at past it and is looked at on the next run.
            conversation.sla_checked_at = conversation.last_message_at
        if conversation.resolution_due_at is None:
            changed = await _start_resolution(work.db, conversation, policy, clock) or changed
        if changed:
            _announce(work, conversation)
            started.append(conversation.id)
    return started


# Running (open or snoozed), written as "not closed": an inequality no index serves, so
# each query below walks its due time's own index (ix_conversations_<target>_due_at)
# over the few conversations due, where an equality on the status led SQLite, which keeps
# no statistics, to walk every running conversation (0.1-0.4 s on 100k, every run).
# Closing clears the due times (hub.inbox.sla_clocks.closed), so the index walk meets
# few closed ones. tests/test_sla_job_plans.py reads the plans.
NOT_CLOSED = Conversation.status != "closed"
OPEN_ONLY = Conversation.status.not_in(("closed", "snoozed"))


async def _due(
    work: Work, condition: Callable[[str], ColumnElement[bool]], *, lock: bool
) -> list[Conversation]:
    """The conversations meeting ``condition(target)`` for any target, one query a
    target (each on its index), a batch each, every conversation once; ``lock`` takes
    them as ``_locked`` does."""
    found: dict[int, Conversation] = {}
    for target in TARGETS:
        query = select(Conversation).where(condition(target))
        for conversation in await work.db.scalars(_locked(query) if lock else query.limit(BATCH)):
            found.setdefault(conversation.id, conversation)
    return list(found.values())


def _passed(now: datetime) -> Callable[[str], ColumnElement[bool]]:
    def passed(target: str) -> ColumnElement[bool]:
        due = getattr(Conversation, f"{target}_due_at")
        breached = getattr(Conversation, f"{target}_breached_at")
        return and_(due <= now, breached.is_(None), NOT_CLOSED)

    return passed


async def mark_breaches(work: Work, now: datetime | None = None) -> list[tuple[int, str]]:
    """Mark every due time that has passed as breached, once: a timeline event, a live
    update, and a notification to the assignee (or, unassigned, the team's members, or
    without a team the owners and managers). Returns (conversation, target) pairs."""
    now = now or utcnow()
    found = await _due(work, _passed(now), lock=True)
    marked = []
    for conversation in found:
        for target in TARGETS:
            due = getattr(conversation, f"{target}_due_at")
            if due is None or due > now or getattr(conversation, f"{target}_breached_at"):
                continue
            setattr(conversation, f"{target}_breached_at", due)
            record(work, conversation, "sla_breached", None, target=target, due_at=due.isoformat())
            if not conversation.contact_blocked:
                for user_id in await _who_hears(work.db, conversation):
                    await notify(work, user_id, "sla_breached", conversation, target=target)
            marked.append((conversation.id, target))
    return marked


async def _who_hears(db: AsyncSession, conversation: Conversation) -> list[int]:
    if conversation.assignee_id is not None:
        return [conversation.assignee_id]
    if conversation.team_id is not None:
        query = (
            select(User.id)
            .join(TeamMembership, TeamMembership.user_id == User.id)
            .where(TeamMembership.team_id == conversation.team_id)
        )
    else:
        query = select(User.id).where(User.role.in_(("owner", "manager")))
    return list(await db.scalars(query.where(User.is_active.is_(True)).order_by(User.id)))


async def announce_due_soon(work: Work, now: datetime, every: float) -> list[int]:
    """Redraw the conversations whose due time came within ``AT_RISK_MINUTES`` since the
    last run (``every`` seconds ago): nothing else happens to them at that moment, and
    their rows' badge and the "SLA at risk" count would wait for the next event. Read
    only, so each hub process may do it (a duplicate is one more redraw)."""
    edge = now + timedelta(minutes=AT_RISK_MINUTES)
    since = edge - timedelta(seconds=every)

    def coming(target: str) -> ColumnElement[bool]:
        due = getattr(Conversation, f"{target}_due_at")
        return and_(due > since, due <= edge, OPEN_ONLY)

    found = await _due(work, coming, lock=False)
    announced = []
    for conversation in found:
        _announce(work, conversation, "sla_due_soon")
        announced.append(conversation.id)
    return announced


async def check_slas(
    work: Work, clocks: Clocks | None = None, every: float | None = None
) -> list[tuple[int, str]]:
    """One run of the SLA job: start due clocks, then mark breaches; with ``every`` (the
    job's interval), redraw what came due soon since the last run."""
    now = utcnow()
    await start_clocks(work, clocks or hub_clocks())
    if every is not None:
        await announce_due_soon(work, now, every)
    return await mark_breaches(work, now)
