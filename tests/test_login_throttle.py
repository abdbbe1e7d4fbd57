"""Login throttling under concurrent logins, over HTTP: attempts in flight count, and
hub processes on one Redis share the counts.

Redis tests use the real Redis on 127.0.0.1:6379, in a namespace of their own; in CI
(the ``CI`` variable set) a missing Redis fails them, elsewhere they are skipped.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.settings import Settings
from hub.store.models import User
from tests.conftest import PASSWORD

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
LOGIN = "/api/v1/auth/login"


async def _logins(clients: list[Client], passwords: list[str]) -> Counter[int]:
    """Send all these logins for ann at once, spread over the clients; count the statuses."""
    responses = await asyncio.gather(
        *(
            clients[i % len(clients)].post(
                LOGIN, json={"email": "ann@example.com", "password": password}
            )
            for i, password in enumerate(passwords)
        )
    )
    return Counter(response.status for response in responses)


async def test_wrong_passwords_sent_at_once_get_only_the_limit_of_checks(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    statuses = await _logins([client], ["wrong password"] * 40)
    assert statuses == {401: 5, 429: 35}
    right = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
    assert right.status == 429


async def test_the_right_password_among_wrong_ones_gets_no_extra_checks(
    client: Client, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    statuses = await _logins([client], ["wrong password"] * 30 + [PASSWORD])
    # At most five passwords were tried, the right one maybe among them.
    assert statuses[401] + statuses[200] == 5 and statuses[429] == 26
    # The address's failures stay counted whatever happened to the account's.
    again = await _logins([client], ["wrong password"] * 5)
    assert again[401] <= 1 and again[429] >= 4


# -- Redis --------------------------------------------------------------------------


async def test_processes_on_one_redis_share_the_counts(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    make_user: MakeUser,
    redis_url: str,
) -> None:
    await make_user("ann@example.com")
    shared = settings.model_copy(update={"bus_url": redis_url})
    # Two apps stand for two hub processes: each would allow five on its own.
    clients = [await aiohttp_client(create_app(shared)) for _ in range(2)]
    statuses = await _logins(clients, ["wrong password"] * 40)
    assert statuses == {401: 5, 429: 35}
    for one in clients:
        right = await one.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
        assert right.status == 429 and int(right.headers["Retry-After"]) > 0


async def test_with_redis_a_right_password_forgives_the_account_everywhere(
    aiohttp_client: Callable[..., Awaitable[Client]],
    settings: Settings,
    make_user: MakeUser,
    redis_url: str,
) -> None:
    await make_user("ann@example.com")
    shared = settings.model_copy(update={"bus_url": redis_url, "login_max_failures": 3})
    first, second = [await aiohttp_client(create_app(shared)) for _ in range(2)]
    assert await _logins([first], ["wrong password"] * 2) == {401: 2}
    assert await _logins([second], [PASSWORD]) == {200: 1}
    # The account's count is gone; the address keeps its two failures, so one more
    # wrong password fills the limit of three, on either process.
    assert await _logins([first], ["wrong password"]) == {401: 1}
    assert await _logins([second], [PASSWORD]) == {429: 1}


async def test_without_redis_logins_are_still_throttled_in_the_process(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings, make_user: MakeUser
) -> None:
    await make_user("ann@example.com")
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"bus_url": "redis://127.0.0.1:1/nowhere"}))
    )
    statuses = await _logins([client], ["wrong password"] * 8)
    assert statuses == {401: 5, 429: 3}
