"""The plugins page: every installed plugin with its kind, version and status."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.plugin_manager import PluginInfo, load_plugins
from hub.settings import Settings
from hub.store.models import User
from tests.test_ui_access import HTML, log_in_page

Client = TestClient[Any, Any]
BUNDLED = ("custom_channel", "email", "hubspot", "salesforce", "telegram", "whatsapp")


def _row(html: str, name: str) -> str:
    """The table row of one plugin."""
    match = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\"><code>{re.escape(name)}</code>.*?</tr>", html, re.S
    )
    assert match, f"no row for {name}"
    return match.group(0)


async def test_an_owner_sees_every_bundled_plugin_with_its_facts(
    client: Client, make_user: Callable[..., Awaitable[User]]
) -> None:
    await make_user("owner@example.com", role="owner")
    await log_in_page(client, "owner@example.com")
    response = await client.get("/admin/plugins", headers=HTML)
    html = await response.text()
    assert response.status == 200
    assert html.count("<h1>") == 1 and 'aria-current="page">Plugins' in html
    for name in BUNDLED:
        row = _row(html, name)
        assert "badge-ok" in row and "0.1.0" in row
        assert f"inbox-hub-{name.replace('_', '-')}" in row
    telegram = _row(html, "telegram")
    assert ">Channel<" in telegram
    assert '<img class="logo small" src="/channel-types/telegram/logo.svg" alt=""' in telegram
    hubspot = _row(html, "hubspot")
    assert ">CRM<" in hubspot and "CRM type <code>hubspot</code>" in hubspot
    assert "<img" not in hubspot  # CRM logos are not served by the admin
    # Every bundled type is built: none is marked "Not available yet".
    for name in BUNDLED:
        assert "Not available yet" not in _row(html, name), name
    assert "pip install hub-&lt;name&gt;" in html and "docs/plugins.md" in html


async def test_broken_plugins_come_first_with_their_error_escaped(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    make_user: Callable[..., Awaitable[User]],
) -> None:
    manager = load_plugins()
    manager.plugins["zz_broken"] = PluginInfo(
        name="zz_broken",
        distribution="hub-zz-broken",
        version="0.3",
        status="broken",
        error="import failed: ValueError: <script>alert(1)</script>",
    )
    manager.plugins["aa_blocked"] = PluginInfo(
        name="aa_blocked", distribution="hub-aa-blocked", version="1.0", status="blocked"
    )
    client = await aiohttp_client(create_app(settings, plugins=manager))
    await make_user("manager@example.com", role="manager")
    await log_in_page(client, "manager@example.com")
    html = await (await client.get("/admin/plugins", headers=HTML)).text()

    order = [html.index(f"<code>{name}</code>") for name in ("zz_broken", "aa_blocked", "email")]
    assert order == sorted(order), "broken first, then blocked, then working"
    broken = _row(html, "zz_broken")
    assert "badge-broken" in broken
    assert "ValueError: &lt;script&gt;alert(1)&lt;/script&gt;" in broken
    assert "<script>alert" not in html
    assert "restart the hub" in broken
    assert "badge-blocked" in _row(html, "aa_blocked")
    assert "1 broken" in html and "1 blocked" in html
