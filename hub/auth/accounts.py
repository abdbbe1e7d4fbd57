"""Creating users, checking their passwords and changing them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from hub.errors import HubError, Invalid
from hub.store.models import LoginSession, User
from hub.store.types import utcnow

Role = Literal["owner", "manager", "agent"]
Visibility = Literal["all", "team", "assigned"]


class NewUser(BaseModel):
    """What it takes to create a user."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: Role = "agent"
    visibility: Visibility = "all"
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)

    @field_validator("email")
    @classmethod
    def _lowercase(cls, value: str) -> str:
        return value.lower()


def normalize_email(email: str) -> str:
    """Emails are compared case-insensitively; store and look them up lowercased."""
    return email.strip().lower()


async def find_user_by_email(db: AsyncSession, email: str) -> User | None:
    """The user with this email, active or not."""
    return await db.scalar(select(User).where(User.email == normalize_email(email)))


async def create_user(db: AsyncSession, data: NewUser) -> User:
    """Create a user; 409 when the email is taken. The caller commits."""
    if await find_user_by_email(db, data.email) is not None:
        raise HubError(409, "email_taken", f"a user with email {data.email} already exists")
    user = User(
        email=data.email,
        name=data.name,
        role=data.role,
        visibility=data.visibility,
        password_hash=await hash_password(data.password),
    )
    db.add(user)
    await db.flush()
    return user


async def authenticate(db: AsyncSession, email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``; records the login time."""
    user = await find_user_by_email(db, email)
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


async def count_users(db: AsyncSession) -> int:
    """How many users exist."""
    return await db.scalar(select(func.count()).select_from(User)) or 0


async def set_password(
    db: AsyncSession, user: User, password: str, *, keep_session_id: int | None = None
) -> None:
    """Give ``user`` a new password (argon2id-hashed) and end their browser sessions,
    except ``keep_session_id`` (the session of a user changing their own). The caller
    commits.

    Sessions end because a password change is how someone locks out whoever learned the
    old one; API tokens stay: they are revoked one by one, or by deactivating the user.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise Invalid("password", f"use {MIN_LENGTH} to {MAX_LENGTH} characters")
    user.password_hash = await hash_password(password)
    ended = delete(LoginSession).where(LoginSession.user_id == user.id)
    if keep_session_id is not None:
        ended = ended.where(LoginSession.id != keep_session_id)
    await db.execute(ended)
    await db.flush()


def wrong_password() -> HubError:
    """The refusal of a password change whose current password does not match."""
    message = "this is not your current password"
    return HubError(
        422,
        "wrong_password",
        f"current_password: {message}",
        [{"field": "current_password", "message": message}],
    )


async def change_password(
    db: AsyncSession,
    user: User,
    current: str,
    new: str,
    *,
    keep_session_id: int | None = None,
) -> None:
    """A user's change of their own password: ``current`` must match (422
    ``wrong_password`` otherwise); the user's other sessions end. The caller commits."""
    if not await verify_password(user.password_hash, current):
        raise wrong_password()
    if new == current:
        raise Invalid("new_password", "choose a password other than your current one")
    await set_password(db, user, new, keep_session_id=keep_session_id)
