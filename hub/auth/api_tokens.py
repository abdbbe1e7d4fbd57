"""API tokens for the REST API: hashed at rest, the plaintext shown once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import audit
from hub.auth.token_uses import TokenUses
from hub.auth.tokens import hash_secret, new_secret
from hub.errors import NotFound
from hub.store.models import ApiToken, User
from hub.store.types import utcnow

TOKEN_PREFIX = "hub_"  # noqa: S105 - a label, not a secret
# How often the noted uses are written: last_used_at is exact to about this much.
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
    # The plaintext is never recorded; the prefix shown in lists identifies the token.
    changes = audit.created({"name": name, "prefix": row.prefix})
    await audit.record(db, user.id, "api_token.created", "api_token", row.id, name, changes)
    return plaintext, row


async def resolve_token(
    db: AsyncSession, plaintext: str, uses: TokenUses | None = None
) -> User | None:
    """The active user behind an unrevoked token, if any; the use is noted in ``uses``
    (written later by the app's background job), never written here."""
    found = await resolve_token_row(db, plaintext, uses)
    return found[0] if found is not None else None


async def resolve_token_row(
    db: AsyncSession, plaintext: str, uses: TokenUses | None = None
) -> tuple[User, ApiToken] | None:
    """Like ``resolve_token``, with the token's row (the audit log names it)."""
    row = await db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(plaintext)))
    if row is None or row.revoked_at is not None:
        return None
    user = await db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if uses is not None:
        uses.note(row.id, utcnow())
    return user, row


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
        await audit.record(db, user.id, "api_token.revoked", "api_token", row.id, row.name)
