"""Labels: list and read them (anyone), create, change and delete them (owners and
managers). Putting them on conversations is in ``hub.api.conversations``."""

from __future__ import annotations

from aiohttp import web

from hub.api.bodies import read_json, read_query
from hub.api.context import current_viewer, path_id, work
from hub.api.responses import json_items, json_model
from hub.api.routing import ApiRoutes, Page
from hub.api.schemas.labels import (
    LabelCreateBody,
    LabelOut,
    LabelPatchBody,
    LabelQuery,
    PaletteColourOut,
)
from hub.inbox import labels

api = ApiRoutes("labels")
ITEM = "/api/v1/labels/{label_id}"


# Declared before ITEM so that "palette" is not taken for a label id.
@api.get("/api/v1/labels/palette", response=Page[PaletteColourOut])
async def palette(request: web.Request) -> web.Response:
    """The colours a label may have (their keys are what `colour` takes)."""
    await current_viewer(request)
    return json_items([PaletteColourOut(key=k, name=n) for k, n in labels.PALETTE.items()])


@api.get("/api/v1/labels", query=LabelQuery, response=Page[LabelOut])
async def list_(request: web.Request) -> web.Response:
    """List labels by name, with how many conversations carry each; `q` matches part
    of the name."""
    await current_viewer(request)
    query = read_query(request, LabelQuery)
    async with work(request) as w:
        rows, next_cursor = await labels.list_labels(
            w.db, q=query.q, cursor=query.cursor, limit=query.limit
        )
        counts = await labels.usage(w.db, [row.id for row in rows])
    return json_items([LabelOut.with_usage(row, counts[row.id]) for row in rows], next_cursor)


@api.post("/api/v1/labels", body=LabelCreateBody, response=LabelOut, status=201, errors=(403, 409))
async def create(request: web.Request) -> web.Response:
    """Create a label (owners and managers). 409 when another label has the name
    (whatever the case); 422 naming `colour` when it is not a palette key."""
    viewer = await current_viewer(request)
    body = await read_json(request, LabelCreateBody)
    async with work(request) as w:
        label = await labels.create_label(
            w, viewer, name=body.name, colour=body.colour, description=body.description
        )
        out = LabelOut.with_usage(label, 0)
    return json_model(out, 201)


@api.get(ITEM, response=LabelOut)
async def get(request: web.Request) -> web.Response:
    """One label."""
    await current_viewer(request)
    label_id = path_id(request, "label_id", "label")
    async with work(request) as w:
        label = await labels.get_label(w.db, label_id)
        out = LabelOut.with_usage(label, (await labels.usage(w.db, [label_id]))[label_id])
    return json_model(out)


@api.patch(ITEM, body=LabelPatchBody, response=LabelOut, errors=(403, 409))
async def update(request: web.Request) -> web.Response:
    """Rename, recolour or describe a label (owners and managers); conversations keep
    it through a rename."""
    viewer = await current_viewer(request)
    label_id = path_id(request, "label_id", "label")
    body = await read_json(request, LabelPatchBody)
    async with work(request) as w:
        label = await labels.update_label(w, viewer, label_id, body.changes())
        out = LabelOut.with_usage(label, (await labels.usage(w.db, [label_id]))[label_id])
    return json_model(out)


@api.delete(ITEM, status=204, errors=(403,))
async def delete(request: web.Request) -> web.Response:
    """Delete a label (owners and managers); it comes off every conversation."""
    viewer = await current_viewer(request)
    label_id = path_id(request, "label_id", "label")
    async with work(request) as w:
        await labels.delete_label(w, viewer, label_id)
    return web.Response(status=204)
