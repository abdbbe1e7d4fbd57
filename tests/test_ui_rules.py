"""The rules admin pages: the list in words with on/off and order, the editor's page,
deleting after a confirmation, and the run log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin_ui.admin.rule_wording import CONDITION_TITLES, RULE_ACTION_TITLES
from hub.store.models import Rule, RuleRun, User
from tests.factories import Factory
from tests.test_ui_users import HTML, as_owner, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
Sessions = async_sessionmaker[AsyncSession]


async def rule(db: Sessions, name: str, **values: Any) -> Rule:
    row = Rule(
        name=name,
        event=values.pop("event", "message_received"),
        conditions=values.pop("conditions", []),
        actions=values.pop("actions", [{"type": "close"}]),
        **values,
    )
    async with db() as session:
        session.add(row)
        await session.commit()
    return row


async def test_the_list_says_each_rule_in_words_and_turns_and_moves_them(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions
) -> None:
    _, csrf = await as_owner(client, make_user)
    billing = await factory.team("Billing <b>")
    first = await rule(
        db,
        "Billing routing",
        conditions=[{"type": "message_text", "op": "contains", "value": "invoice"}],
        actions=[
            {"type": "assign", "team_id": billing.id},
            {"type": "send_webhook", "url": "https://h.example/x"},
        ],
        position=1,
    )
    second = await rule(db, "Nudge", event="no_reply", minutes=15, position=2)
    page = await (await client.get("/admin/rules", headers=HTML)).text()
    assert "Message text contains “invoice”" in page
    assert "Assign to team Billing &lt;b&gt;, then Send a webhook to https://h.example/x" in page
    assert "When</strong> a customer has waited 15 minutes for a reply" in page
    assert "When</strong> a message is received" in page
    assert page.index("Billing routing") < page.index("Nudge")

    moved = await client.post(
        f"/admin/rules/{second.id}/move",
        data={"csrf_token": csrf, "step": "-1"},
        allow_redirects=False,
    )
    assert moved.status == 303
    page = await (await client.get("/admin/rules", headers=HTML)).text()
    assert "Moved rule Nudge up." in page and page.index("Nudge") < page.index("Billing routing")

    toggled = await client.post(
        f"/admin/rules/{first.id}/toggle", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert toggled.status == 303
    async with db() as session:
        stored = await session.get(Rule, first.id)
        assert stored is not None and stored.enabled is False

    editor = await (await client.get(f"/admin/rules/{first.id}", headers=HTML)).text()
    assert 'data-template="actions:assign_round_robin"' in editor
    assert 'data-template="conditions:message_text"' in editor
    assert "&#34;invoice&#34;" in editor or "&quot;invoice&quot;" in editor
    assert (await client.get("/admin/rules/new", headers=HTML)).status == 200

    confirm = await (await client.get(f"/admin/rules/{first.id}/delete", headers=HTML)).text()
    assert "Delete the rule Billing routing?" in confirm
    gone = await client.post(
        f"/admin/rules/{first.id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert gone.status == 303
    async with db() as session:
        assert [r.name for r in await session.scalars(select(Rule))] == ["Nudge"]


async def test_the_run_log_shows_outcomes_and_errors_newest_first(
    client: Client, make_user: MakeUser, factory: Factory, db: Sessions
) -> None:
    await as_owner(client, make_user)
    one = await rule(db, "One")
    two = await rule(db, "Two")
    conversation = await factory.conversation(await factory.channel())
    await factory.add(
        RuleRun(rule_id=one.id, conversation_id=conversation.id, event="assigned", outcome="done"),
        RuleRun(
            rule_id=two.id,
            conversation_id=conversation.id,
            event="assigned",
            outcome="failed",
            error="action 1 (close) failed: <b>no</b>",
        ),
    )
    page = await (await client.get("/admin/rules/runs", headers=HTML)).text()
    assert page.index("action 1 (close) failed: &lt;b&gt;no&lt;/b&gt;") < page.index(">Done<")
    assert f"#{conversation.id}" in page
    only = await (await client.get(f"/admin/rules/runs?rule={one.id}", headers=HTML)).text()
    assert "Runs of One" in only and "failed:" not in only


async def test_agents_cannot_open_the_rules_admin(client: Client, make_user: MakeUser) -> None:
    await make_user("agent@example.com")
    await log_in_page(client, "agent@example.com")
    assert (await client.get("/admin/rules", headers=HTML)).status == 403


async def test_the_editor_has_a_form_for_every_condition_and_action_it_offers(
    client: Client, make_user: MakeUser
) -> None:
    await as_owner(client, make_user)
    page = await (await client.get("/admin/rules/new", headers=HTML)).text()

    for what, titles in (("conditions", CONDITION_TITLES), ("actions", RULE_ACTION_TITLES)):
        for kind in titles:
            # Offered in the "add" menu, and a template to add it with.
            assert f'<option value="{kind}">' in page, (what, kind)
            assert f'data-template="{what}:{kind}"' in page, (what, kind)
