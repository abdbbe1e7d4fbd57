"""The installed CRM types, and the plugin object of each connection, built from its
decrypted, validated config and its OAuth tokens, with a saver that writes refreshed
tokens at once in a transaction of their own (a rotated refresh token must never be
lost because the caller's transaction rolled back)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.contract.crm import CrmContext, CrmTokens, CrmType, TokenSaver
from hub.store.crypto import ConfigCipher, CredentialsUnreadable
from hub.store.models import CrmConnection


class CrmUnavailable(Exception):
    """A connection's plugin object cannot be built; ``reason`` says what an admin does."""

    def __init__(self, connection_id: int, reason: str) -> None:
        super().__init__(f"CRM connection {connection_id}: {reason}")
        self.connection_id = connection_id
        self.reason = reason


class CrmInstances:
    """Builds a connection's plugin object; every call gets a fresh one, so it always
    starts from the tokens last saved (another process may have refreshed them)."""

    def __init__(
        self,
        types: Mapping[str, type[CrmType[Any]]],
        cipher: ConfigCipher,
        http: httpx.AsyncClient,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.types = dict(types)
        self.cipher = cipher
        self._http = http
        self._sessions = sessions

    def type_of(self, connection: CrmConnection) -> type[CrmType[Any]]:
        """The connection's CRM type; ``CrmUnavailable`` when it is not installed."""
        kind = self.types.get(connection.type)
        if kind is None:
            raise CrmUnavailable(connection.id, f"its type {connection.type!r} is not installed")
        return kind

    def config_of(self, connection: CrmConnection) -> BaseModel:
        """The stored config, decrypted and validated by the type's Config."""
        kind = self.type_of(connection)
        try:
            return kind.Config.model_validate(self.cipher.decrypt(connection.config_encrypted))
        except CredentialsUnreadable as err:
            raise CrmUnavailable(connection.id, str(err)) from None
        except ValidationError as err:
            raise CrmUnavailable(
                connection.id,
                f"its stored settings are no longer valid ({err.error_count()} errors): "
                "an admin must edit the connection",
            ) from None

    def tokens_of(self, connection: CrmConnection) -> CrmTokens | None:
        """The connection's OAuth tokens, or ``None`` (credentials typed into the form,
        or OAuth not finished yet)."""
        if not connection.tokens_encrypted:
            return None
        try:
            return CrmTokens.model_validate(self.cipher.decrypt(connection.tokens_encrypted))
        except (CredentialsUnreadable, ValidationError):
            raise CrmUnavailable(
                connection.id, "its stored tokens cannot be read: reconnect it"
            ) from None

    def saver(self, connection_id: int) -> TokenSaver:
        """Writes refreshed tokens of ``connection_id`` now, in their own transaction."""
        sessions, cipher = self._sessions, self.cipher

        async def save(tokens: CrmTokens) -> None:
            async with sessions() as db:
                await db.execute(
                    update(CrmConnection)
                    .where(CrmConnection.id == connection_id)
                    .values(tokens_encrypted=cipher.encrypt(tokens.model_dump(mode="json")))
                )
                await db.commit()

        return save

    def for_connection(
        self,
        connection: CrmConnection,
        *,
        config: BaseModel | None = None,
        tokens: CrmTokens | None = None,
    ) -> CrmType[Any]:
        """The plugin object for ``connection`` (``config``/``tokens`` override the
        stored ones, to try new credentials before storing them)."""
        kind = self.type_of(connection)
        context = CrmContext(
            connection_id=connection.id,
            http=self._http,
            tokens=tokens or self.tokens_of(connection),
            save_tokens=self.saver(connection.id),
        )
        return kind(config or self.config_of(connection), context)
