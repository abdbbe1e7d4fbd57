"""The admin pages for people and automation in German: users, teams, labels, snippets,
SLA policies, rules, business hours, webhooks and the satisfaction survey, their flash
messages and the rule editor's script words, chosen by the browser's Accept-Language."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.store.models import User
from tests.factories import Factory
from tests.test_ui_users import as_owner
from tests.ui_helpers import HTML

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
GERMAN = {**HTML, "Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


@pytest.mark.parametrize(
    ("path", "german", "english"),
    [
        ("/admin/users", ["Neuer Benutzer", "Sichtbarkeit der Kontakte"], "New user"),
        ("/admin/users/new", ["Benutzer anlegen", "Sieht alle Unterhaltungen"], "Create user"),
        ("/admin/teams", ["Neues Team", "Legen Sie das erste an"], "New team"),
        ("/admin/labels", ["Neues Label", "Nach Name suchen"], "New label"),
        ("/admin/snippets/new", ["Textbaustein anlegen", "Variablen"], "Create snippet"),
        (
            "/admin/sla/new",
            ["SLA-Richtlinie anlegen", "Erste Antwort innerhalb von"],
            "First reply",
        ),
        ("/admin/rules", ["Neue Regel", "Ausführungsprotokoll"], "New rule"),
        ("/admin/rules/new", ["Bedingung hinzufügen", "Wann"], "Add a condition"),
        ("/admin/rules/runs", ["Regelausführungen", "Alle Regeln"], "Every rule"),
        ("/admin/business-hours", ["Standard des Arbeitsbereichs"], "Workspace default"),
        ("/admin/webhooks/new", ["Webhook anlegen"], "Create webhook"),
        ("/admin/csat", ["Zufriedenheitsumfrage (CSAT)", "Skala", "1 bis 5"], "Scale"),
    ],
)
async def test_the_pages_speak_german_to_a_german_browser(
    client: Client, make_user: MakeUser, path: str, german: list[str], english: str
) -> None:
    await as_owner(client, make_user)
    page = html.unescape(await (await client.get(path, headers=GERMAN)).text())
    assert '<html lang="de">' in page
    for words in german:
        assert words in page, f"{path}: no {words!r}"
    assert english not in page


async def test_a_rule_in_words_and_the_editors_script_words_are_german(
    client: Client, make_user: MakeUser, factory: Factory
) -> None:
    _, csrf = await as_owner(client, make_user)
    team = await factory.team("Billing")
    body = {
        "name": "Nachts",
        "event": "message_received",
        "conditions": [{"type": "business_hours", "op": "closed"}],
        "actions": [{"type": "assign_round_robin", "team_id": team.id}],
    }
    created = await client.post(
        "/api/v1/rules", json=body, headers={**GERMAN, "X-CSRF-Token": csrf}
    )
    assert created.status == 201, await created.text()
    listing = html.unescape(await (await client.get("/admin/rules", headers=GERMAN)).text())
    assert "eine Nachricht eingeht" in listing
    assert "Außerhalb der Geschäftszeiten" in listing
    assert "Reihum im Team Billing zuweisen" in listing
    rule_id = (await created.json())["id"]
    editor = html.unescape(
        await (await client.get(f"/admin/rules/{rule_id}", headers=GERMAN)).text()
    )
    assert 'data-word-condition="Bedingung {n}"' in editor
    assert "Regel Nachts bearbeiten" in editor


async def test_a_flash_message_is_german(client: Client, make_user: MakeUser) -> None:
    _, csrf = await as_owner(client, make_user)
    form = {"csrf_token": csrf, "name": "Vertrieb"}
    created = await client.post("/admin/teams/new", data=form, headers=GERMAN)
    page = html.unescape(await created.text())
    assert "Team Vertrieb angelegt." in page
