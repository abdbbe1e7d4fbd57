"""Every error is JSON of one shape, with the request id; nothing leaks a traceback."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings

Client = TestClient[Any, Any]
AiohttpClient = Callable[..., Awaitable[Client]]
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
LEAKED = "SECRET-DETAIL-7f3a"


def error_of(body: Any) -> dict[str, Any]:
    """The error object of a body, checking the one shape every error has."""
    assert isinstance(body, dict) and set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert error["message"]
    return error


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError(f"database password is {LEAKED}")


@pytest.fixture
async def boom_client(aiohttp_client: AiohttpClient, settings: Settings) -> Client:
    """The real app with one extra route whose handler fails unexpectedly."""
    app = create_app(settings)
    app.router.add_get("/test/boom", _boom)
    return await aiohttp_client(app)


async def test_an_unknown_path_is_a_json_404(client: Client) -> None:
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert error_of(await response.json())["code"] == "not_found"


async def test_an_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status == 404
    assert error_of(await response.json())["code"] == "not_found"


async def test_a_missing_static_file_is_a_json_404(client: Client) -> None:
    response = await client.get("/static/no-such-file.css")
    assert response.status == 404
    assert response.content_type == "application/json"
    assert error_of(await response.json())["code"] == "not_found"


async def test_a_wrong_method_is_a_json_405_with_allow(client: Client) -> None:
    response = await client.post("/healthz", json={})
    assert response.status == 405
    assert response.content_type == "application/json"
    assert error_of(await response.json())["code"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "POST" not in allowed


async def test_a_body_over_max_body_bytes_is_a_json_413(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    client = await aiohttp_client(app)
    big = '{"email": "a@example.com", "password": "' + "x" * 4096 + '"}'

    response = await client.post(
        "/api/v1/auth/login", data=big, headers={"Content-Type": "application/json"}
    )

    assert response.status == 413
    assert response.content_type == "application/json"
    assert error_of(await response.json())["code"] == "too_large"


async def test_a_body_under_max_body_bytes_is_read(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    client = await aiohttp_client(app)
    # Padded with JSON whitespace to near the limit, still a valid login body.
    small = '{"email": "a@example.com", "password": "wrong password"}' + " " * 1900

    response = await client.post(
        "/api/v1/auth/login", data=small, headers={"Content-Type": "application/json"}
    )

    assert response.status == 401  # read and checked: no such user
    assert error_of(await response.json())["code"] != "too_large"


async def test_an_unexpected_exception_is_a_json_500_quoting_the_request_id(
    boom_client: Client,
) -> None:
    response = await boom_client.get("/test/boom")

    assert response.status == 500
    assert response.content_type == "application/json"
    error = error_of(await response.json())
    assert error["code"] == "internal_error"
    rid = response.headers["X-Request-Id"]
    assert rid in error["message"]
    assert error["details"] is None


async def test_an_unexpected_exception_leaks_no_traceback_or_exception_text(
    boom_client: Client,
) -> None:
    response = await boom_client.get("/test/boom", headers={"X-Request-Id": "trace-me-1"})
    text = await response.text()
    assert response.status == 500
    for leak in (LEAKED, "RuntimeError", "Traceback", "_boom", 'File "'):
        assert leak not in text
    assert "trace-me-1" in error_of(await response.json())["message"]


async def test_an_unexpected_exception_is_logged_with_its_traceback(
    boom_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="hub.http"):
        await boom_client.get("/test/boom")
    errors = [r for r in caplog.records if r.name == "hub.http" and r.exc_info]
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert LEAKED in str(errors[0].exc_info[1])


async def test_the_callers_request_id_is_echoed(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "abc-123_x.Y"})
    assert response.headers["X-Request-Id"] == "abc-123_x.Y"


async def test_the_request_id_is_echoed_on_errors_too(client: Client) -> None:
    response = await client.get("/no/such/page", headers={"X-Request-Id": "req-404"})
    assert response.status == 404
    assert response.headers["X-Request-Id"] == "req-404"


@pytest.mark.parametrize(
    "unsafe",
    ["has spaces", "a" * 100, "semi;colon", "<script>", "x\u00e9"],
    ids=["spaces", "100-chars", "semicolon", "markup", "non-ascii"],
)
async def test_an_unsafe_request_id_is_replaced_by_a_generated_one(
    client: Client, unsafe: str
) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": unsafe})
    assert response.status == 200
    rid = response.headers["X-Request-Id"]
    assert rid != unsafe
    assert GENERATED_ID.match(rid)


async def test_without_a_request_id_each_request_gets_a_new_one(client: Client) -> None:
    first = (await client.get("/healthz")).headers["X-Request-Id"]
    second = (await client.get("/healthz")).headers["X-Request-Id"]
    assert GENERATED_ID.match(first) and GENERATED_ID.match(second)
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/no/such/page", {}, 404),
        ("POST", "/healthz", {}, 405),
        ("DELETE", "/api/v1/me", {}, 405),
        ("GET", "/api/v1/me", {}, 401),
        (
            "POST",
            "/api/v1/auth/login",
            {"data": "x", "headers": {"Content-Type": "text/plain"}},
            415,
        ),
        (
            "POST",
            "/api/v1/auth/login",
            {"data": "{", "headers": {"Content-Type": "application/json"}},
            400,
        ),
        ("POST", "/api/v1/auth/login", {"json": {"email": "a@b.c"}}, 422),
        ("GET", "/test/boom", {}, 500),
    ],
)
async def test_every_error_body_has_exactly_code_message_details(
    boom_client: Client, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = await boom_client.request(method, path, **kwargs)
    assert response.status == status
    assert response.content_type == "application/json"
    error_of(await response.json())
