"""``hub demo``: fill an empty hub with a living demo workspace.

Everything goes through the hub's own paths on a started app: users, teams, channels,
snippets, labels, an SLA policy and a custom inbox through the domain functions; the customers' messages (with
photos) through the inbound pipe, signed as a service signs them; replies, comments,
assignments, labels, priorities, snoozes and closes through the same functions the REST API calls.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select

from hub import appkeys
from hub.auth.accounts import NewUser, create_user
from hub.auth.passwords import generate_password
from hub.auth.visibility import Viewer
from hub.channels.admin import ChannelAdmin, NewChannel
from hub.channels.media_jobs import fetch_pending_media
from hub.contract.models import Headers, WebhookRequest
from hub.demo.customer import body_of, message_event, signed_headers
from hub.demo.echo import echo_url
from hub.demo.images import striped_png
from hub.demo.marker import DemoMarker, write_marker
from hub.demo.script import CHANNELS, LABELS, PEOPLE, SLA_POLICY, SNIPPETS, STORIES, TEAMS, Story
from hub.events.work import Work, unit_of_work
from hub.inbox import (
    comments,
    conversations,
    custom_inboxes,
    labels,
    messages,
    sla,
    sla_policies,
    snippets,
    triage,
)
from hub.inbox.comments import NewComment
from hub.inbox.filters import CustomInboxFilters
from hub.inbox.messages import Outgoing
from hub.people.directory import create_team
from hub.store.models import Channel, Contact, Conversation, Message, User
from hub.store.types import utcnow

log = logging.getLogger(__name__)
MEDIA_WAIT_SECONDS = 30.0
PHOTO_COLOURS = (((245, 236, 220), (200, 120, 60)), ((226, 240, 250), (40, 110, 190)))


class HubNotEmpty(Exception):
    """The hub has users or channels already: the demo fills an empty hub only."""


@dataclass(frozen=True)
class DemoLogin:
    """A demo user to log in as."""

    email: str
    name: str
    role: str
    team: str | None


@dataclass(frozen=True)
class DemoWorkspace:
    """What the seeder made: the logins (one password for all) and the counts."""

    password: str
    logins: list[DemoLogin]
    channels: int
    conversations: int


async def _check_empty(app: web.Application) -> None:
    async with app[appkeys.SESSIONS]() as db:
        users = int(await db.scalar(select(func.count()).select_from(User)) or 0)
        channels = int(
            await db.scalar(
                select(func.count()).select_from(Channel).where(Channel.deleted_at.is_(None))
            )
            or 0
        )
    if users or channels:
        raise HubNotEmpty(
            f"this hub already has {users} user(s) and {channels} channel(s); the demo fills "
            "an empty hub only (point HUB_DATA_DIR at a new folder, or pass --force to add "
            "the demo beside what is there)"
        )


class Seeder:
    """Builds the demo on a started hub app."""

    def __init__(self, app: web.Application, password: str) -> None:
        self.app = app
        self.password = password
        self.users: dict[str, Viewer] = {}
        self.teams: dict[str, int] = {}
        self.channels: list[tuple[int, str]] = []  # id, signing secret
        self.labels: dict[str, int] = {}  # name → id
        self.sla_policy_id: int | None = None

    def work(self) -> AbstractAsyncContextManager[Work]:
        """One transaction, announced after commit like an API request's."""
        app = self.app
        return unit_of_work(app[appkeys.SESSIONS], app[appkeys.BUS], app[appkeys.OBSERVERS])

    @property
    def owner(self) -> Viewer:
        return self.users[PEOPLE[0].email]

    async def people(self) -> None:
        """The users, then the two teams with their members."""
        async with self.work() as w:
            for person in PEOPLE:
                data = NewUser(
                    email=person.email,
                    name=person.name,
                    role=person.role,
                    visibility=person.visibility,
                    password=self.password,
                )
                user = await create_user(w.db, data)
                self.users[person.email] = Viewer(user.id, user.role, user.visibility, frozenset())
        for team in TEAMS:
            members = [self.users[p.email].id for p in PEOPLE if p.team == team]
            async with self.work() as w:
                made = await create_team(w, self.owner, team, members)
                self.teams[team] = made.id
        for person in PEOPLE:
            viewer = self.users[person.email]
            teams = frozenset({self.teams[person.team]} if person.team else set())
            self.users[person.email] = Viewer(viewer.id, viewer.role, viewer.visibility, teams)

    async def channels_and_marker(self) -> None:
        """The demo channels, replying to the echo; then the marker that turns it on."""
        settings = self.app[appkeys.SETTINGS]
        admin = ChannelAdmin.of(self.app)
        for name in CHANNELS:
            config = {"outbound_url": echo_url(settings.base_url), "supports_attachments": True}
            saved = await admin.create(self.owner, NewChannel("custom_channel", name, config))
            assert saved.config is not None  # revealed on creation
            self.channels.append((saved.channel.id, str(saved.config["signing_secret"])))
        write_marker(settings, DemoMarker(tuple(i for i, _ in self.channels)))

    async def customer_writes(self, story: Story, text: str, hours_ago: float) -> None:
        """One customer message through the channel's webhook pipe, signed."""
        channel_id, secret = self.channels[story.channel]
        attachments = None
        if text.startswith("img:"):
            text = text.removeprefix("img:")
            background, stripe = PHOTO_COLOURS[len(story.name) % len(PHOTO_COLOURS)]
            png = striped_png(160, 120, background, stripe)
            attachments = [
                {
                    "data": base64.b64encode(png).decode(),
                    "filename": f"{story.sender_id}-photo.png",
                    "content_type": "image/png",
                }
            ]
        at = utcnow() - timedelta(hours=hours_ago)
        event = message_event(
            story.sender_id, story.name, text, at, email=story.email, attachments=attachments
        )
        body = body_of(event)
        channel = await self.app[appkeys.CHANNELS].channel_row(
            self.app[appkeys.SESSIONS], channel_id
        )
        assert channel is not None
        request = WebhookRequest(
            method="POST",
            url=f"/webhooks/{channel_id}",
            headers=Headers(signed_headers(secret, body)),
            query={},
            body=body,
        )
        answer = await self.app[appkeys.INBOUND].receive(channel, request)
        if answer.status != 200:
            raise RuntimeError(f"the demo's message was refused: {answer.body}")

    async def conversation_of(self, story: Story) -> int:
        """The conversation the story's customer wrote into."""
        channel_id, _ = self.channels[story.channel]
        async with self.app[appkeys.SESSIONS]() as db:
            found = await db.scalar(
                select(Conversation.id)
                .join(Contact, Contact.id == Conversation.contact_id)
                .where(Conversation.channel_id == channel_id, Contact.name == story.name)
                .order_by(Conversation.id.desc())
                .limit(1)
            )
        assert found is not None, story.name
        return int(found)

    async def story(self, story: Story) -> None:
        """Tell one story: the messages in order, then where the conversation stands."""
        agent = self.users[story.agent] if story.agent else self.owner
        conversation_id: int | None = None
        for index, line in enumerate(story.said):
            kind, text = line[0], line[1:]
            hours_ago = story.hours_ago * (len(story.said) - index) / len(story.said)
            if kind == "<":
                await self.customer_writes(story, text, hours_ago)
                conversation_id = await self.conversation_of(story)
                continue
            assert conversation_id is not None, "a story starts with the customer"
            async with self.work() as w:
                if kind == ">":
                    await messages.send_message(
                        w,
                        agent,
                        conversation_id,
                        Outgoing(text=text),
                        channels=self.app[appkeys.CHANNELS],
                    )
                else:
                    await comments.add_comment(w, agent, conversation_id, NewComment(body=text))
        assert conversation_id is not None
        async with self.work() as w:
            await self.settle(w, story, conversation_id)

    async def settle(self, w: Work, story: Story, conversation_id: int) -> None:
        """Assign, snooze or close the conversation as the story ends."""
        owner = self.owner
        if story.state in ("assigned", "snoozed", "closed") and story.agent:
            agent = self.users[story.agent]
            team = next(p.team for p in PEOPLE if p.email == story.agent)
            team_id = self.teams[team] if team else None
            await conversations.assign(w, owner, conversation_id, agent.id, team_id)
        elif story.state == "team" and story.team:
            await conversations.assign(w, owner, conversation_id, None, self.teams[story.team])
        if story.state == "snoozed":
            until = utcnow() + timedelta(days=1)
            await conversations.snooze(w, owner, conversation_id, until)
        elif story.state == "closed":
            await conversations.close(w, owner, conversation_id, story.note)
        if story.labels:
            ids = [self.labels[name] for name in story.labels]
            await triage.add_labels(w, owner, conversation_id, ids)
        if story.priority != "none":
            await triage.change_priority(w, owner, conversation_id, story.priority)
        if story.state != "closed" and self.sla_policy_id is not None:
            await sla.apply_policy(w, owner, conversation_id, self.sla_policy_id)

    async def make_labels(self) -> None:
        """The labels the stories use, and the SLA policy on their open conversations."""
        async with self.work() as w:
            name, first, following, resolution = SLA_POLICY
            fields = sla_policies.PolicyFields(name, first, following, resolution)
            self.sla_policy_id = (await sla_policies.create_policy(w, self.owner, fields)).id
            for name, colour, description in LABELS:
                label = await labels.create_label(
                    w, self.owner, name=name, colour=colour, description=description
                )
                self.labels[name] = label.id

    async def extras(self) -> None:
        """The snippets, and a custom inbox of the website's unanswered conversations."""
        async with self.work() as w:
            for name, shortcut, body in SNIPPETS:
                await snippets.create_snippet(
                    w.db, self.owner, name=name, shortcut=shortcut, body=body
                )
            filters = CustomInboxFilters(channel_ids=[self.channels[0][0]], unanswered=True)
            sharing = custom_inboxes.Sharing(team_ids=[self.teams["Support"]])
            await custom_inboxes.create_custom_inbox(
                w.db, self.owner, "Website, unanswered", filters, sharing
            )

    async def finish(self) -> None:
        """Store the photos, then let the echo answer every reply written from now on."""
        # The hub's own media worker may hold a photo meanwhile (fetch_pending_media then
        # skips it): wait until none is pending, for a while at most.
        deadline = asyncio.get_running_loop().time() + MEDIA_WAIT_SECONDS
        while await fetch_pending_media(self.app) or await self._media_pending():
            if asyncio.get_running_loop().time() > deadline:
                log.warning("demo: some photos are still being stored")
                break
            await asyncio.sleep(0.05)
        async with self.app[appkeys.SESSIONS]() as db:
            last = await db.scalar(select(func.max(Message.id)))
        channel_ids = tuple(i for i, _ in self.channels)
        write_marker(self.app[appkeys.SETTINGS], DemoMarker(channel_ids, int(last or 0)))

    async def _media_pending(self) -> bool:
        async with self.app[appkeys.SESSIONS]() as db:
            pending = await db.scalar(select(Message.id).where(Message.media_pending).limit(1))
        return pending is not None


async def seed_demo(
    app: web.Application, *, force: bool = False, password: str | None = None
) -> DemoWorkspace:
    """Fill the started hub ``app`` with the demo; ``HubNotEmpty`` unless it is empty
    (or ``force``)."""
    if not force:
        await _check_empty(app)
    seeder = Seeder(app, password or generate_password())
    await seeder.people()
    await seeder.channels_and_marker()
    await seeder.make_labels()
    for story in STORIES:
        await seeder.story(story)
    await seeder.extras()
    await seeder.finish()
    logins = [DemoLogin(p.email, p.name, p.role, p.team) for p in PEOPLE]
    return DemoWorkspace(seeder.password, logins, len(CHANNELS), len(STORIES))
