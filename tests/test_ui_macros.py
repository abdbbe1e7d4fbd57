"""The macros pages (``/me/macros``): your macros and the shared ones in words, the
editor with its pickers, who may open which editor; and the inbox's Macros button."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from hub.store.models import Label, Macro, Snippet, User
from tests.factories import Factory
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]


async def test_the_list_shows_your_macros_and_the_shared_ones_in_words(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    ana = await make_user("ana@example.com", name="Ana Agent")
    bo = await make_user("bo@example.com", name="Bo Agent")
    billing = Label(name="Billing", name_key="billing", colour="green")
    await factory.add(billing)
    mine = Macro(
        name="Refund <done>",
        owner_id=ana.id,
        actions=[
            {"type": "assign", "user_id": ana.id},
            {"type": "add_labels", "label_ids": [billing.id]},
            {"type": "set_priority", "priority": "urgent"},
            {"type": "snooze", "preset": "tomorrow"},
            {"type": "close"},
        ],
    )
    shared = Macro(name="Escalate", owner_id=None, actions=[{"type": "unassign"}])
    theirs = Macro(name="Bo's secret", owner_id=bo.id, actions=[{"type": "close"}])
    await factory.add(mine, shared, theirs)
    await log_in_page(client, "ana@example.com")

    response = await client.get("/me/macros", headers=HTML)

    html = await response.text()
    assert response.status == 200
    assert "Refund &lt;done&gt;" in html and "<done>" not in html
    for step in (
        "Assign to Ana Agent",
        "Add labels Billing",
        "Set priority to Urgent",
        "Snooze until tomorrow 9:00 UTC",
        "Close",
        "Unassign",
    ):
        assert f"<li>{step}</li>" in html, step
    assert "Bo&#39;s secret" not in html and "Bo's secret" not in html
    assert f'href="/me/macros/{mine.id}"' in html
    # An agent runs shared macros but does not edit them: no link, and no editor.
    assert f'href="/me/macros/{shared.id}"' not in html
    assert (await client.get(f"/me/macros/{shared.id}", headers=HTML)).status == 404
    assert (await client.get(f"/me/macros/{theirs.id}", headers=HTML)).status == 404
    assert (await client.get("/me/macros/abc", headers=HTML)).status == 404


async def test_the_editor_offers_every_action_with_its_pickers(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    ana = await make_user("ana@example.com", name="Ana Agent", role="manager")
    await factory.team("Support")
    await factory.add(
        Label(name="VIP", name_key="vip", colour="purple"),
        Snippet(name="Thanks", shortcut="thanks", body="Thanks!"),
    )
    macro = Macro(name="Mine", owner_id=ana.id, actions=[{"type": "close", "note": "done"}])
    await factory.add(macro)
    await log_in_page(client, "ana@example.com")

    new = await (await client.get("/me/macros/new", headers=HTML)).text()
    edit = await (await client.get(f"/me/macros/{macro.id}", headers=HTML)).text()

    for kind in ("assign", "unassign", "add_labels", "remove_labels", "set_priority",
                 "send_snippet", "add_comment", "snooze", "close"):  # fmt: skip
        assert f'<template data-action-template="{kind}">' in new, kind
        assert f'<option value="{kind}">' in new, kind
    assert ">Ana Agent</option>" in new and ">Support</option>" in new
    assert ">VIP</span>" in new and ">Thanks (/thanks)</option>" in new
    assert 'id="macro-shared"' in new  # a manager may share
    assert 'src="/static/macro_editor.js"' in new and "<script>" not in new
    assert "&#34;note&#34;: &#34;done&#34;" in edit and "data-delete-macro" in edit


async def test_the_inbox_offers_the_macros_button_and_menu(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    await make_user("ana@example.com")
    conversation = await factory.conversation(await factory.channel())
    await log_in_page(client, "ana@example.com")

    html = await (
        await client.get(f"/inbox/conversations/{conversation.id}?full=1", headers=HTML)
    ).text()

    assert "data-composer-macros" in html
    assert 'id="macros-dialog"' in html and 'href="/me/macros"' in html
