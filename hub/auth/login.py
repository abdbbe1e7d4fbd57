"""The login steps shared by the API and the UI: throttled check, then the session cookie;
and the throttled change of one's own password, which checks the current one the same way."""

from __future__ import annotations

from aiohttp import web

from hub import appkeys
from hub.auth.accounts import authenticate, change_password, normalize_email
from hub.auth.sessions import COOKIE_NAME, end_session, start_session
from hub.errors import HubError
from hub.store.models import LoginSession, User


def _keys(request: web.Request, email: str) -> tuple[str, str]:
    return f"email:{normalize_email(email)}", f"ip:{request.remote}"


def _refuse_if_throttled(request: web.Request, keys: tuple[str, str], doing: str) -> None:
    wait = request.app[appkeys.THROTTLE].retry_after(*keys)
    if wait > 0:
        seconds = str(int(wait) + 1)
        raise HubError(
            429,
            "throttled",
            f"too many failed {doing}; try again in {seconds} seconds",
            headers={"Retry-After": seconds},
        )


async def check_login(request: web.Request, email: str, password: str) -> User:
    """The user with these credentials; 401 if wrong, 429 after too many failures.

    Failures count against both the email and the client address.
    """
    throttle = request.app[appkeys.THROTTLE]
    keys = _keys(request, email)
    _refuse_if_throttled(request, keys, "logins")
    async with request.app[appkeys.SESSIONS]() as db:
        user = await authenticate(db, email, password)
        await db.commit()
    if user is None:
        throttle.record_failure(*keys)
        raise HubError(401, "invalid_credentials", "the email or password is wrong")
    # Only the account's count is forgiven: resetting the address's count too would let
    # anyone with one valid account keep guessing other accounts' passwords.
    throttle.reset(keys[0])
    return user


async def open_session(request: web.Request, user: User, response: web.StreamResponse) -> str:
    """Start a session for ``user``, set its cookie on ``response``; return its CSRF token.

    The cookie is HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site
    writes) and Secure unless the hub is served over plain http (see ``cookie_secure``).
    """
    settings = request.app[appkeys.SETTINGS]
    async with request.app[appkeys.SESSIONS]() as db:
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
        async with request.app[appkeys.SESSIONS]() as db:
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
    _refuse_if_throttled(request, keys, "password checks")
    async with request.app[appkeys.SESSIONS]() as db:
        stored = await db.get(User, user.id)
        if stored is None:  # deleted meanwhile; users are only ever deactivated
            raise HubError(401, "unauthenticated", "log in again")
        try:
            await change_password(
                db, stored, current, new, keep_session_id=session.id if session else None
            )
        except HubError as err:
            if err.code == "wrong_password":
                request.app[appkeys.THROTTLE].record_failure(*keys)
            raise
        await db.commit()
