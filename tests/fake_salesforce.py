"""A fake of Salesforce's REST API (describe, SOQL, SOSL, sObject rows, composite, Tasks,
Users) and its OAuth token endpoint over a ``CrmWorld``, in Salesforce's formats.

Errors are arrays ``[{message, errorCode, fields?}]``; every answer carries
``Sforce-Limit-Info: api-usage=n/limit``. SOQL is understood for the shapes the plugin
sends (equality, ``IN``, the ``SystemModstamp``/``Id`` cursor), with string literals
unescaped as Salesforce does, so a quote in a value cannot change the query.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

from hub.testing import CrmActivity, CrmWorld
from tests.fake_crm import FakeRequest, FakeResponse

DAILY_API_REQUESTS = 15_000
"""A Developer Edition org's rolling 24-hour API quota (pass it as ``daily_limit``)."""
ORG_ID = "00D5g000004Xyz1EAC"
USER = {"Id": "005000000000001AAA", "Email": "owner@example.com", "Name": "Olive Owner"}
_DATA = re.compile(r"^/services/data/(v[0-9]+\.[0-9]+)/(.*)$")
_SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<object>\w+)(?: WHERE (?P<where>.+?))?"
    r"(?: ORDER BY (?P<order>.+?))?(?: LIMIT (?P<limit>[0-9]+))?$",
    re.DOTALL,
)
_LITERAL = r"'((?:[^'\\]|\\.)*)'"
_STAMP = r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)"
_EQUALS = re.compile(rf"^(\w+) = {_LITERAL}$")
_IN = re.compile(rf"^Id IN \(((?:{_LITERAL}(?:, )?)+)\)$")
_AFTER = re.compile(
    rf"^SystemModstamp > {_STAMP} OR \(SystemModstamp = {_STAMP} AND Id > {_LITERAL}\)$"
)
_UNESCAPE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), text)


def _field(name: str, kind: str, *, updateable: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "label": re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).replace(" Id", " ID"),
        "type": kind,
        "length": 80 if kind in {"string", "phone", "email"} else 0,
        "updateable": updateable,
        "createable": updateable,
        "nillable": name != "LastName",
        "calculated": False,
        "defaultedOnCreate": not updateable,
        "unique": False,
        "externalId": False,
        "idLookup": name in {"Id", "Email"},
        "referenceTo": extra.pop("referenceTo", []),
        "relationshipName": extra.pop("relationshipName", None),
        "picklistValues": extra.pop("picklistValues", []),
        "compoundFieldName": extra.pop("compoundFieldName", None),
        **extra,
    }


DESCRIBE_FIELDS = [
    _field("Id", "id", updateable=False),
    _field("FirstName", "string", compoundFieldName="Name"),
    _field("LastName", "string", compoundFieldName="Name"),
    _field("Name", "string", updateable=False),
    _field("Email", "email"),
    _field("Phone", "phone"),
    _field("MobilePhone", "phone"),
    _field("Title", "string"),
    _field("AccountId", "reference", referenceTo=["Account"], relationshipName="Account"),
    _field("OwnerId", "reference", referenceTo=["User"], relationshipName="Owner"),
    _field(
        "LeadSource",
        "picklist",
        picklistValues=[
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in ("Web", "Phone Inquiry", "Partner Referral", "Other")
        ],
    ),
    _field("MailingAddress", "address", updateable=False),
    _field("CreatedDate", "datetime", updateable=False),
    _field("SystemModstamp", "datetime", updateable=False),
]
_UPDATEABLE = {f["name"] for f in DESCRIBE_FIELDS if f["updateable"]}


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _digits(value: Any) -> str:
    return re.sub(r"[^0-9]", "", str(value or ""))


def errors(status: int, code: str, message: str, fields: list[str] | None = None) -> FakeResponse:
    """Salesforce's error array."""
    error: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        error["fields"] = fields
    return FakeResponse(status, [error])


class SalesforceFake:
    """Salesforce over ``world`` (Contacts, or Leads with ``sobject="Lead"``).

    ``client_secret`` signs token answers; ``instance_url`` is the instance the token
    endpoint names (default: where it was called), ``moved_to`` one a refresh names
    instead; ``daily_limit`` API calls before ``REQUEST_LIMIT_EXCEEDED``, when set.
    """

    def __init__(
        self,
        world: CrmWorld,
        *,
        client_secret: str = "consumer-secret",
        sobject: str = "Contact",
        instance_url: str | None = None,
        daily_limit: int | None = None,
    ) -> None:
        self.world = world
        self.client_secret = client_secret
        self.sobject = sobject
        self.instance_url = instance_url
        self.moved_to: str | None = None
        self.daily_limit = daily_limit
        self.used = 0
        self.queries: list[str] = []

    # --- plumbing ---------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeResponse:
        """Answer one request (token endpoint or REST API)."""
        self.world.calls += 1
        if self.world.down:
            return errors(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
        if request.path == "/services/oauth2/token" and request.method == "POST":
            return self._token(request)
        answer = self._api(request)
        limit = self.daily_limit if self.daily_limit is not None else DAILY_API_REQUESTS
        answer.headers["Sforce-Limit-Info"] = f"api-usage={self.used}/{limit}"
        answer.headers["Date"] = email.utils.formatdate(self.world.now(), usegmt=True)
        return answer

    def _api(self, request: FakeRequest) -> FakeResponse:
        if self.world.take_rate_limit() or (
            self.daily_limit is not None and self.used >= self.daily_limit
        ):
            return errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if not self.world.authorized(request.header("Authorization")):
            return errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.used += 1
        match = _DATA.match(request.path)
        if match is None:
            return errors(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = match.groups()
        return self._data(request.method, version, rest, request.query, request.json())

    def _token(self, request: FakeRequest) -> FakeResponse:
        form = request.form()
        grant = form.get("grant_type")
        if form.get("client_secret") != self.client_secret:
            return FakeResponse(
                400, {"error": "invalid_client", "error_description": "invalid client credentials"}
            )
        if grant == "refresh_token":
            if self.world.grant_revoked or form.get("refresh_token") != self.world.refresh_token:
                return FakeResponse(
                    400,
                    {"error": "invalid_grant", "error_description": "expired access/refresh token"},
                )
            kept = self.world.refresh_token
            self.world.refresh()
            self.world.refresh_token = kept  # Salesforce does not rotate by default
            body = self._token_body(request, self.moved_to)
        elif grant == "authorization_code":
            if not form.get("code") or not form.get("code_verifier"):
                return FakeResponse(
                    400, {"error": "invalid_grant", "error_description": "authentication failure"}
                )
            self.world.refresh()
            body = {**self._token_body(request, None), "refresh_token": self.world.refresh_token}
        else:
            return FakeResponse(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant type not supported",
                },
            )
        return FakeResponse(200, body)

    def _token_body(self, request: FakeRequest, moved_to: str | None) -> dict[str, Any]:
        identity = f"https://login.salesforce.com/id/{ORG_ID}/{USER['Id']}"
        issued_at = str(int(self.world.now() * 1000))
        digest = hmac.new(
            self.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        return {
            "access_token": self.world.access_token,
            "signature": base64.b64encode(digest).decode(),
            "scope": "refresh_token api",
            "instance_url": moved_to or self.instance_url or request.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }

    # --- data -------------------------------------------------------------------------------

    def _record(self, record_id: str, fields: list[str], version: str) -> dict[str, Any]:
        stored = self.world.contacts[record_id]
        now = _stamp(self.world.added_at.get(record_id, self.world.now()))
        stored.setdefault("CreatedDate", now)
        stored.setdefault("SystemModstamp", stored["CreatedDate"])
        stored.setdefault("OwnerId", USER["Id"])
        name = " ".join(str(stored[k]) for k in ("FirstName", "LastName") if stored.get(k))
        values = {**stored, "Id": record_id, "Name": name or None}
        record: dict[str, Any] = {
            "attributes": {
                "type": self.sobject,
                "url": f"/services/data/{version}/sobjects/{self.sobject}/{record_id}",
            }
        }
        record.update({name: values.get(name) for name in fields})
        return record

    def _data(
        self, method: str, version: str, rest: str, query: dict[str, str], body: Any
    ) -> FakeResponse:
        parts = rest.split("/")
        if parts == ["query"] and method == "GET":
            return self._soql(query.get("q", ""), version)
        if parts == ["search"] and method == "GET":
            return self._sosl(query.get("q", ""), version)
        if parts == ["composite"] and method == "POST":
            return self._composite(body or {}, version)
        if parts[0] != "sobjects" or len(parts) < 2:
            return errors(404, "NOT_FOUND", "The requested resource does not exist")
        kind = parts[1]
        if kind == "User" and len(parts) == 3 and method == "GET":
            if parts[2] != USER["Id"]:
                return errors(404, "NOT_FOUND", "The requested resource does not exist")
            return FakeResponse(200, {"attributes": {"type": "User"}, **USER})
        if kind == "Task" and len(parts) == 2 and method == "POST":
            return self._task(body or {})
        if kind != self.sobject:
            return errors(404, "NOT_FOUND", f"sObject type '{kind}' is not supported.")
        if parts[2:] == ["describe"]:
            return FakeResponse(
                200, {"name": self.sobject, "keyPrefix": "003", "fields": DESCRIBE_FIELDS}
            )
        if len(parts) == 2 and method == "POST":
            return self._create(body or {})
        if len(parts) == 3:
            record_id = parts[2]
            if record_id not in self.world.contacts:
                return errors(404, "NOT_FOUND", "The requested resource does not exist")
            if method == "GET":
                fields = [f for f in query.get("fields", "").split(",") if f]
                return FakeResponse(200, self._record(record_id, fields or ["Id"], version))
            if method == "PATCH":
                return self._update(record_id, body or {})
        return errors(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed.")

    @staticmethod
    def _not_updateable(fields: dict[str, Any]) -> FakeResponse | None:
        bad = [name for name in fields if name not in _UPDATEABLE]
        if not bad:
            return None
        return errors(
            400,
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(bad)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            bad,
        )

    def _create(self, fields: dict[str, Any]) -> FakeResponse:
        refused = self._not_updateable(fields)
        if refused is not None:
            return refused
        if not fields.get("LastName"):
            return errors(
                400,
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [LastName]",
                ["LastName"],
            )
        stamp = _stamp(self.world.now())
        record_id = self.world.add_contact(
            {**fields, "CreatedDate": stamp, "SystemModstamp": stamp}, "003"
        )
        return FakeResponse(201, {"id": record_id, "success": True, "errors": []})

    def _update(self, record_id: str, fields: dict[str, Any]) -> FakeResponse:
        refused = self._not_updateable(fields)
        if refused is not None:
            return refused
        stored = self.world.contacts[record_id]
        stored.update(fields)
        stored["SystemModstamp"] = _stamp(self.world.now())
        return FakeResponse(204)

    def _task(self, fields: dict[str, Any]) -> FakeResponse:
        who = str(fields.get("WhoId", ""))
        if who not in self.world.contacts:
            return errors(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Name ID: id value of incorrect type: " + who,
                ["WhoId"],
            )
        task_id = self.world.new_id("00T")
        text = f"{fields.get('Subject', '')}\n{fields.get('Description', '')}"
        self.world.activities.append(CrmActivity(task_id, who, text, dict(fields)))
        return FakeResponse(201, {"id": task_id, "success": True, "errors": []})

    def _soql(self, soql: str, version: str) -> FakeResponse:
        self.queries.append(soql)
        match = _SOQL.match(soql.strip())
        if match is None:
            return errors(400, "MALFORMED_QUERY", f"unexpected token: {soql[:40]}")
        fields = [f.strip() for f in match["fields"].split(",")]
        if match["object"] == "Task":
            rows = self._tasks(match["where"] or "")
        elif match["object"] == self.sobject:
            rows = self._where(match["where"] or "", version, fields)
            if rows is None:
                return errors(400, "MALFORMED_QUERY", f"unexpected WHERE clause: {match['where']}")
            if match["order"] and match["order"].startswith("SystemModstamp"):
                rows.sort(
                    key=lambda r: (str(self.world.contacts[r["Id"]]["SystemModstamp"]), r["Id"])
                )
        else:
            return errors(
                400, "INVALID_TYPE", f"sObject type '{match['object']}' is not supported."
            )
        if match["limit"]:
            rows = rows[: int(match["limit"])]
        return FakeResponse(200, {"totalSize": len(rows), "done": True, "records": rows})

    def _where(self, where: str, version: str, fields: list[str]) -> list[dict[str, Any]] | None:
        ids = list(self.world.contacts)
        if not where:
            chosen = ids
        elif equals := _EQUALS.match(where):
            name, value = equals[1], _unescape(equals[2]).lower()
            chosen = [i for i in ids if str(self.world.contacts[i].get(name, "")).lower() == value]
        elif listed := _IN.match(where):
            wanted = {_unescape(v) for v in re.findall(_LITERAL, listed[1])}
            chosen = [i for i in ids if i in wanted]
        elif after := _AFTER.match(where):
            stamp = after[1].replace("Z", ".000+0000")
            last = _unescape(after[3])
            chosen = []
            for i in ids:
                self._record(i, ["Id"], version)  # fills the stamps
                current = str(self.world.contacts[i]["SystemModstamp"])
                if current > stamp or (current == stamp and i > last):
                    chosen.append(i)
        else:
            return None
        return [self._record(i, fields, version) for i in chosen]

    def _tasks(self, where: str) -> list[dict[str, Any]]:
        equals = _EQUALS.match(where)
        who = _unescape(equals[2]) if equals and equals[1] == "WhoId" else None
        return [
            {
                "attributes": {"type": "Task"},
                "Id": task.id,
                "Description": task.fields.get("Description"),
            }
            for task in reversed(self.world.activities)
            if who is None or task.contact_id == who
        ]

    def _sosl(self, sosl: str, version: str) -> FakeResponse:
        match = re.match(
            r"^FIND \{((?:[^}\\]|\\.)*)\} IN PHONE FIELDS RETURNING (\w+)\((.+?)(?: ORDER BY .+?)?(?: LIMIT [0-9]+)?\)$",
            sosl,
        )
        if match is None:
            return errors(400, "MALFORMED_SEARCH", f"unexpected search: {sosl[:40]}")
        term = _digits(_unescape(match[1]))
        fields = [f.strip() for f in match[3].split(",")]
        hits = [
            self._record(i, fields, version)
            for i, stored in self.world.contacts.items()
            if term
            and any(
                _digits(stored.get(name)) and _digits(stored.get(name)).endswith(term[-9:])
                for name in ("Phone", "MobilePhone")
            )
        ]
        return FakeResponse(200, {"searchRecords": hits})

    def _composite(self, body: dict[str, Any], version: str) -> FakeResponse:
        requests = body.get("compositeRequest") or []
        if len(requests) > 25:
            return errors(400, "INVALID_FIELD", "Composite requests are limited to 25 subrequests")
        answers: list[dict[str, Any]] = []
        ids: dict[str, str] = {}
        created: list[str] = []
        failed = False
        for sub in requests:
            reference = str(sub.get("referenceId"))
            if failed:
                answers.append(
                    {
                        "body": [
                            {
                                "errorCode": "PROCESSING_HALTED",
                                "message": "The transaction was rolled back since another "
                                "operation in the same transaction failed.",
                            }
                        ],
                        "httpHeaders": {},
                        "httpStatusCode": 400,
                        "referenceId": reference,
                    }
                )
                continue
            url = re.sub(r"@\{(\w+)\.id\}", lambda m: ids.get(m[1], ""), str(sub.get("url")))
            path, _, query = url.partition("?")
            match = _DATA.match(path)
            if match is None:
                answer = errors(404, "NOT_FOUND", "The requested resource does not exist")
            else:
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                answer = self._data(
                    str(sub.get("method")), match[1], match[2], params, sub.get("body")
                )
            if isinstance(answer.body, dict) and "id" in answer.body:
                ids[reference] = str(answer.body["id"])
                created.append(ids[reference])
            failed = answer.status >= 400 and bool(body.get("allOrNone"))
            answers.append(
                {
                    "body": answer.body,
                    "httpHeaders": answer.headers,
                    "httpStatusCode": answer.status,
                    "referenceId": reference,
                }
            )
        if failed:
            for record_id in created:
                self.world.contacts.pop(record_id, None)
        return FakeResponse(200, {"compositeResponse": answers})
