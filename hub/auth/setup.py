"""The one-time owner setup of an empty hub."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.accounts import NewUser, count_users, create_user
from hub.auth.tokens import hash_secret, new_secret
from hub.errors import HubError
from hub.store.models import SetupToken, User


async def issue_setup_token(db: AsyncSession) -> str | None:
    """On a hub with no users, replace any earlier setup token with a new one and return it."""
    if await count_users(db):
        return None
    token = new_secret()
    await db.execute(delete(SetupToken))
    db.add(SetupToken(token_hash=hash_secret(token)))
    await db.commit()
    return token


async def complete_setup(db: AsyncSession, token: str, data: NewUser) -> User:
    """Create the owner with a valid setup token; the token is used up. The caller commits."""
    # Deleting the row first makes the token single-use even under concurrent requests:
    # a second request waits on the row lock and then finds nothing to delete.
    used = await db.execute(delete(SetupToken).where(SetupToken.token_hash == hash_secret(token)))
    if not used.rowcount:  # type: ignore[attr-defined]
        raise HubError(403, "invalid_setup_token", "this setup link is invalid or was used already")
    if await count_users(db):
        raise HubError(409, "already_set_up", "the owner account exists already; log in instead")
    return await create_user(db, data.model_copy(update={"role": "owner", "visibility": "all"}))
