"""Prometheus metrics per app, by route template; log lines carrying the request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from hub.app import create_app
from hub.logs import configure_logging, request_id
from hub.settings import Settings

Client = TestClient[Any, Any]
AiohttpClient = Callable[..., Awaitable[Client]]


async def _samples(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of ``/metrics``: (name, labels) → value."""
    response = await client.get("/metrics")
    assert response.status == 200
    text = await response.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _requests(route: str, status: str, method: str = "GET") -> tuple[str, frozenset[Any]]:
    labels = {"method": method, "route": route, "status": status}
    return ("hub_http_requests_total", frozenset(labels.items()))


async def test_metrics_are_prometheus_text(client: Client) -> None:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    assert "version=0.0.4" in response.headers["Content-Type"]
    families = {f.name for f in text_string_to_metric_families(await response.text())}
    assert {"hub_http_requests", "hub_http_request_duration_seconds"} <= families


async def test_requests_are_counted_by_route_and_status(client: Client) -> None:
    await client.get("/healthz")
    await client.get("/healthz")
    samples = await _samples(client)
    assert samples[_requests("/healthz", "200")] == 2.0
    latency = frozenset({"method": "GET", "route": "/healthz"}.items())
    assert samples[("hub_http_request_duration_seconds_count", latency)] == 2.0


async def test_requests_are_counted_by_route_template_not_raw_path(client: Client) -> None:
    await client.delete("/api/v1/tokens/11")
    await client.delete("/api/v1/tokens/12")
    samples = await _samples(client)
    assert samples[_requests("/api/v1/tokens/{token_id}", "401", "DELETE")] == 2.0
    assert not any("/api/v1/tokens/1" in dict(labels).get("route", "") for _, labels in samples)


async def test_unmatched_paths_are_counted_as_unmatched(client: Client) -> None:
    await client.get("/no/such/page/1")
    await client.get("/no/such/page/2")
    samples = await _samples(client)
    assert samples[_requests("unmatched", "404")] == 2.0
    assert not any("/no/such" in dict(labels).get("route", "") for _, labels in samples)


async def test_errors_are_counted_with_their_status(client: Client) -> None:
    await client.get("/api/v1/me")
    samples = await _samples(client)
    assert samples[_requests("/api/v1/me", "401")] == 1.0


async def test_a_missing_static_file_is_counted_with_the_status_sent(client: Client) -> None:
    response = await client.get("/static/no-such-file.css")
    assert response.status == 404
    samples = await _samples(client)
    assert samples.get(_requests("/static/{path}", "404")) == 1.0
    assert _requests("/static/{path}", "200") not in samples


async def test_two_apps_do_not_share_counters(
    aiohttp_client: AiohttpClient, settings: Settings
) -> None:
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    await first.get("/healthz")
    await first.get("/healthz")
    await first.get("/healthz")
    await second.get("/healthz")

    assert (await _samples(first))[_requests("/healthz", "200")] == 3.0
    assert (await _samples(second))[_requests("/healthz", "200")] == 1.0


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging replaces the root handlers; put them (and levels) back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    alembic_level = logging.getLogger("alembic").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(alembic_level)


def _json_lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_logs_are_one_object_a_line_with_the_request_id(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    token = request_id.set("rid-42")
    try:
        logging.getLogger("hub.test").info("hello %s", "world", extra={"channel_id": 7})
    finally:
        request_id.reset(token)
    logging.getLogger("hub.test").warning("outside a request")

    first, second = _json_lines(capsys.readouterr().err)
    assert first["message"] == "hello world"
    assert first["level"] == "INFO"
    assert first["logger"] == "hub.test"
    assert first["request_id"] == "rid-42"
    assert first["channel_id"] == 7
    assert first["time"].endswith("+00:00")
    assert second["request_id"] == "-"


def test_json_logs_carry_the_exception_traceback(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    try:
        raise ValueError("broken thing")
    except ValueError:
        logging.getLogger("hub.test").exception("failed")
    (entry,) = _json_lines(capsys.readouterr().err)
    assert entry["message"] == "failed"
    assert "ValueError: broken thing" in entry["exception"]


def test_text_logs_carry_the_request_id(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "text")
    token = request_id.set("rid-text-1")
    try:
        logging.getLogger("hub.test").info("hello")
    finally:
        request_id.reset(token)
    (line,) = capsys.readouterr().err.splitlines()
    assert "[rid-text-1]" in line
    assert line.endswith("hello")


def test_the_log_level_filters_lower_records(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("WARNING", "json")
    logging.getLogger("hub.test").info("too chatty")
    logging.getLogger("hub.test").warning("worth saying")
    assert [e["message"] for e in _json_lines(capsys.readouterr().err)] == ["worth saying"]


async def test_the_access_log_line_carries_the_callers_request_id(
    client: Client, restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")
    response = await client.get("/healthz", headers={"X-Request-Id": "from-the-caller-9"})
    assert response.status == 200

    access = [e for e in _json_lines(capsys.readouterr().err) if e["logger"] == "hub.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "from-the-caller-9"
    assert (access[0]["method"], access[0]["path"], access[0]["status"]) == ("GET", "/healthz", 200)
