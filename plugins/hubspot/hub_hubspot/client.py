"""Calls to HubSpot's API: paths per API version, the bearer token, refresh and retries.

One client per CRM instance. A private app token is used as it is; an OAuth access token
is refreshed ahead of its expiry and, once, after a 401 (HubSpot says a 401 alone does
not prove expiry, so a second 401 is ``BadCredentials``). Refreshed tokens are saved
through the context before they are used, so a rotated refresh token is never lost.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hub.contract import BadCredentials, CrmContext, CrmTokens, RetryLater

from hub_hubspot import errors, oauth
from hub_hubspot.config import HubSpotConfig

# Refresh this long before the access token's stated expiry (HubSpot's are 30 min).
_EARLY_REFRESH = timedelta(minutes=5)


class HubSpotClient:
    """An authenticated HubSpot API client that retries what is transient."""

    max_attempts = 3
    """Tries per call of a transient answer (429, 423, 5xx) before ``RetryLater``."""
    max_inline_wait = 12.0
    """Waits longer than this are not slept through: ``RetryLater(after=…)`` at once."""

    def __init__(self, config: HubSpotConfig, context: CrmContext) -> None:
        self.config = config
        self.context = context
        self.tokens: CrmTokens | None = context.tokens
        self._refreshing = asyncio.Lock()

    def path(self, api: str, rest: str = "") -> str:
        """The path of ``rest`` under ``api`` (``crm/objects``) in the configured version:
        ``/crm/objects/2026-03/contacts``, or ``/crm/v3/objects/contacts`` for legacy v3."""
        version = self.config.api_version
        if version == "v3":
            head, _, tail = api.partition("/")
            prefix = f"/{head}/v3" + (f"/{tail}" if tail else "")
        else:
            prefix = f"/{api}/{version}"
        return f"{prefix}/{rest}" if rest else prefix

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one request and answer its JSON object; typed errors otherwise."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            token = await self._access_token()
            try:
                response = await self.context.http.request(
                    method,
                    f"{self.config.api_base_url}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as error:
                if attempt >= self.max_attempts:
                    raise RetryLater(f"HubSpot is unreachable: {error}") from error
                await asyncio.sleep(0.2 * attempt)
                continue
            if response.status_code == 401 and self.config.uses_oauth and not refreshed:
                refreshed = True
                await self._refresh(stale=token)
                attempt -= 1
                continue
            wait = errors.transient_wait(response, attempt)
            if wait is not None:
                if attempt >= self.max_attempts or wait > self.max_inline_wait:
                    raise RetryLater(errors.message_of(response), after=wait)
                await asyncio.sleep(wait)
                continue
            errors.raise_for(response)
            return errors.body_of(response)

    async def _access_token(self) -> str:
        """The bearer token: the private app's, or a current OAuth access token."""
        if self.config.access_token is not None:
            return self.config.access_token.get_secret_value()
        tokens = self.tokens
        if tokens is None:
            raise BadCredentials("the HubSpot account is not authorized yet: connect it")
        expires_at = tokens.expires_at
        if expires_at is not None and expires_at - _EARLY_REFRESH <= datetime.now(UTC):
            await self._refresh(stale=tokens.access_token)
            tokens = self.tokens or tokens
        return tokens.access_token

    async def _refresh(self, *, stale: str) -> None:
        """Refresh the OAuth tokens once for everyone that saw ``stale`` fail."""
        async with self._refreshing:
            current = self.tokens
            if current is None:
                raise BadCredentials("the HubSpot account is not authorized yet: connect it")
            if current.access_token != stale:
                return  # another call refreshed while this one waited
            fresh = await self.refreshed(current)
            # Saved before use: the old refresh token is dead once HubSpot rotated it.
            if self.context.save_tokens is not None:
                await self.context.save_tokens(fresh)
            self.tokens = fresh

    async def refreshed(self, tokens: CrmTokens) -> CrmTokens:
        """New tokens for ``tokens`` from the token endpoint (not saved here)."""
        if not tokens.refresh_token:
            raise BadCredentials("HubSpot gave no refresh token: reconnect the account")
        return await oauth.request_tokens(
            self.context.http,
            self.config,
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            previous=tokens,
        )
