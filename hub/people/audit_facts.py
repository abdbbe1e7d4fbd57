"""What the audit log records of users and teams (never a password, only that one was
set)."""

from __future__ import annotations

from typing import Any

from hub.store.models import Team, User


def user_facts(user: User) -> dict[str, Any]:
    """A user's audited fields."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "visibility": user.visibility,
        "is_active": user.is_active,
        "team_ids": sorted(t.id for t in user.teams),
    }


def team_facts(team: Team) -> dict[str, Any]:
    """A team's audited fields."""
    return {"name": team.name, "member_ids": sorted(u.id for u in team.members)}
