"""Creating users and checking their passwords."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.passwords import MIN_LENGTH, hash_password, verify_password
from hub.errors import HubError
from hub.store.models import User
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
    password: str = Field(min_length=MIN_LENGTH, max_length=1000)

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
