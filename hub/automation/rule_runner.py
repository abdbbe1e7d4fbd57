"""Running the rules: a built-in observer plugin, and the no-reply timer.

``RulesPlugin`` implements the observer hooks (``hub_message_received``,
``hub_conversation_updated``) like any plugin and is registered by ``hub.wiring_jobs``: the
rules run after the change commits, each matching rule in a unit of work of its own,
as the hub. What a rule's actions change carries the rule's id on its notices
(``ConversationUpdated.rule_id``), and such notices are never acted on again: rules
cannot trigger rules, so no chain of them can loop.

Each matching rule's run is recorded (``RuleRun``): ``done`` (an action changed
something, or a webhook went out), ``skipped`` (every action found nothing to change)
or ``failed`` (an action refused: nothing the rule's actions did is kept, and the error
is recorded). Webhooks are POSTed after the other actions commit, never inside a
transaction; one that fails marks the run failed without undoing the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.automation.rule_actions import SendWebhook, failure_text, run_rule_action, send_webhook
from hub.automation.rule_conditions import Facts, all_hold
from hub.automation.rules import RULES_CHANGED, actions_of, conditions_of, list_rules
from hub.contract.hookspecs import hookimpl
from hub.contract.notices import ConversationUpdated, MessageReceived
from hub.errors import HubError
from hub.events.bus import EventBus
from hub.events.forget import everything, forget_on_change
from hub.events.work import RuleOrigin, Work, unit_of_work
from hub.inbox.channel_plugins import ChannelPlugins
from hub.observers import Observers
from hub.store.models import (
    Contact,
    Conversation,
    ConversationLabel,
    Message,
    Rule,
    RuleRun,
    RuleTimerFire,
)
from hub.store.shared_read import HeldRead
from hub.store.types import utcnow

log = logging.getLogger(__name__)
BUILTIN_NAME = "hub.rules"
# The conversation changes that are rule events (the others: no rule listens).
CHANGE_EVENTS = {
    "created": "conversation_created",
    "assigned": "assigned",
    "closed": "closed",
    "reopened": "reopened",
}
TIMER_BATCH = 100
# How long the rules of an event are held without hearing of a change: only the safety
# net should an announcement be lost (every rule write announces ``rules.changed``).
RULES_HELD_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    """A rule as read before its run (its row may change meanwhile)."""

    id: int
    name: str
    event: str
    conditions: list[BaseModel]
    actions: list[BaseModel]
    stop_processing: bool

    @classmethod
    def of(cls, rule: Rule) -> Snapshot:
        """A stored rule, typed (409 ``rule_outdated`` when a part is no longer known)."""
        return cls(
            rule.id,
            rule.name,
            rule.event,
            conditions_of(rule),
            actions_of(rule),
            rule.stop_processing,
        )


class RuleRunner:
    """Runs the rules of an event on a conversation; shared by the plugin and the timer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        observers: Observers | None,
        *,
        channels: ChannelPlugins | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._observers = observers
        self._channels = channels
        self._http = http
        # Every stored message asks for the rules of its event: held in memory until any
        # process announces a rule change (``follow_changes``), not read per message.
        self.rules_of = HeldRead(self._read_rules, ttl=RULES_HELD_SECONDS)

    async def follow_changes(self) -> None:
        """Drop the held rules whenever any hub process announces a rule change (or
        announcements may have been lost); runs until cancelled."""
        await forget_on_change(self._bus, self.rules_of.forget, {RULES_CHANGED}, everything)

    async def _read_rules(self, event: str) -> list[Snapshot | tuple[int, str]]:
        """The enabled rules of ``event`` in order, as snapshots; (id, error) for a rule
        that can no longer be read."""
        async with self._sessions() as db:
            rules = await list_rules(Work(db), event=event)
            snapshots: list[Snapshot | tuple[int, str]] = []
            for rule in rules:
                if not rule.enabled:
                    continue
                try:
                    snapshots.append(Snapshot.of(rule))
                except HubError as error:
                    snapshots.append((rule.id, error.message))
        return snapshots

    async def on_event(self, event: str, conversation_id: int, message_id: int | None) -> None:
        """Run the enabled rules of ``event`` in order; a matching rule with
        ``stop_processing`` ends the run. A rule that can no longer be read is recorded
        as failed."""
        for item in await self.rules_of.get(event):
            if isinstance(item, tuple):
                await self._record(item[0], conversation_id, event, "failed", item[1])
                continue
            if await self.run_rule(item, conversation_id, message_id) and item.stop_processing:
                break

    async def run_rule(self, rule: Snapshot, conversation_id: int, message_id: int | None) -> bool:
        """Run one rule on one conversation; whether its conditions held."""
        hooks: list[SendWebhook] = [a for a in rule.actions if isinstance(a, SendWebhook)]
        payload: dict[str, Any] = {}
        try:
            async with unit_of_work(self._sessions, self._bus, self._observers) as work:
                work.rule = RuleOrigin(rule.id, rule.name)
                facts = await gather_facts(work, conversation_id, message_id)
                if facts is None or not await all_hold(work, facts, rule.conditions):
                    return False
                changed = await self._act(work, rule, conversation_id)
                outcome = "done" if changed or hooks else "skipped"
                run = RuleRun(
                    rule_id=rule.id,
                    conversation_id=conversation_id,
                    event=rule.event,
                    outcome=outcome,
                )
                work.db.add(run)
                await work.db.flush()
                run_id = run.id
                payload = webhook_payload(rule, facts)
        except HubError as error:
            await self._record(rule.id, conversation_id, rule.event, "failed", error.message)
            return True
        except Exception:
            log.exception("rule %s on conversation %s failed", rule.id, conversation_id)
            await self._record(rule.id, conversation_id, rule.event, "failed", "internal error")
            return True
        if hooks:
            await self._send_webhooks(run_id, hooks, payload)
        return True

    async def _act(self, work: Work, rule: Snapshot, conversation_id: int) -> bool:
        """The rule's actions but its webhooks, in order; whether any changed anything."""
        changed = False
        for index, action in enumerate(rule.actions):
            if isinstance(action, SendWebhook):
                continue
            try:
                outcome = await run_rule_action(
                    work, conversation_id, action, channels=self._channels
                )
            except HubError as error:
                raise HubError(
                    error.status, error.code, failure_text(error, index, action)
                ) from error
            changed = changed or outcome.changed
        return changed

    async def _send_webhooks(
        self, run_id: int, hooks: list[SendWebhook], payload: dict[str, Any]
    ) -> None:
        errors = []
        for action in hooks:
            if self._http is None:
                errors.append(f"webhook {action.url}: no HTTP client in this process")
                continue
            result = await send_webhook(self._http, action, payload)
            if result.error is not None:
                errors.append(result.error)
        if errors:
            async with self._sessions() as db:
                run = await db.get(RuleRun, run_id)
                if run is not None:
                    run.outcome = "failed"
                    run.error = "; ".join(errors)
                    await db.commit()

    async def _record(
        self, rule_id: int, conversation_id: int, event: str, outcome: str, error: str | None
    ) -> None:
        async with self._sessions() as db:
            db.add(
                RuleRun(
                    rule_id=rule_id,
                    conversation_id=conversation_id,
                    event=event,
                    outcome=outcome,
                    error=error,
                )
            )
            try:
                await db.commit()
            except IntegrityError:  # the rule or conversation was deleted meanwhile
                log.info("rule run of rule %s not recorded: gone", rule_id)

    async def fire_due_timers(self) -> int:
        """Run every enabled no-reply rule on the conversations whose last customer
        message has waited its minutes without an answer, each (rule, message) once;
        the number fired. A new rule does not fire on messages older than itself."""
        async with self._sessions() as db:
            rules = [r for r in await list_rules(Work(db), event="no_reply") if r.enabled]
            due: list[tuple[int, int, int]] = []
            for rule in rules:
                due += [(rule.id, c, m) for c, m in await _waiting(db, rule)]
        fired = 0
        for rule_id, conversation_id, message_id in due:
            if not await self._claim(rule_id, message_id):
                continue
            fired += 1
            async with self._sessions() as db:
                current = await db.get(Rule, rule_id)
                if current is None or not current.enabled:
                    continue
                try:
                    snapshot = Snapshot.of(current)
                except HubError as error:
                    await self._record(
                        rule_id, conversation_id, "no_reply", "failed", error.message
                    )
                    continue
            await self.run_rule(snapshot, conversation_id, message_id)
        return fired

    async def _claim(self, rule_id: int, message_id: int) -> bool:
        """Note that the rule fired for the message; False when it already had (here or
        in another hub process: the unique constraint decides)."""
        async with self._sessions() as db:
            db.add(RuleTimerFire(rule_id=rule_id, message_id=message_id))
            try:
                await db.commit()
            except IntegrityError:
                return False
        return True


async def _waiting(db: AsyncSession, rule: Rule) -> list[tuple[int, int]]:
    """(conversation, message) pairs where the last customer message of an open
    conversation is older than the rule's minutes, newer than the rule, with no agent
    reply after it and the rule not yet fired for it."""
    cutoff = utcnow() - timedelta(minutes=rule.minutes or 0)
    last_in = (
        select(Message.conversation_id, func.max(Message.id).label("message_id"))
        .where(Message.direction == "in")
        .group_by(Message.conversation_id)
        .subquery()
    )
    reply = Message.__table__.alias("reply")
    query = (
        select(Conversation.id, Message.id)
        .join(last_in, last_in.c.conversation_id == Conversation.id)
        .join(Message, Message.id == last_in.c.message_id)
        .where(
            Conversation.status == "open",
            Message.created_at <= cutoff,
            Message.created_at >= rule.created_at,
            ~exists().where(
                and_(
                    reply.c.conversation_id == Conversation.id,
                    reply.c.direction == "out",
                    reply.c.id > Message.id,
                )
            ),
            ~exists().where(
                and_(RuleTimerFire.rule_id == rule.id, RuleTimerFire.message_id == Message.id)
            ),
        )
        .order_by(Message.id)
        .limit(TIMER_BATCH)
    )
    return [(row[0], row[1]) for row in (await db.execute(query)).all()]


async def gather_facts(work: Work, conversation_id: int, message_id: int | None) -> Facts | None:
    """The facts conditions look at; None when the conversation is gone, or its contact
    is blocked (rules leave blocked contacts alone, as agents do)."""
    conversation = await work.db.get(Conversation, conversation_id)
    if conversation is None or conversation.contact_blocked:
        return None
    contact = await work.db.get(Contact, conversation.contact_id)
    if message_id is None:
        message_id = await work.db.scalar(
            select(func.max(Message.id)).where(
                Message.conversation_id == conversation_id, Message.direction == "in"
            )
        )
    message = await work.db.get(Message, message_id) if message_id is not None else None
    labels = await work.db.scalars(
        select(ConversationLabel.label_id).where(
            ConversationLabel.conversation_id == conversation_id
        )
    )
    return Facts(
        conversation=conversation,
        contact=contact,
        text=(message.text or "") if message is not None else "",
        label_ids=frozenset(labels),
        at=utcnow(),
        extra={"message_id": message.id if message is not None else None},
    )


def webhook_payload(rule: Snapshot, facts: Facts) -> dict[str, Any]:
    """What a rule's webhook POSTs: the rule, the event and the conversation."""
    c = facts.conversation
    return {
        "rule": {"id": rule.id, "name": rule.name},
        "event": rule.event,
        "conversation": {
            "id": c.id,
            "status": c.status,
            "channel_id": c.channel_id,
            "contact_id": c.contact_id,
            "assignee_id": c.assignee_id,
            "team_id": c.team_id,
            "priority": c.priority,
        },
        "message": {"id": facts.extra.get("message_id"), "text": facts.text},
        "at": facts.at.isoformat(),
    }


class RulesPlugin:
    """The rules as a built-in observer plugin (registered by ``hub.wiring_jobs``)."""

    def __init__(self, runner: RuleRunner) -> None:
        self.runner = runner

    @hookimpl
    async def hub_message_received(self, notice: MessageReceived) -> None:
        """Every stored customer message runs ``message_received`` (a new conversation's
        ``conversation_created`` comes from its ``created`` change)."""
        await self.runner.on_event("message_received", notice.conversation_id, notice.message_id)

    @hookimpl
    async def hub_conversation_updated(self, notice: ConversationUpdated) -> None:
        """Created (by an agent), assigned, closed, reopened — unless a rule did it."""
        event = CHANGE_EVENTS.get(notice.change)
        if event is None or notice.rule_id is not None:
            return
        await self.runner.on_event(event, notice.conversation_id, None)
