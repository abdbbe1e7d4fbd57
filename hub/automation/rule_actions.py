"""The actions a rule may take: the macros' vocabulary (``hub.automation.actions``) and
two of the rules' own, assigning round robin within a team and sending a webhook.

Rules act as the hub (``Viewer.hub()``): no person's visibility limits them, and what
they change is recorded with no actor and the rule's name (``Work.rule``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, TypeAdapter, field_validator
from sqlalchemy import func, select

from hub.auth.visibility import Viewer
from hub.automation.actions import (
    ACTION_TYPES,
    Action,
    AddComment,
    AddLabels,
    ApplySla,
    Assign,
    Close,
    Outcome,
    RemoveLabels,
    SendSnippet,
    SetPriority,
    Snooze,
    Unassign,
    check_references,
    run_action,
)
from hub.errors import HubError, Invalid
from hub.events.work import Work
from hub.inbox import conversations
from hub.inbox.channel_plugins import ChannelPlugins
from hub.store.models import Conversation, ConversationLabel, Team, TeamMembership, User
from hub.store.types import DbId

URL_MAX = 2000
WEBHOOK_TIMEOUT_SECONDS = 5.0


class _RuleAction(BaseModel):
    """A rule's own action: no fields beyond its own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AssignRoundRobin(_RuleAction):
    """Assign to the team, and within it to the active, available member with the
    fewest open conversations (ties: the lowest user id); to the team alone when no
    member is available. A conversation already with such a member stays with them."""

    type: Literal["assign_round_robin"] = "assign_round_robin"
    team_id: DbId


class SendWebhook(_RuleAction):
    """POST the event as JSON to a URL (after the other actions are committed)."""

    type: Literal["send_webhook"] = "send_webhook"
    url: str = Field(min_length=1, max_length=URL_MAX)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        parsed = TypeAdapter(AnyHttpUrl).validate_python(value)
        if parsed.scheme not in ("http", "https"):
            raise ValueError("an http or https URL")
        try:
            httpx.URL(value)  # what the POST will parse: refuse now what it would refuse
        except (httpx.InvalidURL, ValueError) as error:
            raise ValueError(f"not a URL the hub can call: {error}") from error
        return value


RuleAction = Annotated[
    Assign
    | Unassign
    | AddLabels
    | RemoveLabels
    | SetPriority
    | SendSnippet
    | AddComment
    | Snooze
    | Close
    | ApplySla
    | AssignRoundRobin
    | SendWebhook,
    Field(discriminator="type"),
]
RULE_ACTIONS = TypeAdapter(list[RuleAction])
# The macros' actions, round robin next to assign, and the webhook last (the editor's order).
RULE_ACTION_TYPES: tuple[str, ...] = (
    ACTION_TYPES[0],
    "assign_round_robin",
    *ACTION_TYPES[1:],
    "send_webhook",
)


async def check_rule_references(work: Work, action: BaseModel, field: str) -> None:
    """422 naming ``field`` unless what the action names exists (see
    ``check_references``)."""
    if isinstance(action, AssignRoundRobin):
        if await work.db.get(Team, action.team_id) is None:
            raise Invalid(f"{field}.team_id", f"no team with id {action.team_id}")
    elif not isinstance(action, SendWebhook):
        await check_references(work, cast(Action, action), field)


async def round_robin_order(work: Work, team_id: int) -> list[int]:
    """The team's active, available members, fewest open conversations (assigned, in any
    team) first, ties by lowest id: the first is whom round robin picks."""
    open_counts = (
        select(Conversation.assignee_id, func.count().label("open"))
        .where(Conversation.status == "open", Conversation.assignee_id.is_not(None))
        .group_by(Conversation.assignee_id)
        .subquery()
    )
    load = func.coalesce(open_counts.c.open, 0)
    query = (
        select(User.id)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .outerjoin(open_counts, open_counts.c.assignee_id == User.id)
        .where(
            TeamMembership.team_id == team_id,
            User.is_active.is_(True),
            User.available.is_(True),
        )
        .order_by(load, User.id)
    )
    return list(await work.db.scalars(query))


async def run_rule_action(
    work: Work,
    conversation_id: int,
    action: BaseModel,
    *,
    channels: ChannelPlugins | None = None,
) -> Outcome:
    """Carry out one non-webhook action as the hub."""
    hub = Viewer.hub()
    if isinstance(action, AssignRoundRobin):
        conversation = await conversations.get_visible(work, hub, conversation_id)
        members = await round_robin_order(work, action.team_id)
        if conversation.team_id == action.team_id and (
            conversation.assignee_id in members
            or (not members and conversation.assignee_id is None)
        ):
            return Outcome(action.type, changed=False)
        user_id = members[0] if members else None
        await conversations.assign(work, hub, conversation_id, user_id, action.team_id)
        return Outcome(action.type)
    core = cast(Action, action)
    if await _already(work, conversation_id, core):
        return Outcome(core.type, changed=False)
    return await run_action(work, hub, conversation_id, core, channels=channels)


async def _already(work: Work, conversation_id: int, action: BaseModel) -> bool:
    """Whether an assign, unassign or add-labels finds the conversation already so
    (the run is then ``skipped`` rather than writing the same timeline event again)."""
    conversation = await conversations.get_visible(work, Viewer.hub(), conversation_id)
    if isinstance(action, Assign):
        return (conversation.assignee_id, conversation.team_id) == (action.user_id, action.team_id)
    if isinstance(action, Unassign):
        return conversation.assignee_id is None and conversation.team_id is None
    if isinstance(action, AddLabels):
        carried = await work.db.scalars(
            select(ConversationLabel.label_id).where(
                ConversationLabel.conversation_id == conversation_id,
                ConversationLabel.label_id.in_(action.label_ids),
            )
        )
        return set(carried) >= set(action.label_ids)
    return False


@dataclass(frozen=True)
class WebhookResult:
    """What a webhook's POST came to: ``error`` None when the receiver took it (2xx)."""

    url: str
    error: str | None


async def send_webhook(
    http: httpx.AsyncClient, action: SendWebhook, payload: dict[str, Any]
) -> WebhookResult:
    """POST ``payload`` to the action's URL, with a timeout; never raises."""
    try:
        response = await http.post(action.url, json=payload, timeout=WEBHOOK_TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        return WebhookResult(action.url, f"webhook {action.url}: no answer in time")
    except Exception as error:
        # httpx's errors, and those of a URL it cannot encode (an IDNA error): the
        # run's error, never the runner's crash.
        return WebhookResult(action.url, f"webhook {action.url}: {type(error).__name__}")
    if not response.is_success:
        return WebhookResult(action.url, f"webhook {action.url} answered {response.status_code}")
    return WebhookResult(action.url, None)


def failure_text(error: HubError, index: int, action: BaseModel) -> str:
    """An action's error as the run log shows it."""
    return f"action {index + 1} ({getattr(action, 'type', '?')}) failed: {error.message}"
