"""The SLA admin pages, and the SLA in the inbox: the row's badge, the header's due
times, the "SLA at risk" view with its count, and the breach in the timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin_ui.admin.sla import minutes_text
from admin_ui.sla_wording import span
from hub.events.bus import MemoryBus
from hub.events.work import unit_of_work
from hub.inbox.sla import check_slas
from hub.store.models import Conversation, SlaPolicy, User
from hub.store.types import utcnow
from tests.factories import Factory
from tests.test_ui_users import HTML, as_owner, error_of, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
Sessions = async_sessionmaker[AsyncSession]


async def stored(db: Sessions) -> list[tuple[Any, ...]]:
    async with db() as session:
        rows = await session.scalars(select(SlaPolicy).order_by(SlaPolicy.id))
        return [
            (
                r.name,
                r.first_response_minutes,
                r.next_response_minutes,
                r.resolution_minutes,
                r.business_hours,
            )
            for r in rows
        ]


def test_durations_read_as_people_say_them() -> None:
    assert [minutes_text(m) for m in (None, 30, 60, 90, 1440, 1500)] == [
        "—",
        "30 min",
        "1 h",
        "1 h 30 min",
        "1 day",
        "1 day 1 h",
    ]
    assert [span(s) for s in (10, 60, 12 * 60, 3 * 3600, 3 * 86400)] == [
        "1 min",
        "1 min",
        "12 min",
        "3 h",
        "3 days",
    ]


async def test_creating_editing_and_deleting_a_policy(
    client: Client, make_user: MakeUser, db: Sessions
) -> None:
    _, csrf = await as_owner(client, make_user)
    assert "First reply within" in await (await client.get("/admin/sla/new", headers=HTML)).text()
    form = {
        "csrf_token": csrf,
        "name": "Gold <b>",
        "first_response_minutes": "30",
        "next_response_minutes": "",
        "resolution_minutes": "1440",
        "business_hours": "on",
    }
    created = await client.post("/admin/sla/new", data=form, allow_redirects=False)
    assert created.status == 303
    assert await stored(db) == [("Gold <b>", 30, None, 1440, True)]
    listing = await (await client.get("/admin/sla", headers=HTML)).text()
    assert "Created SLA policy Gold &lt;b&gt;." in listing and "<b>" not in listing
    assert "30 min" in listing and "1 day" in listing and "Business hours" in listing
    assert 'href="/admin/sla"' in listing  # in the admin menu

    async with db() as session:
        policy_id = await session.scalar(select(SlaPolicy.id))
    edit = {"csrf_token": csrf, "name": "Gold", "resolution_minutes": "60"}
    saved = await client.post(f"/admin/sla/{policy_id}", data=edit, allow_redirects=False)
    assert saved.status == 303
    assert await stored(db) == [("Gold", None, None, 60, False)]

    confirm = await (await client.get(f"/admin/sla/{policy_id}/delete", headers=HTML)).text()
    assert "Delete the SLA policy Gold?" in confirm
    deleted = await client.post(
        f"/admin/sla/{policy_id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert deleted.status == 303
    assert await stored(db) == []
    assert (await client.get(f"/admin/sla/{policy_id}", headers=HTML)).status == 404


async def test_form_errors_are_shown_beside_the_fields(
    client: Client, make_user: MakeUser, db: Sessions
) -> None:
    _, csrf = await as_owner(client, make_user)
    base = {"csrf_token": csrf, "name": "Gold", "resolution_minutes": "60"}
    await client.post("/admin/sla/new", data=base)
    taken = await client.post("/admin/sla/new", data={**base, "name": "GOLD"})
    assert taken.status == 409 and "exists already" in error_of(await taken.text(), "name")
    none = await client.post("/admin/sla/new", data={"csrf_token": csrf, "name": "Empty"})
    assert none.status == 422 and error_of(await none.text(), "first_response_minutes")
    words = await client.post(
        "/admin/sla/new", data={**base, "name": "X", "resolution_minutes": "soon"}
    )
    assert words.status == 422 and error_of(await words.text(), "resolution_minutes")
    zero = await client.post(
        "/admin/sla/new", data={**base, "name": "Y", "resolution_minutes": "0"}
    )
    assert zero.status == 422 and error_of(await zero.text(), "resolution_minutes")
    assert len(await stored(db)) == 1


async def test_agents_cannot_open_the_sla_admin(client: Client, make_user: MakeUser) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    assert (await client.get("/admin/sla", headers=HTML)).status == 403


async def test_the_inbox_shows_due_times_breaches_and_the_at_risk_view(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions
) -> None:
    await as_owner(client, make_user)
    page = await (await client.get("/inbox", headers=HTML)).text()
    assert "SLA at risk" not in page  # no policy, no view
    now = utcnow()
    async with db() as session:
        policy = SlaPolicy(
            name="Gold", name_key="gold", first_response_minutes=60, resolution_minutes=600
        )
        session.add(policy)
        await session.commit()
        policy_id = policy.id
    channel = await factory.channel()
    late = await factory.conversation(
        channel,
        await factory.contact("Late Larry"),
        sla_policy_id=policy_id,
        first_response_due_at=now - timedelta(minutes=5),
        resolution_due_at=now + timedelta(hours=5),
    )
    soon = await factory.conversation(
        channel,
        await factory.contact("Soon Sue"),
        sla_policy_id=policy_id,
        first_response_due_at=now + timedelta(minutes=12, seconds=20),
        resolution_due_at=now + timedelta(hours=5),
    )
    calm = await factory.conversation(
        channel,
        await factory.contact("Calm Carl"),
        sla_policy_id=policy_id,
        resolution_due_at=now + timedelta(hours=3),
    )
    async with unit_of_work(db, MemoryBus()) as work:
        assert await check_slas(work) == [(late.id, "first_response")]

    page = await (await client.get("/inbox", headers=HTML)).text()
    assert 'data-view="sla"' in page
    row = page.split(f'id="row-{late.id}"', 1)[1].split("</li>", 1)[0]
    assert 'data-sla="breached"' in row and "SLA breached" in row
    row = page.split(f'id="row-{soon.id}"', 1)[1].split("</li>", 1)[0]
    assert "First reply due in 12 min" in row
    row = page.split(f'id="row-{calm.id}"', 1)[1].split("</li>", 1)[0]
    assert "data-sla" not in row  # three hours away: no badge

    at_risk = await (await client.get("/inbox?view=sla", headers=HTML)).text()
    assert f'id="row-{late.id}"' in at_risk and f'id="row-{soon.id}"' in at_risk
    assert f'id="row-{calm.id}"' not in at_risk
    sidebar = at_risk.split('data-view="sla"', 1)[1].split("</a>", 1)[0]
    assert ">2<" in sidebar

    opened = await (await client.get(f"/inbox/conversations/{late.id}?full=1", headers=HTML)).text()
    assert "First reply breached 5 min ago" in opened
    assert "Resolution due in 5 h" in opened
    assert "SLA breached: first reply was due" in opened

    # Closed: off the view, no badge; the missed target stays in the header.
    async with db() as session:
        stored_late = await session.get_one(Conversation, late.id)
        stored_late.status = "closed"
        stored_late.first_response_due_at = stored_late.resolution_due_at = None
        await session.commit()
    at_risk = await (await client.get("/inbox?view=sla", headers=HTML)).text()
    assert f'id="row-{late.id}"' not in at_risk
    opened = await (await client.get(f"/inbox/conversations/{late.id}?full=1", headers=HTML)).text()
    assert "First reply missed" in opened
