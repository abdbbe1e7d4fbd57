"""Argon2id password hashing, run off the event loop (it is deliberately slow)."""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # stateless and thread-safe; its parameters are argon2's defaults

MIN_LENGTH = 10
MAX_LENGTH = 1000


def generate_password() -> str:
    """A random password for accounts created from the command line."""
    return secrets.token_urlsafe(15)


async def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing hash never matches (but costs the same)."""
    if password_hash is None:
        # Spend the same time as a real check so response time does not reveal the account.
        await asyncio.to_thread(_hasher.hash, password)
        return False
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
