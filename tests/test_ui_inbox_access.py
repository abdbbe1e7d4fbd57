"""The inbox's pages and fragments show each user exactly what the API lets them see.

The permission matrix's world (five callers, six conversations) is reused, with each
caller logged in by a session as a browser is. Every inbox route that names a
conversation, contact, message or attachment is found from the router, so a route added
later is checked too: a hidden object answers exactly as a missing one does (a 404, or a
list row's 204 "not in this list"); a visible one answers without an error. The list
views answer 403 for a view the caller does not have.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.sessions import COOKIE_NAME, start_session
from hub.settings import Settings
from hub.store.models import User
from tests.factories import Factory
from tests.test_permission_matrix import CALLERS, VIEWS, VISIBLE, UserToken, World, build_world
from tests.ui_helpers import HTML

Client = TestClient[Any, Any]
SCOPED = re.compile(r"{(conversation_id|message_id|contact_id|attachment_id)}")


async def session_cookies(
    db: async_sessionmaker[AsyncSession], users: dict[str, User]
) -> dict[str, dict[str, str]]:
    """A logged-in session per caller, as the Cookie header a browser would send."""
    headers = {}
    async with db() as session:
        for name, user in users.items():
            cookie, _ = await start_session(session, user, days=1, ip=None, user_agent="test")
            headers[name] = {"Cookie": f"{COOKIE_NAME}={cookie}", **HTML}
        await session.commit()
    return headers


@pytest.fixture
async def world(
    factory: Factory,
    user_token: UserToken,
    db: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> World:
    """The permission matrix's world."""
    return await build_world(factory, user_token, db, settings)


def inbox_routes(client: Client) -> list[tuple[str, str]]:
    """Every inbox route that names an object of a conversation."""
    return sorted(
        {
            (r.method, r.resource.canonical)
            for r in client.app.router.routes()
            if r.resource is not None
            and r.method != "HEAD"
            and r.resource.canonical.startswith("/inbox")
            and SCOPED.search(r.resource.canonical)
        }
    )


async def test_inbox_fragments_of_hidden_objects_answer_as_missing_ones(
    client: Client, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    routes = inbox_routes(client)
    assert ("GET", "/inbox/conversations/{conversation_id}") in routes
    # Only reads: the inbox's writes go through the API, checked by the matrix there.
    assert {method for method, _ in routes} == {"GET"}, routes
    cookies = await session_cookies(db, world.users)
    missing_id = 10**9
    missing = {}
    for _, template in routes:
        url = re.sub(SCOPED, str(missing_id), template)
        answer = await client.get(url, headers=cookies["owner"], allow_redirects=False)
        missing[template] = answer.status
        assert answer.status in (204, 404), f"{url}: {answer.status}"
    wrong = []
    for caller in CALLERS:
        for name, thing in world.things.items():
            ids = {
                "conversation_id": thing.conversation,
                "message_id": thing.message,
                "contact_id": thing.contact,
                "attachment_id": thing.attachment,
            }
            for _, template in routes:
                url = template.format(**ids)
                response = await client.get(url, headers=cookies[caller], allow_redirects=False)
                if name in VISIBLE[caller]:
                    ok = response.status < 400
                else:
                    ok = response.status == missing[template]
                if not ok:
                    wrong.append(f"{caller} GET {url} ({name}): {response.status}")
    assert wrong == []


async def test_the_inbox_offers_each_caller_only_their_views(
    client: Client, world: World, db: async_sessionmaker[AsyncSession]
) -> None:
    cookies = await session_cookies(db, world.users)
    views = {"all", "mine", "unassigned", "blocked"} | {
        f"team:{team_id}" for team_id in world.teams.values()
    }
    names = {f"team:{team_id}": name for name, team_id in world.teams.items()}
    wrong = []
    for caller in CALLERS:
        for view in sorted(views):
            response = await client.get(f"/inbox?view={view}", headers=cookies[caller])
            allowed = names.get(view, view) in VIEWS[caller]
            if response.status != (200 if allowed else 403):
                wrong.append(f"{caller} /inbox?view={view}: {response.status}")
    assert wrong == []
