"""Request ids: a request without a sane ``X-Request-Id`` gets a fresh random one (32 hex
digits), different for every request; a sane one from the caller is kept."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]


async def test_each_request_gets_a_fresh_random_id(client: Client) -> None:
    ids = []
    for given in (None, None, "bad id with spaces", None):
        headers = {"X-Request-Id": given} if given else {}
        response = await client.get("/healthz", headers=headers)
        assert response.status == 200
        ids.append(response.headers["X-Request-Id"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in ids)
    assert len(set(ids)) == len(ids)


async def test_a_sane_id_from_the_caller_is_kept(client: Client) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "caller-7.a_b"})
    assert response.headers["X-Request-Id"] == "caller-7.a_b"
