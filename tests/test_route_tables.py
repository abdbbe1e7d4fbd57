"""The route tables the hub serves from (hub.api.lazy_routes) cannot drift from the
handlers' own declarations, and a page's module is imported on its first request, not
when the hub starts (issue 18: start-up)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from admin_ui import route_source as ui_source
from hub.api import route_source as api_source
from hub.api.lazy_routes import (
    LazyRoute,
    lazy_handler,
    read_table,
    real_handler,
    render_tables,
    table_of,
)

Client = TestClient[Any, Any]
SOURCES = [
    pytest.param(ui_source, ui_source.TABLES, id="admin_ui"),
    pytest.param(api_source, api_source.TABLES, id="api"),
]


@pytest.mark.parametrize(("source", "folder"), SOURCES)
def test_each_table_is_what_the_declarations_generate(source: Any, folder: Path) -> None:
    expected = render_tables(source.__name__, source.declared())
    found = {path.name: path.read_text(encoding="utf-8") for path in folder.glob("*.routes")}
    assert found == expected, f"run `python -m {source.__name__}` and commit the tables"


def test_a_table_reads_back_what_was_written(tmp_path: Path) -> None:
    routes = [
        LazyRoute("GET", "/admin/users/{user_id:\\d+}", "admin_ui.admin.users:user_page", "u"),
        LazyRoute("POST", "/webhooks/{channel_id}", "hub.api.webhooks:webhook"),
    ]
    (tmp_path / "t.routes").write_text(render_tables("x", {"t.routes": routes})["t.routes"])
    assert read_table(tmp_path / "t.routes") == routes


def test_a_table_refuses_what_it_could_not_replay() -> None:
    async def local(request: web.Request) -> web.Response:  # not a module attribute
        return web.Response()

    with pytest.raises(ValueError, match="cannot name it"):
        table_of([web.RouteDef("GET", "/x", local, {})])
    with pytest.raises(ValueError, match="options"):
        table_of([web.get("/x", real_handler(lazy_handler("hub.api.health:healthz")))])
    with pytest.raises(ValueError, match="only routes"):
        table_of([web.static("/s", Path(__file__).parent)])


async def test_every_route_of_the_app_stands_for_a_declared_handler(client: Client) -> None:
    assert client.app is not None
    declared = {
        route.target
        for source in (ui_source, api_source)
        for table in source.declared().values()
        for route in table
    }
    lazy = {
        route.handler.lazy_target  # type: ignore[attr-defined]
        for route in client.app.router.routes()
        if hasattr(route.handler, "lazy_target")
    }
    assert lazy == declared
    # And each stand-in finds the real function its declaration's module holds.
    for route in client.app.router.routes():
        target = getattr(route.handler, "lazy_target", None)
        if target is None:
            continue
        handler = real_handler(route.handler)
        assert handler is not route.handler
        assert f"{handler.__module__}:{handler.__qualname__}" == target


START_THEN_ASK = """
import asyncio, json, shutil, sys
from aiohttp.test_utils import TestClient, TestServer
from hub.app import create_app
from hub.settings import Settings

settings = Settings(data_dir=sys.argv[1], database_url="sqlite+aiosqlite:///" + sys.argv[2],
                    secret_key="test-secret-" + "x" * 40)

async def main():
    loaded = {}
    async with TestClient(TestServer(create_app(settings))) as client:
        assert (await client.get("/healthz")).status == 200
        loaded["started"] = sorted(sys.modules)
        assert (await client.get("/login")).status == 200
        assert (await client.get("/api/v1/conversations")).status == 401
        loaded["asked"] = sorted(sys.modules)
    print(json.dumps(loaded))

asyncio.run(main())
"""
# Modules a start must not load: every area's handlers, the API's, and the Redis client
# (the tests' bus is in memory).
NOT_AT_START = {
    "admin_ui.pages",
    "admin_ui.inbox.listing",
    "admin_ui.inbox.conversation",
    "admin_ui.admin.users",
    "admin_ui.personal.profile",
    "hub.api.conversations",
    "hub.api.messages",
    "hub.api.webhooks",
    "hub.api.schemas.contacts",
    "hub.api.route_source",
    "redis",
}


def test_a_start_imports_no_handler_and_a_request_imports_only_its_own(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "hub.db"
    database.write_bytes(sqlite_template.read_bytes())
    result = subprocess.run(
        [sys.executable, "-c", START_THEN_ASK, str(tmp_path / "data"), str(database)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    started, asked = set(loaded["started"]), set(loaded["asked"])
    assert "hub.app" in started and "hub.wiring" in started
    assert NOT_AT_START & started == set()
    # The login page's module and the conversations API's, and no other area's.
    assert {"admin_ui.pages", "hub.api.conversations"} <= asked
    assert {"admin_ui.inbox.listing", "admin_ui.admin.users", "hub.api.messages"} & asked == set()
