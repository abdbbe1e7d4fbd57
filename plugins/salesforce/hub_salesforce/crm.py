"""The Salesforce CRM type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import CrmField, CrmType, hookimpl

from hub_salesforce.config import SalesforceConfig

# The default LeadSource picklist of a new org; orgs may change it, which describe
# will report once the catalog is read from the org.
_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")

# Email and phones identify the contact, so the inbox never edits them. The compound
# Name field is read-only in Salesforce: FirstName and LastName are written instead.
STANDARD_FIELDS = (
    CrmField(name="Email", label="Email", type="email", editable=False),
    CrmField(name="Phone", label="Business Phone", type="phone", editable=False),
    CrmField(name="MobilePhone", label="Mobile Phone", type="phone", editable=False),
    CrmField(name="FirstName", label="First Name", type="string"),
    CrmField(name="LastName", label="Last Name", type="string"),
    CrmField(name="Title", label="Title", type="string"),
    CrmField(name="Department", label="Department", type="string"),
    CrmField(name="AccountId", label="Account ID", type="string"),
    CrmField(name="MailingCity", label="Mailing City", type="string"),
    CrmField(name="MailingCountry", label="Mailing Country", type="string"),
    CrmField(name="LeadSource", label="Lead Source", type="enum", options=_LEAD_SOURCES),
)


class SalesforceCrm(CrmType[SalesforceConfig]):
    """A Salesforce org whose Contacts the inbox reads, creates and updates."""

    name = "salesforce"
    title = "Salesforce"
    description = (
        "Link inbox contacts to Salesforce Contacts: see and edit their fields beside the "
        "conversation, and log conversations as completed Tasks."
    )
    logo = files("hub_salesforce").joinpath("logo.svg").read_text(encoding="utf-8")
    Config = SalesforceConfig
    # Lookup and sync are not built yet: the hub lists the type, refuses to connect it.
    available = False

    async def field_catalog(self) -> list[CrmField]:
        """Return Salesforce's standard Contact fields; email and phones are read-only."""
        return list(STANDARD_FIELDS)


@hookimpl
def hub_register_crm_types() -> list[type[CrmType[Any]]]:
    """Register the Salesforce CRM type."""
    return [SalesforceCrm]
