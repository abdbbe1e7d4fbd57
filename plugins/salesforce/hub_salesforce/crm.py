"""The Salesforce CRM type and the hook that registers it with the hub."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

from hub.contract import (
    CrmChanges,
    CrmContext,
    CrmField,
    CrmRecord,
    CrmTokens,
    CrmType,
    OAuthApp,
    PermanentFailure,
    hookimpl,
)

from hub_salesforce import errors, records
from hub_salesforce.client import SalesforceClient
from hub_salesforce.config import SalesforceConfig
from hub_salesforce.oauth import app_for, request_tokens
from hub_salesforce.records import soql_datetime, soql_quote, sosl_term

SETTLE = timedelta(seconds=1)
"""How far behind the server's current second a pull stops (commits still landing)."""
PAGE = 200
"""Records per pull and per ``IN`` list (well under SOQL's length limit)."""
DESCRIPTION_MAX_CHARS = 32_000
"""The longest Task ``Description`` Salesforce stores."""
# Always read: identity, the owner (routing) and the modification stamp (pulls, conflicts).
_ALWAYS = ("Id", "Email", "Phone", "MobilePhone", "OwnerId", "SystemModstamp")


def key_marker(idempotency_key: str) -> str:
    """The text carried in a Task's description that names the hub's idempotency key."""
    return f"[inbox-hub:{idempotency_key}]"


def task_description(body: str, idempotency_key: str) -> str:
    """The transcript, cut to Salesforce's limit, with the key always kept last."""
    tail = f"\n\n{key_marker(idempotency_key)}"
    return body[: DESCRIPTION_MAX_CHARS - len(tail)] + tail


class SalesforceCrm(CrmType[SalesforceConfig]):
    """A Salesforce org whose Contacts (or Leads) the inbox reads, creates and updates."""

    name = "salesforce"
    title = "Salesforce"
    description = (
        "Link inbox contacts to Salesforce Contacts or Leads: see and edit their fields "
        "beside the conversation, and log conversations as completed Tasks."
    )
    logo = files("hub_salesforce").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = SalesforceConfig
    # The admin pages and the agent's sidebar are not built yet: listed, not connectable.
    available = False
    oauth = OAuthApp(
        authorize_url="https://login.salesforce.com/services/oauth2/authorize",
        scopes=("api", "refresh_token"),
    )

    def __init__(self, config: SalesforceConfig, context: CrmContext) -> None:
        super().__init__(config, context)
        self.client = SalesforceClient(config, context)
        self._catalog: list[CrmField] | None = None

    @property
    def sobject(self) -> str:
        """``Contact`` or ``Lead``, as configured."""
        return self.config.record_object

    # --- connecting -----------------------------------------------------------------------

    def oauth_app(self) -> OAuthApp | None:
        """The authorize endpoint at the configured login URL (sandboxes, My Domain)."""
        return app_for(self.config)

    def client_id(self) -> str:
        """The connected app's consumer key."""
        return self.config.client_id

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> CrmTokens:
        """Trade the callback's code (and the PKCE verifier) for tokens and the instance."""
        return await request_tokens(
            self.context.http,
            self.config,
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )

    async def refresh(self, tokens: CrmTokens) -> CrmTokens:
        """A new session (and perhaps a new instance URL); ``BadCredentials`` on
        ``invalid_grant``."""
        return await self.client.refreshed(tokens)

    async def connect(self) -> None:
        """Check the session and the object's access by describing it."""
        self._catalog = None
        await self.field_catalog()

    def record_url(self, external_id: str) -> str | None:
        """The record in Lightning Experience."""
        base = self.client.instance_url
        return f"{base}/lightning/r/{self.sobject}/{external_id}/view" if base else None

    async def owner_email(self, owner_external_id: str) -> str | None:
        """The owning User's email; ``None`` for a queue (``00G…``) or an unknown user."""
        if not owner_external_id.startswith("005"):
            return None
        try:
            user = await self.client.call(
                "GET", f"sobjects/User/{owner_external_id}", params={"fields": "Email"}
            )
        except PermanentFailure as error:
            if error.code == "NOT_FOUND":
                return None
            raise
        return str(user["Email"]) if user and user.get("Email") else None

    # --- fields -----------------------------------------------------------------------------

    async def field_catalog(self) -> list[CrmField]:
        """The object's fields from describe; editable ⇔ ``updateable`` (so the compound
        ``Name`` is read-only and ``FirstName``/``LastName`` are written instead)."""
        if self._catalog is None:
            described = await self.client.call("GET", f"sobjects/{self.sobject}/describe")
            self._catalog = [
                field
                for field in (records.field_of(item) for item in described.get("fields", []))
                if field is not None
            ]
        return list(self._catalog)

    async def _select(self) -> str:
        names = [field.name for field in await self.field_catalog()]
        return ", ".join(dict.fromkeys([*_ALWAYS, *names]))

    async def _query(self, soql: str, *, follow: bool = True) -> list[dict[str, Any]]:
        """The records of a SOQL query, following ``nextRecordsUrl`` while not done."""
        answer = await self.client.call("GET", "query", params={"q": soql})
        found: list[dict[str, Any]] = list(answer.get("records", []))
        while follow and not answer.get("done", True) and answer.get("nextRecordsUrl"):
            answer = await self.client.call("GET", "", absolute_path=answer["nextRecordsUrl"])
            found += answer.get("records", [])
        return found

    # --- contacts ---------------------------------------------------------------------------

    async def find_contact(
        self, *, email: str | None = None, phone: str | None = None
    ) -> CrmRecord | None:
        """By email (SOQL, case-insensitive), then by phone (SOSL over phone fields,
        because phones are stored as typed)."""
        select = await self._select()
        if email:
            found = await self._query(
                # Values reach SOQL only through soql_quote; names come from describe.
                f"SELECT {select} FROM {self.sobject} WHERE Email = {soql_quote(email)} "  # noqa: S608
                "ORDER BY CreatedDate LIMIT 1",
                follow=False,
            )
            if found:
                return records.record_of(found[0])
        if phone:
            sosl = (
                f"FIND {{{sosl_term(phone)}}} IN PHONE FIELDS "
                f"RETURNING {self.sobject}({select} ORDER BY CreatedDate LIMIT 1)"
            )
            answer = await self.client.call("GET", "search", params={"q": sosl})
            hits = answer.get("searchRecords", []) if isinstance(answer, dict) else []
            if hits:
                return records.record_of(hits[0])
        return None

    async def create_contact(self, fields: dict[str, Any]) -> CrmRecord:
        """Create and read back in one composite call; a duplicate the org's rules catch
        is found by email and returned."""
        select = (await self._select()).replace(" ", "")
        base = self.client.data_path(f"sobjects/{self.sobject}")
        answer = await self.client.call(
            "POST",
            "composite",
            json={
                "allOrNone": True,
                "compositeRequest": [
                    {"method": "POST", "url": base, "referenceId": "created", "body": fields},
                    {
                        "method": "GET",
                        "url": f"{base}/@{{created.id}}?fields={select}",
                        "referenceId": "read",
                    },
                ],
            },
        )
        try:
            read = _composite_body(answer, "read")
        except PermanentFailure as error:
            email = fields.get("Email")
            if error.code == "DUPLICATES_DETECTED" and isinstance(email, str):
                existing = await self.find_contact(email=email)
                if existing is not None:
                    return existing
            raise
        return records.record_of(read)

    async def read_fields(self, external_id: str) -> CrmRecord:
        """One record with every field of the catalog."""
        found = await self.client.call(
            "GET",
            f"sobjects/{self.sobject}/{external_id}",
            params={"fields": (await self._select()).replace(" ", "")},
        )
        return records.record_of(found)

    async def read_many(self, external_ids: list[str]) -> list[CrmRecord]:
        """Records by SOQL ``Id IN (…)``, 200 a query; missing ones are left out."""
        select = await self._select()
        by_id: dict[str, CrmRecord] = {}
        for start in range(0, len(external_ids), PAGE):
            chunk = external_ids[start : start + PAGE]
            ids = ", ".join(soql_quote(i) for i in chunk)
            for found in await self._query(
                f"SELECT {select} FROM {self.sobject} WHERE Id IN ({ids})"  # noqa: S608
            ):
                record = records.record_of(found)
                by_id[record.external_id] = record
        # Salesforce answers 18-character ids; a 15-character one matches its prefix.
        return [
            record
            for wanted in external_ids
            for record in [by_id.get(wanted) or _by_prefix(by_id, wanted)]
            if record is not None
        ]

    async def update_fields(self, external_id: str, fields: dict[str, Any]) -> None:
        """PATCH the given fields (Salesforce answers 204 No Content)."""
        await self.client.call("PATCH", f"sobjects/{self.sobject}/{external_id}", json=fields)

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
        """A completed Task linked by ``WhoId``; one already carrying the key in its
        description is returned instead. ``Description`` is a long text area, which
        SOQL cannot filter, so the record's Tasks are read and matched here."""
        marker = key_marker(idempotency_key)
        tasks = await self._query(
            f"SELECT Id, Description FROM Task WHERE WhoId = {soql_quote(external_id)} "  # noqa: S608
            "ORDER BY CreatedDate DESC"
        )
        for task in tasks:
            if marker in str(task.get("Description") or ""):
                return str(task["Id"])
        created = await self.client.call(
            "POST",
            "sobjects/Task",
            json={
                "Subject": subject[:255],
                "Description": task_description(body, idempotency_key),
                "WhoId": external_id,
                "Status": "Completed",
                "Priority": "Normal",
                "ActivityDate": happened_at.date().isoformat(),
                "TaskSubtype": "Task",
            },
        )
        return str(created["id"])

    # --- keeping in step --------------------------------------------------------------------

    async def changes_since(self, cursor: str | None) -> CrmChanges:
        """Records by ``SystemModstamp`` then ``Id``, 200 a call; the cursor resumes
        after the last one, so ties at the same second are neither lost nor repeated.

        Salesforce stamps whole seconds, so a record changed again within a second a
        pull already passed would keep its stamp and be missed: records of the server's
        current second and the one before (a margin for commits still landing, by the
        answer's ``Date``) are left for the next pull, and the cursor stops before them.
        """
        select = await self._select()
        where = ""
        position = _parse_cursor(cursor)
        if position is not None:
            stamp, last_id = position
            where = (
                f" WHERE SystemModstamp > {stamp} OR "
                f"(SystemModstamp = {stamp} AND Id > {soql_quote(last_id)})"
            )
        found = await self._query(
            f"SELECT {select} FROM {self.sobject}{where} "  # noqa: S608
            f"ORDER BY SystemModstamp, Id LIMIT {PAGE}",
            follow=False,
        )
        now = self.client.server_time or datetime.now(UTC)
        settled = now.replace(microsecond=0) - SETTLE
        changed: list[CrmRecord] = []
        for item in found:
            record = records.record_of(item)
            if record.updated_at is not None and record.updated_at >= settled:
                break  # ordered by stamp: the rest are newer still
            changed.append(record)
        if not changed:
            return CrmChanges(records=[], cursor=cursor)
        last = changed[-1]
        moment = last.updated_at
        next_cursor = json.dumps(
            {
                "t": soql_datetime(moment) if moment else "1970-01-01T00:00:00Z",
                "id": last.external_id,
            },
            separators=(",", ":"),
        )
        return CrmChanges(records=changed, cursor=next_cursor)


def _by_prefix(by_id: dict[str, CrmRecord], wanted: str) -> CrmRecord | None:
    if len(wanted) != 15:
        return None
    return next((r for i, r in by_id.items() if i[:15] == wanted), None)


def _parse_cursor(cursor: str | None) -> tuple[str, str] | None:
    """(SOQL dateTime, Id) of a cursor this plugin wrote; ``None`` starts over."""
    if not cursor:
        return None
    try:
        data = json.loads(cursor)
        stamp = records.parse_time(str(data["t"]).replace("Z", ".000+0000"))
        last_id = str(data["id"])
    except (ValueError, KeyError, TypeError):
        return None
    if stamp is None or not last_id.isalnum():
        return None
    return soql_datetime(stamp), last_id


def _composite_body(answer: dict[str, Any], reference: str) -> dict[str, Any]:
    """The body of subrequest ``reference``; the first real error raised when any failed
    (Salesforce answers 200 to the composite call even then)."""
    results = answer.get("compositeResponse", [])
    failures = [r for r in results if int(r.get("httpStatusCode", 500)) >= 400]
    if failures:
        real = [
            r
            for r in failures
            if not (
                isinstance(r.get("body"), list)
                and r["body"]
                and r["body"][0].get("errorCode") == "PROCESSING_HALTED"
            )
        ] or failures
        body = real[0].get("body")
        error = body[0] if isinstance(body, list) and body else {}
        raise errors.error_of(int(real[0]["httpStatusCode"]), error)
    for result in results:
        if result.get("referenceId") == reference:
            return dict(result.get("body") or {})
    raise PermanentFailure("COMPOSITE", f"Salesforce did not answer subrequest {reference}")


@hookimpl
def hub_register_crm_types() -> list[type[CrmType[Any]]]:
    """Register the Salesforce CRM type."""
    return [SalesforceCrm]
