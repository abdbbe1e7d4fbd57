"""The visibility rule has two forms, SQL (``conversation_filter``, for queries) and Python
(``can_see``, for realtime events); they must agree on every case, on every engine.

Every role and visibility is tried against every kind of conversation: assigned to the
viewer, to another user, or to nobody; in the viewer's team, another team, or none; with
a blocked contact or not.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from hub.auth.visibility import ConversationScope, Viewer, can_see, conversation_filter
from hub.store.models import ROLES, VISIBILITIES, Conversation, TeamMembership, User
from tests.factories import Factory

ASSIGNEES = ("viewer", "other", "nobody")
TEAMS = ("viewers_team", "other_team", "none")
BLOCKED = (False, True)


@dataclass(frozen=True)
class Case:
    """One kind of conversation, as seen from one viewer."""

    assignee: str
    team: str
    blocked: bool


CASES = [Case(*combo) for combo in itertools.product(ASSIGNEES, TEAMS, BLOCKED)]


def expected(viewer: Viewer, case: Case, in_a_team: bool) -> bool:
    """The rule in the issue's words, written out independently of the code under test."""
    if viewer.role in ("owner", "manager") or viewer.visibility == "all":
        return True
    if case.blocked:
        return False  # restricted agents have no Blocked-contacts inbox
    if case.assignee == "viewer":
        return True
    return viewer.visibility == "team" and in_a_team and case.team == "viewers_team"


async def test_sql_and_python_rules_agree_for_every_role_visibility_and_conversation(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    other_user = await make_user("other@example.com")
    viewers_team = await factory.team("Viewers")
    other_team = await factory.team("Others")
    channel = await factory.channel()
    contact = await factory.contact()
    blocked_contact = await factory.contact(blocked=True)

    # One viewer per role and visibility, all in the viewers' team; plus restricted
    # agents who are in no team at all (their "team" reach is empty).
    specs = [(role, vis, True) for role, vis in itertools.product(ROLES, VISIBILITIES)]
    specs += [("agent", "team", False), ("agent", "assigned", False)]
    conversations: dict[tuple[int, Case], int] = {}
    viewers: list[tuple[Viewer, bool]] = []
    for number, (role, visibility, in_team) in enumerate(specs):
        user = await make_user(f"viewer{number}@example.com", role=role, visibility=visibility)
        async with db() as session:
            if in_team:
                session.add(TeamMembership(team_id=viewers_team.id, user_id=user.id))
            for case in CASES:
                row = Conversation(
                    contact_id=(blocked_contact if case.blocked else contact).id,
                    channel_id=channel.id,
                    contact_blocked=case.blocked,
                    assignee_id={"viewer": user.id, "other": other_user.id, "nobody": None}[
                        case.assignee
                    ],
                    team_id={
                        "viewers_team": viewers_team.id,
                        "other_team": other_team.id,
                        "none": None,
                    }[case.team],
                )
                session.add(row)
                await session.flush()
                conversations[(user.id, case)] = row.id
            await session.commit()
            loaded = await session.scalar(
                select(User).where(User.id == user.id).options(selectinload(User.teams))
            )
            assert loaded is not None
            viewers.append((Viewer.of(loaded), in_team))

    disagreements = []
    async with db() as session:
        rows = (await session.scalars(select(Conversation))).all()
        scopes = {row.id: ConversationScope.of(row) for row in rows}
        for viewer, in_team in viewers:
            mine = {conversations[(viewer.id, case)]: case for case in CASES}
            by_sql = set(
                await session.scalars(
                    select(Conversation.id).where(
                        Conversation.id.in_(mine), conversation_filter(viewer)
                    )
                )
            )
            for conversation_id, case in mine.items():
                verdicts = (
                    conversation_id in by_sql,
                    can_see(viewer, scopes[conversation_id]),
                    expected(viewer, case, in_team),
                )
                if len(set(verdicts)) != 1:
                    disagreements.append((viewer, case, verdicts))
    assert disagreements == [], "(sql, python, expected) differ"
    assert len(viewers) * len(CASES) == 11 * 18


async def test_the_rule_holds_on_a_few_cases_worth_spelling_out(
    factory: Factory,
    make_user: Callable[..., Awaitable[User]],
    db: async_sessionmaker[AsyncSession],
) -> None:
    agent = await make_user("agent@example.com", visibility="team")
    team = await factory.team(members=[agent])
    other_team = await factory.team()
    channel = await factory.channel()
    blocked = await factory.contact(blocked=True)
    own_team = await factory.conversation(channel, team_id=team.id)
    elsewhere = await factory.conversation(channel, team_id=other_team.id)
    blocked_but_assigned = await factory.conversation(channel, blocked, assignee_id=agent.id)

    async with db() as session:
        user = await session.scalar(
            select(User).where(User.id == agent.id).options(selectinload(User.teams))
        )
        assert user is not None
        viewer = Viewer.of(user)
        visible = set(
            await session.scalars(select(Conversation.id).where(conversation_filter(viewer)))
        )
    assert visible == {own_team.id}
    assert elsewhere.id not in visible
    # Blocked contacts' conversations are out of a restricted agent's reach even when
    # assigned to them.
    assert blocked_but_assigned.id not in visible
