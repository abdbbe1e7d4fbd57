"""Bodies of the user and team endpoints (the user object itself is ``UserOut``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool, field_validator

from hub.api.schemas.auth import UserOut
from hub.auth.accounts import Role, Visibility
from hub.auth.passwords import MAX_LENGTH, MIN_LENGTH
from hub.people.directory import UserChanges
from hub.store.models import Team
from hub.store.types import DbId

MAX_IDS = 500


class PatchBody(BaseModel):
    """A partial update: fields left out stay as they are; ``null`` is refused, as no
    field of a patch means "clear" by being null."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("leave the field out to keep it; null is not a value here")
        return value


class NamePageQuery(BaseModel):
    """Paging parameters shared by the small lists (users, teams, snippets, inboxes)."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=100)


class UserQuery(NamePageQuery):
    """``GET /api/v1/users`` parameters."""

    q: str | None = Field(None, max_length=200, description="part of the name or email")
    active: bool | None = Field(None, description="only active (true) or deactivated (false)")


class UserCreateBody(BaseModel):
    """``POST /api/v1/users``: without a password, one is generated and answered once."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role = "agent"
    visibility: Visibility = "all"
    password: str | None = Field(None, min_length=MIN_LENGTH, max_length=1000)
    team_ids: list[DbId] = Field(default_factory=list, max_length=MAX_IDS)


class CreatedUserOut(UserOut):
    """A user just created; ``password`` is set only when the hub generated it."""

    password: str | None = None


class UserPatchBody(PatchBody):
    """``PATCH /api/v1/users/{user_id}``; ``team_ids`` replaces the user's teams."""

    name: str | None = Field(None, min_length=1, max_length=200)
    role: Role | None = None
    visibility: Visibility | None = None
    is_active: StrictBool | None = Field(None, description="false deactivates, true reactivates")
    team_ids: list[DbId] | None = Field(None, max_length=MAX_IDS)

    def changes(self) -> UserChanges:
        """The fields given, as a domain update."""
        given = self.model_dump(include=self.model_fields_set)
        return UserChanges(**given)


class AvailabilityBody(BaseModel):
    """``PUT /api/v1/me/availability``."""

    model_config = ConfigDict(extra="forbid")

    available: StrictBool


class LocaleBody(BaseModel):
    """``PUT /api/v1/me/locale``: both replace what is stored; null is automatic."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(
        max_length=16, description="en or de; null: the browser's Accept-Language"
    )
    time_zone: str | None = Field(
        max_length=64,
        description="an IANA zone; null: the workspace's business hours' zone, or UTC",
        examples=["Europe/Berlin"],
    )


class PasswordSetBody(BaseModel):
    """``POST /api/v1/users/{user_id}/password``: without a password, one is generated and
    answered once. Kept exactly as typed (no whitespace is stripped from a password)."""

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, min_length=MIN_LENGTH, max_length=MAX_LENGTH)


class PasswordSetOut(UserOut):
    """The user whose password was set; ``password`` only when the hub generated it."""

    password: str | None = None


class PasswordChangeBody(BaseModel):
    """``POST /api/v1/me/password``: the caller's current password and the new one."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


class TeamOut(BaseModel):
    """A team with its members' ids."""

    id: int
    name: str
    member_ids: list[int]
    member_count: int

    @classmethod
    def of(cls, team: Team) -> TeamOut:
        """Serialize a stored team (members loaded)."""
        ids = sorted(member.id for member in team.members)
        return cls(id=team.id, name=team.name, member_ids=ids, member_count=len(ids))


class TeamCreateBody(BaseModel):
    """``POST /api/v1/teams``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    user_ids: list[DbId] = Field(default_factory=list, max_length=MAX_IDS)


class TeamPatchBody(PatchBody):
    """``PATCH /api/v1/teams/{team_id}``."""

    name: str | None = Field(None, min_length=1, max_length=200)


class MembersBody(BaseModel):
    """``PUT /api/v1/teams/{team_id}/members``: the complete new member list."""

    model_config = ConfigDict(extra="forbid")

    user_ids: list[DbId] = Field(max_length=MAX_IDS)
