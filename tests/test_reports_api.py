"""The report endpoints through the real app: JSON and CSV, every breakdown, the agent's
own-only reach, and precise 422s for a bad period."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.store.models import User
from tests.factories import Factory
from tests.test_reports import DAY, Timeline

Client = TestClient[Any, Any]
UserToken = Callable[..., Awaitable[tuple[User, dict[str, str]]]]
PERIOD = {"from": "2026-03-02", "to": "2026-03-02"}


@pytest.fixture
async def two_agents(
    factory: Factory, user_token: UserToken
) -> tuple[dict[str, str], dict[str, str], User]:
    """An owner's and an agent's headers; the agent answered one conversation, another
    agent the other."""
    _, owner = await user_token("owner@example.com", role="owner", name="Olga")
    ana, agent = await user_token("ana@example.com", name="Ana")
    bo, _ = await user_token("bo@example.com", name="Bo")
    timeline = Timeline(factory, (await factory.channel(name="Web chat")).id)
    await timeline.write(("assigned", 0, ana, None), ("in", 60), ("out", 64, ana), ("closed", 70))
    await timeline.write(("assigned", 0, bo, None), ("in", 60), ("out", 70, bo), ("closed", 90))
    return owner, agent, ana


async def test_the_overview_as_json(client: Client, two_agents: Any) -> None:
    owner, _, _ = two_agents
    response = await client.get("/api/v1/reports/overview", params=PERIOD, headers=owner)
    assert response.status == 200
    body = await response.json()
    assert (body["kind"], body["first_day"], body["time_zone"]) == ("overview", "2026-03-02", "UTC")
    total = body["total"]
    assert (total["opened"], total["closed"], total["messages_in"]) == (2, 2, 2)
    assert total["first_response"] == {"count": 2, "median_minutes": 7, "p90_minutes": 10}
    assert body["rows"] == [] and body["heatmap"] is None
    assert body["daily"] == [
        {"day": "2026-03-02", "opened": 2, "closed": 2, "messages_in": 2, "messages_out": 2}
    ]


@pytest.mark.parametrize("kind", ["agents", "teams", "channels", "labels"])
async def test_every_breakdown_answers_rows(client: Client, two_agents: Any, kind: str) -> None:
    owner, _, _ = two_agents
    response = await client.get(f"/api/v1/reports/{kind}", params=PERIOD, headers=owner)
    assert response.status == 200
    rows = (await response.json())["rows"]
    assert sum(row["metrics"]["closed"] for row in rows) == 2


async def test_an_agent_gets_only_their_own(client: Client, two_agents: Any) -> None:
    owner, agent, ana = two_agents
    response = await client.get("/api/v1/reports/agents", params=PERIOD, headers=agent)
    rows = (await response.json())["rows"]
    assert [(row["id"], row["metrics"]["closed"]) for row in rows] == [(ana.id, 1)]
    everyone = await client.get("/api/v1/reports/agents", params=PERIOD, headers=owner)
    assert {row["name"] for row in (await everyone.json())["rows"]} == {"Ana", "Bo"}


async def test_csv_of_a_breakdown_and_of_the_heatmap(client: Client, two_agents: Any) -> None:
    owner, _, _ = two_agents
    response = await client.get(
        "/api/v1/reports/agents", params={**PERIOD, "format": "csv"}, headers=owner
    )
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "report-agents-2026-03-02-2026-03-02.csv" in response.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert [(line["name"], line["first_response_median_minutes"]) for line in lines] == [
        ("Ana", "4"),
        ("Bo", "10"),
    ]
    heat = await client.get(
        "/api/v1/reports/heatmap", params={**PERIOD, "format": "csv"}, headers=owner
    )
    cells = list(csv.reader(io.StringIO(await heat.text())))
    assert cells[1][0] == "Monday" and cells[1][2] == "2"  # 01:00 on DAY (a Monday)
    assert DAY.weekday() == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-03-02"}, "from"),
        ({"from": "2026-02-30", "to": "2026-03-02"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "to"),
        ({**PERIOD, "format": "pdf"}, "format"),
        ({**PERIOD, "agent_id": "0"}, "agent_id"),
        ({**PERIOD, "colour": "red"}, "colour"),
    ],
)
async def test_a_bad_period_or_filter_is_a_422_naming_it(
    client: Client, user_token: UserToken, params: dict[str, str], field: str
) -> None:
    _, owner = await user_token("owner@example.com", role="owner")
    response = await client.get("/api/v1/reports/overview", params=params, headers=owner)
    assert response.status == 422
    body = await response.json()
    assert field in str(body["error"]["details"])


async def test_reports_need_a_login(client: Client) -> None:
    response = await client.get("/api/v1/reports/overview", params=PERIOD)
    assert response.status == 401


async def test_openapi_describes_the_reports_with_csv(client: Client) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    summaries: set[str] = set()
    for kind in ("overview", "agents", "teams", "channels", "labels", "heatmap"):
        operation = doc["paths"][f"/api/v1/reports/{kind}"]["get"]
        assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
        # The handlers are made in a loop: each keeps its own name and words.
        assert operation["operationId"] == f"get_reports_{kind}"
        summaries.add(operation["summary"])
    assert len(summaries) == 6 and "" not in summaries
    overview = doc["paths"]["/api/v1/reports/overview"]["get"]
    assert overview["summary"].startswith("Every metric over the period")
    assert overview["description"].startswith("times (median, p90)")
    names = {p["name"] for p in doc["paths"]["/api/v1/reports/overview"]["get"]["parameters"]}
    assert {"from", "to", "business_hours", "format", "agent_id"} <= names
