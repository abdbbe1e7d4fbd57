"""``GET /api/v1/audit-log``: owners and managers only, filters, keyset paging, the CSV
export (every matching row, spreadsheet-safe), and the retention job."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from hub.auth import audit
from hub.auth.audit_retention import prune_audit_log
from hub.store.models import AuditEntry, User
from hub.store.types import utcnow
from tests.audit_helpers import Sessions

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
LOG = "/api/v1/audit-log"


async def write(db: Sessions, *entries: tuple[int | None, str, str, str | None, str]) -> None:
    """Record (actor, action, target type, target id, label) entries directly."""
    async with db() as session:
        for actor_id, action, kind, target_id, label in entries:
            await audit.record(session, actor_id, action, kind, target_id, label, {"x": [1, 2]})
        await session.commit()


@pytest.fixture
async def owner(user_token: UserToken) -> tuple[User, dict[str, str]]:
    """An owner (who may read the log) and their API headers."""
    return await user_token("owner@example.com", role="owner")


async def listed(client: Client, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(LOG, params=params, headers=auth)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_only_owners_and_managers_read_the_log(client: Client, user_token: UserToken) -> None:
    _, agent = await user_token("agent@example.com")
    _, manager = await user_token("manager@example.com", role="manager")
    assert (await client.get(LOG, headers=agent)).status == 403
    assert (await client.get(LOG, params={"format": "csv"}, headers=agent)).status == 403
    assert (await client.get(LOG)).status == 401
    assert (await client.get(LOG, headers=manager)).status == 200


async def test_filters_narrow_the_list_newest_first(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    await write(
        db,
        (user.id, "label.created", "label", "1", "VIP"),
        (None, "label.updated", "label", "1", "VIP"),
        (user.id, "team.created", "team", "7", "Support"),
    )

    def actions(body: dict[str, Any]) -> list[str]:
        return [item["action"] for item in body["items"] if not item["action"].startswith("api_")]

    assert actions(await listed(client, auth)) == ["team.created", "label.updated", "label.created"]
    assert actions(await listed(client, auth, target_type="label")) == [
        "label.updated",
        "label.created",
    ]
    assert actions(await listed(client, auth, action="label.created")) == ["label.created"]
    assert actions(await listed(client, auth, target_type="team", target_id="7")) == [
        "team.created"
    ]
    mine = await listed(client, auth, actor_id=user.id)
    assert {item["actor_id"] for item in mine["items"]} == {user.id}
    hub = (await listed(client, auth, action="label.updated"))["items"][0]
    assert (hub["actor_id"], hub["actor"]) == (None, audit.HUB_LABEL)
    later = (utcnow() + timedelta(minutes=1)).isoformat()
    assert (await listed(client, auth, since=later))["items"] == []
    assert actions(await listed(client, auth, until=later)) == [
        "team.created",
        "label.updated",
        "label.created",
    ]


async def test_bad_filters_get_a_422_naming_the_field(
    client: Client, owner: tuple[User, dict[str, str]]
) -> None:
    _, auth = owner
    for params, field in [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "until"),
        ({"actor_id": "me"}, "actor_id"),
        ({"limit": "0"}, "limit"),
        ({"format": "xml"}, "format"),
        ({"cursor": "garbage"}, "cursor"),
    ]:
        response = await client.get(LOG, params=params, headers=auth)
        assert response.status in (400, 422), (params, response.status)
        body = await response.json()
        details = body["error"].get("details") or [{"field": "cursor"}]
        assert details[0]["field"] == field, (params, body)


async def test_pages_follow_each_other_without_gaps_or_repeats(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    await write(db, *[(user.id, "label.created", "label", str(i), f"L{i}") for i in range(7)])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, "target_type": "label"}
        if cursor:
            params["cursor"] = cursor
        page = await listed(client, auth, **params)
        seen += [item["target_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in reversed(range(7))]


async def test_the_csv_export_has_every_matching_row_and_defuses_formulas(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    await write(
        db,
        (user.id, "label.created", "label", "1", '=HYPERLINK("http://evil")'),
        (user.id, "label.created", "label", "2", "+1"),
        (user.id, "label.created", "label", "3", "-2"),
        (user.id, "label.created", "label", "4", "@SUM(A1)"),
        (user.id, "team.created", "team", "5", "Plain"),
    )
    response = await client.get(LOG, params={"format": "csv", "target_type": "label"}, headers=auth)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [row["target_id"] for row in rows] == ["4", "3", "2", "1"]
    assert [row["target"] for row in rows] == [
        "'@SUM(A1)",
        "'-2",
        "'+1",
        '\'=HYPERLINK("http://evil")',
    ]
    assert rows[0]["actor"] == "Alex Agent <owner@example.com>"
    assert rows[0]["changes"] == '{"x": [1, 2]}'

    by_accept = await client.get(LOG, headers={**auth, "Accept": "text/csv"})
    everything = list(csv.DictReader(io.StringIO(await by_accept.text())))
    assert {row["target_id"] for row in everything} >= {"1", "2", "3", "4", "5"}


async def test_the_csv_export_is_not_limited_to_a_page(
    client: Client, owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, auth = owner
    many = [(user.id, "label.created", "label", str(i), "L") for i in range(520)]
    await write(db, *many)
    response = await client.get(
        LOG, params={"format": "csv", "action": "label.created"}, headers=auth
    )
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 520
    assert len({row["id"] for row in rows}) == 520


async def test_the_endpoint_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    operation = document["paths"]["/api/v1/audit-log"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"actor_id", "action", "target_type", "target_id", "since", "until", "format"} <= names
    assert "text/csv" in operation["responses"]["200"]["content"]


async def test_retention_deletes_only_entries_past_their_days(
    owner: tuple[User, dict[str, str]], db: Sessions
) -> None:
    user, _ = owner
    await write(db, (user.id, "label.created", "label", "old", "Old"))
    await write(db, (user.id, "label.created", "label", "new", "New"))
    async with db() as session:
        old = await session.scalar(select(AuditEntry).where(AuditEntry.target_id == "old"))
        assert old is not None
        old.at = utcnow() - timedelta(days=400)
        await session.commit()

    assert await prune_audit_log(db, keep_days=0) == 0
    assert await prune_audit_log(db, keep_days=365) == 1
    async with db() as session:
        left = set(await session.scalars(select(AuditEntry.target_id)))
        assert "old" not in left and "new" in left
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == len(left)
