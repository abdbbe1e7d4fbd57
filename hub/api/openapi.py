"""The OpenAPI 3.1 document, generated from the same pydantic models the handlers use."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hub import __version__
from hub.api.routing import Endpoint

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "stable machine-readable code"},
                "message": {"type": "string", "description": "what went wrong, for people"},
                "details": {"description": "e.g. the invalid fields: [{field, message}]"},
            },
        }
    },
}
REASONS = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not allowed (or CSRF token missing)",
    404: "Not found, or not visible to the caller",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body is not JSON",
    422: "Invalid input; details name the fields",
    429: "Too many requests",
}
_PATH_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "a key of the client's choosing (1-255 printable ASCII characters): a "
    "repeat with the same key and body within HUB_IDEMPOTENCY_KEY_HOURS answers the first "
    "result again, with Idempotent-Replayed: true, and stores or sends nothing",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
REPLAYED_HEADER: dict[str, Any] = {
    "description": "true when the answer is a replay of an earlier request with the same "
    "Idempotency-Key",
    "schema": {"type": "string", "enum": ["true"]},
}


def build_openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for ``endpoints``."""
    keyed: set[tuple[type[BaseModel], JsonSchemaMode]] = set()
    for e in endpoints:
        if e.body is not None:
            keyed.add((e.body, "validation"))
        if e.response is not None:
            keyed.add((e.response, "serialization"))
    refs, defs = models_json_schema(
        sorted(keyed, key=lambda pair: (pair[0].__name__, pair[1])),
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        path = _PATH_PARAM.sub(r"{\1}", e.path)
        operation: dict[str, Any] = {
            "operationId": f"{e.method.lower()}_{e.handler.__module__.rsplit('.', 1)[-1]}_{e.handler.__name__}",
            "summary": e.summary,
            "tags": [e.tag],
            "parameters": _parameters(e),
            "responses": _responses(e, refs),
        }
        if e.description:
            operation["description"] = e.description
        if not e.auth:
            operation["security"] = []
        if e.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(e.body, "validation")]}},
            }
        paths.setdefault(path, {})[e.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {"title": "Inbox Hub API", "version": __version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "hub_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
    }


def _parameters(e: Endpoint) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
        for name in _PATH_PARAM.findall(e.path)
    ]
    if e.query is not None:
        schema = e.query.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    if e.idempotent:
        params.append(IDEMPOTENCY_PARAMETER)
    return params


def _responses(e: Endpoint, refs: dict[Any, Any]) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": "OK" if e.status != 201 else "Created"}
    if e.status == 204:
        ok = {"description": "No content"}
    elif e.response is not None:
        ok["content"] = {"application/json": {"schema": refs[(e.response, "serialization")]}}
        if e.csv:
            ok["content"]["text/csv"] = {"schema": {"type": "string"}}
    if e.idempotent:
        ok["headers"] = {"Idempotent-Replayed": REPLAYED_HEADER}
    responses: dict[str, Any] = {str(e.status): ok}
    if e.empty_status is not None:
        responses[str(e.empty_status)] = {"description": "No content"}
    codes = set(e.errors) | ({401} if e.auth else set()) | ({400, 415, 422} if e.body else set())
    if e.idempotent:
        codes |= {400, 409, 422}
    if e.query is not None:
        codes.add(422)
    if "{" in e.path:
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {
            "description": REASONS.get(code, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return responses
