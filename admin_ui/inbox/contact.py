"""The contact panel beside an open conversation: the contact's fields (edited in place
through the REST API by the page's script), channels, merge suggestions, activity and
earlier conversations. The pane includes it; ``inbox.contact`` serves it alone, to
refresh it after an edit or a ``contact.updated`` event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from admin_ui.access import viewer_of
from admin_ui.rendering import render_fragment
from hub.api.context import path_id, work
from hub.auth.visibility import Viewer
from hub.errors import Invalid
from hub.events.work import Work
from hub.inbox.contact_activity import (
    Activity,
    ContactConversation,
    contact_activity,
    contact_conversations,
)
from hub.inbox.contact_merge import Reason, duplicates_of
from hub.inbox.contacts import IdentityRow, get_contact, list_identities, visible_conversation_ids
from hub.inbox.csat import survey_of
from hub.store.models import Contact, CsatSurvey

routes = web.RouteTableDef()
SUGGESTIONS_SHOWN = 10


@dataclass(frozen=True)
class Suggestion:
    """Another contact that looks like this one, and why (a shared email or phone)."""

    other: Contact
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class ContactPanel:
    """Everything the panel shows about one contact, seen from one conversation."""

    contact: Contact
    conversation_id: int | None
    identities: list[IdentityRow]
    conversations: list[ContactConversation]
    activity: list[Activity]
    suggestions: list[Suggestion]
    can_merge: bool
    csat: CsatSurvey | None = None
    """The CSAT survey of the conversation the panel sits beside, when the viewer sees it."""

    @property
    def custom_fields(self) -> list[tuple[str, Any]]:
        """The contact's custom fields, by key."""
        return sorted((self.contact.fields or {}).items())

    @property
    def earlier(self) -> list[ContactConversation]:
        """The contact's other conversations (the one open is not "earlier")."""
        return [c for c in self.conversations if c.conversation.id != self.conversation_id]


async def load_panel(
    w: Work,
    viewer: Viewer,
    contact: Contact,
    conversation_id: int | None,
    identities: list[IdentityRow] | None = None,
) -> ContactPanel:
    """The panel of a contact the viewer may see (the caller checked it); its
    ``identities`` when the caller has them already (the pane's composer)."""
    suggestions: list[Suggestion] = []
    # Merging is for viewers who see every contact: others get no button to fail.
    if viewer.sees_everything:
        pairs = await duplicates_of(w.db, viewer, contact, SUGGESTIONS_SHOWN)
        suggestions = [
            Suggestion(p.other if p.contact.id == contact.id else p.contact, p.reasons)
            for p in pairs
        ]
    if identities is None:
        identities = await list_identities(w.db, viewer, contact.id)
    # Read once for both lists below.
    visible = await visible_conversation_ids(w.db, viewer, contact.id)
    return ContactPanel(
        contact,
        conversation_id,
        identities,
        await contact_conversations(w.db, viewer, contact.id, visible=visible),
        await contact_activity(w.db, viewer, contact.id, visible=visible),
        suggestions,
        viewer.sees_everything,
        await survey_of(w.db, conversation_id)
        if conversation_id is not None and conversation_id in visible
        else None,
    )


def _conversation_id(request: web.Request) -> int | None:
    raw = request.query.get("conversation_id") or ""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("conversation_id", "must be a conversation id")
    return int(raw)


@routes.get("/inbox/contacts/{contact_id}/panel", name="inbox.contact")
async def panel(request: web.Request) -> web.StreamResponse:
    """The contact panel alone (``conversation_id``: the conversation it sits beside)."""
    viewer = viewer_of(request)
    contact_id = path_id(request, "contact_id", "contact")
    conversation_id = _conversation_id(request)
    async with work(request) as w:
        contact = await get_contact(w.db, viewer, contact_id)
        context = {"panel": await load_panel(w, viewer, contact, conversation_id)}
    return await render_fragment(request, "inbox/_contact.html", context)
