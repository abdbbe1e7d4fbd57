"""The reports page's filters over HTTP, on every engine: the selects list the
workspace's rows, a chosen filter narrows every tab and stays in the tab links, the CSV
link and the "Filtered:" line, an agent has no agent select, and a bad value is
explained beside its select with a 422."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from hub.inbox import reports
from hub.store.models import ConversationLabel, Label, User
from tests.factories import Factory
from tests.test_reports import Timeline
from tests.test_ui_users import error_of
from tests.ui_helpers import HTML, log_in_page

Client = TestClient[Any, Any]
MakeUser = Callable[..., Awaitable[User]]
PERIOD = "from=2026-03-02&to=2026-03-02"


@dataclass
class World:
    """The ids of the rows the filters choose from."""

    ana: int
    bo: int
    support: int
    sales: int
    web: int
    whatsapp: int
    billing: int


@pytest.fixture
async def world(factory: Factory, make_user: MakeUser) -> World:
    """On 2026-03-02: Ana (Support) answers and closes a web chat labelled billing and
    leaves a WhatsApp unanswered; Bo (Sales) answers and closes a WhatsApp."""
    await make_user("owner@example.com", name="Olive Owner", role="owner")
    ana = await make_user("ana@example.com", name="Ana")
    bo = await make_user("bo@example.com", name="Bo")
    support, sales = await factory.team("Support", [ana]), await factory.team("Sales", [bo])
    web, whatsapp = await factory.channel(name="Web chat"), await factory.channel(name="WhatsApp")
    billing = Label(name="billing", name_key="billing", colour="blue")
    await factory.add(billing)
    labelled = await Timeline(factory, web.id).write(
        ("assigned", 0, ana, support.id), ("in", 60), ("out", 64, ana), ("closed", 70)
    )
    await factory.add(ConversationLabel(conversation_id=labelled, label_id=billing.id))
    chats = Timeline(factory, whatsapp.id)
    await chats.write(("assigned", 0, bo, sales.id), ("in", 60), ("out", 70, bo), ("closed", 90))
    await chats.write(("assigned", 0, ana, support.id), ("in", 80))
    return World(ana.id, bo.id, support.id, sales.id, web.id, whatsapp.id, billing.id)


def figure(page: str, name: str) -> str:
    """A headline figure's value (``Opened``, ``Closed``…)."""
    match = re.search(rf"<dt>{re.escape(name)}</dt><dd>([^<]*)</dd>", page)
    assert match, f"no figure {name}"
    return match.group(1)


def options(page: str, name: str) -> list[tuple[str, str, bool]]:
    """A select's options as (value, text, selected)."""
    body = page.split(f'<select id="{name}" name="{name}"', 1)[1].split("</select>", 1)[0]
    found = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', body)
    return [(value, html.unescape(text), bool(chosen)) for value, chosen, text in found]


def links(page: str, path: str) -> list[dict[str, list[str]]]:
    """The query strings of the page's links to ``path``."""
    hrefs = re.findall(r'href="([^"]*)"', page)
    return [
        parse_qs(urlsplit(html.unescape(h)).query)
        for h in hrefs
        if urlsplit(html.unescape(h)).path == path
    ]


async def page(client: Client, query: str, status: int = 200) -> str:
    response = await client.get(f"/reports?{query}", headers=HTML)
    text = await response.text()
    assert response.status == status, text[:500]
    return text


async def test_the_selects_offer_the_workspace_s_rows_any_first(
    client: Client, world: World
) -> None:
    await log_in_page(client, "owner@example.com")
    text = await page(client, PERIOD)
    agents = options(text, "agent_id")
    assert [text for _, text, _ in agents] == ["Any", "Ana", "Bo", "Olive Owner"]
    assert agents[0] == ("", "Any", True) and agents[1] == (str(world.ana), "Ana", False)
    assert [o[1] for o in options(text, "team_id")] == ["Any", "Sales", "Support"]
    assert [o[1] for o in options(text, "channel_id")] == ["Any", "Web chat", "WhatsApp"]
    assert [o[1] for o in options(text, "label_id")] == ["Any", "billing"]
    assert "Filtered:" not in text and "Clear filters" not in text
    assert figure(text, "Opened") == "3"


async def test_a_filter_narrows_every_tab_and_stays_in_its_links_and_csv(
    client: Client, world: World
) -> None:
    await log_in_page(client, "owner@example.com")
    chosen = f"team_id={world.support}&channel_id={world.whatsapp}"
    text = await page(client, f"{PERIOD}&{chosen}")
    assert figure(text, "Opened") == "1" and figure(text, "Closed") == "0"
    assert (str(world.support), "Support", True) in options(text, "team_id")
    assert (str(world.whatsapp), "WhatsApp", True) in options(text, "channel_id")
    line = re.sub(r"<[^>]+>|\s+", " ", text.split('class="report-filtered">', 1)[1])
    assert re.sub(r" +", " ", line).startswith(
        " Filtered: Team Support · Channel WhatsApp Clear filters"
    )
    tabs = [q for q in links(text, "/reports") if "tab" in q and q["tab"] != ["overview"]]
    assert len(tabs) == 5
    for query in tabs:
        assert query["team_id"] == [str(world.support)]
        assert query["channel_id"] == [str(world.whatsapp)]
        assert query["from"] == ["2026-03-02"] and "agent_id" not in query
    clear = next(q for q in links(text, "/reports") if "team_id" not in q and "tab" in q)
    assert clear == {"from": ["2026-03-02"], "to": ["2026-03-02"], "tab": ["overview"]}

    agents = await page(client, f"{PERIOD}&{chosen}&tab=agents")
    rows = re.findall(r'<th scope="row">([^<]*)</th>', agents)
    assert rows == ["Ana"]
    csv_href = html.unescape(re.findall(r'href="(/api/v1/reports/agents[^"]*)"', agents)[0])
    assert parse_qs(urlsplit(csv_href).query)["team_id"] == [str(world.support)]
    response = await client.get(csv_href)
    assert response.status == 200 and response.content_type == "text/csv"
    lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(line["name"], line["messages_in"]) for line in lines] == [("Ana", "1")]

    labelled = await page(client, f"{PERIOD}&label_id={world.billing}&tab=channels")
    assert re.findall(r'<th scope="row">([^<]*)</th>', labelled) == ["Web chat"]
    heat = await page(client, f"{PERIOD}&agent_id={world.bo}&tab=heatmap")
    assert re.findall(r'class="heat-\d">(\d+)<', heat) == ["1"]  # Bo's 01:00 message


async def test_an_agent_has_no_agent_select_and_their_own_figures(
    client: Client, world: World
) -> None:
    await log_in_page(client, "ana@example.com")
    text = await page(client, f"{PERIOD}&agent_id={world.bo}&channel_id={world.whatsapp}")
    assert 'name="agent_id"' not in text and "Agent " not in text.split("report-filtered")[1]
    assert figure(text, "Opened") == "1"  # her unanswered WhatsApp, not Bo's
    assert all("agent_id" not in q for q in links(text, "/reports"))
    csv_href = html.unescape(re.findall(r'href="(/api/v1/reports/overview[^"]*)"', text)[0])
    assert "agent_id" not in csv_href and f"channel_id={world.whatsapp}" in csv_href


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("team_id=support", "team_id", "“support” is not an id from the list."),
        ("label_id=-1", "label_id", "“-1” is not an id from the list."),
        ("channel_id=987654", "channel_id", "There is no channel #987654."),
        ("agent_id=99999999999999999999", "agent_id", "There is no agent #99999999999999999999."),
    ],
)
async def test_a_bad_filter_value_is_explained_not_a_500(
    client: Client, world: World, query: str, field: str, message: str
) -> None:
    await log_in_page(client, "owner@example.com")
    text = await page(client, f"{PERIOD}&{query}", status=422)
    assert html.unescape(error_of(text, field)) == message
    assert 'role="alert"' in text and "report-totals" not in text
    assert "Clear filters" in text and "Filtered:" not in text


async def test_the_filters_in_german(client: Client, world: World) -> None:
    await log_in_page(client, "owner@example.com")
    german = {**HTML, "Accept-Language": "de"}
    response = await client.get(f"/reports?{PERIOD}&team_id={world.sales}", headers=german)
    text = await response.text()
    assert "Gefiltert:" in text and "Filter zurücksetzen" in text
    assert ("", "Alle", False) in options(text, "team_id")
    bad = await client.get(f"/reports?{PERIOD}&channel_id=987654", headers=german)
    assert bad.status == 422 and "Es gibt keinen Kanal #987654." in await bad.text()


async def test_a_report_computed_while_the_pre_aggregate_catches_up_says_so(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await log_in_page(client, "owner@example.com")
    monkeypatch.setattr(reports, "CATCH_UP_LIMIT", 0)
    text = await page(client, PERIOD)
    assert "Reports are being brought up to date: 3 conversations are still to go." in text
    assert figure(text, "Opened") == "3"  # computed from the histories, exact all the same
    monkeypatch.setattr(reports, "CATCH_UP_LIMIT", 1000)
    text = await page(client, PERIOD)
    assert "brought up to date" not in text and figure(text, "Opened") == "3"
