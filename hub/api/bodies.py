"""Reading request bodies into pydantic models with precise 4xx errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, get_origin

from aiohttp import web
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from hub.errors import HubError

M = TypeVar("M", bound=BaseModel)
# How an error is put into words: pydantic's own message for the API, a person's words
# for the pages (``admin_ui.wording``).
Wording = Callable[[ErrorDetails], str]


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The raw body, or None when it is over ``limit`` bytes (declared or actual)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        return None


def _pydantic_wording(error: ErrorDetails) -> str:
    return error["msg"]


def validation_details(
    err: ValidationError, wording: Wording = _pydantic_wording
) -> list[dict[str, str]]:
    """Pydantic errors as ``[{"field": "a.b", "message": …}]``."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": wording(e)}
        for e in err.errors()
    ]


def _nul_path(value: Any, path: str = "") -> str | None:
    """Where a NUL character hides in decoded JSON, if anywhere (PostgreSQL cannot store it)."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _nul_path(key, path) or _nul_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def validate(model: type[M], data: Any, wording: Wording = _pydantic_wording) -> M:
    """Validate ``data`` as ``model``; 422 naming every bad field (NUL characters too),
    each message put into words by ``wording``."""
    bad = _nul_path(data)
    if bad is not None:
        message = "must not contain NUL characters"
        raise HubError(
            422, "validation_error", f"{bad}: {message}", [{"field": bad, "message": message}]
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        details = validation_details(err, wording)
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise HubError(422, "validation_error", summary, details) from None


async def read_json(request: web.Request, model: type[M]) -> M:
    """Parse a JSON body as ``model``: 415 if not JSON, 400 if malformed, 422 if invalid.

    Requiring ``application/json`` also stops cross-site HTML forms, which cannot send it.
    """
    if request.content_type != "application/json":
        raise HubError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HubError(400, "malformed_json", f"the body is not valid JSON: {err}") from None
    return validate(model, data)


def read_query(request: web.Request, model: type[M]) -> M:
    """Validate the query string as ``model``; 422 naming every bad parameter.

    A parameter given twice keeps its last value, as most frameworks do, except for the
    model's list fields (``label=1&label=2``), which take every value.
    """
    values: dict[str, Any] = dict(request.query)
    for name, info in model.model_fields.items():
        if get_origin(info.annotation) is list and name in request.query:
            values[name] = request.query.getall(name)
    return validate(model, values)
