"""Calls to Salesforce's REST API at the org's instance, with the session refreshed once
after ``INVALID_SESSION_ID`` and 5xx answers retried a few times.

The instance URL comes from the token answer (it can change on a refresh) unless the
config forces ``api_base_url``. Refreshed tokens are saved through the context before
they are used.
"""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime
from typing import Any

import httpx
from hub.contract import BadCredentials, CrmContext, CrmTokens, RetryLater

from hub_salesforce import errors, oauth
from hub_salesforce.config import SalesforceConfig


class SalesforceClient:
    """An authenticated Salesforce REST client."""

    max_attempts = 3
    """Tries per call of a 5xx answer or a network failure before ``RetryLater``."""

    def __init__(self, config: SalesforceConfig, context: CrmContext) -> None:
        self.config = config
        self.context = context
        self.tokens: CrmTokens | None = context.tokens
        self._refreshing = asyncio.Lock()
        self.server_time: datetime | None = None
        """Salesforce's time, from the ``Date`` header of its latest answer."""

    def _note_server_time(self, response: httpx.Response) -> None:
        try:
            told = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
        except (TypeError, ValueError):
            return
        if told.tzinfo is not None:
            self.server_time = told.astimezone(UTC)

    @property
    def instance_url(self) -> str | None:
        """Where the org lives: the forced base URL, or the tokens' instance URL."""
        if self.config.api_base_url:
            return self.config.api_base_url
        return self.tokens.instance_url if self.tokens else None

    def data_path(self, rest: str) -> str:
        """``/services/data/vXX.X/<rest>``, as composite subrequests name their URLs."""
        return f"/services/data/{self.config.api_version}/{rest}"

    async def call(
        self,
        method: str,
        rest: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        absolute_path: str | None = None,
    ) -> Any:
        """Send one request under the data path (or ``absolute_path``, such as a query's
        ``nextRecordsUrl``) and answer its JSON (``None`` for 204 No Content)."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            tokens = self.tokens
            base = self.instance_url
            if tokens is None or base is None:
                raise BadCredentials("the Salesforce org is not authorized yet: connect it")
            path = absolute_path or self.data_path(rest)
            try:
                response = await self.context.http.request(
                    method,
                    f"{base}{path}",
                    json=json,
                    params=params,
                    headers={"Authorization": f"Bearer {tokens.access_token}"},
                )
            except httpx.TransportError as error:
                if attempt >= self.max_attempts:
                    raise RetryLater(f"Salesforce is unreachable: {error}") from error
                await asyncio.sleep(0.5 * attempt)
                continue
            self._note_server_time(response)
            if response.status_code == 401 and not refreshed:
                refreshed = True
                await self._refresh(stale=tokens.access_token)
                attempt -= 1
                continue
            if response.status_code >= 500 and attempt < self.max_attempts:
                await asyncio.sleep(0.5 * attempt)
                continue
            errors.raise_for(response)
            return None if response.status_code == 204 or not response.content else response.json()

    async def _refresh(self, *, stale: str) -> None:
        """Refresh the session once for every call that saw ``stale`` fail."""
        async with self._refreshing:
            current = self.tokens
            if current is None:
                raise BadCredentials("the Salesforce org is not authorized yet: connect it")
            if current.access_token != stale:
                return  # another call refreshed while this one waited
            fresh = await self.refreshed(current)
            if self.context.save_tokens is not None:
                await self.context.save_tokens(fresh)
            self.tokens = fresh

    async def refreshed(self, tokens: CrmTokens) -> CrmTokens:
        """New tokens from the refresh-token grant (not saved here)."""
        if not tokens.refresh_token:
            raise BadCredentials("Salesforce gave no refresh token: reconnect the org")
        return await oauth.request_tokens(
            self.context.http,
            self.config,
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
            tokens,
        )
