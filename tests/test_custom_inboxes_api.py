"""Custom inboxes over HTTP: saving, sharing, the All / By me / By others lists, who may
edit, and the conversations ``view=custom:<id>`` shows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient

from hub.store.models import User
from tests.factories import BASE_TIME, Factory

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
URL = "/api/v1/custom-inboxes"


async def create(
    client: Client, auth: dict[str, str], name: str, filters: Any = None, **share: list[int]
) -> dict[str, Any]:
    body = {"name": name, "filters": filters or {}, "share": share}
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def listed(client: Client, auth: dict[str, str], scope: str = "all") -> list[str]:
    response = await client.get(URL, params={"scope": scope}, headers=auth)
    assert response.status == 200, await response.text()
    return [inbox["name"] for inbox in (await response.json())["items"]]


async def shown(
    client: Client, auth: dict[str, str], inbox_id: int, status: str = "all"
) -> list[int]:
    response = await client.get(
        "/api/v1/conversations",
        params={"view": f"custom:{inbox_id}", "status": status, "sort": "oldest"},
        headers=auth,
    )
    assert response.status == 200, await response.text()
    return [c["id"] for c in (await response.json())["items"]]


# --- saving and sharing --------------------------------------------------------------


async def test_a_saved_inbox_answers_its_filters_owner_and_sharing(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com")
    other, _ = await user_token("other@example.com")
    team = await factory.team("Support")
    filters = {
        "statuses": ["open"],
        "unanswered": True,
        "contact": [{"field": "email", "op": "contains", "value": "@vip.example.org"}],
        "last_activity_from": "2026-01-01T00:00:00+01:00",
    }
    inbox = await create(
        client, auth, " VIPs ", filters, user_ids=[other.id, me.id], team_ids=[team.id]
    )
    assert inbox["name"] == "VIPs"
    assert inbox["owner_id"] == me.id
    assert inbox["editable"] is True
    # Sharing with oneself means nothing: the creator has the inbox anyway.
    assert inbox["shared_with"] == {"user_ids": [other.id], "team_ids": [team.id]}
    assert inbox["filters"]["statuses"] == ["open"]
    assert inbox["filters"]["contact"][0]["value"] == "@vip.example.org"
    assert inbox["filters"]["last_activity_from"] == "2026-01-01T00:00:00+01:00"
    fetched = await client.get(f"{URL}/{inbox['id']}", headers=auth)
    assert await fetched.json() == inbox


async def test_the_lists_are_all_by_me_and_by_others_with_editability(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    ana, ana_auth = await user_token("ana@example.com")
    bo, bo_auth = await user_token("bo@example.com")
    cy, cy_auth = await user_token("cy@example.com", visibility="team")
    _, dee_auth = await user_token("dee@example.com", role="owner")
    team = await factory.team("Support", members=[cy])

    await create(client, ana_auth, "Ana's", user_ids=[bo.id], team_ids=[team.id])
    await create(client, bo_auth, "Bo's", user_ids=[ana.id])
    await create(client, bo_auth, "Bo private")

    assert await listed(client, ana_auth) == ["Ana's", "Bo's"]
    assert await listed(client, ana_auth, "mine") == ["Ana's"]
    assert await listed(client, ana_auth, "others") == ["Bo's"]
    assert await listed(client, bo_auth, "mine") == ["Bo private", "Bo's"]
    # Shared with a team reaches its members.
    assert await listed(client, cy_auth, "others") == ["Ana's"]
    assert await listed(client, cy_auth, "mine") == []
    # Even an owner of the workspace sees only inboxes made by or shared with them.
    assert await listed(client, dee_auth) == []

    items = (await (await client.get(URL, headers=ana_auth)).json())["items"]
    assert [(i["name"], i["editable"]) for i in items] == [("Ana's", True), ("Bo's", False)]
    bad = await client.get(URL, params={"scope": "everyone"}, headers=ana_auth)
    assert bad.status == 422
    assert (await bad.json())["error"]["details"][0]["field"] == "scope"


async def test_only_the_creator_edits_or_deletes_others_get_403_or_404(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, ana_auth = await user_token("ana@example.com")
    bo, bo_auth = await user_token("bo@example.com")
    cy, cy_auth = await user_token("cy@example.com")
    _, owner_auth = await user_token("owner@example.com", role="owner")
    team = await factory.team("Support", members=[cy])
    inbox = await create(client, ana_auth, "Ana's", user_ids=[bo.id], team_ids=[team.id])
    url = f"{URL}/{inbox['id']}"

    # Bo has it (shared): he may use it, not change it.
    assert (await client.get(url, headers=bo_auth)).status == 200
    assert (await client.patch(url, json={"name": "X"}, headers=bo_auth)).status == 403
    assert (await client.delete(url, headers=bo_auth)).status == 403
    # The workspace owner does not have it: as if it did not exist.
    for response in (
        await client.get(url, headers=owner_auth),
        await client.patch(url, json={"name": "X"}, headers=owner_auth),
        await client.delete(url, headers=owner_auth),
    ):
        assert response.status == 404

    patched = await client.patch(
        url,
        json={"name": "Renamed", "share": {"user_ids": [bo.id]}, "filters": {"unanswered": True}},
        headers=ana_auth,
    )
    assert patched.status == 200
    body = await patched.json()
    assert body["name"] == "Renamed"
    assert body["shared_with"] == {"user_ids": [bo.id], "team_ids": []}
    assert body["filters"]["unanswered"] is True
    # Unsharing the team took it away from its members.
    assert (await client.get(url, headers=cy_auth)).status == 404
    # A patch without share keeps the sharing.
    renamed = await client.patch(url, json={"name": "Again"}, headers=ana_auth)
    assert (await renamed.json())["shared_with"]["user_ids"] == [bo.id]

    assert (await client.delete(url, headers=ana_auth)).status == 204
    assert (await client.get(url, headers=ana_auth)).status == 404
    assert (await client.get(url, headers=bo_auth)).status == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "filters": {"statuses": ["done"]}}, "filters.statuses.0"),
        ({"name": "X", "filters": {"colour": "red"}}, "filters.colour"),
        (
            {"name": "X", "filters": {"contact": [{"field": "nickname", "op": "is_set"}]}},
            "filters.contact.0.field",
        ),
        (
            {"name": "X", "filters": {"contact": [{"field": "email", "op": "equals"}]}},
            "filters.contact.0",
        ),
        (
            {"name": "X", "filters": {"last_activity_to": "2026-01-01T10:00"}},
            "filters.last_activity_to",
        ),
        ({"name": "X", "filters": {"channel_ids": [10**19]}}, "filters.channel_ids.0"),
        ({"name": "X", "share": {"user_ids": [999]}}, "share.user_ids"),
        ({"name": "X", "share": {"team_ids": [999]}}, "share.team_ids"),
        ({"name": "X", "share": {"users": [1]}}, "share.users"),
    ],
)
async def test_bad_inboxes_get_a_422_naming_the_field(
    client: Client, user_token: UserToken, body: dict[str, Any], field: str
) -> None:
    _, auth = await user_token("me@example.com")
    response = await client.post(URL, json=body, headers=auth)
    assert response.status == 422, await response.text()
    assert (await response.json())["error"]["details"][0]["field"] == field
    assert await listed(client, auth) == []


async def test_bad_changes_get_a_422_and_change_nothing(
    client: Client, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com")
    inbox = await create(client, auth, "Mine")
    url = f"{URL}/{inbox['id']}"
    for body, field in [
        ({"filters": None}, "filters"),
        ({"share": {"user_ids": [999]}}, "share.user_ids"),
        ({"filters": {"team_ids": [0]}}, "filters.team_ids.0"),
    ]:
        response = await client.patch(url, json=body, headers=auth)
        assert response.status == 422, body
        assert (await response.json())["error"]["details"][0]["field"] == field
    assert (await (await client.get(url, headers=auth)).json()) == inbox


async def test_inbox_lists_are_paged(client: Client, user_token: UserToken) -> None:
    _, auth = await user_token("me@example.com")
    for name in ("c", "A", "b"):
        await create(client, auth, name)
    first = await (await client.get(URL, params={"limit": "2"}, headers=auth)).json()
    assert [i["name"] for i in first["items"]] == ["A", "b"]
    rest = await client.get(
        URL, params={"limit": "2", "cursor": first["next_cursor"]}, headers=auth
    )
    body = await rest.json()
    assert ([i["name"] for i in body["items"]], body["next_cursor"]) == (["c"], None)


# --- what view=custom:<id> shows ---------------------------------------------------


async def test_the_view_applies_channel_status_assignee_team_and_unanswered_filters(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    me, auth = await user_token("me@example.com", role="manager")
    other, _ = await user_token("other@example.com")
    team = await factory.team("Support")
    web, mail = await factory.channel(), await factory.channel()
    a = await factory.conversation(web, assignee_id=me.id, last_message_direction="in")
    b = await factory.conversation(web, status="closed", team_id=team.id)
    c = await factory.conversation(mail, assignee_id=other.id, last_message_direction="out")
    d = await factory.conversation(mail, team_id=team.id, last_message_direction="in")

    async def view(filters: dict[str, Any], status: str = "all") -> list[int]:
        inbox = await create(client, auth, "probe", filters)
        return await shown(client, auth, inbox["id"], status)

    assert await view({"channel_ids": [web.id]}) == [a.id, b.id]
    assert await view({"statuses": ["closed"]}) == [b.id]
    assert await view({"channel_ids": [mail.id]}, status="open") == [c.id, d.id]
    assert await view({"assignee_ids": [me.id, other.id]}) == [a.id, c.id]
    assert await view({"assignee_ids": [me.id], "include_unassigned": True}) == [a.id, b.id, d.id]
    assert await view({"team_ids": [team.id]}) == [b.id, d.id]
    assert await view({"unanswered": True}) == [a.id, d.id]
    assert await view({"unanswered": False}) == [b.id, c.id]
    assert await view({"channel_ids": [mail.id], "unanswered": True}) == [d.id]
    assert await view({}) == [a.id, b.id, c.id, d.id]


async def test_the_view_applies_contact_field_conditions(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    dana = await factory.conversation(
        channel,
        await factory.contact(
            "Dana Scully",
            email="dana@VIP.example.org",
            phone="+12025550123",
            fields={"plan": "pro"},
        ),
    )
    fox = await factory.conversation(
        channel,
        await factory.contact(
            "Fox Mulder", first_name="Fox", email="fox@example.org", fields={"plan": "free"}
        ),
    )
    walter = await factory.conversation(channel, await factory.contact("Walter 50%", phone=""))

    async def view(*conditions: dict[str, Any]) -> list[int]:
        inbox = await create(client, auth, "probe", {"contact": list(conditions)})
        return await shown(client, auth, inbox["id"])

    assert await view({"field": "name", "op": "equals", "value": "dana scully"}) == [dana.id]
    assert await view({"field": "email", "op": "contains", "value": "@vip."}) == [dana.id]
    assert await view({"field": "name", "op": "contains", "value": "50%"}) == [walter.id]
    assert await view({"field": "name", "op": "contains", "value": "_"}) == []
    assert await view({"field": "phone", "op": "is_set"}) == [dana.id]
    # An empty string counts as not set, like a missing value.
    assert await view({"field": "phone", "op": "is_not_set"}) == [fox.id, walter.id]
    assert await view({"field": "first_name", "op": "is_set"}) == [fox.id]
    assert await view({"field": "fields.plan", "op": "equals", "value": "PRO"}) == [dana.id]
    assert await view({"field": "fields.plan", "op": "is_not_set"}) == [walter.id]
    # Conditions combine with AND.
    assert await view(
        {"field": "email", "op": "contains", "value": "example.org"},
        {"field": "fields.plan", "op": "equals", "value": "free"},
    ) == [fox.id]


async def test_the_view_applies_last_activity_ranges(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    _, auth = await user_token("me@example.com", role="owner")
    channel = await factory.channel()
    early, middle, late = [
        await factory.conversation(channel, minutes=minutes) for minutes in (0, 60, 120)
    ]

    async def view(**bounds: Any) -> list[int]:
        filters = {key: value.isoformat() for key, value in bounds.items()}
        inbox = await create(client, auth, "probe", filters)
        return await shown(client, auth, inbox["id"])

    hour = timedelta(hours=1)
    assert await view(last_activity_from=BASE_TIME + hour) == [middle.id, late.id]
    assert await view(last_activity_to=BASE_TIME + hour) == [early.id, middle.id]
    assert await view(
        last_activity_from=BASE_TIME + timedelta(minutes=1), last_activity_to=BASE_TIME + hour
    ) == [middle.id]
    # A bound in another zone means the same instant.
    in_paris = (BASE_TIME + 2 * hour).astimezone(ZoneInfo("Europe/Paris"))
    assert await view(last_activity_from=in_paris) == [late.id]


async def test_the_view_still_honours_what_the_viewer_may_see(
    client: Client, factory: Factory, user_token: UserToken
) -> None:
    creator, creator_auth = await user_token("creator@example.com", role="manager")
    agent, agent_auth = await user_token("agent@example.com", visibility="team")
    _, stranger_auth = await user_token("stranger@example.com")
    team = await factory.team("Support", members=[agent])
    channel = await factory.channel()
    blocked_contact = await factory.contact("Spammer", blocked=True)
    theirs = await factory.conversation(channel, assignee_id=agent.id)
    teams = await factory.conversation(channel, team_id=team.id)
    nobodys = await factory.conversation(channel)
    creators = await factory.conversation(channel, assignee_id=creator.id)
    await factory.conversation(channel, blocked_contact)

    inbox = await create(client, creator_auth, "Everything", {}, user_ids=[agent.id])
    assert await shown(client, creator_auth, inbox["id"]) == [
        theirs.id,
        teams.id,
        nobodys.id,
        creators.id,
    ]
    # The same inbox, shared with an agent restricted to their team, shows them less.
    assert await shown(client, agent_auth, inbox["id"]) == [theirs.id, teams.id]
    # Not shared with someone: 404, as for an inbox that does not exist.
    response = await client.get(
        "/api/v1/conversations", params={"view": f"custom:{inbox['id']}"}, headers=stranger_auth
    )
    assert response.status == 404
