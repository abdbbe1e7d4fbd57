"""Encryption at rest for channel and CRM credentials, keyed from the hub's secret."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CredentialsUnreadable(Exception):
    """Stored credentials cannot be decrypted: the hub's secret key changed."""


class ConfigCipher:
    """Encrypts JSON configs with Fernet under a key derived (HKDF) from the hub secret."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"inbox-hub credentials v1"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, config: dict[str, Any]) -> str:
        """Encrypt a JSON-serializable config to a text token."""
        return self._fernet.encrypt(json.dumps(config).encode()).decode()

    def decrypt(self, token: str) -> dict[str, Any]:
        """Decrypt a token made by ``encrypt``."""
        try:
            data = self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise CredentialsUnreadable(
                "stored credentials cannot be decrypted: was HUB_SECRET_KEY changed?"
            ) from None
        result: dict[str, Any] = json.loads(data)
        return result
