"""SLA policies: owners and managers define them (a name, up to three targets in
minutes, calendar or business hours); ``hub.inbox.sla`` applies them to conversations."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.store.models import Conversation, SlaPolicy

NAME_MAX = 100
# A year: a target further away is no service level.
MINUTES_MAX = 60 * 24 * 365
TARGETS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")
# More than any workspace defines; pickers list them all.
ALL_POLICIES_MAX = 200


@dataclass(frozen=True)
class PolicyFields:
    """A policy's settings: each target in minutes, or None for no such target."""

    name: str
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    business_hours: bool = False


def require_admin(actor: Viewer) -> None:
    """403 unless ``actor`` is an owner or a manager: only they manage SLA policies."""
    if not actor.is_admin:
        raise Forbidden("only owners and managers manage SLA policies")


def check(values: PolicyFields) -> PolicyFields:
    """The settings as stored (name trimmed); 422 naming the field otherwise."""
    name = " ".join(values.name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise Invalid("name", f"give 1 to {NAME_MAX} characters")
    targets = [getattr(values, t) for t in TARGETS]
    for field, minutes in zip(TARGETS, targets, strict=True):
        if minutes is not None and not 1 <= minutes <= MINUTES_MAX:
            raise Invalid(field, f"give 1 to {MINUTES_MAX} minutes, or none")
    if all(minutes is None for minutes in targets):
        raise Invalid("first_response_minutes", "give at least one target")
    first, following, resolution = targets
    return PolicyFields(name, first, following, resolution, values.business_hours)


def _name_taken(name: str) -> HubError:
    return HubError(
        409,
        "sla_policy_name_taken",
        f"an SLA policy named {name!r} exists already",
        [{"field": "name", "message": "taken (whatever the capitals)"}],
    )


async def _save(work: Work, policy: SlaPolicy, values: PolicyFields) -> None:
    query = select(SlaPolicy.id).where(SlaPolicy.name_key == values.name.lower())
    if policy.id is not None:
        query = query.where(SlaPolicy.id != policy.id)
    if await work.db.scalar(query.limit(1)) is not None:
        raise _name_taken(values.name)
    for field in fields(values):
        setattr(policy, field.name, getattr(values, field.name))
    policy.name_key = values.name.lower()
    work.db.add(policy)
    try:  # the check above can lose a race with a concurrent save; the unique key cannot
        await work.db.flush()
    except IntegrityError:
        raise _name_taken(values.name) from None


def _target(policy: SlaPolicy) -> tuple[str, int, str]:
    return "sla_policy", policy.id, policy.name


async def _record(
    work: Work, actor: Viewer, policy: SlaPolicy, verb: str, before: dict[str, Any]
) -> None:
    after = audit.row_facts(policy)
    await audit.record_diff(work.db, actor, _target(policy), verb, before, after)


def _announce(work: Work, policy_id: int, change: str) -> None:
    work.emit(HubEvent("sla_policy.updated", {"sla_policy_id": policy_id, "change": change}))


async def all_policies(db: AsyncSession) -> list[SlaPolicy]:
    """Every policy by name (up to ``ALL_POLICIES_MAX``)."""
    query = select(SlaPolicy).order_by(SlaPolicy.name_key, SlaPolicy.id).limit(ALL_POLICIES_MAX)
    return list(await db.scalars(query))


async def usage(db: AsyncSession) -> dict[int, int]:
    """How many open or snoozed conversations each policy runs on (absent: none)."""
    rows = await db.execute(
        select(Conversation.sla_policy_id, func.count())
        .where(Conversation.sla_policy_id.is_not(None), Conversation.status != "closed")
        .group_by(Conversation.sla_policy_id)
    )
    return {policy_id: int(n) for policy_id, n in rows.all() if policy_id is not None}


async def get_policy(db: AsyncSession, policy_id: int) -> SlaPolicy:
    """A policy; 404 when there is none."""
    policy = await db.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("sla_policy")
    return policy


async def create_policy(work: Work, actor: Viewer, values: PolicyFields) -> SlaPolicy:
    """Create a policy (owners and managers); 409 when the name is taken."""
    require_admin(actor)
    policy = SlaPolicy()
    await _save(work, policy, check(values))
    await _record(work, actor, policy, "created", {})
    _announce(work, policy.id, "created")
    return policy


async def update_policy(
    work: Work, actor: Viewer, policy_id: int, values: PolicyFields
) -> SlaPolicy:
    """Replace a policy's settings (owners and managers). Conversations it already runs
    on keep their due times; the new targets count from the next clock that starts."""
    require_admin(actor)
    policy = await get_policy(work.db, policy_id)
    before = audit.row_facts(policy)
    await _save(work, policy, check(values))
    await _record(work, actor, policy, "updated", before)
    _announce(work, policy.id, "updated")
    return policy


async def delete_policy(work: Work, actor: Viewer, policy_id: int) -> None:
    """Delete a policy (owners and managers): it comes off every conversation, with
    their due times and breach markers."""
    require_admin(actor)
    policy = await get_policy(work.db, policy_id)
    await audit.record_diff(work.db, actor, _target(policy), "deleted", audit.row_facts(policy), {})
    await work.db.execute(
        update(Conversation)
        .where(Conversation.sla_policy_id == policy_id)
        .values(
            sla_policy_id=None,
            first_response_due_at=None,
            next_response_due_at=None,
            resolution_due_at=None,
            first_response_breached_at=None,
            next_response_breached_at=None,
            resolution_breached_at=None,
        )
        .execution_options(synchronize_session="fetch")
    )
    await work.db.execute(delete(SlaPolicy).where(SlaPolicy.id == policy_id))
    _announce(work, policy_id, "deleted")
    work.emit(HubEvent("counts.changed", {}))
