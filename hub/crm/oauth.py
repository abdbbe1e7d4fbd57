"""The OAuth authorization-code flow of a CRM connection, with PKCE (S256) and state.

``start`` makes a state and a code verifier, stores them server-side (the state only as
its SHA-256; single use, ten minutes) and answers the CRM's authorization URL.
``finish`` takes the callback's code and state, checks and spends the state, trades the
code for tokens (``exchange_code``), stores them encrypted, and connects.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from sqlalchemy import delete

from hub.auth.visibility import Viewer
from hub.crm.calls import CrmCallFailed
from hub.crm.connections import CrmAdmin, require_admin
from hub.crm.env import connection_or_404
from hub.errors import HubError
from hub.store.models import CrmConnection, CrmOAuthState
from hub.store.types import utcnow

STATE_TTL = timedelta(minutes=10)


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (86 URL-safe characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def state_hash(state: str) -> str:
    """How a state is stored: its SHA-256, hex."""
    return hashlib.sha256(state.encode()).hexdigest()


async def start(admin: CrmAdmin, actor: Viewer, connection_id: int, redirect_uri: str) -> str:
    """The CRM's authorization URL for the admin to open (409 for a non-OAuth type)."""
    require_admin(actor)
    env = admin.env
    async with env.sessions() as db:
        connection = await connection_or_404(db, connection_id)
    kind = admin.crm_type(connection.type)
    plugin = env.instances.for_connection(connection, tokens=None)
    app = plugin.oauth_app()
    if app is None:
        raise HubError(
            409, "not_oauth", f"this {kind.title} connection uses credentials, not OAuth"
        )
    client_id = plugin.client_id()
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    async with env.sessions() as db:
        await db.execute(
            delete(CrmOAuthState).where(CrmOAuthState.created_at < utcnow() - STATE_TTL)
        )
        db.add(
            CrmOAuthState(
                state_hash=state_hash(state),
                connection_id=connection_id,
                code_verifier=verifier,
                redirect_uri=redirect_uri,
                user_id=actor.id,
            )
        )
        await db.commit()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if app.scopes:
        query["scope"] = " ".join(app.scopes)
    joiner = "&" if "?" in app.authorize_url else "?"
    return f"{app.authorize_url}{joiner}{urlencode(query)}"


async def finish(
    admin: CrmAdmin, actor: Viewer, *, state: str, code: str | None, error: str | None
) -> CrmConnection:
    """Complete the flow (see the module doc); 400 for an unknown, used or expired
    state or a refusal in the CRM; 422/502 as for creating a connection."""
    require_admin(actor)
    env = admin.env
    async with env.sessions() as db:
        row = await db.get(CrmOAuthState, state_hash(state))
        if row is None:
            raise HubError(400, "oauth_state_invalid", "this authorization is unknown or used")
        await db.delete(row)  # single use, whatever happens next
        await db.commit()
    if utcnow() - row.created_at > STATE_TTL:
        raise HubError(400, "oauth_state_expired", "this authorization expired: start again")
    if error or not code:
        raise HubError(
            400, "oauth_refused", f"the CRM did not authorize the hub: {error or 'no code'}"
        )
    async with env.sessions() as db:
        connection = await connection_or_404(db, row.connection_id)
    plugin = env.instances.for_connection(connection, tokens=None)
    verifier, redirect_uri = row.code_verifier, row.redirect_uri
    try:
        tokens = await env.calls.run(
            connection.id,
            lambda: plugin.exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=verifier
            ),
            max_wait=2.0,
        )
    except CrmCallFailed as err:
        status, kind = (
            (422, "bad_credentials") if err.kind == "credentials" else (502, "crm_unavailable")
        )
        raise HubError(status, kind, err.message) from None
    # Stored before connecting: a refresh during connect saves over them, never under.
    await env.instances.saver(connection.id)(tokens)
    await admin.connect(connection, env.instances.config_of(connection), tokens)
    async with env.sessions() as db:
        fresh = await connection_or_404(db, connection.id)
        fresh.status, fresh.status_reason = "ok", None
        fresh.retry_after, fresh.failures = None, 0
        await db.commit()
    await admin.refresh_catalog(connection.id, quiet=True)
    async with env.sessions() as db:
        return await connection_or_404(db, connection.id)
