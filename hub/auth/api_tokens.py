"""API tokens for the REST API: hashed at rest, the plaintext shown once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.tokens import hash_secret, new_secret
from hub.errors import NotFound
from hub.store.busy import is_busy
from hub.store.models import ApiToken, User
from hub.store.types import utcnow

TOKEN_PREFIX = "hub_"  # noqa: S105 - a label, not a secret
# Writing last_used_at on every request would turn each API read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


async def create_token(db: AsyncSession, user: User, name: str) -> tuple[str, ApiToken]:
    """Create a token for ``user``; return the plaintext (shown once) and the row."""
    plaintext = new_secret(TOKEN_PREFIX)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(plaintext),
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
    )
    db.add(row)
    await db.flush()
    return plaintext, row


async def resolve_token(db: AsyncSession, plaintext: str) -> User | None:
    """The active user behind an unrevoked token, if any."""
    row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(plaintext)))
    if row is None or row.revoked_at is not None:
        return None
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
        db.expunge(user)  # a rollback below must not expire the user the caller gets
        try:
            await db.commit()
        except DBAPIError as err:
            # A bookkeeping write must not fail the request it authenticates: while
            # another writer holds the database, skip it; a later use records it.
            if not is_busy(err):
                raise
            await db.rollback()
    return user


async def list_tokens(
    db: AsyncSession, user: User, *, before: int | None = None, limit: int | None = None
) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included; ``before`` (a token id)
    and ``limit`` page through them."""
    query = select(ApiToken).where(ApiToken.user_id == user.id)
    if before is not None:
        query = query.where(ApiToken.id < before)
    result = await db.scalars(query.order_by(ApiToken.id.desc()).limit(limit))
    return list(result)


async def own_token(db: AsyncSession, user: User, token_id: int) -> ApiToken:
    """One of the user's tokens; 404 when it is not theirs."""
    row = await db.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("token")
    return row


async def revoke_token(db: AsyncSession, user: User, token_id: int) -> None:
    """Revoke one of the user's tokens; 404 when it is not theirs."""
    row = await own_token(db, user, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
