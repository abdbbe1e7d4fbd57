"""Salesforce's OAuth web server flow (with PKCE) and refresh-token grant.

The token answer has no ``expires_in`` (a session lasts the org's timeout, so expiry
shows as a 401) and names the org's ``instance_url``, which can change on a refresh and
is kept every time. ``signature`` is base64(HMAC-SHA256(client secret, id + issued_at)):
checked, so a token answer that did not come from Salesforce is refused. A refresh
answer brings a new refresh token only when the org rotates them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import httpx
from hub.contract import BadCredentials, CrmTokens, OAuthApp, PermanentFailure, RetryLater
from hub.contract.http import truncate

from hub_salesforce.config import SalesforceConfig

SCOPES = ("api", "refresh_token")


def app_for(config: SalesforceConfig) -> OAuthApp:
    """The authorize endpoint at the configured login URL (production, sandbox, My Domain)."""
    return OAuthApp(authorize_url=f"{config.login_url}/services/oauth2/authorize", scopes=SCOPES)


def signature_ok(answer: dict[str, Any], client_secret: str) -> bool:
    """Whether the answer's ``signature`` is Salesforce's over ``id + issued_at``."""
    given = str(answer.get("signature") or "")
    text = f"{answer.get('id', '')}{answer.get('issued_at', '')}"
    digest = hmac.new(client_secret.encode(), text.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), given)


def tokens_from(answer: dict[str, Any], previous: CrmTokens | None) -> CrmTokens:
    """``CrmTokens`` from a token answer, keeping the refresh token when none is new."""
    return CrmTokens(
        access_token=str(answer["access_token"]),
        refresh_token=answer.get("refresh_token") or (previous.refresh_token if previous else None),
        instance_url=str(answer["instance_url"]).rstrip("/"),
        extra={"id": answer.get("id"), "issued_at": answer.get("issued_at")},
    )


async def request_tokens(
    http: httpx.AsyncClient,
    config: SalesforceConfig,
    form: dict[str, str],
    previous: CrmTokens | None = None,
) -> CrmTokens:
    """POST ``form`` with the connected app's credentials to the token endpoint."""
    secret = config.client_secret.get_secret_value()
    data = {**form, "client_id": config.client_id, "client_secret": secret}
    try:
        response = await http.post(f"{config.login_url}/services/oauth2/token", data=data)
    except httpx.TransportError as error:
        raise RetryLater(f"Salesforce's token endpoint is unreachable: {error}") from error
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    if response.is_success and answer.get("access_token") and answer.get("instance_url"):
        if answer.get("signature") and not signature_ok(answer, secret):
            raise BadCredentials("Salesforce's token answer is not signed with this app's secret")
        return tokens_from(answer, previous)
    if response.status_code >= 500:
        raise RetryLater(f"Salesforce's token endpoint answered {response.status_code}")
    code = str(answer.get("error") or f"HTTP_{response.status_code}")
    detail = truncate(str(answer.get("error_description") or code))
    if code == "invalid_grant":
        raise BadCredentials(f"Salesforce refused the authorization ({detail}): reconnect the org")
    if code in {"invalid_client_id", "invalid_client", "unauthorized_client"}:
        raise BadCredentials(f"Salesforce refused the connected app: {detail}")
    raise PermanentFailure(code, f"Salesforce: {detail}")
