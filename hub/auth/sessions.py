"""Browser login sessions: a random cookie value whose hash is stored, plus a CSRF token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.tokens import hash_secret, new_secret
from hub.store.models import LoginSession, User
from hub.store.types import utcnow

COOKIE_NAME = "hub_session"


async def start_session(
    db: AsyncSession, user: User, *, days: int, ip: str | None, user_agent: str | None
) -> tuple[str, LoginSession]:
    """Create a session for ``user``; return the cookie value (shown once) and the row."""
    # Housekeeping on the write path that logins already take: expired rows go.
    await db.execute(delete(LoginSession).where(LoginSession.expires_at <= utcnow()))
    cookie = new_secret()
    row = LoginSession(
        token_hash=hash_secret(cookie),
        user_id=user.id,
        csrf_token=new_secret(),
        expires_at=utcnow() + timedelta(days=days),
        ip=ip,
        user_agent=(user_agent or "")[:400] or None,
    )
    db.add(row)
    await db.flush()
    return cookie, row


async def resolve_session(db: AsyncSession, cookie: str) -> tuple[User, LoginSession] | None:
    """The active user and unexpired session behind a cookie value, if any."""
    row = await db.scalar(
        select(LoginSession).where(LoginSession.token_hash == hash_secret(cookie))
    )
    if row is None or row.expires_at <= utcnow():
        return None
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user, row


async def end_session(db: AsyncSession, session_id: int) -> None:
    """Delete a session (logout). The caller commits."""
    await db.execute(delete(LoginSession).where(LoginSession.id == session_id))


async def list_sessions(db: AsyncSession, user_id: int) -> list[LoginSession]:
    """The user's unexpired sessions (their browsers and devices), newest first."""
    rows = await db.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.expires_at > utcnow())
        .order_by(LoginSession.created_at.desc(), LoginSession.id.desc())
    )
    return list(rows)


async def end_other_sessions(db: AsyncSession, user_id: int, keep_session_id: int | None) -> int:
    """End every session of the user but ``keep_session_id`` (all of them without one);
    how many of them were still valid (expired rows go too, uncounted). The caller
    commits."""
    ended = await db.scalars(
        delete(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.id != (keep_session_id or 0))
        .returning(LoginSession.expires_at)
    )
    now = utcnow()
    return sum(1 for expires_at in ended if expires_at > now)
