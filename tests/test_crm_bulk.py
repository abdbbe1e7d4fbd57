"""The bulk first link of existing contacts: a background job with stored progress,
resumed after a restart from where it stopped, never linking a contact twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.crm import bulk
from hub.settings import Settings
from hub.store.models import Contact, CrmBulkJob, CrmContactLink, User
from tests.crm_memory import ACCOUNTS, Account, engine_of, quiet_app

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
Sessions = async_sessionmaker[AsyncSession]


class Crash(Exception):
    """The process stopping mid-job."""


@pytest.fixture
def account() -> Iterator[Account]:
    ACCOUNTS["acme"] = account = Account()
    yield account
    ACCOUNTS.pop("acme", None)


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[Client]], settings: Settings
) -> AsyncIterator[Client]:
    yield await aiohttp_client(quiet_app(settings))


@pytest.fixture
async def setup(
    client: Client, account: Account, user_token: UserToken, db: Sessions
) -> tuple[int, dict[str, str]]:
    """A connection; 12 contacts, of whom 8 have a record (by email or phone)."""
    _, headers = await user_token("owner@example.com", role="owner")
    made = await client.post(
        "/api/v1/crm-connections",
        json={"type": "memory", "name": "Sales", "config": {"account": "acme"}},
        headers=headers,
    )
    async with db() as session:
        for n in range(12):
            session.add(
                Contact(name=f"C{n}", email=f"c{n}@example.com", phone=f"+49151000000{n:02d}")
            )
        await session.commit()
    for n in range(8):
        if n % 2:
            account.add(email=f"c{n}@example.com")
        else:
            account.add(phone=f"+49151000000{n:02d}")
    return (await made.json())["id"], headers


async def links(db: Sessions) -> int:
    async with db() as session:
        return await session.scalar(select(func.count()).select_from(CrmContactLink)) or 0


async def test_a_bulk_link_runs_in_the_background_with_progress(
    client: Client, setup: tuple[int, dict[str, str]], db: Sessions, account: Account
) -> None:
    connection_id, headers = setup
    url = f"/api/v1/crm-connections/{connection_id}/bulk-link"
    account.rate_limited = 3  # the CRM's rate limit, met along the way

    started = await client.post(url, headers=headers)
    again = await client.post(url, headers=headers)
    await engine_of(client).idle()
    progress = await (await client.get(url, headers=headers)).json()

    assert started.status == 202
    assert (await started.json())["total"] == 12
    assert again.status == 409
    assert progress["status"] == "done"
    assert (progress["processed"], progress["linked"], progress["not_found"]) == (12, 8, 4)
    assert progress["failed"] == 0
    assert await links(db) == 8
    # One batch lookup by email for all twelve (three times refused by the rate limit,
    # then answered), then a phone search for each of the eight it did not find.
    assert account.calls.count("find_many") == 3 + 1
    assert account.calls.count("find_contact") == 8


async def test_a_stopped_job_resumes_where_it_stopped(
    client: Client,
    setup: tuple[int, dict[str, str]],
    db: Sessions,
    account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection_id, headers = setup
    monkeypatch.setattr(bulk, "BATCH", 5)
    engine = engine_of(client)
    job = await bulk.start_job(engine.env, connection_id)

    def crash(_: CrmBulkJob) -> None:
        raise Crash

    with pytest.raises(Crash):
        await bulk.run_job(engine.env, job.id, on_batch=crash)
    async with db() as session:
        halfway = await session.get(CrmBulkJob, job.id)
        assert halfway is not None
        assert (halfway.status, halfway.processed) == ("running", 5)
    finds = account.calls.count("find_contact")

    await engine.resume_bulk_jobs()  # what a restarted hub does
    await engine.idle()
    done = await (
        await client.get(f"/api/v1/crm-connections/{connection_id}/bulk-link", headers=headers)
    ).json()

    assert done["status"] == "done" and done["processed"] == 12
    assert done["linked"] == 8
    assert await links(db) == 8
    # The first five contacts were not looked up again.
    assert account.calls.count("find_contact") - finds <= 7


async def test_refused_credentials_stop_the_job_with_the_reason(
    client: Client, setup: tuple[int, dict[str, str]], account: Account
) -> None:
    connection_id, headers = setup
    url = f"/api/v1/crm-connections/{connection_id}/bulk-link"
    account.token = "revoked"
    await client.post(url, headers=headers)

    await engine_of(client).idle()
    job = await (await client.get(url, headers=headers)).json()

    assert job["status"] == "failed"
    assert "token is invalid" in job["error"]
