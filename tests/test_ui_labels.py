"""The labels admin pages, and labels and priority in the inbox's rows, header, picker,
filter, sort and timeline."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import ConversationEvent, ConversationLabel, Label, User
from tests.factories import Factory
from tests.test_ui_users import HTML, as_owner, error_of, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def stored(db: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str | None]]:
    async with db() as session:
        rows = await session.scalars(select(Label).order_by(Label.id))
        return [(row.name, row.colour, row.description) for row in rows]


async def test_creating_listing_and_editing_labels(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    form_page = await (await client.get("/admin/labels/new", headers=HTML)).text()
    assert 'value="red"' in form_page and 'class="label-chip label-teal"' in form_page
    form = {"csrf_token": csrf, "name": "Billing <b>", "colour": "green", "description": "Money"}
    created = await client.post("/admin/labels/new", data=form, allow_redirects=False)
    assert created.status == 303
    assert await stored(db) == [("Billing <b>", "green", "Money")]

    listing = await (await client.get("/admin/labels", headers=HTML)).text()
    assert "Created label Billing &lt;b&gt;." in listing
    assert 'class="label-chip label-green"' in listing and "<b>" not in listing
    async with db() as session:
        label_id = await session.scalar(select(Label.id))
    edit = {"csrf_token": csrf, "name": "Invoices", "colour": "teal", "description": ""}
    saved = await client.post(f"/admin/labels/{label_id}", data=edit, allow_redirects=False)
    assert saved.status == 303
    assert await stored(db) == [("Invoices", "teal", None)]
    searched = await (await client.get("/admin/labels?q=voi", headers=HTML)).text()
    assert "Invoices" in searched
    nothing = await (await client.get("/admin/labels?q=zzz", headers=HTML)).text()
    assert "No label matches" in nothing


async def test_form_errors_are_shown_beside_the_fields(
    client: Client, make_user: MakeUser, db: async_sessionmaker[AsyncSession]
) -> None:
    _, csrf = await as_owner(client, make_user)
    base = {"csrf_token": csrf, "name": "Billing", "colour": "green", "description": ""}
    await client.post("/admin/labels/new", data=base)
    taken = await client.post("/admin/labels/new", data={**base, "name": "BILLING"})
    assert taken.status == 409
    assert "exists already" in error_of(await taken.text(), "name")
    bad_colour = await client.post(
        "/admin/labels/new", data={**base, "name": "X", "colour": "#f00"}
    )
    assert bad_colour.status == 422
    assert "grey, red" in error_of(await bad_colour.text(), "colour")
    long_name = await client.post("/admin/labels/new", data={**base, "name": "n" * 51})
    assert long_name.status == 422 and error_of(await long_name.text(), "name")
    long_text = await client.post(
        "/admin/labels/new", data={**base, "name": "Y", "description": "d" * 201}
    )
    html = await long_text.text()
    assert long_text.status == 422 and error_of(html, "description")
    assert 'value="Y"' in html  # the input is kept
    assert len(await stored(db)) == 1


async def test_deleting_says_how_many_conversations_carry_it(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    owner, csrf = await as_owner(client, make_user)
    await client.post(
        "/admin/labels/new", data={"csrf_token": csrf, "name": "VIP", "colour": "purple"}
    )
    async with db() as session:
        label_id = await session.scalar(select(Label.id))
    channel = await factory.channel()
    for _ in range(2):
        conversation = await factory.conversation(channel)
        await factory.add(ConversationLabel(conversation_id=conversation.id, label_id=label_id))
    listing = await (await client.get("/admin/labels", headers=HTML)).text()
    assert re.search(r"VIP</a></td>\s*<td[^>]*></td>\s*<td>2</td>", listing)
    confirm = await (await client.get(f"/admin/labels/{label_id}/delete", headers=HTML)).text()
    assert "Delete the label VIP?" in confirm and "2 conversations carry it" in confirm
    deleted = await client.post(
        f"/admin/labels/{label_id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert deleted.status == 303
    assert await stored(db) == []
    async with db() as session:
        assert (await session.scalars(select(ConversationLabel))).all() == []
    assert (await client.get(f"/admin/labels/{label_id}", headers=HTML)).status == 404
    assert owner.id


async def test_agents_cannot_open_the_labels_admin(client: Client, make_user: MakeUser) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    assert (await client.get("/admin/labels", headers=HTML)).status == 403


async def test_rows_header_picker_filter_sort_and_timeline_show_triage(
    client: Client, make_user: MakeUser, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    owner, _ = await as_owner(client, make_user)
    channel = await factory.channel()
    billing = Label(name="Billing", name_key="billing", colour="green")
    vip = Label(name="VIP", name_key="vip", colour="purple", description="Big customers")
    await factory.add(billing, vip)
    plain = await factory.conversation(channel, await factory.contact("Plain Pat"), minutes=3)
    urgent = await factory.conversation(
        channel, await factory.contact("Urgent Uma"), minutes=1, priority=4
    )
    await factory.add(ConversationLabel(conversation_id=urgent.id, label_id=billing.id))
    await factory.add(
        ConversationEvent(
            conversation_id=urgent.id,
            kind="label_added",
            actor_id=owner.id,
            data={"label_id": billing.id, "name": "Billing"},
        ),
        ConversationEvent(
            conversation_id=urgent.id,
            kind="priority_changed",
            actor_id=owner.id,
            data={"priority": "urgent", "was": "none"},
        ),
    )

    page = await (await client.get("/inbox", headers=HTML)).text()
    row = page.split(f'id="row-{urgent.id}"', 1)[1].split("</li>", 1)[0]
    assert 'class="priority-tag priority-urgent"' in row
    assert 'class="label-chip label-green"' in row and ">Billing<" in row
    plain_row = page.split(f'id="row-{plain.id}"', 1)[1].split("</li>", 1)[0]
    assert "priority-tag" not in plain_row and "label-chip" not in plain_row
    assert '<option value="priority">Priority</option>' in page
    assert f'<option value="{billing.id}">Billing</option>' in page

    # The newest first by default; by priority, urgent first.
    assert page.index(f'id="row-{plain.id}"') < page.index(f'id="row-{urgent.id}"')
    by_priority = await (await client.get("/inbox?sort=priority", headers=HTML)).text()
    assert by_priority.index(f'id="row-{urgent.id}"') < by_priority.index(f'id="row-{plain.id}"')
    filtered = await (await client.get(f"/inbox?label={billing.id}", headers=HTML)).text()
    assert f'id="row-{urgent.id}"' in filtered and f'id="row-{plain.id}"' not in filtered
    assert f'<option value="{billing.id}" selected>Billing</option>' in filtered
    # A custom inbox saved from the filtered list starts with its label ticked; every
    # label and priority is offered.
    dialogs = await client.get(
        "/inbox/custom-inbox-dialogs", params={"label": str(billing.id)}, headers=HTML
    )
    new_inbox = (await dialogs.text()).split('id="custom-inbox-new"', 1)[1].split("</dialog>")[0]
    assert f'name="label_ids" value="{billing.id}" checked' in new_inbox
    assert f'name="label_ids" value="{vip.id}">' in new_inbox
    assert 'name="priorities" value="urgent">' in new_inbox
    assert (await client.get("/inbox?label=abc", headers=HTML)).status == 422
    assert (await client.get("/inbox?label=424242", headers=HTML)).status == 422

    opened = await (
        await client.get(f"/inbox/conversations/{urgent.id}?full=1", headers=HTML)
    ).text()
    head = opened.split('id="pane-head"', 1)[1].split("</header>", 1)[0]
    assert f'data-label-ids="{billing.id}"' in head and 'data-priority="urgent"' in head
    assert 'data-action="labels"' in head and 'data-action="priority"' in head
    assert "data-composer-labels" in opened.split('id="composer"', 1)[1]
    assert "added label Billing" in opened and "set priority to Urgent" in opened
    assert 'id="priority-urgent" name="priority" value="urgent" checked' in opened

    picker = await (
        await client.get(f"/inbox/conversations/{urgent.id}/label-picker", headers=HTML)
    ).text()
    assert re.search(rf'value="{billing.id}" data-label-name="Billing" checked', picker)
    assert re.search(rf'value="{vip.id}" data-label-name="VIP"(?! checked)', picker)
    assert "Big customers" in picker
    shortcuts = opened.split('id="shortcuts-dialog"', 1)[1]
    assert "<kbd>l</kbd>" in shortcuts and "<kbd>p</kbd>" in shortcuts


async def test_a_restricted_agent_gets_no_picker_for_a_hidden_conversation(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("agent@example.com", visibility="assigned")
    await log_in_page(client, "agent@example.com")
    hidden = await factory.conversation(await factory.channel())
    response = await client.get(f"/inbox/conversations/{hidden.id}/label-picker", headers=HTML)
    assert response.status == 404
