"""Every table of the hub; importing this module registers them all on ``Base.metadata``."""

from hub.store.models.audit import AuditEntry
from hub.store.models.automation import Macro, Rule, RuleRun, RuleTimerFire
from hub.store.models.base import Base
from hub.store.models.channels import Channel, ChannelDefinition, InboundLogEntry, OutboxItem
from hub.store.models.composing import Draft, IdempotencyKey
from hub.store.models.contacts import Contact, ContactIdentity
from hub.store.models.conversations import (
    Attachment,
    BulkJob,
    Comment,
    Conversation,
    ConversationEvent,
    ConversationThreadKey,
    Message,
    Notification,
)
from hub.store.models.crm import CrmBulkJob, CrmFieldChange, CrmOAuthState, CrmTranscript
from hub.store.models.csat import CsatSurvey
from hub.store.models.hours import AvailabilitySchedule, BusinessHours, OutOfHoursReply
from hub.store.models.labels import ConversationLabel, Label
from hub.store.models.people import (
    ROLES,
    VISIBILITIES,
    ApiToken,
    LoginSession,
    Team,
    TeamMembership,
    User,
)
from hub.store.models.realtime import RealtimeEvent
from hub.store.models.reports import ReportCount, ReportFact, ReportVersion
from hub.store.models.sla import SlaPolicy
from hub.store.models.webhooks import WebhookDelivery, WebhookSubscription
from hub.store.models.workspace import (
    CrmConnection,
    CrmContactLink,
    CustomInbox,
    CustomInboxShare,
    InboxViewSeen,
    SetupToken,
    Snippet,
    WorkspaceSetting,
)

__all__ = [
    "ROLES",
    "VISIBILITIES",
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "AvailabilitySchedule",
    "Base",
    "BulkJob",
    "BusinessHours",
    "Channel",
    "ChannelDefinition",
    "Comment",
    "Contact",
    "ContactIdentity",
    "Conversation",
    "ConversationEvent",
    "ConversationLabel",
    "ConversationThreadKey",
    "CrmBulkJob",
    "CrmConnection",
    "CrmContactLink",
    "CrmFieldChange",
    "CrmOAuthState",
    "CrmTranscript",
    "CsatSurvey",
    "CustomInbox",
    "CustomInboxShare",
    "Draft",
    "IdempotencyKey",
    "InboundLogEntry",
    "InboxViewSeen",
    "Label",
    "LoginSession",
    "Macro",
    "Message",
    "Notification",
    "OutOfHoursReply",
    "OutboxItem",
    "RealtimeEvent",
    "ReportCount",
    "ReportFact",
    "ReportVersion",
    "Rule",
    "RuleRun",
    "RuleTimerFire",
    "SetupToken",
    "SlaPolicy",
    "Snippet",
    "Team",
    "TeamMembership",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "WorkspaceSetting",
]
