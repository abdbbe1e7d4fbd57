"""Managing a channel in the browser: routing it to a team, disabling it while messages
arrive and replaying them after enabling it, and deleting it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.store.models import Conversation, Message, Team, TeamMembership
from tests.browser.harness import LiveHub


def make_channel(hub: LiveHub, name: str) -> tuple[int, str]:
    """A custom channel connected through the channel service; its id and signing secret."""
    # The outbound URL is never called here.
    saved = hub.add_channel("custom_channel", name, {"outbound_url": "http://127.0.0.1:9/replies"})
    assert saved.config is not None
    return saved.channel.id, str(saved.config["signing_secret"])


def post_message(hub: LiveHub, channel_id: int, secret: str, sender: str, text: str) -> Any:
    """A signed message event posted to the channel's webhook, as the service does."""
    event = {
        "type": "message",
        "id": f"{sender}-{text}",
        "timestamp": "2026-05-01T12:00:00Z",
        "sender": {"id": sender, "name": sender.title()},
        "text": text,
    }
    return hub.post_event(channel_id, secret, event)


def test_routing_a_channel_round_robin_to_a_team(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    channel_id, secret = make_channel(hub, "Acme chat")
    agents = [hub.add_user(f"agent{i}@example.com", role="agent").id for i in (1, 2)]

    async def add_team(db: AsyncSession) -> int:
        team = Team(name="Tier 1")
        db.add(team)
        await db.flush()
        db.add_all(TeamMembership(team_id=team.id, user_id=user_id) for user_id in agents)
        await db.commit()
        return team.id

    hub.query(add_team)

    page.goto("/admin/channels")
    page.get_by_role("link", name="Acme chat", exact=True).click()
    expect(page.get_by_role("heading", name="Acme chat", level=1)).to_be_visible()
    page.get_by_role("link", name="Routing", exact=True).click()
    expect(page.get_by_role("heading", name="Routing of Acme chat")).to_be_visible()

    # Round-robin with nobody chosen is refused beside the field.
    page.get_by_label("Take turns among chosen users and teams").check()
    page.get_by_role("button", name="Save routing").click()
    expect(page.locator("#user_ids-error")).to_contain_text("Choose at least one user or team")
    expect(page.get_by_label("Take turns among chosen users and teams")).to_be_checked()
    snap("nobody-chosen")

    page.get_by_label("Tier 1").check()
    page.get_by_role("button", name="Save routing").click()
    expect(page.get_by_text("Routing of Acme chat saved.")).to_be_visible()
    expect(page.get_by_text("Round-robin among 0 user(s) and 1 team(s)")).to_be_visible()

    for sender in ("ada", "grace"):
        assert post_message(hub, channel_id, secret, sender, "hello").status_code == 200

    async def assignees(db: AsyncSession) -> list[tuple[int | None, int | None]]:
        rows = await db.execute(
            select(Conversation.assignee_id, Conversation.team_id).order_by(Conversation.id)
        )
        return [(a, t) for a, t in rows]

    found = hub.query(assignees)
    assert len(found) == 2
    # Each conversation went to a member of the team, taking turns.
    assert sorted(a for a, _ in found) == sorted(agents)


def test_disable_hold_enable_and_replay(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    channel_id, secret = make_channel(hub, "Acme <b>chat</b>")

    page.goto(f"/admin/channels/{channel_id}")
    page.get_by_role("link", name="Disable").click()
    expect(page.get_by_role("heading", name="Disable Acme <b>chat</b>?")).to_be_visible()
    expect(page.get_by_text("held in the inbound log")).to_be_visible()
    snap("confirm-disable")
    page.get_by_role("button", name="Disable channel").click()
    expect(page.get_by_text("is disabled. Messages arriving now are held")).to_be_visible()

    answer = post_message(hub, channel_id, secret, "ada", "are you there?")
    assert answer.status_code == 200 and answer.json()["result"] == "held"
    assert hub.count(Message) == 0  # nothing reaches the inbox while disabled

    page.reload()
    expect(page.get_by_text("1 received while disabled")).to_be_visible()
    page.get_by_role("button", name="Enable").click()
    expect(page.get_by_text("1 request arrived while it was disabled")).to_be_visible()
    page.get_by_role("button", name="Replay held (1)").click()
    expect(page.get_by_text("Replayed 1 held request: 1 new event stored")).to_be_visible()
    expect(page.get_by_role("button", name="Replay held (1)")).to_have_count(0)
    snap("replayed")

    async def texts(db: AsyncSession) -> list[str | None]:
        return list(await db.scalars(select(Message.text)))

    assert hub.query(texts) == ["are you there?"]  # in the inbox exactly once


def test_delete_a_channel_after_confirming(
    owner_page: Page, hub: LiveHub, snap: Callable[[str], None]
) -> None:
    page = owner_page
    channel_id, secret = make_channel(hub, "Old <i>line</i>")
    keep_id, _ = make_channel(hub, "Kept line")

    page.goto("/admin/channels")
    page.get_by_role("link", name="Old <i>line</i>", exact=True).click()
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete Old <i>line</i>?")).to_be_visible()
    expect(page.get_by_text("stay in the inbox")).to_be_visible()
    snap("confirm-delete")
    page.get_by_role("button", name="Delete channel").click()

    expect(page).to_have_url(f"{hub.url}/admin/channels")
    expect(page.get_by_text("Old <i>line</i> is deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Old <i>line</i>", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Kept line", exact=True)).to_be_visible()
    assert post_message(hub, channel_id, secret, "ada", "hello?").status_code == 404
    assert keep_id != channel_id
