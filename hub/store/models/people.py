"""Users, teams, memberships, login sessions and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.store.models.base import Base, Timestamped
from hub.store.types import Id, Json, UtcDateTime, utcnow

ROLES = ("owner", "manager", "agent")
VISIBILITIES = ("all", "team", "assigned")


class User(Timestamped, Base):
    """A person who works the inbox: an owner, a manager or an agent."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), default="agent")
    visibility: Mapped[str] = mapped_column(String(16), default="all")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The UI's language ("en", "de"; hub.people.locale_preferences) and IANA time zone;
    # NULL: automatic (the browser's Accept-Language; the workspace's hours' zone, or UTC).
    language: Mapped[str | None] = mapped_column(String(16))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Which notifications the user wants (hub.inbox.notification_settings); {} = defaults.
    notification_settings: Mapped[dict[str, Any]] = mapped_column(
        Json, default=dict, server_default=text("'{}'")
    )

    teams: Mapped[list[Team]] = relationship(
        secondary="team_memberships", back_populates="members", lazy="selectin"
    )


class Team(Timestamped, Base):
    """A group of users; conversations can be assigned to a team."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    members: Mapped[list[User]] = relationship(
        secondary="team_memberships", back_populates="teams", lazy="selectin"
    )


class TeamMembership(Base):
    """A user's membership of a team."""

    __tablename__ = "team_memberships"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LoginSession(Base):
    """A browser login; the cookie holds a secret whose hash is stored here."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(400))


class ApiToken(Base):
    """A bearer token for the REST API, hashed at rest and shown once on creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
