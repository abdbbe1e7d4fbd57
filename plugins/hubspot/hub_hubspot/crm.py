"""The HubSpot CRM type and the hook that registers it with the hub."""

from __future__ import annotations

import html
import json
from datetime import date, datetime
from importlib.resources import files
from typing import Any

from hub.contract import (
    BadCredentials,
    CrmChanges,
    CrmContext,
    CrmField,
    CrmRecord,
    CrmTokens,
    CrmType,
    OAuthApp,
    PermanentFailure,
    WebhookRejected,
    WebhookRequest,
    hookimpl,
)

from hub_hubspot import errors, records, search, signing
from hub_hubspot.client import HubSpotClient
from hub_hubspot.config import HubSpotConfig
from hub_hubspot.oauth import APP, request_tokens

NOTE_TO_CONTACT = 202
"""HUBSPOT_DEFINED association type of note → contact (a wrong one hides the note)."""
BATCH = 100
"""Most inputs HubSpot takes in one batch call."""
NOTE_MAX_CHARS = 65_536
"""The longest ``hs_note_body`` HubSpot stores."""
# Always read: the owner (routing) and the modification time (conflicts, pulls).
_ALWAYS = ("email", "phone", "mobilephone", "hubspot_owner_id", "lastmodifieddate")


def key_marker(idempotency_key: str) -> str:
    """The text carried in a note's body that names the hub's idempotency key."""
    return f"[inbox-hub:{idempotency_key}]"


def note_body(subject: str, body: str, idempotency_key: str) -> str:
    """The note's HTML: subject, transcript lines, and the idempotency key last (kept
    whole even when a long transcript is cut to HubSpot's limit)."""
    tail = f"<p>{html.escape(key_marker(idempotency_key))}</p>"
    head = f"<p><strong>{html.escape(subject)}</strong></p>"
    lines = "<br>".join(html.escape(line) for line in body.splitlines())
    room = NOTE_MAX_CHARS - len(head) - len(tail) - len("<p></p>")
    return f"{head}<p>{lines[:room]}</p>{tail}"


def wire_value(value: Any) -> str:
    """A value as HubSpot takes it: text, ``""`` to clear, booleans in lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


class HubSpotCrm(CrmType[HubSpotConfig]):
    """A HubSpot account whose contacts the inbox reads, creates and updates."""

    name = "hubspot"
    title = "HubSpot"
    description = (
        "Link inbox contacts to HubSpot contacts: see and edit their fields beside the "
        "conversation, and log conversations on the contact's timeline."
    )
    logo = files("hub_hubspot").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = HubSpotConfig
    # The admin pages and the agent's sidebar are not built yet: listed, not connectable.
    available = False
    # Not the class's ``oauth``: a private app token connects without OAuth, so whether a
    # connection authorizes through the OAuth app is the instance's ``oauth_app()``.
    oauth = None

    def __init__(self, config: HubSpotConfig, context: CrmContext) -> None:
        super().__init__(config, context)
        self.client = HubSpotClient(config, context)
        self._catalog: list[CrmField] | None = None
        self._portal_id: str | None = config.portal_id

    # --- connecting -----------------------------------------------------------------------

    def oauth_app(self) -> OAuthApp | None:
        """The OAuth app when no private app token is given."""
        return APP if self.config.uses_oauth else None

    def client_id(self) -> str:
        """The OAuth app's client id."""
        if self.config.client_id is None:
            raise BadCredentials("the HubSpot OAuth client ID is not set")
        return self.config.client_id

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> CrmTokens:
        """Trade the callback's code for tokens; the portal id is kept in ``extra``."""
        tokens = await request_tokens(
            self.context.http,
            self.config,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        if "hub_id" not in tokens.extra:
            self.client.tokens = tokens
            portal = await self._account_portal_id()
            tokens = tokens.model_copy(update={"extra": {**tokens.extra, "hub_id": portal}})
        return tokens

    async def refresh(self, tokens: CrmTokens) -> CrmTokens:
        """New tokens (HubSpot rotates the refresh token); ``BadCredentials`` on
        ``invalid_grant``."""
        return await self.client.refreshed(tokens)

    async def connect(self) -> None:
        """Check the token (account details) and the contacts scope (one contact)."""
        portal = await self._account_portal_id()
        if self.config.portal_id and self.config.portal_id != portal:
            raise BadCredentials(
                f"the token belongs to Hub ID {portal}, not {self.config.portal_id}"
            )
        await self.client.call(
            "GET", self.client.path("crm/objects", "contacts"), params={"limit": "1"}
        )

    async def _account_portal_id(self) -> str:
        answer = await self.client.call("GET", self.client.path("account-info", "details"))
        self._portal_id = str(answer.get("portalId", ""))
        return self._portal_id

    def record_url(self, external_id: str) -> str | None:
        """The contact in HubSpot's app, when the portal id is known."""
        tokens = self.client.tokens
        portal = self._portal_id or (tokens.extra.get("hub_id") if tokens else None)
        if not portal:
            return None
        return f"https://app.hubspot.com/contacts/{portal}/record/0-1/{external_id}"

    async def owner_email(self, owner_external_id: str) -> str | None:
        """The owner's email from the owners API; ``None`` for an unknown owner."""
        try:
            owner = await self.client.call("GET", self.client.path("crm/owners", owner_external_id))
        except PermanentFailure as error:
            if error.code == "OBJECT_NOT_FOUND":
                return None
            raise
        return str(owner["email"]) if owner.get("email") else None

    # --- fields -----------------------------------------------------------------------------

    async def field_catalog(self) -> list[CrmField]:
        """The account's contact properties that are not hidden, with HubSpot's read-only
        flags; email and phones never editable."""
        if self._catalog is None:
            answer = await self.client.call("GET", self.client.path("crm/properties", "contacts"))
            self._catalog = [
                records.field_of(prop)
                for prop in answer.get("results", [])
                if not prop.get("hidden") and not prop.get("archived")
            ]
        return list(self._catalog)

    async def _properties(self) -> list[str]:
        names = [field.name for field in await self.field_catalog()]
        return list(dict.fromkeys([*_ALWAYS, *names]))

    # --- contacts ---------------------------------------------------------------------------

    async def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self.client.call(
            "POST", self.client.path("crm/objects", "contacts/search"), json=body
        )

    async def find_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> CrmRecord | None:
        """By email, then by phone. Search is eventually consistent: a contact created a
        few seconds ago may not be found yet (the core keeps the id ``create`` answers)."""
        properties = await self._properties()
        if email:
            found = (await self._search(search.by_email(email, properties))).get("results", [])
            if found:
                return records.record_of(found[0])
        if phone:
            found = (await self._search(search.by_phone(phone, properties))).get("results", [])
            if found:
                return records.record_of(found[0])
        return None

    async def create_contact(self, fields: dict[str, Any]) -> CrmRecord:
        """Create a contact; one that exists with the email is read and returned."""
        body = {"properties": {name: wire_value(value) for name, value in fields.items()}}
        try:
            created = await self.client.call(
                "POST", self.client.path("crm/objects", "contacts"), json=body
            )
        except PermanentFailure as error:
            existing = errors.existing_id(error)
            if existing is None:
                raise
            return await self.read_fields(existing)
        return records.record_of(created)

    async def read_fields(self, external_id: str) -> CrmRecord:
        """One contact with every property of the catalog."""
        properties = await self._properties()
        found = await self.client.call(
            "GET",
            self.client.path("crm/objects", f"contacts/{external_id}"),
            params={"properties": ",".join(properties)},
        )
        return records.record_of(found)

    async def read_many(self, external_ids: list[str]) -> list[CrmRecord]:
        """Contacts by batch read, 100 a call; missing ones are left out."""
        properties = await self._properties()
        found: list[CrmRecord] = []
        for start in range(0, len(external_ids), BATCH):
            chunk = external_ids[start : start + BATCH]
            answer = await self.client.call(
                "POST",
                self.client.path("crm/objects", "contacts/batch/read"),
                json={"properties": properties, "inputs": [{"id": i} for i in chunk]},
            )
            found += [records.record_of(obj) for obj in answer.get("results", [])]
        return found

    async def update_fields(self, external_id: str, fields: dict[str, Any]) -> None:
        """PATCH the given properties (HubSpot answers 200 with the object)."""
        identity = sorted(records.IDENTITY & fields.keys())
        if identity:
            raise PermanentFailure("READ_ONLY_VALUE", f"{', '.join(identity)} cannot be edited")
        await self.client.call(
            "PATCH",
            self.client.path("crm/objects", f"contacts/{external_id}"),
            json={"properties": {name: wire_value(value) for name, value in fields.items()}},
        )

    # --- activities -------------------------------------------------------------------------

    async def log_conversation(
        self,
        external_id: str,
        *,
        subject: str,
        body: str,
        happened_at: datetime,
        idempotency_key: str,
    ) -> str:
        """A note on the contact's timeline; a note already carrying the key is returned
        instead of logging twice."""
        existing = await self._note_with(external_id, key_marker(idempotency_key))
        if existing is not None:
            return existing
        created = await self.client.call(
            "POST",
            self.client.path("crm/objects", "notes"),
            json={
                "properties": {
                    "hs_timestamp": happened_at.isoformat(),
                    "hs_note_body": note_body(subject, body, idempotency_key),
                },
                "associations": [
                    {
                        "to": {"id": external_id},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": NOTE_TO_CONTACT,
                            }
                        ],
                    }
                ],
            },
        )
        return str(created["id"])

    async def _note_with(self, contact_id: str, marker: str) -> str | None:
        escaped = html.escape(marker)
        after: str | None = None
        while True:
            answer = await self.client.call(
                "POST",
                self.client.path("crm/objects", "notes/search"),
                json=search.notes_of(contact_id, after),
            )
            for note in answer.get("results", []):
                text = str((note.get("properties") or {}).get("hs_note_body") or "")
                if marker in text or escaped in text:
                    return str(note["id"])
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return None

    # --- keeping in step --------------------------------------------------------------------

    async def changes_since(self, cursor: str | None) -> CrmChanges:
        """Contacts by ``lastmodifieddate``, oldest first, one page a call; the cursor
        resumes after the last one (ties at the same millisecond by id)."""
        position = search.Cursor.parse(cursor)
        properties = await self._properties()
        after: str | None = None
        while True:
            answer = await self._search(search.changed_since(position, properties, after))
            results = answer.get("results", [])
            fresh = [
                records.record_of(obj)
                for obj in results
                if not (_stamp_ms(obj) == position.since_ms and str(obj["id"]) in position.seen)
            ]
            if fresh or len(results) < search.PAGE:
                break
            after = str(int(after or 0) + len(results))  # a full page of ties: page on
        for obj in (record.raw for record in fresh):
            stamp = _stamp_ms(obj)
            if stamp > position.since_ms:
                position = search.Cursor(stamp, [])
            if stamp == position.since_ms:
                position.seen.append(str(obj["id"]))
        return CrmChanges(records=fresh, cursor=position.dump())

    async def handle_webhook(self, request: WebhookRequest) -> list[CrmRecord]:
        """Verify the v3 signature and turn the batch of events into records."""
        if self.config.client_secret is None:
            raise WebhookRejected(403, "set the app's client secret to receive webhooks")
        signing.verify(self.config.client_secret.get_secret_value(), request)
        try:
            events = json.loads(request.body)
        except ValueError as error:
            raise WebhookRejected(400, "the body is not JSON") from error
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise WebhookRejected(400, "the body must be a JSON array of events")
        return records.records_of_events(events)


def _stamp_ms(obj: dict[str, Any]) -> int:
    moment = records.parse_time(
        (obj.get("properties") or {}).get("lastmodifieddate") or obj.get("updatedAt")
    )
    return int(moment.timestamp() * 1000) if moment else 0


@hookimpl
def hub_register_crm_types() -> list[type[CrmType[Any]]]:
    """Register the HubSpot CRM type."""
    return [HubSpotCrm]
