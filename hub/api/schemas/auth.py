"""Request and response bodies of the auth and account endpoints."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hub.auth.accounts import NewUser, Role, Visibility
from hub.auth.passwords import MIN_LENGTH
from hub.store.models import ApiToken, User


class LoginBody(BaseModel):
    """``POST /api/v1/auth/login``."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class SetupBody(BaseModel):
    """``POST /api/v1/setup``: the owner's account plus the one-time token from the link."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    token: str = Field(min_length=1, max_length=200)
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=MIN_LENGTH, max_length=1000)

    def owner(self) -> NewUser:
        """The owner account this body describes."""
        return NewUser(email=self.email, name=self.name, password=self.password, role="owner")


class TokenBody(BaseModel):
    """``POST /api/v1/tokens``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)


class TeamRef(BaseModel):
    """A team, as shown inside a user."""

    id: int
    name: str


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    id: int
    email: str
    name: str
    role: Role
    visibility: Visibility
    available: bool
    is_active: bool
    teams: list[TeamRef]
    language: str | None = Field(
        description="the UI's language (en, de); null: automatic, from the browser"
    )
    time_zone: str | None = Field(
        description="an IANA zone for the UI's times; null: the workspace's hours' zone, or UTC"
    )

    @classmethod
    def of(cls, user: User) -> UserOut:
        """Serialize a stored user."""
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            role=user.role,
            visibility=user.visibility,
            available=user.available,
            is_active=user.is_active,
            teams=[TeamRef(id=t.id, name=t.name) for t in user.teams],
            language=user.language,
            time_zone=user.time_zone,
        )


class MeOut(UserOut):
    """``GET /api/v1/me``: the caller, and the CSRF token when logged in by cookie."""

    auth: str
    csrf_token: str | None = None


class TokenOut(BaseModel):
    """An API token as listed: never the token itself."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiToken) -> TokenOut:
        """Serialize a stored token."""
        return cls.model_validate(row, from_attributes=True)


class SessionOut(BaseModel):
    """One of the caller's browser sessions (never its cookie or CSRF token)."""

    id: int
    created_at: datetime
    expires_at: datetime
    ip: str | None = Field(description="the address it logged in from, as the hub saw it")
    user_agent: str | None = Field(description="the browser it logged in with")
    current: bool = Field(description="true for the session making this request")


class SessionsEndedOut(BaseModel):
    """What "log out everywhere else" did."""

    ended: int = Field(description="how many sessions ended")


class CreatedTokenOut(TokenOut):
    """A token just created: the only time its plaintext is shown."""

    token: str
