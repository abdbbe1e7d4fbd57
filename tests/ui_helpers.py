"""Helpers of the HTTP tests of the web pages: log in through the form, read hidden fields."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import PASSWORD

HTML = {"Accept": "text/html,application/xhtml+xml"}


def hidden(html: str, name: str) -> str:
    """The value of the page's first hidden field called ``name``."""
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name}"
    return match.group(1)


async def log_in_page(client: TestClient[Any, Any], email: str, password: str = PASSWORD) -> str:
    """Log in through the login form; return the session's CSRF token, read from a page
    (every page of a logged-in user carries it in its log-out form)."""
    html = await (await client.get("/login")).text()
    done = await client.post(
        "/login",
        data={"form_token": hidden(html, "form_token"), "email": email, "password": password},
        allow_redirects=False,
    )
    assert done.status == 303, await done.text()
    page = await client.get("/", headers=HTML)
    return hidden(await page.text(), "csrf_token")


async def csrf_refusals(
    client: TestClient[Any, Any], routes: list[tuple[str, str]], good_token: str
) -> list[str]:
    """The POST routes that did not refuse a form without the CSRF token, or with a
    forged one, with a 403 page (empty when all did)."""
    wrong = []
    for method, path in routes:
        if method != "POST":
            continue
        for data in ({"name": "x"}, {"name": "x", "csrf_token": "forged-" + good_token[:4]}):
            response = await client.post(path, data=data, headers=HTML, allow_redirects=False)
            if response.status != 403 or response.content_type != "text/html":
                wrong.append(f"POST {path} {sorted(data)}: {response.status}")
    return wrong
