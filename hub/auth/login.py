"""The login steps shared by the API and the UI: throttled check, then the session cookie;
and the throttled change of one's own password, which checks the current one the same way."""

from __future__ import annotations

import math

from aiohttp import web

from hub import appkeys
from hub.auth import audit
from hub.auth.accounts import authenticate, change_password, normalize_email
from hub.auth.sessions import COOKIE_NAME, end_session, start_session
from hub.auth.throttle import Attempt, Throttled
from hub.errors import HubError
from hub.store.models import LoginSession, User


def _keys(request: web.Request, email: str) -> tuple[str, str]:
    return f"email:{normalize_email(email)}", f"ip:{request.remote}"


async def _reserve(request: web.Request, keys: tuple[str, str], doing: str) -> Attempt:
    """Reserve one attempt for these keys before any password is hashed; 429 if none
    is left (failures and checks in flight both count)."""
    try:
        return await request.config_dict[appkeys.THROTTLE].reserve(keys)
    except Throttled as throttled:
        seconds = str(math.ceil(throttled.retry_after))
        raise HubError(
            429,
            "throttled",
            f"too many failed {doing}; try again in {seconds} seconds",
            headers={"Retry-After": seconds},
        ) from None


async def check_login(request: web.Request, email: str, password: str) -> User:
    """The user with these credentials; 401 if wrong, 429 after too many failures.

    Failures count against both the email and the client address. An attempt whose
    check does not finish (the client went away, the database failed) counts as failed.
    """
    throttle = request.config_dict[appkeys.THROTTLE]
    keys = _keys(request, email)
    attempt = await _reserve(request, keys, "logins")
    user: User | None = None
    try:
        async with request.config_dict[appkeys.SESSIONS]() as db:
            user = await authenticate(db, email, password)
            await db.commit()
    finally:
        # Only the account's count is forgiven: resetting the address's count too would
        # let anyone with one valid account keep guessing other accounts' passwords.
        await throttle.settle(
            attempt, failed=user is None, forgive=keys[0] if user is not None else None
        )
    if user is None:
        raise HubError(401, "invalid_credentials", "the email or password is wrong")
    return user


async def open_session(request: web.Request, user: User, response: web.StreamResponse) -> str:
    """Start a session for ``user``, set its cookie on ``response``; return its CSRF token.

    The cookie is HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
    writes) and Secure unless the hub is served over plain http (see ``cookie_secure``).
    """
    settings = request.config_dict[appkeys.SETTINGS]
    async with request.config_dict[appkeys.SESSIONS]() as db:
        cookie, session = await start_session(
            db,
            user,
            days=settings.session_days,
            ip=request.remote,
            user_agent=request.headers.get("User-Agent"),
        )
        await db.commit()
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=settings.session_days * 86400,
        path="/",
        httponly=True,
        secure=settings.secure_cookies,
        samesite="Lax",
    )
    return session.csrf_token


async def close_session(
    request: web.Request, session: LoginSession | None, response: web.StreamResponse
) -> None:
    """End a session (if any) and clear its cookie."""
    if session is not None:
        async with request.config_dict[appkeys.SESSIONS]() as db:
            await end_session(db, session.id)
            await db.commit()
    response.del_cookie(COOKIE_NAME, path="/")


async def change_own_password(
    request: web.Request, user: User, session: LoginSession | None, current: str, new: str
) -> None:
    """Change the caller's password after checking ``current``; their other sessions end,
    ``session`` (the one asking, if any) stays.

    A wrong current password counts as a failed login (same throttle, same 429), so a
    borrowed session cannot be used to guess the password.
    """
    keys = _keys(request, user.email)
    attempt = await _reserve(request, keys, "password checks")
    wrong = True  # until the current password is known to be right
    try:
        async with request.config_dict[appkeys.SESSIONS]() as db:
            stored = await db.get(User, user.id)
            if stored is None:  # deleted meanwhile; users are only ever deactivated
                raise HubError(401, "unauthenticated", "log in again")
            try:
                await change_password(
                    db, stored, current, new, keep_session_id=session.id if session else None
                )
            except HubError as err:
                wrong = err.code == "wrong_password"
                raise
            wrong = False
            await audit.record(
                db,
                stored.id,
                "user.password_changed",
                "user",
                stored.id,
                stored.email,
                {"password": [audit.SECRET, audit.SECRET]},
            )
            await db.commit()
    finally:
        await request.config_dict[appkeys.THROTTLE].settle(attempt, failed=wrong)
