"""The HubSpot CRM type and the hook that registers it with the hub."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from hub.contract import CrmField, CrmType, hookimpl

from hub_hubspot.config import HubSpotConfig

# HubSpot's default lifecycle stages; portals may rename or add stages, which the
# properties API will report once the catalog is read from the account.
_LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)

# Email and phones identify the contact, so the inbox never edits them.
STANDARD_FIELDS = (
    CrmField(name="email", label="Email", type="email", editable=False),
    CrmField(name="phone", label="Phone number", type="phone", editable=False),
    CrmField(name="mobilephone", label="Mobile phone number", type="phone", editable=False),
    CrmField(name="firstname", label="First name", type="string"),
    CrmField(name="lastname", label="Last name", type="string"),
    CrmField(name="company", label="Company name", type="string"),
    CrmField(name="jobtitle", label="Job title", type="string"),
    CrmField(name="city", label="City", type="string"),
    CrmField(name="country", label="Country/Region", type="string"),
    CrmField(
        name="lifecyclestage", label="Lifecycle stage", type="enum", options=_LIFECYCLE_STAGES
    ),
)


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
    # Lookup and sync are not built yet: the hub lists the type, refuses to connect it.
    available = False

    async def field_catalog(self) -> list[CrmField]:
        """Return HubSpot's standard contact fields; email and phones are read-only."""
        return list(STANDARD_FIELDS)


@hookimpl
def hub_register_crm_types() -> list[type[CrmType[Any]]]:
    """Register the HubSpot CRM type."""
    return [HubSpotCrm]
