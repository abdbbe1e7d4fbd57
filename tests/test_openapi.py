"""The OpenAPI document describes every API route, from the handlers' own models."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


async def test_openapi_lists_every_api_route_with_its_models(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.method != "HEAD"
    }
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert served == documented

    login = doc["paths"]["/api/v1/auth/login"]["post"]
    body_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert set(body_schema["required"]) == {"email", "password"}
    assert {"401", "422", "429"} <= set(login["responses"])
    assert login["security"] == []

    tokens = doc["paths"]["/api/v1/tokens"]["get"]["responses"]["200"]
    page_ref = tokens["content"]["application/json"]["schema"]["$ref"]
    page = doc["components"]["schemas"][page_ref.rsplit("/", 1)[-1]]
    assert set(page["properties"]) == {"items", "next_cursor"}
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "details"]


async def test_the_password_endpoints_are_described(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    admin = doc["paths"]["/api/v1/users/{user_id}/password"]["post"]
    assert {"200", "403", "404", "422"} <= set(admin["responses"])
    own = doc["paths"]["/api/v1/me/password"]["post"]
    assert {"204", "401", "422", "429"} <= set(own["responses"])
    ref = own["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(body["required"]) == {"current_password", "new_password"}
