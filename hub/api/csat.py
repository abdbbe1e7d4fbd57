"""CSAT: the surveys of closed conversations and their ratings (read by anyone, for
the conversations they may see); the settings (owners and managers change them)."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_admin, current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.csat import (
    ConversationCsatOut,
    CsatOut,
    CsatQuery,
    CsatSettingsBody,
    CsatSettingsOut,
)
from hub.inbox.conversations import get_visible
from hub.inbox.csat import survey_of
from hub.inbox.csat_reports import list_surveys
from hub.inbox.csat_settings import CsatSettings, load_csat_settings, save_csat_settings

api = ApiRoutes("csat")


def _settings_out(settings: CsatSettings) -> CsatSettingsOut:
    return CsatSettingsOut(
        enabled=settings.enabled,
        question=settings.question,
        scale=settings.scale,
        off_channel_ids=settings.off_channel_ids,
        since=settings.since,
    )


@api.get("/api/v1/csat", query=CsatQuery, response=Page[CsatOut])
async def list_(request: web.Request) -> web.Response:
    """Surveys of the conversations the caller may see, newest first; `status`, `since`
    and `until` (when asked) narrow them."""
    viewer = await current_viewer(request)
    query = read_query(request, CsatQuery)
    async with work(request) as w:
        rows, next_cursor = await list_surveys(
            w.db,
            viewer,
            status=query.status,
            since=query.since,
            until=query.until,
            cursor=query.cursor,
            limit=query.limit,
        )
        items = [CsatOut.of(row) for row in rows]
    return json_items(items, next_cursor)


@api.get("/api/v1/csat/settings", response=CsatSettingsOut)
async def get_settings(request: web.Request) -> web.Response:
    """Whether closed conversations get a survey, its question and scale."""
    await current_viewer(request)
    async with work(request) as w:
        settings = await load_csat_settings(w.db)
    return json_model(_settings_out(settings))


@api.put("/api/v1/csat/settings", body=CsatSettingsBody, response=CsatSettingsOut, errors=(403,))
async def put_settings(request: web.Request) -> web.Response:
    """Turn surveys on or off, set the question, the scale (3 or 5) and the channels
    not asked (owners and managers; 422 for an unknown channel). Turning them on asks
    only conversations closed from then on."""
    viewer = await current_admin(request)
    body = await read_json(request, CsatSettingsBody)
    async with work(request) as w:
        settings = await save_csat_settings(
            w.db,
            enabled=body.enabled,
            question=body.question,
            scale=body.scale,
            off_channel_ids=body.off_channel_ids,
            actor=viewer,
        )
    return json_model(_settings_out(settings))


@api.get(
    "/api/v1/conversations/{conversation_id}/csat", response=ConversationCsatOut, errors=(404,)
)
async def of_conversation(request: web.Request) -> web.Response:
    """The conversation's survey and rating (`survey` is null when it was never
    surveyed); 404 for a conversation the caller may not see."""
    viewer = await current_viewer(request)
    conversation_id = path_id(request, "conversation_id", "conversation")
    async with work(request) as w:
        await get_visible(w, viewer, conversation_id)
        row = await survey_of(w.db, conversation_id)
        out = ConversationCsatOut(survey=CsatOut.of(row) if row is not None else None)
    return json_model(out)
