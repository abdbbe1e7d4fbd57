"""Who is calling: resolved once per request from a bearer token or the session cookie."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from hub import appkeys
from hub.auth.api_tokens import resolve_token_row
from hub.auth.origin import note_origin
from hub.auth.sessions import COOKIE_NAME, resolve_session
from hub.errors import HubError
from hub.store.models import LoginSession, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
# Where the CSRF check leaves a multipart form it began to read (see ``multipart_of``).
_MULTIPART = web.RequestKey("hub.auth.multipart_reader", MultipartReader)
_TOKEN_MAX = 200


@dataclass(frozen=True)
class Identity:
    """The authenticated user and how they proved it."""

    user: User
    via: Literal["token", "session"]
    session: LoginSession | None = None


IDENTITY = web.RequestKey("identity", Identity)
RESOLVED = web.RequestKey("identity_resolved", bool)


async def identify(request: web.Request) -> Identity | None:
    """The caller, if authenticated; resolved once per request and then cached.

    A malformed or unknown bearer token is an error (401), not an anonymous caller.
    """
    if RESOLVED not in request:
        identity = await _resolve(request)
        request[RESOLVED] = True
        if identity is not None:
            request[IDENTITY] = identity
    return request.get(IDENTITY)


async def require_user(request: web.Request) -> User:
    """The authenticated user; 401 when there is none.

    For cookie sessions, writes must carry the session's CSRF token (403 otherwise).
    Bearer tokens need no CSRF check: a browser never adds them to cross-site requests.
    """
    identity = await identify(request)
    if identity is None:
        raise HubError(
            401, "unauthenticated", "log in, or send an API token as 'Authorization: Bearer …'"
        )
    if identity.session is not None and request.method not in SAFE_METHODS:
        await _check_csrf(request, identity.session)
    return identity.user


async def require_role(request: web.Request, *roles: str) -> User:
    """The authenticated user if their role is one of ``roles``; 403 otherwise."""
    user = await require_user(request)
    if user.role not in roles:
        raise HubError(403, "forbidden", f"this needs the role {' or '.join(roles)}")
    return user


async def _resolve(request: web.Request) -> Identity | None:
    authorization = request.headers.get("Authorization")
    sessions = request.config_dict[appkeys.SESSIONS]
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HubError(401, "invalid_token", "use 'Authorization: Bearer <token>'")
        async with sessions() as db:
            resolved = await resolve_token_row(
                db, token.strip(), request.config_dict[appkeys.TOKEN_USES]
            )
        if resolved is None:
            raise HubError(401, "invalid_token", "the API token is unknown or revoked")
        note_origin(request, resolved[1])
        return Identity(resolved[0], "token")
    note_origin(request, None)
    cookie = request.cookies.get(COOKIE_NAME)
    if cookie:
        async with sessions() as db:
            found = await resolve_session(db, cookie)
        if found is not None:
            return Identity(found[0], "session", found[1])
    return None


async def _check_csrf(request: web.Request, session: LoginSession) -> None:
    sent = request.headers.get(CSRF_HEADER)
    # Only small URL-encoded forms are read here; a multipart upload must send the header,
    # or reading the form would consume (and size-limit) the file before its handler runs.
    if sent is None and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    elif sent is None and request.content_type == "multipart/form-data":
        sent = await _token_of_multipart(request)
    if sent is None:
        raise HubError(
            403, "csrf_missing", f"send the session's CSRF token in the {CSRF_HEADER} header"
        )
    if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
        raise HubError(
            403, "csrf_invalid", "the CSRF token does not match this session; reload the page"
        )


async def _token_of_multipart(request: web.Request) -> str | None:
    # A plain HTML form uploading a file cannot send a header: its token must be the
    # form's FIRST field, read here alone; the rest (the file) is left to the handler,
    # which goes on reading through ``multipart_of``.
    try:
        reader = await request.multipart()
        request[_MULTIPART] = reader
        part = await reader.next()
        if not isinstance(part, BodyPartReader) or part.name != CSRF_FIELD:
            return None
        value = bytearray()
        while chunk := await part.read_chunk(_TOKEN_MAX):
            value.extend(chunk)
            if len(value) > _TOKEN_MAX:
                return None
        return value.decode("utf-8", errors="replace")
    except (ValueError, KeyError, HttpProcessingError):
        return None  # a broken body carries no token: refused as one without


async def multipart_of(request: web.Request) -> MultipartReader:
    """The reader of a multipart request body, past the ``csrf_token`` field when the
    CSRF check has read it already."""
    reader = request.get(_MULTIPART)
    return reader if reader is not None else await request.multipart()
