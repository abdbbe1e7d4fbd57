"""The login return path (``next``) as a browser follows it: never to another host.

A browser reads a ``Location`` header by the WHATWG URL rules, not RFC 3986: it strips
control characters and spaces at the ends, drops tabs and newlines anywhere and takes a
backslash for a slash. ``browser_destination`` does the same, so the tests judge each
redirect by where a browser would really go.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from aiohttp.test_utils import TestClient

from hub.store.models import User
from tests.conftest import PASSWORD
from tests.ui_helpers import hidden, log_in_page

Client = TestClient[Any, Any]
HUB = "https://hub.example.test/login"

# Each one leads a browser to another host or a script.
BROWSER_LEAVES = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/\t\n\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\t\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "http:\\\\evil.example",
    "javascript:alert(1)",
    "java\tscript:alert(1)",
]
# Each one leads a server or proxy that decodes paths before following them elsewhere,
# or is no path at all (refused rather than guessed at).
DECODED_LEAVES = [
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "%2F%2Fevil.example",
    "evil.example",
]
HOSTILE = BROWSER_LEAVES + DECODED_LEAVES
FRIENDLY = ["/admin/users?sort=name&q=a%20b", "/me", "/admin/channels/3"]


def browser_destination(location: str) -> tuple[str, str]:
    """The scheme and host a browser on the hub goes to for this ``Location``."""
    cleaned = location.strip("".join(map(chr, range(0x21))))
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "")
    # Past the scheme, any run of slashes (backslashes now among them) opens a host.
    cleaned = re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*:)?/{2,}", r"\1//", cleaned.replace("\\", "/"))
    parts = urlsplit(urljoin(HUB, cleaned))
    return parts.scheme, parts.netloc


def test_the_browser_model_sees_the_attacks() -> None:
    # The model is what makes the other tests mean something: each attack, followed
    # unfiltered, leaves the hub in it.
    for hostile in BROWSER_LEAVES:
        assert browser_destination(hostile) != ("https", "hub.example.test"), hostile


async def _logged_in_owner(client: Client, make_user: Callable[..., Awaitable[User]]) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")


async def test_a_logged_in_visit_to_login_never_redirects_off_the_hub(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await _logged_in_owner(client, make_user)
    for target in HOSTILE:
        response = await client.get("/login", params={"next": target}, allow_redirects=False)
        assert response.status == 303, target
        assert response.headers["Location"] == "/", target


async def test_the_login_form_sends_a_hostile_return_path_home(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("owner@example.com", role="owner")
    for target in HOSTILE:
        page = await client.get("/login", params={"next": target})
        assert hidden(await page.text(), "next") == "/", target
    # A form posted from elsewhere, with the hostile value in it, goes home too (a few
    # of each kind: every login hashes, slowly on purpose).
    for target in ["/\t/evil.example", "/\r\n/evil.example", "/\\evil.example", "/%2F/e"]:
        html = await (await client.get("/login")).text()
        done = await client.post(
            "/login",
            data={
                "form_token": hidden(html, "form_token"),
                "next": target,
                "email": "owner@example.com",
                "password": PASSWORD,
            },
            allow_redirects=False,
        )
        assert done.status == 303, target
        location = done.headers["Location"]
        assert location == "/", target
        assert browser_destination(location) == ("https", "hub.example.test")
        client.session.cookie_jar.clear()


async def test_a_path_on_the_hub_is_kept(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await _logged_in_owner(client, make_user)
    for target in FRIENDLY:
        response = await client.get("/login", params={"next": target}, allow_redirects=False)
        assert response.headers["Location"] == target
        assert browser_destination(target) == ("https", "hub.example.test")
