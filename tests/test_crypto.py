"""Channel and CRM credentials encrypted at rest under a key derived from the hub's secret."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.store.crypto import ConfigCipher, CredentialsUnreadable

SECRET = "a-secret-key-of-the-hub-" + "k" * 24
CONFIG: dict[str, Any] = {
    "access_token": "EAAG-super-secret-token-123",
    "phone_number_id": "1098765432",
    "app_secret": "s3cr3t-äpp-🔑",
    "options": {"retries": 3, "hosts": ["a", "b"], "debug": False, "proxy": None},
}


def test_config_round_trips() -> None:
    cipher = ConfigCipher(SECRET)
    assert cipher.decrypt(cipher.encrypt(CONFIG)) == CONFIG


def test_a_new_cipher_with_the_same_secret_reads_old_tokens() -> None:
    token = ConfigCipher(SECRET).encrypt(CONFIG)
    assert ConfigCipher(SECRET).decrypt(token) == CONFIG


def test_the_token_does_not_contain_the_plaintext() -> None:
    token = ConfigCipher(SECRET).encrypt(CONFIG)
    assert isinstance(token, str)
    for needle in ("EAAG-super-secret-token-123", "1098765432", "access_token", SECRET):
        assert needle not in token
    assert json.dumps(CONFIG) not in token


def test_encrypting_twice_gives_different_tokens() -> None:
    cipher = ConfigCipher(SECRET)
    assert cipher.encrypt(CONFIG) != cipher.encrypt(CONFIG)


def test_a_different_secret_key_raises_credentials_unreadable_naming_hub_secret_key() -> None:
    token = ConfigCipher(SECRET).encrypt(CONFIG)
    with pytest.raises(CredentialsUnreadable) as caught:
        ConfigCipher(SECRET + "-rotated").decrypt(token)
    assert "HUB_SECRET_KEY" in str(caught.value)
    assert "EAAG" not in str(caught.value)


def test_a_tampered_token_raises_credentials_unreadable() -> None:
    cipher = ConfigCipher(SECRET)
    token = cipher.encrypt(CONFIG)
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(CredentialsUnreadable):
        cipher.decrypt(tampered)
