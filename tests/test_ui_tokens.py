"""API tokens pages, for every role (an agent here): create (the plaintext shown once),
list, revoke after confirming; the old /admin/tokens addresses redirect."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import appkeys
from hub.auth.api_tokens import create_token
from hub.auth.token_uses import write_token_uses
from hub.store.models import User
from tests.test_ui_access import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def _agent(client: Client, make_user: MakeUser) -> str:
    """An agent, logged in: tokens are personal pages, not admin ones (they were 403)."""
    await make_user("agent@example.com", role="agent")
    return await log_in_page(client, "agent@example.com")


def _shown_token(html: str) -> str:
    """The plaintext in the created page's read-only field."""
    match = re.search(r'<input id="token" type="text" value="([^"]+)" readonly>', html)
    assert match, "the token is shown in a read-only field"
    return match.group(1)


async def test_a_created_token_is_shown_once_and_works_on_the_api(
    client: Client, make_user: MakeUser
) -> None:
    csrf = await _agent(client, make_user)
    created = await client.post(
        "/me/tokens", data={"csrf_token": csrf, "name": "CRM <b>export</b>"}, headers=HTML
    )
    html = await created.text()
    assert created.status == 201
    token = _shown_token(html)
    assert token.startswith("hub_")
    assert 'data-copy="token"' in html and "only time it is shown" in html
    assert "CRM &lt;b&gt;export&lt;/b&gt;" in html and "<b>export" not in html

    api = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
    assert api.status == 200
    # Uses are written by the app's minutely job; run it now instead of waiting.
    await write_token_uses(client.app[appkeys.SESSIONS], client.app[appkeys.TOKEN_USES])

    listing = await (await client.get("/me/tokens", headers=HTML)).text()
    assert token not in listing  # never shown again
    assert f"<code>{token[:10]}…</code>" in listing
    assert "CRM &lt;b&gt;export&lt;/b&gt;" in listing and "badge-active" in listing
    assert "Never" not in listing  # the API call above is its last use


async def test_the_create_form_carries_the_sessions_csrf_token(
    client: Client, make_user: MakeUser
) -> None:
    csrf = await _agent(client, make_user)
    html = await (await client.get("/me/tokens", headers=HTML)).text()
    form = html.split('action="/me/tokens"', 1)[1].split("</form>", 1)[0]
    assert f'name="csrf_token" value="{csrf}"' in form


async def test_a_bad_name_is_explained_beside_the_field_keeping_the_input(
    client: Client, make_user: MakeUser
) -> None:
    csrf = await _agent(client, make_user)
    empty = await client.post("/me/tokens", data={"csrf_token": csrf, "name": "  "})
    html = await empty.text()
    assert empty.status == 422
    assert 'id="name-error"' in html and "Enter a name" in html
    assert 'aria-invalid="true"' in html

    long_name = "<i>" + "n" * 200
    too_long = await client.post("/me/tokens", data={"csrf_token": csrf, "name": long_name})
    html = await too_long.text()
    assert too_long.status == 422 and "at most 200 characters" in html
    assert f'value="&lt;i&gt;{"n" * 200}"' in html
    assert "You have no API tokens yet" in html  # nothing was created


async def test_the_create_form_needs_the_csrf_token(client: Client, make_user: MakeUser) -> None:
    await _agent(client, make_user)
    refused = await client.post("/me/tokens", data={"name": "x"}, headers=HTML)
    assert refused.status == 403
    listing = await (await client.get("/me/tokens", headers=HTML)).text()
    assert "You have no API tokens yet" in listing


async def test_revoking_asks_first_then_the_token_stops_working(
    client: Client, make_user: MakeUser
) -> None:
    csrf = await _agent(client, make_user)
    created = await (
        await client.post("/me/tokens", data={"csrf_token": csrf, "name": "Zapier"})
    ).text()
    bearer = {"Authorization": f"Bearer {_shown_token(created)}"}
    listing = await (await client.get("/me/tokens", headers=HTML)).text()
    link = re.search(r'href="(/me/tokens/(\d+)/revoke)"', listing)
    assert link

    confirm = await client.get(link.group(1), headers=HTML)
    page = await confirm.text()
    assert confirm.status == 200 and "Revoke the token “Zapier”?" in page
    assert f'action="{link.group(1)}"' in page and 'href="/me/tokens"' in page
    form = page.split(f'action="{link.group(1)}"', 1)[1].split("</form>", 1)[0]
    assert f'name="csrf_token" value="{csrf}"' in form  # the form can be submitted
    assert (await client.get("/api/v1/users", headers=bearer)).status == 200  # not yet

    done = await client.post(link.group(1), data={"csrf_token": csrf}, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"] == "/me/tokens"
    after = await (await client.get("/me/tokens", headers=HTML)).text()
    assert "The token “Zapier” is revoked." in after and "badge-revoked" in after
    assert link.group(1) not in after
    assert (await client.get("/api/v1/users", headers=bearer)).status == 401
    again = await client.get(link.group(1), headers=HTML, allow_redirects=False)
    assert again.status == 303  # already revoked: back to the list with a notice


async def test_nobody_sees_or_revokes_another_persons_token(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    other = await make_user("manager@example.com", role="manager", name="Max <Manager>")
    async with db() as session:
        _, row = await create_token(session, other, "Max's secret script")
        await session.commit()
    csrf = await _agent(client, make_user)
    listing = await (await client.get("/me/tokens", headers=HTML)).text()
    assert "Max&#39;s secret script" not in listing
    assert (await client.get(f"/me/tokens/{row.id}/revoke", headers=HTML)).status == 404
    post = await client.post(f"/me/tokens/{row.id}/revoke", data={"csrf_token": csrf}, headers=HTML)
    assert post.status == 404 and "token not found" in await post.text()
    assert (await client.get("/me/tokens/abc/revoke", headers=HTML)).status == 404


async def test_many_tokens_are_paged_newest_first(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    await _agent(client, make_user)
    async with db() as session:
        owner = await session.scalar(select(User).where(User.email == "agent@example.com"))
        assert owner is not None
        for number in range(1, 53):
            await create_token(session, owner, f"Token {number:02d}")
        await session.commit()
    first = await (await client.get("/me/tokens", headers=HTML)).text()
    assert "Token 52" in first and "Token 03" in first and "Token 02" not in first
    next_url = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_url
    second = await (await client.get(next_url.group(1).replace("&amp;", "&"), headers=HTML)).text()
    assert "Token 02" in second and "Token 01" in second and "Token 03" not in second
    assert 'rel="next"' not in second and "First page" in second


async def test_the_old_admin_addresses_redirect_to_the_personal_pages(
    client: Client, make_user: MakeUser
) -> None:
    visitor = await client.get("/admin/tokens?before=9", headers=HTML, allow_redirects=False)
    assert visitor.status == 301 and visitor.headers["Location"] == "/me/tokens?before=9"
    csrf = await _agent(client, make_user)
    page = await client.get("/admin/tokens", headers=HTML)
    assert page.status == 200 and str(page.url).endswith("/me/tokens")
    old_revoke = await client.get("/admin/tokens/7/revoke", allow_redirects=False)
    assert old_revoke.headers["Location"] == "/me/tokens/7/revoke"
    # A form posted to an old address (a page open from before) is posted again, as is.
    posted = await client.post(
        "/admin/tokens", data={"csrf_token": csrf, "name": "Old form"}, allow_redirects=False
    )
    assert posted.status == 308 and posted.headers["Location"] == "/me/tokens"
    created = await client.post("/admin/tokens", data={"csrf_token": csrf, "name": "Old form"})
    assert created.status == 201 and "Token “Old form” created" in await created.text()
