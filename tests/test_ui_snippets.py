"""The snippets pages: list with a preview, create and edit with the variables, delete."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import Attachment, Snippet, User
from tests.test_ui_users import HTML, as_owner, error_of, form_csrf, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def stored(db: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with db() as session:
        rows = await session.scalars(select(Snippet).order_by(Snippet.id))
        return [(row.name, row.shortcut, row.body) for row in rows]


async def test_creating_and_listing_a_snippet_escaped(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    form_page = await (await client.get("/admin/snippets/new", headers=HTML)).text()
    assert "$contact.first_name" in form_page and "The contact&#39;s first name" in form_page
    assert "<code>Hi $contact.first_name|there</code>" in form_page  # how to avoid a gap
    assert form_csrf(form_page, "/admin/snippets/new") == csrf

    body = "Hi $contact.first_name, <img src=x onerror=alert(1)> thanks!\n" + "more " * 40
    form = {"csrf_token": csrf, "name": "Thanks <b>", "shortcut": "/thanks", "body": body}
    created = await client.post("/admin/snippets/new", data=form, allow_redirects=False)
    assert created.status == 303
    assert await stored(db) == [("Thanks <b>", "thanks", body.strip())]

    listing = await (await client.get("/admin/snippets", headers=HTML)).text()
    assert "Created snippet /thanks." in listing and "<code>/thanks</code>" in listing
    assert "Thanks &lt;b&gt;" in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    assert "<img" not in listing
    assert re.search(r"thanks! more more [a-z ]+…</td>", listing)  # one line, cut short


async def test_errors_are_shown_beside_the_fields_keeping_the_input(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    form = {"csrf_token": csrf, "name": "Bye", "shortcut": "bye", "body": "Bye $contact.nick"}
    response = await client.post("/admin/snippets/new", data=form)
    html = await response.text()
    assert response.status == 422
    assert "Unknown variable $contact.nick" in error_of(html, "body")
    assert "Bye $contact.nick</textarea>" in html and 'value="bye"' in html

    bad_shortcut = {**form, "shortcut": "Not OK!", "body": "Bye"}
    response = await client.post("/admin/snippets/new", data=bad_shortcut)
    assert response.status == 422 and "a-z" in error_of(await response.text(), "shortcut")

    await client.post("/admin/snippets/new", data={**form, "body": "Bye"})
    taken = {**form, "name": "Other", "body": "Other"}
    response = await client.post("/admin/snippets/new", data=taken)
    assert response.status == 409
    assert "Another snippet uses /bye." in error_of(await response.text(), "shortcut")
    assert len(await stored(db)) == 1


async def test_editing_and_deleting_with_a_confirmation(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    form = {"csrf_token": csrf, "name": "Hello", "shortcut": "hi", "body": "Hello!"}
    await client.post("/admin/snippets/new", data=form)
    async with db() as session:
        snippet_id = await session.scalar(select(Snippet.id))
    page = await (await client.get(f"/admin/snippets/{snippet_id}", headers=HTML)).text()
    assert 'value="Hello"' in page and "Hello!</textarea>" in page

    changed = {**form, "shortcut": "/hello", "body": "Hello $agent.first_name!"}
    saved = await client.post(f"/admin/snippets/{snippet_id}", data=changed, allow_redirects=False)
    assert saved.status == 303
    assert await stored(db) == [("Hello", "hello", "Hello $agent.first_name!")]

    empty = await client.post(f"/admin/snippets/{snippet_id}", data={**changed, "body": ""})
    assert empty.status == 422 and error_of(await empty.text(), "body")

    confirm = await (await client.get(f"/admin/snippets/{snippet_id}/delete", headers=HTML)).text()
    assert "Delete the snippet /hello?" in confirm
    assert form_csrf(confirm, f"/admin/snippets/{snippet_id}/delete") == csrf
    done = await client.post(
        f"/admin/snippets/{snippet_id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert done.status == 303 and await stored(db) == []


async def test_search_and_paging(client: Client, make_user: MakeUser) -> None:
    _, csrf = await as_owner(client, make_user)
    for n in range(26):
        form = {"csrf_token": csrf, "name": f"Reply {n:02}", "shortcut": f"r{n:02}", "body": "x"}
        await client.post("/admin/snippets/new", data=form, allow_redirects=False)
    first = await (await client.get("/admin/snippets", headers=HTML)).text()
    assert "Reply 24" in first and "Reply 25" not in first
    next_url = re.search(r'href="([^"]*)" rel="next"', first)
    assert next_url
    second = await (await client.get(next_url.group(1), headers=HTML)).text()
    assert "Reply 25" in second and "Reply 24" not in second
    found = await (await client.get("/admin/snippets?q=/r07", headers=HTML)).text()
    assert "Reply 07" in found and "Reply 08" not in found


async def test_csrf_and_agents(client: Client, make_user: MakeUser) -> None:
    await as_owner(client, make_user)
    form = {"name": "X", "shortcut": "x", "body": "x"}
    assert (await client.post("/admin/snippets/new", data=form, headers=HTML)).status == 403
    await make_user("agent@example.com")
    client.session.cookie_jar.clear()
    csrf = await log_in_page(client, "agent@example.com")
    assert (await client.get("/admin/snippets", headers=HTML)).status == 403
    response = await client.post("/admin/snippets/new", data={**form, "csrf_token": csrf})
    assert response.status == 403


def file_form(
    csrf: str | None, data: bytes = b"\x89PNG fake", filename: str = "logo.png"
) -> aiohttp.FormData:
    # As a browser sends the page's form: the token first, then the file.
    form = aiohttp.FormData(quote_fields=False)
    if csrf is not None:
        form.add_field("csrf_token", csrf)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


async def test_files_are_uploaded_listed_and_removed_on_the_snippet_page(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    new_page = await (await client.get("/admin/snippets/new", headers=HTML)).text()
    assert "Create the snippet first" in new_page
    form = {"csrf_token": csrf, "name": "Logo", "shortcut": "logo", "body": "Our logo"}
    await client.post("/admin/snippets/new", data=form)
    async with db() as session:
        snippet_id = await session.scalar(select(Snippet.id))
    url = f"/admin/snippets/{snippet_id}"
    page = await (await client.get(url, headers=HTML)).text()
    assert "No files." in page and 'enctype="multipart/form-data"' in page
    assert form_csrf(page, f"{url}/files") == csrf

    added = await client.post(f"{url}/files", data=file_form(csrf), allow_redirects=False)
    assert added.status == 303, await added.text()
    page = await (await client.get(url, headers=HTML)).text()
    async with db() as session:
        [file] = list(await session.scalars(select(Attachment)))
    assert (file.snippet_id, file.filename, file.size) == (snippet_id, "logo.png", 9)
    assert "logo.png" in page and "9 bytes" in page
    download = await client.get(f"/inbox/files/{file.id}?download=1")
    assert download.status == 200 and await download.read() == b"\x89PNG fake"

    # Refused: a type the workspace does not take, an empty file (shown by the field);
    # a form without its token first.
    bad = await client.post(f"{url}/files", data=file_form(csrf, filename="tool.exe"))
    assert bad.status == 415 and "type not allowed" in error_of(await bad.text(), "file")
    empty = await client.post(f"{url}/files", data=file_form(csrf, data=b""))
    assert empty.status == 422 and "empty" in error_of(await empty.text(), "file")
    no_token = await client.post(f"{url}/files", data=file_form(None), headers=HTML)
    assert no_token.status == 403
    late = aiohttp.FormData(quote_fields=False)
    late.add_field("file", b"x", filename="x.png", content_type="image/png")
    late.add_field("csrf_token", csrf)
    assert (await client.post(f"{url}/files", data=late, headers=HTML)).status == 403

    removed = await client.post(
        f"{url}/files/{file.id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert removed.status == 303
    async with db() as session:
        assert list(await session.scalars(select(Attachment))) == []
    assert "No files." in await (await client.get(url, headers=HTML)).text()
    gone = await client.post(f"{url}/files/{file.id}/delete", data={"csrf_token": csrf})
    assert gone.status == 404
