"""The public CSAT answer page (``/csat/{token}``): no login, the unguessable token in
the link is the key; a form token (cookie and field, SameSite=Strict) guards the post;
it takes one answer."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from admin_ui.forms import check_form_token, form_token, remember_form_token
from admin_ui.rendering import render
from hub import appkeys
from hub.api.context import work
from hub.errors import HubError
from hub.inbox.csat import COMMENT_MAX, answer_on_page, survey_by_token
from hub.inbox.csat_settings import WORDS, load_csat_settings, rating_of_form

routes = web.RouteTableDef()
PAGE = "/csat/{token}"


async def _page(request: web.Request, context: dict[str, Any], status: int = 200) -> web.Response:
    token = form_token(request)
    response = await render(request, "csat.html", {**context, "form_token": token}, status)
    remember_form_token(response, token, request.config_dict[appkeys.SETTINGS].secure_cookies)
    # A survey link is a key: keep it out of other sites' Referer and of caches.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _options(scale: int) -> list[tuple[int, str]]:
    return list(enumerate(WORDS[scale], start=1))


@routes.get(PAGE, name="csat.page")
async def page(request: web.Request) -> web.StreamResponse:
    """The rating buttons and a comment box; a thank-you once answered; 404 for a link
    that names no survey."""
    token = request.match_info["token"]
    async with work(request) as w:
        row = await survey_by_token(w.db, token)
        question = await _question(w.db)
    context = {
        "token": token,
        "answered": row.status == "answered",
        "rating": row.rating,
        "scale": row.scale,
        "options": _options(row.scale),
        "question": question,
        "comment_max": COMMENT_MAX,
    }
    return await _page(request, context)


@routes.post(PAGE)
async def answer(request: web.Request) -> web.StreamResponse:
    """Take the rating (and comment): the thank-you page; the form again with why."""
    token = request.match_info["token"]
    form = await request.post()
    check_form_token(request, form.get("form_token"))
    raw_rating, comment = form.get("rating", ""), form.get("comment", "")
    comment = comment if isinstance(comment, str) else ""
    rating = rating_of_form(raw_rating, 10) or 0  # the scale is checked with the survey
    async with work(request) as w:
        row = await survey_by_token(w.db, token)
        question = await _question(w.db)
    context: dict[str, Any] = {
        "token": token,
        "scale": row.scale,
        "options": _options(row.scale),
        "question": question,
        "comment": comment,
        "comment_max": COMMENT_MAX,
    }
    try:
        async with work(request) as w:
            saved = await answer_on_page(w, token, rating, comment)
            context.update(answered=True, rating=saved.rating, just_now=True)
    except HubError as err:
        if err.code == "answered":
            context.update(answered=True, rating=row.rating)
            return await _page(request, context, 409)
        context.update(answered=False, error=err.message)
        return await _page(request, context, err.status)
    return await _page(request, context)


async def _question(db: AsyncSession) -> str:
    return (await load_csat_settings(db)).question
