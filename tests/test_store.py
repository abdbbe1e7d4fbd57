"""The store on every engine: each table round-trips, constraints hold, types behave."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.models import (
    ApiToken,
    Attachment,
    AuditEntry,
    AvailabilitySchedule,
    Base,
    BulkJob,
    BusinessHours,
    Channel,
    ChannelDefinition,
    Comment,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationEvent,
    ConversationLabel,
    ConversationThreadKey,
    CrmBulkJob,
    CrmConnection,
    CrmContactLink,
    CrmFieldChange,
    CrmOAuthState,
    CrmTranscript,
    CsatSurvey,
    CustomInbox,
    CustomInboxShare,
    Draft,
    IdempotencyKey,
    InboundLogEntry,
    InboxViewSeen,
    Label,
    LoginSession,
    Macro,
    Message,
    Notification,
    OutboxItem,
    OutOfHoursReply,
    RealtimeEvent,
    ReportCount,
    ReportFact,
    ReportVersion,
    Rule,
    RuleRun,
    RuleTimerFire,
    SetupToken,
    SlaPolicy,
    Snippet,
    Team,
    TeamMembership,
    User,
    WebhookDelivery,
    WebhookSubscription,
    WorkspaceSetting,
)

Sessions = async_sessionmaker[AsyncSession]

NESTED = {
    "name": "Zoë Ångström — 日本語 🎉",
    "list": [1, 2.5, None, True, {"deep": ["a", {"deeper": "ü"}]}],
    "empty": {},
    "quote": 'he said "hi"\n',
}
WHEN = datetime(2024, 3, 5, 14, 30, 15, 123456, tzinfo=UTC)


@dataclass
class Parents:
    """One row of each table other rows point at."""

    user: User
    team: Team
    channel: Channel
    contact: Contact
    conversation: Conversation
    message: Message
    comment: Comment
    inbox: CustomInbox
    crm: CrmConnection
    label: Label
    rule: Rule | None = None
    webhook: WebhookSubscription | None = None


async def _save(db: Sessions, *rows: Base) -> None:
    async with db() as session:
        session.add_all(rows)
        await session.commit()


async def _reload(db: Sessions, row: Base) -> Any:
    """The row read back in a fresh session (no identity-map shortcut)."""
    identity = inspect(row).identity
    assert identity is not None
    async with db() as session:
        key = identity[0] if len(identity) == 1 else identity
        return await session.get(type(row), key)


def _channel(name: str = "Support WhatsApp") -> Channel:
    return Channel(type="whatsapp", name=name, config_encrypted="gAAAA-token")


@pytest.fixture
async def parents(db: Sessions) -> Parents:
    user = User(email="owner@example.com", name="Olive Owner", role="owner")
    team = Team(name="Support")
    channel = _channel()
    contact = Contact(name="Carla Customer", email="carla@example.com")
    crm = CrmConnection(type="hubspot", name="HubSpot", config_encrypted="gAAAA-crm")
    label = Label(name="Billing", name_key="billing", colour="green")
    await _save(db, user, team, channel, contact, crm, label)
    conversation = Conversation(contact_id=contact.id, channel_id=channel.id, team_id=team.id)
    inbox = CustomInbox(owner_id=user.id, name="VIP", filters={"status": "open"})
    await _save(db, conversation, inbox)
    message = Message(
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction="in",
        external_id="wamid.1",
        text="hello",
        status="received",
    )
    comment = Comment(conversation_id=conversation.id, author_id=user.id, body="@ann look")
    rule = Rule(name="Billing routing", event="message_received", actions=[{"type": "close"}])
    webhook = WebhookSubscription(url="https://hooks.example.com/in", secret="gAAAA-secret")
    await _save(db, message, comment, rule, webhook)
    return Parents(
        user,
        team,
        channel,
        contact,
        conversation,
        message,
        comment,
        inbox,
        crm,
        label,
        rule,
        webhook,
    )


Builder = Callable[[Parents], Base]

# One builder per table: a new row with every interesting column set. A table without
# a builder fails ``test_every_table_has_a_round_trip_builder``.
BUILDERS: dict[str, Builder] = {
    "users": lambda p: User(
        email="ann@example.com",
        name="Ann Agent",
        password_hash="$argon2id$…",
        role="manager",
        visibility="team",
        is_active=False,
        available=False,
        last_login_at=WHEN,
    ),
    "teams": lambda p: Team(name="Sales"),
    "team_memberships": lambda p: TeamMembership(team_id=p.team.id, user_id=p.user.id),
    "contacts": lambda p: Contact(
        name="Dan Doe",
        first_name="Dan",
        last_name="Doe",
        email="dan@example.com",
        phone="+4915112345678",
        avatar_url="https://cdn.example.com/dan.png",
        blocked=True,
        blocked_at=WHEN,
        fields={"company": "ACME", "tags": ["vip"]},
        merged_into_id=p.contact.id,
    ),
    "contact_identities": lambda p: ContactIdentity(
        contact_id=p.contact.id,
        channel_id=p.channel.id,
        external_id="+4915112345678",
        profile={"push_name": "Carla 🌸"},
    ),
    "channels": lambda p: Channel(
        type="telegram",
        name="Telegram bot",
        config_encrypted="gAAAA-other",
        enabled=False,
        status="error",
        status_reason="token revoked",
        routing={"team_id": 1, "strategy": "round_robin"},
        settings={"signature": "— the team"},
        poll_cursor="12345",
        routing_cursor=7,
        last_inbound_at=WHEN,
        deleted_at=WHEN,
    ),
    "channel_definitions": lambda p: ChannelDefinition(
        name="acme_chat",
        manifest={"title": "ACME chat", "credentials": [{"name": "api_key", "type": "secret"}]},
    ),
    "conversations": lambda p: Conversation(
        contact_id=p.contact.id,
        channel_id=p.channel.id,
        status="snoozed",
        assignee_id=p.user.id,
        team_id=p.team.id,
        thread_key="thread-1",
        subject="Order #42",
        opened_at=WHEN - timedelta(days=2),
        status_changed_at=WHEN - timedelta(hours=1),
        contact_blocked=True,
        closed_at=WHEN,
        closing_note="refunded",
        snoozed_until=WHEN + timedelta(days=1),
        last_message_at=WHEN,
        last_inbound_at=WHEN,
        last_message_direction="in",
        unread_count=3,
        merged_into_id=p.conversation.id,
        priority=4,
        first_response_due_at=WHEN + timedelta(minutes=30),
        next_response_due_at=WHEN + timedelta(minutes=45),
        resolution_due_at=WHEN + timedelta(days=3),
        first_response_breached_at=WHEN,
        next_response_breached_at=WHEN + timedelta(seconds=1),
        resolution_breached_at=WHEN + timedelta(seconds=2),
        sla_checked_at=WHEN - timedelta(minutes=1),
    ),
    "messages": lambda p: Message(
        conversation_id=p.conversation.id,
        channel_id=p.channel.id,
        direction="out",
        sender_user_id=p.user.id,
        external_id="wamid.2",
        text="Your order ships today",
        subject="Re: Order #42",
        parts=[{"type": "text", "text": "Your order ships today"}],
        reply_to_id=p.message.id,
        status="failed",
        failure_reason="window closed",
        error_code="131047",
        edit_history=[{"text": "old", "at": "2024-01-01T00:00:00Z"}],
        raw={"entry": [{"id": "1"}]},
        sent_at=WHEN,
        delivered_at=WHEN,
        read_at=WHEN,
        media_pending=True,
        envelope={"to": ["Zoë <zoe@example.com>"], "cc": ["bob@example.com"]},
        automated="bounce",
    ),
    "attachments": lambda p: Attachment(
        message_id=p.message.id,
        uploaded_by=p.user.id,
        sha256="a" * 64,
        filename="invoice.pdf",
        content_type="application/pdf",
        size=12345,
    ),
    "comments": lambda p: Comment(
        conversation_id=p.conversation.id, author_id=p.user.id, body="done", mentions=[p.user.id]
    ),
    "conversation_events": lambda p: ConversationEvent(
        conversation_id=p.conversation.id,
        kind="assigned",
        actor_id=p.user.id,
        data={"from": None, "to": p.user.id},
    ),
    "notifications": lambda p: Notification(
        user_id=p.user.id,
        kind="mention",
        conversation_id=p.conversation.id,
        data={"comment_id": p.comment.id, "by": "Olive"},
        read_at=WHEN,
    ),
    "custom_inboxes": lambda p: CustomInbox(
        owner_id=p.user.id, name="Unread VIPs", filters={"tags": ["vip"], "unread": True}
    ),
    "custom_inbox_shares": lambda p: CustomInboxShare(inbox_id=p.inbox.id, team_id=p.team.id),
    "snippets": lambda p: Snippet(
        name="Greeting", shortcut="/hi", body="Hi $contact.first_name!", created_by=p.user.id
    ),
    "outbox": lambda p: OutboxItem(
        message_id=p.message.id,
        channel_id=p.channel.id,
        status="pending",
        attempts=2,
        next_attempt_at=WHEN,
        lease_owner="worker-1",
        lease_expires_at=WHEN,
        last_error="timeout",
    ),
    "inbound_log": lambda p: InboundLogEntry(
        channel_id=p.channel.id,
        method="POST",
        path=f"/webhooks/{p.channel.id}",
        headers={"X-Hub-Signature-256": "sha256=abc"},
        query={"hub.mode": "subscribe"},
        body=b"\x00\xff\xfe raw \x80 bytes",
        result="stored",
        status_code=200,
        reason=None,
        event_count=2,
        events=[{"kind": "status", "external_id": "wamid.2", "status": "read"}],
        replayed_at=WHEN,
    ),
    "crm_connections": lambda p: CrmConnection(
        type="salesforce",
        name="Salesforce",
        config_encrypted="gAAAA-sf",
        enabled=False,
        status="error",
        status_reason="expired",
        sync_cursor="2024-01-01",
        settings={"field_map": {"phone": "MobilePhone"}},
    ),
    "crm_contact_links": lambda p: CrmContactLink(
        connection_id=p.crm.id,
        contact_id=p.contact.id,
        external_id="0031x000001",
        owner_external_id="0051x000009",
        last_synced_at=WHEN,
    ),
    "api_tokens": lambda p: ApiToken(
        user_id=p.user.id, name="ci", token_hash="b" * 64, prefix="hub_abcd", last_used_at=WHEN
    ),
    "login_sessions": lambda p: LoginSession(
        token_hash="c" * 64,
        user_id=p.user.id,
        csrf_token="d" * 43,
        expires_at=WHEN + timedelta(days=14),
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
    ),
    "workspace_settings": lambda p: WorkspaceSetting(key="closing_notes", value=NESTED),
    "setup_tokens": lambda p: SetupToken(token_hash="e" * 64, note="printed by hub serve"),
    "idempotency_keys": lambda p: IdempotencyKey(
        user_id=p.user.id,
        scope="message",
        key="7f1c-ünï",
        request_sha256="f" * 64,
        resource_kind="message",
        resource_id=p.message.id,
        created_at=WHEN,
    ),
    "drafts": lambda p: Draft(
        user_id=p.user.id,
        conversation_id=p.conversation.id,
        mode="comment",
        body="Draft with ünïcode ✓\nand a second line",
        subject="Re: order",
        channel_id=p.channel.id,
        reply_to_message_id=p.message.id,
        attachment_ids=[3, 5],
        updated_at=WHEN,
    ),
    "inbox_view_seen": lambda p: InboxViewSeen(user_id=p.user.id, view="team:12", seen_at=WHEN),
    "realtime_events": lambda p: RealtimeEvent(
        created_at=WHEN,
        type="message.created",
        event='{"type": "message.created", "data": {"text": "ünïcode ✓"}, "scope": null}',
    ),
    "conversation_thread_keys": lambda p: ConversationThreadKey(
        channel_id=p.channel.id,
        key="subject:zoë@example.com:commande été",
        conversation_id=p.conversation.id,
    ),
    "crm_oauth_states": lambda p: CrmOAuthState(
        state_hash="f" * 64,
        connection_id=p.crm.id,
        code_verifier="v" * 64,
        redirect_uri="https://hub.example.com/admin/crm/oauth/callback",
        user_id=p.user.id,
        created_at=WHEN,
    ),
    "crm_field_changes": lambda p: CrmFieldChange(
        connection_id=p.crm.id,
        contact_id=p.contact.id,
        field="firstname",
        old_value="Zoë",
        new_value=NESTED,
        source="agent",
        actor_id=p.user.id,
        created_at=WHEN,
    ),
    "crm_transcripts": lambda p: CrmTranscript(
        connection_id=p.crm.id,
        conversation_id=p.conversation.id,
        logged_message_id=p.message.id,
        pending_key="inbox-hub:conversation:1:through:2",
        activity_ids=["note-1", "note-ü"],
        updated_at=WHEN,
    ),
    "crm_bulk_jobs": lambda p: CrmBulkJob(
        connection_id=p.crm.id,
        status="running",
        total=10_000,
        processed=250,
        linked=200,
        last_contact_id=250,
        created_at=WHEN,
        updated_at=WHEN,
    ),
    "labels": lambda p: Label(
        name="Zoë's VIP ✓", name_key="zoë's vip ✓", colour="purple", description="ünïcode"
    ),
    "conversation_labels": lambda p: ConversationLabel(
        conversation_id=p.conversation.id, label_id=p.label.id, added_by=p.user.id, created_at=WHEN
    ),
    "bulk_jobs": lambda p: BulkJob(
        actor_id=p.user.id,
        action="assign",
        params={"user_id": p.user.id},
        targets=[3, 1, 2],
        status="running",
        total=3,
        position=1,
        done=1,
        skipped=0,
        refused=0,
        error="ünïcode",
        created_at=WHEN,
        updated_at=WHEN,
        finished_at=WHEN,
    ),
    "sla_policies": lambda p: SlaPolicy(
        name="Zoë's gold ✓",
        name_key="zoë's gold ✓",
        first_response_minutes=30,
        next_response_minutes=None,
        resolution_minutes=60 * 24 * 365,
        business_hours=True,
    ),
    "macros": lambda p: Macro(
        name="Refund done",
        owner_id=p.user.id,
        actions=[{"type": "add_labels", "label_ids": [p.label.id]}, {"type": "close"}],
    ),
    "csat_surveys": lambda p: CsatSurvey(
        conversation_id=p.conversation.id,
        contact_id=p.contact.id,
        channel_id=p.channel.id,
        message_id=p.message.id,
        status="answered",
        skip_reason=None,
        scale=5,
        token="t" * 43,
        rating=4,
        comment="Zoë was great ✓",
        answered_via="page",
        answered_at=WHEN,
        created_at=WHEN,
    ),
    "rules": lambda p: Rule(
        name="Nudge",
        enabled=False,
        event="no_reply",
        minutes=45,
        conditions=[{"type": "message_text", "op": "matches", "value": "ünï.*code"}],
        actions=[{"type": "send_webhook", "url": "https://hooks.example/x"}],
        position=7,
        stop_processing=True,
        created_at=WHEN,
        updated_at=WHEN,
    ),
    "rule_runs": lambda p: RuleRun(
        rule_id=p.rule.id if p.rule else 0,
        conversation_id=p.conversation.id,
        event="assigned",
        outcome="failed",
        error="ünïcode",
        created_at=WHEN,
    ),
    "rule_timer_fires": lambda p: RuleTimerFire(
        rule_id=p.rule.id if p.rule else 0, message_id=p.message.id, fired_at=WHEN
    ),
    "business_hours": lambda p: BusinessHours(
        scope=f"team:{p.team.id}",
        team_id=p.team.id,
        time_zone="America/Argentina/Buenos_Aires",
        week=[[["09:00", "12:00"], ["13:00", "24:00"]], [["22:00", "06:00"]], [], [], [], [], []],
        holidays=[{"date": "2026-12-25", "name": "Noël ✓"}],
        created_at=WHEN,
        updated_at=WHEN,
    ),
    "out_of_hours_replies": lambda p: OutOfHoursReply(
        conversation_id=p.conversation.id,
        day="2026-12-03",
        message_id=p.message.id,
        created_at=WHEN,
    ),
    "webhook_subscriptions": lambda p: WebhookSubscription(
        url="https://hooks.example.com/ünï?a=1&b=2",
        description="CRM sync ✓",
        events=["message.created", "conversation.closed"],
        channel_ids=[p.channel.id],
        secret="gAAAA-secret",
        enabled=False,
        allow_private=True,
        disabled_reason="the receiver answered 410 Gone",
        created_by=p.user.id,
        created_at=WHEN,
        updated_at=WHEN,
    ),
    "webhook_deliveries": lambda p: WebhookDelivery(
        subscription_id=p.webhook.id if p.webhook else 0,
        event_id="evt_0123456789abcdef",
        event_type="message.created",
        payload={"id": "evt_0123456789abcdef", "data": {"text": "Zoë ✓"}},
        status="failed",
        attempts=7,
        created_at=WHEN,
        next_attempt_at=WHEN,
        give_up_at=WHEN,
        last_attempt_at=WHEN,
        last_status_code=503,
        last_error="timed out after 10 s",
        delivered_at=None,
        lease_owner="host:1234",
        lease_expires_at=WHEN,
    ),
    "availability_schedules": lambda p: AvailabilitySchedule(
        user_id=p.user.id,
        enabled=False,
        time_zone="Asia/Kolkata",
        week=[[], [], [], [], [], [["10:00", "14:30"]], []],
        override_until=WHEN,
        created_at=WHEN,
        updated_at=WHEN,
    ),
    "audit_log": lambda p: AuditEntry(
        at=WHEN,
        actor_id=p.user.id,
        actor_label="Olive Owner <owner@example.com>",
        token_id=7,
        token_name="Zapier ✓",
        ip="2001:db8::1",
        user_agent="Mozilla/5.0 (X11; Linux x86_64)",
        action="channel.updated",
        target_type="channel",
        target_id=str(p.channel.id),
        target_label="Support WhatsApp",
        changes={"name": ["Support", "Support ✓"], "config.access_token": ["***", "***"]},
    ),
    # The conversation has its own row already (a trigger): this one is of a conversation
    # deleted meanwhile, which report_versions allows (no foreign key).
    "report_versions": lambda p: ReportVersion(conversation_id=10**12, version=5, built=3),
    "report_facts": lambda p: ReportFact(
        conversation_id=p.conversation.id,
        metric="first_response",
        at=WHEN,
        slot=int(WHEN.timestamp()) // 900,
        agent_id=p.user.id,
        team_id=p.team.id,
        channel_id=p.channel.id,
        value=12.5,
        open_value=2.25,
        tag="first_response",
        day=WHEN.date(),
        hour=WHEN.hour,
        labels=f"{p.label.id}",
    ),
    "report_counts": lambda p: ReportCount(
        grain="label",
        day=WHEN.date(),
        key=p.label.id,
        metric="csat",
        hour=-1,
        tag="",
        rating=4,
        n=3,
    ),
}


def test_every_table_has_a_round_trip_builder() -> None:
    assert set(BUILDERS) == set(Base.metadata.tables)


def _column_values(row: Base) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(type(row)).column_attrs}


@pytest.mark.parametrize("table", sorted(BUILDERS))
async def test_every_model_can_be_inserted_and_read_back(
    db: Sessions, parents: Parents, table: str
) -> None:
    row = BUILDERS[table](parents)
    await _save(db, row)
    written = _column_values(row)

    loaded = await _reload(db, row)

    assert loaded is not None and loaded is not row
    assert _column_values(loaded) == written


async def _two_teams_one_shared(db: Sessions, parents: Parents) -> User:
    """Ann in Support and Sales; the owner in Support."""
    ann = User(email="ann@example.com", name="Ann")
    sales = Team(name="Sales")
    await _save(db, ann, sales)
    await _save(
        db,
        TeamMembership(team_id=parents.team.id, user_id=ann.id),
        TeamMembership(team_id=sales.id, user_id=ann.id),
        TeamMembership(team_id=parents.team.id, user_id=parents.user.id),
    )
    return ann


async def test_user_teams_relationship_loads_the_users_teams(
    db: Sessions, parents: Parents
) -> None:
    ann = await _two_teams_one_shared(db, parents)
    async with db() as session:
        user = await session.get_one(User, ann.id)
        assert sorted(t.name for t in user.teams) == ["Sales", "Support"]
    async with db() as session:
        owner = await session.get_one(User, parents.user.id)
        assert [t.name for t in owner.teams] == ["Support"]


async def test_team_members_relationship_loads_the_teams_members(
    db: Sessions, parents: Parents
) -> None:
    await _two_teams_one_shared(db, parents)
    async with db() as session:
        team = await session.get_one(Team, parents.team.id)
        assert sorted(u.email for u in team.members) == ["ann@example.com", "owner@example.com"]


async def test_adding_a_team_to_user_teams_writes_a_membership(
    db: Sessions, parents: Parents
) -> None:
    async with db() as session:
        user = await session.get_one(User, parents.user.id)
        team = await session.get_one(Team, parents.team.id)
        user.teams.append(team)
        await session.commit()

    async with db() as session:
        memberships = (await session.scalars(select(TeamMembership))).all()
        assert [(m.team_id, m.user_id) for m in memberships] == [(parents.team.id, parents.user.id)]


async def test_inbound_log_keeps_the_body_bytes_exactly(db: Sessions, parents: Parents) -> None:
    body = bytes(range(256))
    entry = InboundLogEntry(
        method="POST", path="/webhooks/1", body=body, result="rejected", status_code=401
    )
    await _save(db, entry)
    loaded = await _reload(db, entry)
    assert isinstance(loaded.body, bytes)
    assert loaded.body == body


async def test_contact_identity_is_unique_per_channel_and_external_id(
    db: Sessions, parents: Parents
) -> None:
    def identity(channel_id: int) -> ContactIdentity:
        return ContactIdentity(
            contact_id=parents.contact.id, channel_id=channel_id, external_id="+4915100000000"
        )

    other = _channel("Second number")
    await _save(db, other, identity(parents.channel.id))
    await _save(db, identity(other.id))  # the same id on another channel is another person

    with pytest.raises(IntegrityError):
        await _save(db, identity(parents.channel.id))


async def test_message_external_id_is_unique_per_channel(db: Sessions, parents: Parents) -> None:
    def message(external_id: str | None, channel_id: int | None = None) -> Message:
        return Message(
            conversation_id=parents.conversation.id,
            channel_id=channel_id or parents.channel.id,
            direction="in",
            external_id=external_id,
            status="received",
        )

    other = _channel("Second number")
    await _save(db, other)
    await _save(db, message("wamid.1", other.id))  # parents.message has wamid.1 on the first

    with pytest.raises(IntegrityError):
        await _save(db, message("wamid.1"))


async def test_several_messages_without_external_id_are_allowed(
    db: Sessions, parents: Parents
) -> None:
    rows = [
        Message(
            conversation_id=parents.conversation.id,
            channel_id=parents.channel.id,
            direction="out",
            external_id=None,
            status="pending",
            text=f"draft {n}",
        )
        for n in range(3)
    ]
    await _save(db, *rows)
    async with db() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.external_id.is_(None))
        )
    assert count == 3


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda p: Message(
                conversation_id=999_999, channel_id=p.channel.id, direction="in", status="received"
            ),
            id="message-to-missing-conversation",
        ),
        pytest.param(
            lambda p: ContactIdentity(contact_id=999_999, channel_id=p.channel.id, external_id="x"),
            id="identity-of-missing-contact",
        ),
        pytest.param(
            lambda p: TeamMembership(team_id=999_999, user_id=p.user.id),
            id="membership-of-missing-team",
        ),
    ],
)
async def test_foreign_keys_are_enforced_on_every_engine(
    db: Sessions, parents: Parents, make: Builder
) -> None:
    with pytest.raises(IntegrityError):
        await _save(db, make(parents))


async def test_deleting_a_conversation_cascades_to_its_timeline(
    db: Sessions, parents: Parents
) -> None:
    event = ConversationEvent(conversation_id=parents.conversation.id, kind="opened")
    attachment = Attachment(
        message_id=parents.message.id,
        sha256="f" * 64,
        filename="a.jpg",
        content_type="image/jpeg",
        size=1,
    )
    outbox = OutboxItem(message_id=parents.message.id, channel_id=parents.channel.id)
    notification = Notification(
        user_id=parents.user.id, kind="mention", conversation_id=parents.conversation.id
    )
    await _save(db, event, attachment, outbox, notification)

    async with db() as session:
        await session.execute(
            delete(Conversation).where(Conversation.id == parents.conversation.id)
        )
        await session.commit()

    async with db() as session:
        for model in (Message, Comment, ConversationEvent, Attachment, OutboxItem, Notification):
            remaining = await session.scalar(select(func.count()).select_from(model))
            assert remaining == 0, model.__name__
        # Cascades go down, never up: the contact, channel and user stay.
        assert await session.get(Contact, parents.contact.id) is not None
        assert await session.get(Channel, parents.channel.id) is not None
        assert await session.get(User, parents.user.id) is not None


async def test_utc_datetime_reads_back_timezone_aware_utc(db: Sessions, parents: Parents) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2024, 6, 1, 12, 0, 0, 500, tzinfo=berlin)
    parents.contact.blocked_at = local
    async with db() as session:
        await session.merge(parents.contact)
        await session.commit()

    async with db() as session:
        stored = await session.scalar(
            select(Contact.blocked_at).where(Contact.id == parents.contact.id)
        )
    assert stored is not None
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == local  # the same instant
    assert (stored.hour, stored.microsecond) == (10, 500)


async def test_utc_datetime_defaults_are_timezone_aware(db: Sessions, parents: Parents) -> None:
    before = datetime.now(UTC)
    loaded = await _reload(db, parents.contact)
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at <= datetime.now(UTC)
    assert loaded.created_at >= before - timedelta(minutes=5)


async def test_utc_datetime_compares_correctly_in_queries(db: Sessions, parents: Parents) -> None:
    # 12:00 at +02:00 is 10:00 UTC: it is before 11:00 UTC, though its wall clock is after.
    parents.conversation.snoozed_until = datetime(
        2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))
    )
    async with db() as session:
        await session.merge(parents.conversation)
        await session.commit()
        due = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.snoozed_until < datetime(2024, 6, 1, 11, 0, tzinfo=UTC))
        )
    assert due == 1


async def test_utc_datetime_refuses_a_naive_datetime(db: Sessions, parents: Parents) -> None:
    naive = datetime(2024, 6, 1, 12, 0)
    with pytest.raises(StatementError) as caught:
        await _save(
            db,
            ApiToken(
                user_id=parents.user.id,
                name="x",
                token_hash="9" * 64,
                prefix="p",
                last_used_at=naive,
            ),
        )
    assert isinstance(caught.value.orig, ValueError)
    assert "naive" in str(caught.value.orig)


@pytest.mark.parametrize(
    "value",
    [NESTED, [1, "два", [3, {"4": None}]], "just a string ✓", 42, True, None],
    ids=["nested-dict", "nested-list", "string", "number", "bool", "null"],
)
async def test_json_columns_round_trip_values(db: Sessions, value: Any) -> None:
    setting = WorkspaceSetting(key="k", value=value)
    await _save(db, setting)
    async with db() as session:
        stored = await session.scalar(
            select(WorkspaceSetting.value).where(WorkspaceSetting.key == "k")
        )
    assert stored == value
    assert type(stored) is type(value)


async def test_json_columns_round_trip_on_messages(db: Sessions, parents: Parents) -> None:
    parts = [
        {"type": "text", "text": "Grüße 👋"},
        {"type": "location", "lat": 52.52, "lon": 13.405, "name": None},
        {"type": "contact", "phones": ["+49 30 1234"], "meta": {"nested": [[], {}]}},
    ]
    message = Message(
        conversation_id=parents.conversation.id,
        channel_id=parents.channel.id,
        direction="in",
        status="received",
        parts=parts,
        raw=NESTED,
    )
    await _save(db, message)
    loaded = await _reload(db, message)
    assert loaded.parts == parts
    assert loaded.raw == NESTED
