"""Each condition type of the rules against the facts of one conversation, the registry's
parsing (its 422s), and the guard on what a pattern reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.visibility import Viewer
from hub.automation.rule_actions import SendWebhook, send_webhook
from hub.automation.rule_conditions import (
    CONDITION_TYPES,
    REGEX_INPUT_MAX,
    ConditionType,
    Facts,
    all_hold,
    parse_conditions,
)
from hub.errors import Invalid
from hub.events.bus import MemoryBus
from hub.events.work import Work, unit_of_work
from hub.inbox import business_hours
from hub.inbox.business_hours import HoursSpec
from hub.store.models import Contact, Conversation
from hub.store.types import utcnow
from tests.factories import Factory


def facts(text: str = "", **conversation: Any) -> Facts:
    values: dict[str, Any] = {
        "channel_id": 3,
        "contact_id": 1,
        "priority": 0,
        "team_id": None,
        "assignee_id": None,
    }
    values.update(conversation)
    contact = Contact(
        name="Ada Lovelace", email="Ada@Example.com", country="GB", fields={"plan": "Gold"}
    )
    return Facts(
        conversation=Conversation(**values),
        contact=contact,
        text=text,
        label_ids=frozenset({7}),
        at=utcnow(),
    )


WORK = Work(db=None)  # type: ignore[arg-type]  # no condition here reads the database

CASES: list[tuple[dict[str, Any], Facts, bool]] = [
    ({"type": "message_text", "value": "INVOICE"}, facts("my invoice"), True),
    ({"type": "message_text", "value": "refund"}, facts("my invoice"), False),
    ({"type": "message_text", "op": "matches", "value": r"^order #\d+$"}, facts("Order #12"), True),
    ({"type": "message_text", "op": "matches", "value": r"^order #\d+$"}, facts("order #x"), False),
    ({"type": "channel", "channel_ids": [3, 4]}, facts(), True),
    ({"type": "channel", "channel_ids": [4]}, facts(), False),
    ({"type": "contact_field", "field": "email", "value": "ada@example.COM"}, facts(), True),
    (
        {"type": "contact_field", "field": "email", "op": "contains", "value": "@example"},
        facts(),
        True,
    ),
    ({"type": "contact_field", "field": "plan", "value": "gold"}, facts(), True),
    ({"type": "contact_field", "field": "plan", "value": "silver"}, facts(), False),
    ({"type": "contact_field", "field": "phone", "op": "contains", "value": ""}, facts(), False),
    ({"type": "labels", "label_ids": [7, 8]}, facts(), True),
    ({"type": "labels", "op": "has_none", "label_ids": [7]}, facts(), False),
    ({"type": "labels", "op": "has_none", "label_ids": [8]}, facts(), True),
    ({"type": "priority", "priority": "high"}, facts(priority=3), True),
    ({"type": "priority", "op": "at_least", "priority": "high"}, facts(priority=4), True),
    ({"type": "priority", "op": "at_least", "priority": "high"}, facts(priority=2), False),
    ({"type": "team", "team_ids": [5]}, facts(team_id=5), True),
    ({"type": "team", "op": "none"}, facts(team_id=5), False),
    ({"type": "team", "op": "none"}, facts(), True),
    ({"type": "assignee", "user_ids": [9]}, facts(assignee_id=9), True),
    ({"type": "assignee", "op": "unassigned"}, facts(assignee_id=9), False),
    ({"type": "assignee", "op": "unassigned"}, facts(), True),
]


@pytest.mark.parametrize(("raw", "seen", "expected"), CASES)
async def test_each_condition_type_holds_exactly_when_it_should(
    raw: dict[str, Any], seen: Facts, expected: bool
) -> None:
    assert await all_hold(WORK, seen, parse_conditions([raw])) is expected


async def test_all_conditions_must_hold_and_none_always_holds() -> None:
    both = parse_conditions(
        [{"type": "message_text", "value": "invoice"}, {"type": "team", "op": "none"}]
    )
    assert await all_hold(WORK, facts("invoice"), both) is True
    assert await all_hold(WORK, facts("invoice", team_id=2), both) is False
    assert await all_hold(WORK, facts(), []) is True


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"type": "message_text", "op": "matches", "value": "a("}, "conditions[0].value"),
        # Past the engine's repeat limit: an OverflowError, not re.error.
        (
            {"type": "message_text", "op": "matches", "value": "a{4294967296}"},
            "conditions[0].value",
        ),
        ({"type": "message_text", "value": "x" * 201}, "conditions[0].value"),
        ({"type": "message_text", "value": ""}, "conditions[0].value"),
        ({"type": "nope"}, "conditions[0].type"),
        ({"value": "x"}, "conditions[0].type"),
        ({"type": "channel", "channel_ids": []}, "conditions[0].channel_ids"),
        ({"type": "priority", "priority": "extreme"}, "conditions[0].priority"),
        ({"type": "assignee", "op": "is"}, "conditions[0].user_ids"),
    ],
)
def test_parsing_refuses_bad_conditions_naming_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_conditions([raw])
    assert caught.value.details[0]["field"] == field


async def test_a_pattern_reads_only_the_start_of_a_long_message() -> None:
    pattern = parse_conditions([{"type": "message_text", "op": "matches", "value": "needle"}])
    near = facts("x" * (REGEX_INPUT_MAX - 10) + "needle")
    far = facts("x" * REGEX_INPUT_MAX + "needle")
    assert await all_hold(WORK, near, pattern) is True
    assert await all_hold(WORK, far, pattern) is False


class OpenNow(BaseModel):
    """A condition type from elsewhere (as business hours will be)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["open_now"] = "open_now"
    open: bool


async def test_a_registered_condition_type_is_parsed_and_tested(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[tuple[int, bool]] = []

    async def holds(_: Work, seen: Facts, condition: OpenNow) -> bool:
        asked.append((seen.conversation.channel_id, condition.open))
        return condition.open

    monkeypatch.setitem(CONDITION_TYPES, "open_now", ConditionType(OpenNow, holds, "Open now"))
    opened = parse_conditions([{"type": "open_now", "open": True}])
    closed = parse_conditions([{"type": "open_now", "open": False}])
    assert await all_hold(WORK, facts(), opened) is True
    assert await all_hold(WORK, facts(), closed) is False
    assert asked == [(3, True), (3, False)]
    with pytest.raises(Invalid):
        parse_conditions([{"type": "open_now", "open": True, "extra": 1}])


async def test_business_hours_follow_the_teams_hours_else_the_workspaces(
    db: async_sessionmaker[AsyncSession], factory: Factory, make_user: Callable[..., Any]
) -> None:
    admin = Viewer.of(await make_user("boss@example.com", role="manager"))
    team = await factory.team("Weekdays")
    monday_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    sunday_10 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    closed = parse_conditions([{"type": "business_hours", "op": "closed"}])
    opened = parse_conditions(
        [{"type": "business_hours"}, {"type": "business_hours", "op": "open"}]
    )

    async def check(team_id: int | None, at: datetime) -> tuple[bool, bool]:
        async with db() as session:
            work = Work(db=session)
            seen = replace(facts(team_id=team_id), at=at)
            return await all_hold(work, seen, closed), await all_hold(work, seen, opened[1:])

    # No hours anywhere: always open.
    assert await check(team.id, sunday_10) == (False, True)
    weekdays = [[("09:00", "17:00")]] * 5 + [[], []]
    async with unit_of_work(db, MemoryBus()) as work:
        saturdays: list[list[tuple[str, str]]] = [[]] * 5 + [[("08:00", "12:00")], []]
        await business_hours.save_hours(work, admin, None, HoursSpec("UTC", saturdays))
        await business_hours.save_hours(work, admin, team.id, HoursSpec("UTC", weekdays))
    assert await check(team.id, monday_10) == (False, True)
    assert await check(team.id, sunday_10) == (True, False)
    # Without a team: the workspace default, here Saturday mornings only.
    assert await check(None, monday_10) == (True, False)
    assert await check(None, datetime(2026, 12, 5, 10, 0, tzinfo=UTC)) == (False, True)
    assert opened[0] == closed[0]  # "closed" is the default test


async def test_a_webhook_url_httpx_cannot_encode_is_a_failed_result_not_a_crash() -> None:
    # Valid as a URL, but not as IDNA: httpx raises its own error before any network.
    action = SendWebhook(url="http://xn--ls8h.la/")
    async with httpx.AsyncClient() as http:
        result = await send_webhook(http, action, {"event": "test"})
    assert result.error is not None and result.error.startswith("webhook http://xn--ls8h.la/")
