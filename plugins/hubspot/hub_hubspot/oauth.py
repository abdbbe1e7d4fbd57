"""HubSpot's OAuth app: the authorize URL, and the token endpoint for codes and refreshes.

The v1 token endpoint retires on 2027-02-16; its replacements (``/oauth/v3/token`` and
``/oauth/2026-03/token``) take every parameter in the form body and answer errors the
RFC 6749 way: ``{error:"invalid_grant", error_description, status, message}``.
Refresh tokens rotate: the answer's refresh token replaces the old one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hub.contract import BadCredentials, CrmTokens, OAuthApp, PermanentFailure, RetryLater
from hub.contract.http import truncate

from hub_hubspot.config import HubSpotConfig

AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
SCOPES = (
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.owners.read",
)
APP = OAuthApp(authorize_url=AUTHORIZE_URL, scopes=SCOPES)


def token_url(config: HubSpotConfig) -> str:
    """The token endpoint of the configured API version (``v3`` for the legacy paths)."""
    return f"{config.api_base_url}/oauth/{config.api_version}/token"


def tokens_from(answer: dict[str, Any], *, previous: CrmTokens | None = None) -> CrmTokens:
    """``CrmTokens`` from a token answer; ``hub_id`` kept in ``extra`` (the portal)."""
    expires_in = answer.get("expires_in")
    expires_at = (
        datetime.now(UTC) + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float | str) and str(expires_in).isdigit()
        else None
    )
    extra = dict(previous.extra) if previous else {}
    if answer.get("hub_id") is not None:
        extra["hub_id"] = str(answer["hub_id"])
    return CrmTokens(
        access_token=str(answer["access_token"]),
        refresh_token=answer.get("refresh_token") or (previous.refresh_token if previous else None),
        expires_at=expires_at,
        extra=extra,
    )


async def request_tokens(
    http: httpx.AsyncClient,
    config: HubSpotConfig,
    form: dict[str, str],
    *,
    previous: CrmTokens | None = None,
) -> CrmTokens:
    """POST ``form`` (with the app's client id and secret) to the token endpoint."""
    secret = config.client_secret.get_secret_value() if config.client_secret else ""
    data = {**form, "client_id": config.client_id or "", "client_secret": secret}
    try:
        response = await http.post(token_url(config), data=data)
    except httpx.TransportError as error:
        raise RetryLater(f"HubSpot's token endpoint is unreachable: {error}") from error
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.is_success and isinstance(answer, dict) and answer.get("access_token"):
        return tokens_from(answer, previous=previous)
    if response.status_code == 429 or response.status_code >= 500:
        raise RetryLater(f"HubSpot's token endpoint answered {response.status_code}")
    code = str(answer.get("error", "")) if isinstance(answer, dict) else ""
    detail = truncate(
        str(answer.get("error_description") or answer.get("message") or response.text)
        if isinstance(answer, dict)
        else response.text
    )
    if code == "invalid_grant":
        raise BadCredentials(f"HubSpot refused the authorization ({detail}): reconnect the account")
    if code in {"invalid_client", "unauthorized_client"}:
        raise BadCredentials(f"HubSpot refused the app's client id or secret: {detail}")
    raise PermanentFailure(code or f"HTTP_{response.status_code}", f"HubSpot: {detail}")
