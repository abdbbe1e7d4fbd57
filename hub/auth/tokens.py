"""High-entropy secrets for cookies, tokens and links, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str = "") -> str:
    """A fresh random secret (256 bits), optionally with a recognisable prefix."""
    return prefix + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The SHA-256 of a secret. Enough for 256-bit random secrets (no dictionary to try)."""
    return hashlib.sha256(secret.encode()).hexdigest()
