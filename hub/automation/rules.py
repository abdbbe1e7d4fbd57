"""Automation rules: on an event, when the conditions hold, run actions as the hub.

A rule is a name, an event (``EVENTS``), conditions (``rule_conditions``, all must
hold), 1 to 20 actions (``rule_actions``), a position (rules of an event run in order) and
``stop_processing`` (a matching rule ends the event's run). Owners and managers write
them; ``hub.automation.rule_runner`` runs them and records each run (``RuleRun``).

Every write announces ``rules.changed`` once it commits: each hub process holds the
rules it runs in memory and drops them on that announcement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.automation.rule_actions import RULE_ACTIONS, check_rule_references
from hub.automation.rule_conditions import parse_conditions
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.store.models import Rule, RuleRun
from hub.store.paging import pack, unpack

RuleEvent = Literal[
    "conversation_created", "message_received", "assigned", "closed", "reopened", "no_reply"
]
EVENTS: tuple[str, ...] = get_args(RuleEvent)
EVENT_TITLES: dict[str, str] = {
    "conversation_created": "A conversation is created",
    "message_received": "A message is received",
    "assigned": "A conversation is assigned",
    "closed": "A conversation is closed",
    "reopened": "A conversation is reopened",
    "no_reply": "No reply after some minutes",
}
NAME_MAX = 100
ACTIONS_MAX = 20
# A month: a customer waiting longer than that is not a timer's business.
MINUTES_MAX = 60 * 24 * 30
RULES_CHANGED = "rules.changed"


def rules_changed() -> HubEvent:
    """The announcement that the rules changed: addressed to no user, so no websocket
    receives it and the realtime log keeps none; every hub process's rule runner drops
    the rules it holds (``hub.automation.rule_runner``)."""
    return HubEvent(RULES_CHANGED, {}, user_ids=frozenset())


@dataclass(frozen=True)
class RuleFields:
    """A rule's fields as a create (all) or an update (None: leave it) gives them."""

    name: str | None = None
    enabled: bool | None = None
    event: str | None = None
    minutes: int | None = None
    conditions: Sequence[dict[str, Any]] | None = None
    actions: Sequence[BaseModel] | None = None
    stop_processing: bool | None = None


def _outdated(rule: Rule) -> HubError:
    return HubError(409, "rule_outdated", f"rule {rule.name!r} has parts this hub no longer knows")


def conditions_of(rule: Rule) -> list[BaseModel]:
    """A stored rule's conditions, typed (409 when a type is no longer known)."""
    try:
        return parse_conditions(rule.conditions)
    except Invalid as error:
        raise _outdated(rule) from error


def actions_of(rule: Rule) -> list[BaseModel]:
    """A stored rule's actions, typed (409 when a type is no longer known)."""
    try:
        return list(RULE_ACTIONS.validate_python(rule.actions))
    except ValidationError as error:
        raise _outdated(rule) from error


def _dump(items: Sequence[BaseModel]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json", exclude_none=True) for item in items]


def _check_admin(viewer: Viewer) -> None:
    if not viewer.is_admin:
        raise Forbidden("only owners and managers manage rules")


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("name", "give the rule a name")
    if len(name) > NAME_MAX:
        raise Invalid("name", f"at most {NAME_MAX} characters")
    return name


async def _check_actions(work: Work, actions: Sequence[BaseModel]) -> None:
    if not actions:
        raise Invalid("actions", "give at least one action")
    if len(actions) > ACTIONS_MAX:
        raise Invalid("actions", f"at most {ACTIONS_MAX} actions")
    for index, action in enumerate(actions):
        await check_rule_references(work, action, f"actions[{index}]")


def _check_timer(event: str, minutes: int | None) -> int | None:
    """``minutes`` is for the no-reply timer, and only for it."""
    if event not in EVENTS:
        raise Invalid("event", f"one of {', '.join(EVENTS)}")
    if event != "no_reply":
        return None
    if minutes is None or not 1 <= minutes <= MINUTES_MAX:
        raise Invalid("minutes", f"give the minutes to wait (1 to {MINUTES_MAX})")
    return minutes


async def list_rules(work: Work, *, event: str | None = None) -> list[Rule]:
    """Every rule (or an event's), in the order they run."""
    query = select(Rule).order_by(Rule.position, Rule.id)
    if event is not None:
        query = query.where(Rule.event == event)
    return list(await work.db.scalars(query))


async def get_rule(work: Work, rule_id: int) -> Rule:
    """One rule; 404 when there is none."""
    rule = await work.db.get(Rule, rule_id)
    if rule is None:
        raise NotFound("rule")
    return rule


async def create_rule(work: Work, viewer: Viewer, fields: RuleFields) -> Rule:
    """A new rule, after the others (owners and managers; 403 otherwise)."""
    _check_admin(viewer)
    name = _check_name(fields.name or "")
    event = fields.event or ""
    minutes = _check_timer(event, fields.minutes)
    conditions = parse_conditions(fields.conditions or [])
    actions = fields.actions or []
    await _check_actions(work, actions)
    last = await work.db.scalar(select(func.max(Rule.position)))
    rule = Rule(
        name=name,
        enabled=True if fields.enabled is None else fields.enabled,
        event=event,
        minutes=minutes,
        conditions=_dump(conditions),
        actions=_dump(actions),
        position=(last or 0) + 1,
        stop_processing=bool(fields.stop_processing),
    )
    work.db.add(rule)
    await work.db.flush()
    await _record(work, viewer, rule, "created", {})
    return rule


async def update_rule(work: Work, viewer: Viewer, rule_id: int, fields: RuleFields) -> Rule:
    """Change a rule's fields (those given); conditions and actions are replaced whole."""
    _check_admin(viewer)
    rule = await get_rule(work, rule_id)
    before = audit.row_facts(rule)
    if fields.name is not None:
        rule.name = _check_name(fields.name)
    if fields.enabled is not None:
        rule.enabled = fields.enabled
    if fields.event is not None or fields.minutes is not None:
        event = fields.event or rule.event
        minutes = fields.minutes if fields.minutes is not None else rule.minutes
        rule.minutes = _check_timer(event, minutes)
        rule.event = event
    if fields.conditions is not None:
        rule.conditions = _dump(parse_conditions(fields.conditions))
    if fields.actions is not None:
        await _check_actions(work, fields.actions)
        rule.actions = _dump(fields.actions)
    if fields.stop_processing is not None:
        rule.stop_processing = fields.stop_processing
    await work.db.flush()
    await _record(work, viewer, rule, "updated", before)
    return rule


async def move_rule(work: Work, viewer: Viewer, rule_id: int, step: int) -> Rule:
    """Move a rule one place earlier (``step`` -1) or later (1) in the running order."""
    _check_admin(viewer)
    if step not in (-1, 1):
        raise Invalid("step", "-1 (earlier) or 1 (later)")
    rules = await list_rules(work)
    index = next((i for i, r in enumerate(rules) if r.id == rule_id), None)
    if index is None:
        raise NotFound("rule")
    other = index + step
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        before = {"position": rules[other].position}
        for position, rule in enumerate(rules, start=1):
            rule.position = position
        await work.db.flush()
        work.emit(rules_changed())
        moved = rules[other]
        await audit.record_diff(
            work.db,
            viewer,
            ("rule", moved.id, moved.name),
            "updated",
            before,
            {"position": moved.position},
        )
    return rules[other] if 0 <= other < len(rules) else rules[index]


async def delete_rule(work: Work, viewer: Viewer, rule_id: int) -> None:
    """Delete a rule and its run log."""
    _check_admin(viewer)
    rule = await get_rule(work, rule_id)
    await audit.record_diff(
        work.db, viewer, ("rule", rule.id, rule.name), "deleted", audit.row_facts(rule), {}
    )
    await work.db.delete(rule)
    await work.db.flush()
    work.emit(rules_changed())


async def _record(
    work: Work, viewer: Viewer, rule: Rule, verb: str, before: dict[str, Any]
) -> None:
    after = audit.row_facts(rule)
    await audit.record_diff(work.db, viewer, ("rule", rule.id, rule.name), verb, before, after)
    work.emit(rules_changed())


async def list_runs(
    work: Work, *, rule_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> tuple[list[RuleRun], str | None]:
    """One page of the run log, newest first (of one rule, or of all)."""
    query = select(RuleRun).order_by(RuleRun.id.desc()).limit(limit + 1)
    if rule_id is not None:
        query = query.where(RuleRun.rule_id == rule_id)
    if cursor:
        (before,) = unpack(cursor, int)
        query = query.where(RuleRun.id < before)
    rows = list(await work.db.scalars(query))
    next_cursor = pack(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor
