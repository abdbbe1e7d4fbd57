"""The user docs keep up with the code: every setting and every API route is documented.

A setting or route added without a line in docs/ fails here, and so does a documented
setting that no longer exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.app import create_app
from hub.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION = ROOT / "docs" / "configuration.md"
API = ROOT / "docs" / "api.md"
SETTINGS = sorted(Settings.model_fields)


def env_name(field: str) -> str:
    return f"HUB_{field.upper()}"


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")]


def api_routes(tmp_path: Path) -> list[tuple[str, str]]:
    """``(method, canonical path)`` of every ``/api/`` route, HEAD twins left out."""
    app = create_app(Settings(data_dir=tmp_path, secret_key="x" * 40))
    found = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or not resource.canonical.startswith("/api/"):
            continue
        if route.method != "HEAD":
            found.add((route.method, resource.canonical))
    return sorted(found)


def route_pattern(method: str, canonical: str) -> re.Pattern[str]:
    """``METHOD /path`` as written in the docs; a ``{placeholder}`` may be named anyhow."""
    parts = re.split(r"\{[^}]*\}", canonical)
    path = r"\{[^}]+\}".join(re.escape(part) for part in parts)
    return re.compile(rf"\b{method} {path}(?![\w/{{])")


def test_there_are_settings_and_routes_to_check(tmp_path: Path) -> None:
    assert "port" in SETTINGS
    assert ("GET", "/api/v1/me") in api_routes(tmp_path)


@pytest.mark.parametrize("field", SETTINGS)
def test_every_setting_has_a_row_in_configuration_md(field: str) -> None:
    name = re.compile(rf"`{env_name(field)}`")
    rows = table_rows(CONFIGURATION.read_text())
    assert any(name.search(row) for row in rows), (
        f"docs/configuration.md has no table row for {env_name(field)}"
    )


def test_configuration_md_documents_no_setting_that_does_not_exist() -> None:
    known = {env_name(field) for field in SETTINGS}
    documented = set(re.findall(r"\bHUB_[A-Z0-9_]+\b", CONFIGURATION.read_text()))
    assert documented - known == set()


def test_every_api_route_is_documented_in_api_md(tmp_path: Path) -> None:
    # docs/api.md covers conventions and auth; docs/api/<area>.md one area each.
    docs = "\n".join(p.read_text() for p in [API, *sorted((API.parent / "api").glob("*.md"))])
    missing = [
        f"{method} {path}"
        for method, path in api_routes(tmp_path)
        if not route_pattern(method, path).search(docs)
    ]
    assert missing == [], f"docs/api.md does not mention: {', '.join(missing)}"


@pytest.mark.parametrize(
    ("text", "documented"),
    [
        ("### DELETE /api/v1/tokens/{token_id}", True),
        ("`DELETE /api/v1/tokens/{id}`", True),
        ("### DELETE /api/v1/tokens", False),
        ("### GET /api/v1/tokens/{token_id}", False),
    ],
)
def test_route_pattern_needs_the_method_and_the_whole_path(text: str, documented: bool) -> None:
    pattern = route_pattern("DELETE", "/api/v1/tokens/{token_id}")
    assert bool(pattern.search(text)) is documented
