"""Every JSON endpoint answers malformed input with a precise 4xx in the one error shape.

Walks the OpenAPI document (the same declarations the router serves), so a new endpoint
is covered the day it is added.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.api.route_source import api_document
from hub.store.models import User

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]

WITH_BODY = sorted(
    (method.upper(), path)
    for path, operations in api_document()["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
)
WITH_QUERY = sorted(
    path
    for path, operations in api_document()["paths"].items()
    if any(p["in"] == "query" for p in operations.get("get", {}).get("parameters", []))
)
BAD_BODIES: list[tuple[str, bytes, str, set[int]]] = [
    ("truncated JSON", b'{"a": ', "application/json", {400}),
    ("not UTF-8", b"\xff\xfe\x00", "application/json", {400}),
    ("a JSON array", b"[1, 2, 3]", "application/json", {422}),
    ("a JSON string", b'"text"', "application/json", {422}),
    ("null", b"null", "application/json", {422}),
    ("an unknown field", b'{"no_such_field_anywhere": 1}', "application/json", {422}),
    ("a form", b"a=1", "application/x-www-form-urlencoded", {415}),
]


def _concrete(path: str) -> str:
    # Ids of things that exist (the owner is user 1): the body is judged, not the id.
    return re.sub(r"{\w+}", "1", path)


def _error_shape(body: dict[str, Any]) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


async def test_there_are_endpoints_to_check() -> None:
    assert len(WITH_BODY) > 20 and len(WITH_QUERY) > 5


@pytest.mark.parametrize(("label", "body", "content_type", "expected"), BAD_BODIES)
async def test_every_json_endpoint_refuses_bad_bodies_with_a_4xx(
    client: Client,
    user_token: UserToken,
    label: str,
    body: bytes,
    content_type: str,
    expected: set[int],
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    for method, path in WITH_BODY:
        response = await client.request(
            method, _concrete(path), data=body, headers={**auth, "Content-Type": content_type}
        )
        where = f"{method} {path} with {label}"
        # 404 is a fair answer when the id in the path names nothing (checked first).
        assert response.status in expected | {404}, where
        _error_shape(await response.json())


async def test_every_list_refuses_unknown_and_malformed_query_parameters(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    for path in WITH_QUERY:
        for params in ({"limit": "many"}, {"cursor": "%%%"}, {"no_such_parameter": "1"}):
            response = await client.get(_concrete(path), params=params, headers=auth)
            where = f"GET {path} with {params}"
            assert 400 <= response.status < 500, where
            _error_shape(await response.json())
