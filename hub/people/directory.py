"""Users and teams: who works the inbox, their roles, availability and team memberships.

Who may change what:
- everyone may list and read users and teams (agents assign and @mention each other);
- owners and managers create and edit users and teams; a manager can neither create an
  owner, promote anyone to owner, nor edit an owner's account;
- a user may change their own name and availability;
- owners and managers set a new password for other users, with the same limits as
  editing them; one's own password is changed with the current one (``hub.auth.login``);
- nobody may demote or deactivate the last active owner (409), nor deactivate themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.accounts import NewUser, Role, Visibility, create_user, set_password
from hub.auth.passwords import generate_password
from hub.auth.visibility import Viewer
from hub.errors import Forbidden, HubError, Invalid, NotFound
from hub.events.access import access_changed
from hub.events.event import HubEvent
from hub.events.work import Work
from hub.people.audit_facts import team_facts, user_facts
from hub.store.models import LoginSession, Team, User
from hub.store.paging import like_pattern, name_key, name_page

# --- users ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UserChanges:
    """A partial update of a user; ``None`` leaves a field as it is."""

    name: str | None = None
    role: str | None = None
    visibility: str | None = None
    is_active: bool | None = None
    team_ids: list[int] | None = None

    def only_name(self) -> bool:
        """Whether nothing but the name is being changed."""
        return (self.role, self.visibility, self.is_active, self.team_ids) == (None,) * 4


async def list_users(
    db: AsyncSession, *, q: str | None, active: bool | None, cursor: str | None, limit: int
) -> tuple[list[User], str | None]:
    """One page of users sorted by name; ``q`` searches name and email."""
    conditions: list[ColumnElement[bool]] = []
    if q:
        pattern = like_pattern(q)
        conditions.append(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if active is not None:
        conditions.append(User.is_active.is_(active))
    return await name_page(db, User, name_key(User.name), User.id, conditions, cursor, limit)


async def get_user(db: AsyncSession, user_id: int) -> User:
    """A user with their teams; 404 when there is none."""
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("user")
    return user


async def teams_by_ids(db: AsyncSession, team_ids: Sequence[int], field: str) -> list[Team]:
    """The teams with these ids; 422 naming ``field`` and the unknown ids."""
    wanted = set(team_ids)
    teams = list(await db.scalars(select(Team).where(Team.id.in_(wanted)))) if wanted else []
    unknown = wanted - {t.id for t in teams}
    if unknown:
        raise Invalid(field, f"no team with id {', '.join(map(str, sorted(unknown)))}")
    return teams


async def users_by_ids(db: AsyncSession, user_ids: Sequence[int], field: str) -> list[User]:
    """The users with these ids; 422 naming ``field`` and the unknown ids."""
    wanted = set(user_ids)
    users = list(await db.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    unknown = wanted - {u.id for u in users}
    if unknown:
        raise Invalid(field, f"no user with id {', '.join(map(str, sorted(unknown)))}")
    return users


def _check_may_grant(actor: Viewer, role: str) -> None:
    if role == "owner" and actor.role != "owner":
        raise Forbidden("only an owner can make someone an owner")


async def create_account(
    work: Work,
    actor: Viewer,
    *,
    email: str,
    name: str,
    role: Role,
    visibility: Visibility,
    password: str | None,
    team_ids: Sequence[int],
) -> tuple[User, str | None]:
    """Create a user (owners and managers only); 409 when the email is taken.

    Without a password one is generated and returned, to be shown once.
    """
    _require_admin(actor)
    _check_may_grant(actor, role)
    generated = None if password else generate_password()
    new = NewUser(
        email=email,
        name=name,
        role=role,
        visibility=visibility,
        password=password or generated or "",
    )
    teams = await teams_by_ids(work.db, team_ids, "team_ids")
    user = await create_user(work.db, new)
    # A just-inserted user's collection was never loaded; load it before replacing it.
    await work.db.refresh(user, ["teams"])
    user.teams = teams
    await work.db.flush()
    changes = audit.created({**user_facts(user), "password": "set"})
    await audit.record(
        work.db, actor.actor_id, "user.created", "user", user.id, user.email, changes
    )
    _announce_user(work, user)
    return user, generated


async def _lock_active_owners(db: AsyncSession) -> list[int]:
    # Locked in id order: two concurrent demotions of two owners queue up instead of
    # each seeing the other still an owner (PostgreSQL; SQLite serializes writers).
    result = await db.scalars(
        select(User.id)
        .where(User.role == "owner", User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return list(result)


async def update_account(work: Work, actor: Viewer, user_id: int, changes: UserChanges) -> User:
    """Apply a partial update to a user, enforcing who may change what (module docstring)."""
    user = await get_user(work.db, user_id)
    if not actor.is_admin:
        if user.id != actor.id or not changes.only_name():
            raise Forbidden("you may change only your own name; ask an owner or a manager")
    elif user.role == "owner" and actor.role != "owner" and user.id != actor.id:
        raise Forbidden("only an owner can change an owner's account")
    if changes.role is not None and changes.role != user.role:
        _check_may_grant(actor, changes.role)
    if changes.is_active is False and user.id == actor.id:
        raise Forbidden("you cannot deactivate your own account")

    loses_owner = (
        user.role == "owner"
        and user.is_active
        and ((changes.role is not None and changes.role != "owner") or changes.is_active is False)
    )
    if loses_owner and set(await _lock_active_owners(work.db)) <= {user.id}:
        raise HubError(
            409, "last_owner", "this is the last active owner; make someone else owner first"
        )

    before = user_facts(user)
    if changes.name is not None:
        user.name = changes.name
    if changes.role is not None:
        user.role = changes.role
    if changes.visibility is not None:
        user.visibility = changes.visibility
    if changes.team_ids is not None:
        user.teams = await teams_by_ids(work.db, changes.team_ids, "team_ids")
    if changes.is_active is not None and changes.is_active != user.is_active:
        user.is_active = changes.is_active
        if not changes.is_active:
            # Their browser sessions end now; API tokens stop working because
            # resolve_token refuses inactive users, and work again on reactivation.
            await work.db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    await work.db.flush()
    await audit.record(
        work.db,
        actor.actor_id,
        "user.updated",
        "user",
        user.id,
        user.email,
        audit.diff(before, user_facts(user)),
    )
    _announce_user(work, user)
    return user


def check_may_set_password(actor: Viewer, user: User) -> None:
    """Refuse (403) unless ``actor`` may set ``user``'s password: owners and managers, for
    someone else, and only an owner for an owner."""
    _require_admin(actor)
    if user.id == actor.id:
        raise Forbidden("change your own password with your current one, on your account page")
    if user.role == "owner" and actor.role != "owner":
        raise Forbidden("only an owner can change an owner's account")


async def set_user_password(
    work: Work, actor: Viewer, user_id: int, password: str | None
) -> tuple[User, str | None]:
    """Give a user a new password (the one given, or a generated one, returned to be
    shown once); their browser sessions end."""
    user = await get_user(work.db, user_id)
    check_may_set_password(actor, user)
    generated = None if password else generate_password()
    await set_password(work.db, user, password or generated or "")
    await audit.record(
        work.db,
        actor.actor_id,
        "user.password_set",
        "user",
        user.id,
        user.email,
        {"password": [audit.SECRET, audit.SECRET]},
    )
    work.emit(access_changed(user.id))  # their open websockets close with the sessions
    return user, generated


async def set_availability(work: Work, user_id: int, available: bool) -> User:
    """Mark a user available (routing may give them new conversations) or not."""
    user = await get_user(work.db, user_id)
    if user.available != available:
        user.available = available
        await work.db.flush()
        _announce_user(work, user)
    return user


def _announce_user(work: Work, user: User) -> None:
    # Everyone may list users, so everyone may hear that one changed (assignee pickers,
    # availability dots).
    work.emit(
        HubEvent(
            "user.updated",
            {
                "user_id": user.id,
                "name": user.name,
                "role": user.role,
                "available": user.available,
                "is_active": user.is_active,
            },
        )
    )


# --- teams ---------------------------------------------------------------------------


async def list_teams(
    db: AsyncSession, *, cursor: str | None, limit: int
) -> tuple[list[Team], str | None]:
    """One page of teams sorted by name, with their members loaded."""
    return await name_page(db, Team, name_key(Team.name), Team.id, [], cursor, limit)


async def get_team(db: AsyncSession, team_id: int) -> Team:
    """A team with its members; 404 when there is none."""
    team = await db.get(Team, team_id)
    if team is None:
        raise NotFound("team")
    return team


def _name_taken(name: str) -> HubError:
    return HubError(
        409,
        "team_name_taken",
        f"a team named {name!r} exists already",
        [{"field": "name", "message": "taken"}],
    )


async def _check_name_free(db: AsyncSession, name: str, team_id: int | None = None) -> None:
    # Case-insensitive: "Support" and "support" side by side in a picker would confuse.
    query = select(Team.id).where(func.lower(Team.name) == name.lower())
    if team_id is not None:
        query = query.where(Team.id != team_id)
    if await db.scalar(query.limit(1)) is not None:
        raise _name_taken(name)


async def _flush_team(db: AsyncSession, name: str) -> None:
    # The check above can lose a race with a concurrent save; the unique index cannot.
    try:
        await db.flush()
    except IntegrityError:
        raise _name_taken(name) from None


def _require_admin(actor: Viewer) -> None:
    if not actor.is_admin:
        raise Forbidden("this needs the role owner or manager")


async def create_team(work: Work, actor: Viewer, name: str, user_ids: Sequence[int]) -> Team:
    """Create a team, optionally with members (owners and managers only)."""
    _require_admin(actor)
    await _check_name_free(work.db, name)
    members = await users_by_ids(work.db, user_ids, "user_ids")
    team = Team(name=name, members=members)
    work.db.add(team)
    await _flush_team(work.db, name)
    await _record_team(work, actor, "created", team, {})
    _announce_team(work, team.id, "created")
    return team


async def update_team(work: Work, actor: Viewer, team_id: int, name: str | None) -> Team:
    """Rename a team (owners and managers only); 409 when the name is taken."""
    _require_admin(actor)
    team = await get_team(work.db, team_id)
    if name is not None and name != team.name:
        await _check_name_free(work.db, name, team.id)
        before = team_facts(team)
        team.name = name
        await _flush_team(work.db, name)
        await _record_team(work, actor, "updated", team, before)
        _announce_team(work, team.id, "updated")
    return team


async def set_team_members(
    work: Work, actor: Viewer, team_id: int, user_ids: Sequence[int]
) -> Team:
    """Replace a team's member list (owners and managers only)."""
    _require_admin(actor)
    team = await get_team(work.db, team_id)
    before = team_facts(team)
    team.members = await users_by_ids(work.db, user_ids, "user_ids")
    await work.db.flush()
    await _record_team(work, actor, "updated", team, before)
    _announce_team(work, team.id, "members_changed")
    return team


async def delete_team(work: Work, actor: Viewer, team_id: int) -> None:
    """Delete a team. Its conversations keep their assignee and lose the team; custom
    inboxes stop being shared with it."""
    _require_admin(actor)
    team = await get_team(work.db, team_id)
    changes = audit.deleted(team_facts(team))
    await work.db.delete(team)
    await work.db.flush()
    await audit.record(work.db, actor.actor_id, "team.deleted", "team", team_id, team.name, changes)
    _announce_team(work, team_id, "deleted")
    # Conversations that were the team's may have moved between inboxes.
    work.emit(HubEvent("counts.changed", {}))


async def _record_team(
    work: Work, actor: Viewer, verb: str, team: Team, before: dict[str, Any]
) -> None:
    changes = audit.diff(before, team_facts(team))
    await audit.record(work.db, actor.actor_id, f"team.{verb}", "team", team.id, team.name, changes)


def _announce_team(work: Work, team_id: int, change: str) -> None:
    # Memberships decide what team-restricted agents see: a client hearing this should
    # refresh its view of the caller and its counts.
    work.emit(HubEvent("team.updated", {"team_id": team_id, "change": change}))
