"""Connecting a channel through the admin pages: type cards, the generated form, the
provider's refusal, the done page that shows generated secrets once, editing
credentials, and the type logos."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import respx
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.store.crypto import ConfigCipher
from hub.store.models import Channel, User
from tests.conftest import PASSWORD
from tests.ui_helpers import HTML, hidden

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
TELEGRAM = "https://api.telegram.org"
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
SERVICE = "https://chat.acme.example/hub/replies"


def form_csrf(html: str, action: str) -> str:
    """The CSRF token inside the form posting to ``action`` (never empty)."""
    form = html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    token = hidden(form, "csrf_token")
    assert token, f"the form to {action} has an empty CSRF token"
    return token


async def page_login(client: Client, email: str) -> str:
    """Log in through the login page; return the session's CSRF token (from the form
    the connect page shows, so a form rendered without its token fails here)."""
    html = await (await client.get("/login")).text()
    form = {"form_token": hidden(html, "form_token"), "email": email, "password": PASSWORD}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 303
    page = await client.get("/admin/channels/new/custom_channel", headers=HTML)
    if page.status == 403:  # an agent: the logout form has the token too
        return hidden(await page.text(), "csrf_token")
    return form_csrf(await page.text(), "/admin/channels/new/custom_channel")


@pytest.fixture
async def owner(client: Client, make_user: Callable[..., Awaitable[User]]) -> str:
    """An owner logged in through the pages; the CSRF token."""
    await make_user("owner@example.com", name="Olive Owner", role="owner")
    return await page_login(client, "owner@example.com")


@pytest.fixture
def telegram() -> Iterator[respx.MockRouter]:
    """Telegram's Bot API: this token is a bot; any other is refused with 401."""
    with respx.mock(base_url=TELEGRAM, assert_all_called=False) as router:
        good = f"/bot{TOKEN}"
        router.post(f"{good}/getMe", name="getMe").respond(
            200, json={"ok": True, "result": {"id": 123456789, "is_bot": True, "first_name": "B"}}
        )
        router.post(f"{good}/setWebhook", name="setWebhook").respond(
            200, json={"ok": True, "result": True}
        )
        router.post(path__regex=r"/bot[^/]+/getMe").respond(
            401, json={"ok": False, "error_code": 401, "description": "Unauthorized"}
        )
        yield router


async def stored(
    db: async_sessionmaker[AsyncSession], settings: Any
) -> list[tuple[Channel, dict[str, Any]]]:
    """Every channel with its decrypted config."""
    cipher = ConfigCipher(settings.secret_key)
    async with db() as session:
        rows = list(await session.scalars(select(Channel).order_by(Channel.id)))
    return [(row, cipher.decrypt(row.config_encrypted)) for row in rows]


async def connect_custom(client: Client, csrf: str, **extra: str) -> Any:
    form = {"csrf_token": csrf, "name": "Acme chat", "config-outbound_url": SERVICE, **extra}
    return await client.post(
        "/admin/channels/new/custom_channel", data=form, headers=HTML, allow_redirects=False
    )


@pytest.fixture
def email_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Email as a type whose plugin is not built yet (every bundled one is, now)."""
    from hub_email.channel import EmailChannel

    monkeypatch.setattr(EmailChannel, "available", False)


async def test_the_cards_list_every_installed_type_with_its_logo(
    client: Client, owner: str, email_not_built: None
) -> None:
    response = await client.get("/admin/channels/new", headers=HTML)
    html = await response.text()
    assert response.status == 200
    types = client.app[appkeys.CHANNELS].types.all()
    assert {"custom_channel", "telegram", "whatsapp", "email"} <= set(types)
    for name, kind in types.items():
        assert f'<img class="logo" src="/channel-types/{name}/logo.svg" alt="">' in html
        assert kind.title in html
        # A type whose plugin is not built yet is shown greyed, without a way in.
        assert (f'href="/admin/channels/new/{name}"' in html) is kind.available, name
    assert html.count("<h1") == 1
    email = html.split('src="/channel-types/email/logo.svg"', 1)[1].split("</li>", 1)[0]
    assert "Not available yet" in email
    assert html.count("Not available yet") == 1
    assert re.search(
        r'<div class="type-card unavailable" aria-disabled="true">\s*<img[^>]*email', html
    )


async def test_a_type_not_available_yet_cannot_be_connected_from_the_pages(
    client: Client,
    owner: str,
    db: async_sessionmaker[AsyncSession],
    settings: Any,
    email_not_built: None,
) -> None:
    page = await client.get("/admin/channels/new/email", headers=HTML)
    assert page.status == 409
    assert "Email is not available yet" in await page.text()
    # Posting anyway (a stale tab) is refused the same way, and nothing is kept.
    form = {"csrf_token": owner, "name": "Mail", "config-imap_host": "127.0.0.1"}
    posted = await client.post("/admin/channels/new/email", data=form, headers=HTML)
    assert posted.status == 409
    assert await stored(db, settings) == []


async def test_the_form_is_generated_from_the_config(client: Client, owner: str) -> None:
    response = await client.get("/admin/channels/new/custom_channel", headers=HTML)
    html = await response.text()
    assert response.status == 200
    assert html.index('id="name"') < html.index('id="config-outbound_url"')
    assert re.search(
        r'id="config-outbound_url" name="config-outbound_url" type="url"[^>]*required', html
    )
    assert '<label for="config-outbound_url">Outbound URL <span class="required"' in html
    assert re.search(r'name="config-signing_secret" type="password"(?![^>]*value=)', html)
    assert "Leave it empty to have one generated." in html
    assert re.search(r'name="config-supports_attachments" type="checkbox" value="on" checked', html)
    assert '<option value="per_contact" selected>One conversation per contact</option>' in html
    assert ">per_contact<" not in html and ">per_thread_id<" not in html
    # Telegram's API server is folded away, its default filled in.
    telegram = await (await client.get("/admin/channels/new/telegram", headers=HTML)).text()
    assert "<summary>Advanced settings</summary>" in telegram
    assert 'value="https://api.telegram.org"' in telegram
    missing = await client.get("/admin/channels/new/fax", headers=HTML)
    assert missing.status == 404


async def test_headings_and_the_credentials_promise_follow_the_type(
    client: Client, owner: str
) -> None:
    custom = await (await client.get("/admin/channels/new/custom_channel", headers=HTML)).text()
    assert "<title>Connect a custom channel" in custom
    assert re.search(r"<h1>.*Connect a custom channel</h1>", custom)
    assert "Connect Custom channel" not in custom
    # Nothing is checked for a plain custom channel: the page does not claim it.
    assert "checks these credentials" not in custom
    telegram = await (await client.get("/admin/channels/new/telegram", headers=HTML)).text()
    assert re.search(r"<h1>.*Connect a Telegram channel</h1>", telegram)
    assert "The hub checks these credentials with the provider before saving anything." in telegram
    whatsapp = await (await client.get("/admin/channels/new/whatsapp", headers=HTML)).text()
    assert re.search(r"<h1>.*Connect a WhatsApp channel</h1>", whatsapp)


async def test_a_declared_type_promises_a_check_only_when_it_has_credentials(
    client: Client, owner: str, user_token: UserToken
) -> None:
    _, auth = await user_token("manager@example.com", role="manager")
    for name, credentials in [
        ("acme_chat", [{"name": "acme_token", "title": "Acme token", "type": "secret"}]),
        ("plain_chat", []),
    ]:
        manifest = {
            "name": name,
            "title": name.replace("_", " ").title(),
            "credentials": credentials,
        }
        declared = await client.post("/api/v1/channel-types", json=manifest, headers=auth)
        assert declared.status == 201, await declared.text()
    # The custom channel hands a declared type's credentials to the service to accept.
    acme = await (await client.get("/admin/channels/new/acme_chat", headers=HTML)).text()
    assert re.search(r"<h1>.*Connect an Acme Chat channel</h1>", acme)
    assert "checks these credentials" in acme
    plain = await (await client.get("/admin/channels/new/plain_chat", headers=HTML)).text()
    assert "checks these credentials" not in plain


async def test_validation_errors_sit_beside_their_fields_and_the_input_is_kept(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    form = {
        "csrf_token": owner,
        "name": "",
        "config-outbound_url": "not a url",
        "config-signing_secret": "typed-secret-value",
        "config-threading": "per_thread_id",
    }
    response = await client.post("/admin/channels/new/custom_channel", data=form, headers=HTML)
    html = await response.text()
    assert response.status == 422
    assert 'id="name-error">This field is required.<' in html  # not pydantic's wording
    assert re.search(r'id="config-outbound_url-error">Must be an http:// or https:// URL', html)
    assert 'value="not a url"' in html and '<option value="per_thread_id" selected>' in html
    # The unticked checkbox stays unticked; the typed secret is not sent back.
    assert not re.search(
        r'name="config-supports_attachments" type="checkbox" value="on" checked', html
    )
    assert "typed-secret-value" not in html and "type it again" in html
    assert await stored(db, settings) == []


async def test_refused_credentials_show_the_plugins_message_and_keep_the_input(
    client: Client,
    owner: str,
    telegram: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
    settings: Any,
) -> None:
    wrong = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"
    form = {"csrf_token": owner, "name": "Shop bot", "config-bot_token": wrong}
    response = await client.post("/admin/channels/new/telegram", data=form, headers=HTML)
    html = await response.text()
    assert response.status == 422
    assert "The provider refused these credentials" in html
    assert (
        "Telegram refused the bot token (401 Unauthorized): copy it again from @BotFather" in html
    )
    assert 'value="Shop bot"' in html and wrong not in html
    assert await stored(db, settings) == []


async def test_an_unreachable_provider_is_a_502_saying_to_try_again(
    client: Client, owner: str
) -> None:
    with respx.mock(base_url=TELEGRAM) as router:
        router.post(f"/bot{TOKEN}/getMe").respond(
            502, json={"ok": False, "error_code": 502, "description": "Bad Gateway"}
        )
        form = {"csrf_token": owner, "name": "Shop bot", "config-bot_token": TOKEN}
        response = await client.post("/admin/channels/new/telegram", data=form, headers=HTML)
    html = await response.text()
    assert response.status == 502
    assert "The provider could not be reached" in html and "Bad Gateway" in html


async def test_a_form_without_the_csrf_token_is_refused(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    form = {"name": "Acme chat", "config-outbound_url": SERVICE}
    response = await client.post("/admin/channels/new/custom_channel", data=form, headers=HTML)
    assert response.status == 403
    forged = await connect_custom(client, "forged")
    assert forged.status == 403
    assert await stored(db, settings) == []


async def test_agents_get_403_but_may_see_logos(
    client: Client, make_user: Callable[..., Awaitable[User]], db: async_sessionmaker[AsyncSession]
) -> None:
    channel = Channel(type="custom_channel", name="X", config_encrypted="x")
    async with db() as session:
        session.add(channel)
        await session.commit()
    await make_user("agent@example.com", role="agent")
    await page_login(client, "agent@example.com")
    for url in (
        "/admin/channels/new",
        "/admin/channels/new/custom_channel",
        f"/admin/channels/{channel.id}/edit",
        f"/admin/channels/{channel.id}/connected",
    ):
        response = await client.get(url, headers=HTML)
        assert response.status == 403, url
    logo = await client.get("/channel-types/telegram/logo.svg")
    assert logo.status == 200


async def test_connecting_goes_to_routing_and_the_done_page_shows_the_secret_once(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    response = await connect_custom(client, owner)
    assert response.status == 303
    [(channel, config)] = await stored(db, settings)
    assert response.headers["Location"] == f"/admin/channels/{channel.id}/routing?setup=1"
    secret = config["signing_secret"]
    cookie = response.cookies["hub_connected"]
    assert cookie["path"] == f"/admin/channels/{channel.id}/connected"
    assert cookie["httponly"] and int(cookie["max-age"]) == 900
    assert secret not in cookie.value  # encrypted, never plain

    # Another page never receives the cookie.
    assert secret not in await (await client.get("/admin/channels/new", headers=HTML)).text()
    done = await client.get(f"/admin/channels/{channel.id}/connected", headers=HTML)
    html = await done.text()
    assert done.status == 200 and done.headers["Cache-Control"] == "no-store"
    assert "<h1" in html and "Channel connected" in html
    assert f'value="{settings.base_url}/webhooks/{channel.id}"' in html
    assert f'value="{secret}"' in html and "will not be shown again" in html
    assert 'data-copy="secret-signing_secret"' in html

    again = await (await client.get(f"/admin/channels/{channel.id}/connected", headers=HTML)).text()
    assert secret not in again and "no longer shown" in again
    assert f"/webhooks/{channel.id}" in again


async def test_a_secret_typed_by_the_admin_is_not_shown_back(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    response = await connect_custom(client, owner, **{"config-signing_secret": "my-own-secret"})
    assert response.status == 303 and "hub_connected" not in response.cookies
    [(channel, config)] = await stored(db, settings)
    assert config["signing_secret"] == "my-own-secret"
    done = await (await client.get(f"/admin/channels/{channel.id}/connected", headers=HTML)).text()
    assert "my-own-secret" not in done


async def test_editing_keeps_a_secret_left_empty_and_replaces_a_typed_one(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    await connect_custom(client, owner)
    [(channel, before)] = await stored(db, settings)
    page = await client.get(f"/admin/channels/{channel.id}/edit", headers=HTML)
    html = await page.text()
    assert page.status == 200
    assert form_csrf(html, f"/admin/channels/{channel.id}/edit") == owner
    assert f'value="{SERVICE}"' in html and before["signing_secret"] not in html
    assert "********" not in html and "Leave empty to keep the current value." in html
    assert "This is a custom channel." in html and "channel channel" not in html
    assert "checked with the provider" not in html  # a custom channel has no check

    form = {
        "csrf_token": owner,
        "name": "Acme <b>chat</b>",
        "config-outbound_url": "https://chat.acme.example/v2",
        "config-signing_secret": "",
        "config-threading": "per_contact",
    }
    url = f"/admin/channels/{channel.id}/edit"
    saved = await client.post(url, data=form, headers=HTML, allow_redirects=False)
    assert saved.status == 303 and saved.headers["Location"] == f"/admin/channels/{channel.id}"
    [(renamed, after)] = await stored(db, settings)
    assert renamed.name == "Acme <b>chat</b>"
    assert after["signing_secret"] == before["signing_secret"]
    assert after["outbound_url"] == "https://chat.acme.example/v2"
    assert after["supports_attachments"] is False  # unticked

    form["config-signing_secret"] = "a-new-secret"
    await client.post(url, data=form, headers=HTML, allow_redirects=False)
    [(_, replaced)] = await stored(db, settings)
    assert replaced["signing_secret"] == "a-new-secret"

    page = await (await client.get(url, headers=HTML)).text()
    assert "Acme &lt;b&gt;chat&lt;/b&gt;" in page and "<b>chat</b>" not in page


async def test_edit_errors_keep_the_input_and_change_nothing(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    await connect_custom(client, owner)
    [(channel, before)] = await stored(db, settings)
    form = {"csrf_token": owner, "name": "Renamed", "config-outbound_url": ""}
    response = await client.post(f"/admin/channels/{channel.id}/edit", data=form, headers=HTML)
    html = await response.text()
    assert response.status == 422
    assert 'id="config-outbound_url-error">This field is required.' in html
    assert 'value="Renamed"' in html
    [(unchanged, after)] = await stored(db, settings)
    assert unchanged.name == "Acme chat" and after == before
    assert (await client.get("/admin/channels/999/edit", headers=HTML)).status == 404


async def test_renaming_does_not_check_the_credentials_again_but_changing_them_does(
    client: Client,
    owner: str,
    telegram: respx.MockRouter,
    db: async_sessionmaker[AsyncSession],
    settings: Any,
) -> None:
    form = {"csrf_token": owner, "name": "Shop bot", "config-bot_token": TOKEN}
    created = await client.post(
        "/admin/channels/new/telegram", data=form, headers=HTML, allow_redirects=False
    )
    assert created.status == 303
    assert telegram["getMe"].call_count == 1
    [(channel, _)] = await stored(db, settings)
    url = f"/admin/channels/{channel.id}/edit"
    edit = await (await client.get(url, headers=HTML)).text()
    assert f'value="{TELEGRAM}"' in edit and TOKEN not in edit
    assert "This is a Telegram channel." in edit and "checked with the provider" in edit
    # The form as the page shows it, only the name changed.
    form = {
        "csrf_token": owner,
        "name": "Shop bot 2",
        "config-mode": "webhook",
        "config-api_base_url": TELEGRAM,
    }
    renamed = await client.post(url, data=form, headers=HTML, allow_redirects=False)
    assert renamed.status == 303 and telegram["getMe"].call_count == 1

    refused = await client.post(
        url,
        data={**form, "config-bot_token": "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"},
        headers=HTML,
    )
    assert refused.status == 422
    assert "Telegram refused the bot token" in await refused.text()
    [(kept, config)] = await stored(db, settings)
    assert kept.name == "Shop bot 2" and config["bot_token"] == TOKEN


async def test_logos_are_sandboxed_svg_with_a_default(client: Client, owner: str) -> None:
    response = await client.get("/channel-types/telegram/logo.svg")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["Content-Security-Policy"] == (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (await response.text()).lstrip().startswith("<svg")
    unknown = await client.get("/channel-types/fax/logo.svg")
    assert unknown.status == 200 and "<svg" in await unknown.text()


async def test_an_anonymous_visitor_is_sent_to_log_in(client: Client) -> None:
    response = await client.get("/admin/channels/new", headers=HTML, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    logo = await client.get("/channel-types/telegram/logo.svg", allow_redirects=False)
    assert logo.status == 303


async def test_a_declared_type_is_a_card_and_a_form_with_its_text_escaped(
    client: Client, user_token: UserToken, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    _, auth = await user_token("owner@example.com", role="owner")
    manifest = {
        "name": "acme_chat",
        "title": "Acme <script>alert(1)</script>",
        "description": "Chat <img src=x onerror=alert(2)>",
        "credentials": [
            {"name": "acme_token", "title": "Token <i>x</i>", "type": "secret", "required": True},
            {"name": "region", "title": "Region", "type": "choice", "choices": ["eu", "us"]},
        ],
    }
    declared = await client.post("/api/v1/channel-types", json=manifest, headers=auth)
    assert declared.status == 201, await declared.text()
    csrf = await page_login(client, "owner@example.com")
    cards = await (await client.get("/admin/channels/new", headers=HTML)).text()
    assert "Acme &lt;script&gt;alert(1)&lt;/script&gt;" in cards and "<script>" not in cards
    assert "&lt;img src=x onerror=alert(2)&gt;" in cards and "custom type" in cards
    form_page = await (await client.get("/admin/channels/new/acme_chat", headers=HTML)).text()
    assert "<script>" not in form_page and "Token &lt;i&gt;x&lt;/i&gt;" in form_page
    assert '<option value="" selected>Not set</option>' in form_page

    with respx.mock(assert_all_called=True) as service:
        # A declared type's service checks the credentials it is handed.
        service.post(SERVICE).respond(200)
        form = {
            "csrf_token": csrf,
            "name": "Acme",
            "config-outbound_url": SERVICE,
            "config-acme_token": "tok-123",
            "config-region": "us",
        }
        created = await client.post(
            "/admin/channels/new/acme_chat", data=form, headers=HTML, allow_redirects=False
        )
    assert created.status == 303, await created.text()
    [(channel, config)] = await stored(db, settings)
    assert channel.type == "acme_chat"
    assert config["acme_token"] == "tok-123" and config["region"] == "us"


async def test_a_nul_character_is_refused_beside_its_field(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession], settings: Any
) -> None:
    response = await connect_custom(client, owner, name="Acme\x00chat")
    html = await response.text()
    assert response.status == 422
    assert 'id="name-error">Must not contain NUL characters.<' in html
    assert await stored(db, settings) == []


async def test_a_channel_whose_type_is_gone_cannot_be_edited(
    client: Client, owner: str, db: async_sessionmaker[AsyncSession]
) -> None:
    channel = Channel(type="fax", name="Old fax", config_encrypted="x")
    async with db() as session:
        session.add(channel)
        await session.commit()
    response = await client.get(f"/admin/channels/{channel.id}/edit", headers=HTML)
    assert response.status == 409
    assert "type &#39;fax&#39; is not installed" in await response.text()
