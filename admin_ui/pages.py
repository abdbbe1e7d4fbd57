"""The pages every user meets first: owner setup, login, logout, home."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from admin_ui.access import ADMIN_ROLES, page_identity, safe_next
from admin_ui.forms import check_form_token, form_token, remember_form_token
from admin_ui.rendering import render
from admin_ui.urls import page_url
from admin_ui.wording import human
from hub import appkeys
from hub.api.bodies import validation_details
from hub.api.context import announce_access_changed
from hub.api.schemas import SetupBody
from hub.auth.accounts import count_users
from hub.auth.identity import identify, require_user
from hub.auth.login import check_login, close_session, open_session
from hub.auth.setup import complete_setup
from hub.errors import HubError
from hub.store.models import Channel

routes = web.RouteTableDef()


async def _form_page(
    request: web.Request, name: str, context: dict[str, object], status: int = 200
) -> web.Response:
    token = form_token(request)
    response = await render(request, name, {**context, "form_token": token}, status)
    remember_form_token(response, token, request.config_dict[appkeys.SETTINGS].secure_cookies)
    return response


@routes.get("/", name="home")
async def home(request: web.Request) -> web.StreamResponse:
    """The signed-in user's start page: the inbox; for an owner or manager of a hub with
    no channel yet, the channels page, where the first one is connected."""
    identity = await page_identity(request)
    start = "inbox"
    if identity.user.role in ADMIN_ROLES:
        async with request.config_dict[appkeys.SESSIONS]() as db:
            if await db.scalar(select(Channel.id).limit(1)) is None:
                start = "admin.channels"
    raise web.HTTPSeeOther(page_url(request, start))


@routes.get("/login", name="login")
async def login_form(request: web.Request) -> web.StreamResponse:
    """The login form."""
    target = safe_next(request.query.get("next"))
    if await identify(request) is not None:
        raise web.HTTPSeeOther(target)
    return await _form_page(request, "login.html", {"email": "", "next": target})


@routes.post("/login")
async def login(request: web.Request) -> web.StreamResponse:
    """Check the form; on success start a session and go home, else show why."""
    form = await request.post()
    check_form_token(request, form.get("form_token"))
    email = str(form.get("email", ""))
    target = safe_next(str(form.get("next", "")))
    try:
        user = await check_login(request, email, str(form.get("password", "")))
    except HubError as err:
        context: dict[str, object] = {"email": email, "next": target, "error": err.message}
        return await _form_page(request, "login.html", context, err.status)
    response = web.HTTPSeeOther(target)
    await open_session(request, user, response)
    raise response


@routes.post("/logout", name="logout")
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session (the form carries the CSRF token) and go to the login page."""
    await require_user(request)
    identity = await identify(request)
    response = web.HTTPSeeOther(page_url(request, "login"))
    await close_session(request, identity.session if identity else None, response)
    if identity is not None:
        await announce_access_changed(request, identity.user.id)
    raise response


@routes.get("/setup", name="setup")
async def setup_form(request: web.Request) -> web.StreamResponse:
    """The one-time owner setup form, reached through the link ``hub serve`` prints."""
    async with request.config_dict[appkeys.SESSIONS]() as db:
        done = await count_users(db) > 0
    context = {"done": done, "token": request.query.get("token", ""), "values": {}, "errors": {}}
    return await _form_page(request, "setup.html", context)


@routes.post("/setup")
async def setup(request: web.Request) -> web.StreamResponse:
    """Create the owner account, log them in and go home; or show what is wrong."""
    form = await request.post()
    check_form_token(request, form.get("form_token"))
    values = {key: str(form.get(key, "")) for key in ("token", "email", "name", "password")}
    context: dict[str, object] = {"done": False, "token": values["token"], "values": values}
    try:
        body = SetupBody.model_validate(values)
    except ValidationError as err:
        errors = {d["field"]: d["message"] for d in validation_details(err, human)}
        return await _form_page(request, "setup.html", {**context, "errors": errors}, 422)
    try:
        async with request.config_dict[appkeys.SESSIONS]() as db:
            owner = await complete_setup(db, body.token, body.owner())
            await db.commit()
    except HubError as err:
        return await _form_page(
            request, "setup.html", {**context, "errors": {}, "error": err.message}, err.status
        )
    response = web.HTTPSeeOther(page_url(request, "home"))
    await open_session(request, owner, response)
    raise response
