"""A fake of HubSpot's CRM API (contacts, properties, notes, owners, account details, the
OAuth token endpoint) over a ``CrmWorld``, in HubSpot's documented formats.

Paths are accepted under the legacy ``/crm/v3/…`` and the date-based
``/crm/objects/2026-03/…`` shapes alike. Errors carry HubSpot's body
``{status:"error", message, correlationId, category}``; a 429 its ``policyName`` and the
``X-HubSpot-RateLimit-*`` headers (search answers carry none, as HubSpot's do not).
"""

from __future__ import annotations

import re
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from hub.testing import CrmActivity, CrmWorld
from tests.fake_crm import FakeRequest, FakeResponse, correlation_id

PRIVATE_APP_LIMIT = 100
"""Requests a private app may make per ``PRIVATE_APP_INTERVAL`` seconds (Free/Starter)."""
PRIVATE_APP_INTERVAL = 10.0
SEARCHES_PER_SECOND = 5
"""Search's own limit per account ("a few per second")."""
PORTAL_ID = 62515
OWNER = {
    "id": "41629779",
    "email": "owner@example.com",
    "type": "PERSON",
    "firstName": "Olive",
    "lastName": "Owner",
    "userId": 9586504,
    "userIdIncludingInactive": 9586504,
    "createdAt": "2019-12-25T13:01:35.228Z",
    "updatedAt": "2023-08-22T13:40:26.790Z",
    "archived": False,
}
_VERSION = r"(?:v3|[0-9]{4}-[0-9]{2})"
_CRM = re.compile(r"^/crm/(?:v3/)?(objects|properties|owners)/(?:[0-9]{4}-[0-9]{2}/)?(.*)$")
_ACCOUNT = re.compile(rf"^/account-info/{_VERSION}/details$")
_TOKEN = re.compile(rf"^/oauth/{_VERSION}/token$")
_DEFAULTS = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")


def _prop(
    name: str,
    label: str,
    kind: str = "string",
    field_type: str = "text",
    *,
    read_only: bool = False,
    options: tuple[str, ...] = (),
    hidden: bool = False,
    calculated: bool = False,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "description": "",
        "groupName": "contactinformation",
        "options": [
            {"label": o.title(), "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options)
        ],
        "displayOrder": -1,
        "calculated": calculated,
        "externalOptions": False,
        "hasUniqueValue": False,
        "hidden": hidden,
        "hubspotDefined": True,
        "modificationMetadata": {
            "archivable": False,
            "readOnlyDefinition": True,
            "readOnlyValue": read_only,
        },
        "formField": not read_only,
    }


PROPERTIES = [
    _prop("email", "Email"),
    _prop("phone", "Phone Number", field_type="phonenumber"),
    _prop("mobilephone", "Mobile Phone Number", field_type="phonenumber"),
    _prop("firstname", "First Name"),
    _prop("lastname", "Last Name"),
    _prop("company", "Company Name"),
    _prop("jobtitle", "Job Title"),
    _prop(
        "lifecyclestage",
        "Lifecycle Stage",
        "enumeration",
        "radio",
        options=("subscriber", "lead", "customer", "other"),
    ),
    _prop("hubspot_owner_id", "Contact owner", "enumeration", "select"),
    _prop("hs_email_domain", "Email Domain", read_only=True),
    _prop("createdate", "Create Date", "datetime", "date", read_only=True),
    _prop("lastmodifieddate", "Last Modified Date", "datetime", "date", read_only=True),
    _prop("hs_searchable_calculated_phone_number", "Calculated phone", read_only=True, hidden=True),
    _prop(
        "hs_searchable_calculated_mobile_number", "Calculated mobile", read_only=True, hidden=True
    ),
]


def _iso(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )


def _digits(value: Any) -> str:
    text = str(value or "")
    if text.startswith("+"):
        try:
            return str(phonenumbers.parse(text, None).national_number)
        except phonenumbers.NumberParseException:
            pass
    return re.sub(r"[^0-9]", "", text)


class HubSpotFake:
    """HubSpot's API over ``world``; ``token`` is a private app token it accepts (without
    one, the world's OAuth access token); ``limit`` requests per ``interval`` seconds
    (rolling) before a ``TEN_SECONDLY_ROLLING`` 429, and ``searches_per_second`` before
    search's own "secondly limit" 429 (which, like HubSpot's, carries no rate headers)."""

    def __init__(
        self,
        world: CrmWorld,
        *,
        token: str | None = None,
        limit: int | None = None,
        interval: float = 10.0,
        searches_per_second: int | None = None,
    ) -> None:
        self.world = world
        self.token = token
        self.limit = limit
        self.interval = interval
        self.searches_per_second = searches_per_second
        self._recent: deque[float] = deque()
        self._searches: deque[float] = deque()
        self.limited = 0
        """How many calls were answered with a 429."""
        self._clock = 0

    # --- plumbing ---------------------------------------------------------------------------

    def _now_ms(self) -> int:
        # Strictly increasing, so two writes never share a modification time by accident.
        self._clock = max(self._clock + 1, int(self.world.now() * 1000))
        return self._clock

    @staticmethod
    def error(status: int, message: str, category: str, **extra: Any) -> FakeResponse:
        """HubSpot's error body."""
        cid = correlation_id()
        body = {"status": "error", "message": message, "correlationId": cid}
        body.update({"category": category} if category else {})
        body.update(extra)
        return FakeResponse(status, body, {"X-HubSpot-Correlation-Id": cid})

    def _rate_headers(self) -> dict[str, str]:
        if self.limit is None:
            return {}
        return {
            "X-HubSpot-RateLimit-Max": str(self.limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.limit - len(self._recent))),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.interval * 1000)),
        }

    def _limited(self) -> FakeResponse | None:
        limited = self.world.take_rate_limit()
        if self.limit is not None and not limited:
            now = time.monotonic()
            while self._recent and now - self._recent[0] >= self.interval:
                self._recent.popleft()
            limited = len(self._recent) >= self.limit
            if not limited:
                self._recent.append(now)
        if not limited:
            return None
        self.limited += 1
        answer = self.error(
            429,
            "You have reached your ten_secondly_rolling limit.",
            "",
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
            requestId=correlation_id(),
        )
        answer.headers.update(
            self._rate_headers()
            or {
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "0",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            }
        )
        answer.headers["X-HubSpot-RateLimit-Remaining"] = "0"
        return answer

    def _search_limited(self) -> bool:
        if self.searches_per_second is None:
            return False
        now = time.monotonic()
        while self._searches and now - self._searches[0] >= 1.0:
            self._searches.popleft()
        if len(self._searches) >= self.searches_per_second:
            return True
        self._searches.append(now)
        return False

    def _authorized(self, request: FakeRequest) -> FakeResponse | None:
        given = request.header("Authorization")
        if self.token is not None:
            ok = given == f"Bearer {self.token}"
        else:
            ok = given == f"Bearer {self.world.access_token}" and not self.world.expired
        if ok:
            return None
        if self.token is None and given == f"Bearer {self.world.access_token}":
            return self.error(
                401,
                "The OAuth token used to make this call expired 12 second(s) ago.",
                "EXPIRED_AUTHENTICATION",
            )
        return self.error(
            401,
            "Authentication credentials not found. This API supports OAuth 2.0 "
            "authentication and you can find more details at https://developers.hubspot.com/"
            "docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        )

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one HubSpot API request."""
        self.world.calls += 1
        if self.world.down:
            return self.error(503, "Service Unavailable", "")
        if _TOKEN.match(request.path) and request.method == "POST":
            return self._token(request.form())
        limited = self._limited()
        if limited is not None:
            return limited
        refused = self._authorized(request)
        if refused is not None:
            return refused
        if request.path.endswith("/search") and self._search_limited():
            self.limited += 1
            return self.error(
                429,
                "You have reached your secondly limit.",
                "",
                errorType="RATE_LIMIT",
                policyName="SECONDLY",
                requestId=correlation_id(),
            )
        answer = self._route(request)
        if not request.path.endswith("/search"):
            answer.headers.update(self._rate_headers())
        return answer

    def _route(self, request: FakeRequest) -> FakeResponse:
        if _ACCOUNT.match(request.path):
            return FakeResponse(
                200,
                {
                    "portalId": PORTAL_ID,
                    "accountType": "STANDARD",
                    "timeZone": "Europe/Berlin",
                    "companyCurrency": "EUR",
                    "additionalCurrencies": [],
                    "utcOffset": "+01:00",
                    "utcOffsetMilliseconds": 3600000,
                    "uiDomain": "app.hubspot.com",
                    "dataHostingLocation": "eu1",
                },
            )
        match = _CRM.match(request.path)
        if match is None:
            return self.error(404, f"Unknown path {request.path}", "OBJECT_NOT_FOUND")
        api, rest = match.groups()
        method = request.method
        if api == "properties" and rest == "contacts" and method == "GET":
            return FakeResponse(200, {"results": PROPERTIES})
        if api == "owners" and method == "GET":
            if rest == OWNER["id"]:
                return FakeResponse(200, OWNER)
            return self.error(404, "Owner not found", "OBJECT_NOT_FOUND")
        if api == "objects":
            return self._objects(method, rest, request)
        return self.error(404, f"Unknown path {request.path}", "OBJECT_NOT_FOUND")

    # --- tokens -----------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> FakeResponse:
        def invalid_grant(description: str) -> FakeResponse:
            return FakeResponse(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": description,
                    "status": "BAD_REFRESH_TOKEN",
                    "message": description,
                    "correlationId": correlation_id(),
                },
            )

        grant = form.get("grant_type")
        if grant == "refresh_token":
            if self.world.grant_revoked or form.get("refresh_token") != self.world.refresh_token:
                return invalid_grant("missing or unknown refresh token")
        elif grant == "authorization_code":
            if not form.get("code") or self.world.grant_revoked:
                return invalid_grant("missing or invalid authorization code")
        else:
            return FakeResponse(400, {"error": "unsupported_grant_type"})
        self.world.refresh()
        return FakeResponse(
            200,
            {
                "token_type": "bearer",
                "refresh_token": self.world.refresh_token,
                "access_token": self.world.access_token,
                "expires_in": 1800,
                "hub_id": PORTAL_ID,
                "scopes": ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write"],
            },
        )

    # --- objects ----------------------------------------------------------------------------

    def _contact(self, contact_id: str, properties: list[str] | None) -> dict[str, Any]:
        stored = self.world.contacts[contact_id]
        added = self.world.added_at.get(contact_id)
        now = int(added * 1000) if added is not None else self._now_ms()
        stored.setdefault("createdate", _iso(now))
        stored.setdefault("lastmodifieddate", stored["createdate"])
        values = {
            **stored,
            "hs_object_id": contact_id,
            "hs_searchable_calculated_phone_number": _digits(stored.get("phone")) or None,
            "hs_searchable_calculated_mobile_number": _digits(stored.get("mobilephone")) or None,
        }
        wanted = properties if properties else list(_DEFAULTS)
        return {
            "id": contact_id,
            "properties": {name: values.get(name) for name in dict.fromkeys([*_DEFAULTS, *wanted])},
            "createdAt": stored["createdate"],
            "updatedAt": stored["lastmodifieddate"],
            "archived": False,
        }

    def _objects(self, method: str, rest: str, request: FakeRequest) -> FakeResponse:
        parts = rest.split("/")
        kind = parts[0]
        if kind == "notes":
            return self._notes(method, parts[1:], request)
        if kind != "contacts":
            return self.error(404, f"Unknown object type {kind}", "OBJECT_NOT_FOUND")
        body = request.json() or {}
        if parts[1:] == ["search"] and method == "POST":
            return self._search(body)
        if parts[1:] == ["batch", "read"] and method == "POST":
            return self._batch_read(body)
        if len(parts) == 1 and method == "POST":
            return self._create(body)
        if len(parts) == 1 and method == "GET":
            limit = int(request.query.get("limit", "10"))
            ids = list(self.world.contacts)[:limit]
            return FakeResponse(200, {"results": [self._contact(i, None) for i in ids]})
        if len(parts) == 2:
            contact_id = parts[1]
            if contact_id not in self.world.contacts:
                return self.error(404, "resource not found", "OBJECT_NOT_FOUND")
            if method == "GET":
                wanted = [p for p in request.query.get("properties", "").split(",") if p]
                return FakeResponse(200, self._contact(contact_id, wanted))
            if method == "PATCH":
                return self._update(contact_id, body)
        return self.error(405, f"{method} is not allowed here", "VALIDATION_ERROR")

    def _read_only(self, properties: dict[str, Any]) -> FakeResponse | None:
        for name in properties:
            known = next((p for p in PROPERTIES if p["name"] == name), None)
            if known is None:
                return self.error(
                    400,
                    f'Property values were not valid: [{{"isValid":false,"message":"Property '
                    f'\\"{name}\\" does not exist","error":"PROPERTY_DOESNT_EXIST",'
                    f'"name":"{name}"}}]',
                    "VALIDATION_ERROR",
                )
            if known["modificationMetadata"]["readOnlyValue"]:
                return self.error(
                    400,
                    f'Property values were not valid: [{{"isValid":false,"message":"{name} is a '
                    f'read only property; its value cannot be set.","error":"READ_ONLY_VALUE",'
                    f'"name":"{name}"}}]',
                    "VALIDATION_ERROR",
                )
        return None

    def _create(self, body: dict[str, Any]) -> FakeResponse:
        properties = {k: str(v) for k, v in (body.get("properties") or {}).items()}
        refused = self._read_only(properties)
        if refused is not None:
            return refused
        email = properties.get("email", "").lower()
        for contact_id, stored in self.world.contacts.items():
            if email and str(stored.get("email", "")).lower() == email:
                return self.error(
                    409, f"Contact already exists. Existing ID: {contact_id}", "CONFLICT"
                )
        stamp = _iso(self._now_ms())
        contact_id = self.world.add_contact(
            {**properties, "createdate": stamp, "lastmodifieddate": stamp}
        )
        return FakeResponse(201, self._contact(contact_id, list(properties)))

    def _update(self, contact_id: str, body: dict[str, Any]) -> FakeResponse:
        properties = {k: str(v) for k, v in (body.get("properties") or {}).items()}
        refused = self._read_only(properties)
        if refused is not None:
            return refused
        stored = self.world.contacts[contact_id]
        stored.update({k: (v if v != "" else None) for k, v in properties.items()})
        stored["lastmodifieddate"] = _iso(self._now_ms())
        return FakeResponse(200, self._contact(contact_id, list(properties)))

    def _batch_read(self, body: dict[str, Any]) -> FakeResponse:
        inputs = [str(i.get("id")) for i in body.get("inputs") or []]
        if len(inputs) > 100:
            return self.error(400, "Batch input limit is 100", "VALIDATION_ERROR")
        wanted = list(body.get("properties") or [])
        found = [self._contact(i, wanted) for i in inputs if i in self.world.contacts]
        missing = [i for i in inputs if i not in self.world.contacts]
        stamp = _iso(self._now_ms())
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": found,
            "startedAt": stamp,
            "completedAt": stamp,
        }
        if not missing:
            return FakeResponse(200, answer)
        answer["numErrors"] = 1
        answer["errors"] = [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not "
                "exist. Check that ids are valid.",
                "context": {"ids": missing},
            }
        ]
        return FakeResponse(207, answer)

    @staticmethod
    def _matches(values: dict[str, Any], flt: dict[str, Any]) -> bool:
        name, operator, wanted = flt.get("propertyName"), flt.get("operator"), flt.get("value")
        value = values.get(str(name))
        if operator == "EQ":
            return value is not None and str(value).lower() == str(wanted).lower()
        if operator == "GTE" and value is not None:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return int(moment.timestamp() * 1000) >= int(str(wanted))
        return False

    def _search(self, body: dict[str, Any]) -> FakeResponse:
        groups = body.get("filterGroups") or []
        filters = sum(len(g.get("filters") or []) for g in groups)
        if len(groups) > 5 or filters > 25:
            return self.error(400, "Too many filter groups or filters", "VALIDATION_ERROR")
        wanted = list(body.get("properties") or [])
        every = [self._contact(i, None) for i in self.world.contacts]
        hits = []
        for contact in every:
            values = self._contact(contact["id"], [p["name"] for p in PROPERTIES])["properties"]
            if not groups or any(
                all(self._matches(values, f) for f in g.get("filters") or []) for g in groups
            ):
                hits.append((values, contact["id"]))
        for sort in body.get("sorts") or []:
            name = sort.get("propertyName")
            hits.sort(
                key=lambda hit: str(hit[0].get(name) or ""),
                reverse=sort.get("direction") == "DESCENDING",
            )
        start = int(body.get("after") or 0)
        limit = min(int(body.get("limit") or 10), 200)
        page = hits[start : start + limit]
        answer: dict[str, Any] = {
            "total": len(hits),
            "results": [self._contact(i, wanted) for _, i in page],
        }
        if start + limit < len(hits):
            answer["paging"] = {"next": {"after": str(start + limit)}}
        return FakeResponse(200, answer)

    def _notes(self, method: str, parts: list[str], request: FakeRequest) -> FakeResponse:
        body = request.json() or {}
        if parts == ["search"] and method == "POST":
            contact = next(
                (
                    str(f.get("value"))
                    for g in body.get("filterGroups") or []
                    for f in g.get("filters") or []
                    if f.get("propertyName") == "associations.contact"
                ),
                None,
            )
            notes = [a for a in self.world.activities if contact in (None, a.contact_id)]
            return FakeResponse(
                200,
                {
                    "total": len(notes),
                    "results": [
                        {"id": a.id, "properties": a.fields, "archived": False} for a in notes
                    ],
                },
            )
        if not parts and method == "POST":
            properties = dict(body.get("properties") or {})
            if "hs_timestamp" not in properties:
                return self.error(
                    400,
                    "Property values were not valid: hs_timestamp is required",
                    "VALIDATION_ERROR",
                )
            note_id = self.world.new_id()
            for association in body.get("associations") or []:
                types = association.get("types") or []
                to = str((association.get("to") or {}).get("id"))
                if to not in self.world.contacts:
                    return self.error(400, f"No contact with id {to}", "VALIDATION_ERROR")
                # Only a note associated with the documented type shows on the timeline.
                if any(
                    t.get("associationCategory") == "HUBSPOT_DEFINED"
                    and t.get("associationTypeId") == 202
                    for t in types
                ):
                    properties["hs_object_id"] = note_id
                    self.world.activities.append(
                        CrmActivity(note_id, to, str(properties.get("hs_note_body")), properties)
                    )
            stamp = _iso(self._now_ms())
            return FakeResponse(
                201,
                {
                    "id": note_id,
                    "properties": {**properties, "hs_createdate": stamp},
                    "createdAt": stamp,
                    "updatedAt": stamp,
                    "archived": False,
                },
            )
        return self.error(405, f"{method} is not allowed here", "VALIDATION_ERROR")
