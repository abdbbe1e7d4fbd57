"""Serializing pydantic models into aiohttp responses."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aiohttp import web
from pydantic import BaseModel


def json_model(model: BaseModel, status: int = 200) -> web.Response:
    """A JSON response of one model."""
    return web.Response(
        text=model.model_dump_json(), status=status, content_type="application/json"
    )


def json_items(items: Sequence[BaseModel], next_cursor: str | None = None) -> web.Response:
    """A list response, the shape every list uses: ``{"items": [...], "next_cursor": …}``."""
    body = ",".join(item.model_dump_json() for item in items)
    cursor = json.dumps(next_cursor)
    return web.Response(
        text=f'{{"items":[{body}],"next_cursor":{cursor}}}', content_type="application/json"
    )
