"""The HubSpot CRM through the CrmContract kit: a private app token, and an OAuth app."""

from __future__ import annotations

from typing import Any

import respx
from hub.testing import CrmContract, CrmWorld
from tests.fake_crm import route_respx
from tests.fake_hubspot import HubSpotFake

from hub_hubspot.crm import HubSpotCrm

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
API = "https://api.hubapi.com"


class TestHubSpotPrivateAppContract(CrmContract):
    """With a private app token (no OAuth: the token refresh checks are skipped)."""

    crm_type = HubSpotCrm
    email_field = "email"
    phone_field = "mobilephone"
    editable_field = "firstname"

    def crm_config(self) -> dict[str, Any]:
        return {"access_token": TOKEN}

    def mock_crm(self, router: respx.MockRouter, world: CrmWorld) -> None:
        route_respx(router, API, HubSpotFake(world, token=TOKEN))


class TestHubSpotOAuthContract(CrmContract):
    """With an OAuth app: tokens refreshed through ``/oauth/2026-03/token``."""

    crm_type = HubSpotCrm
    email_field = "email"
    phone_field = "phone"
    editable_field = "lastname"

    def crm_config(self) -> dict[str, Any]:
        return {"client_id": "a1b2c3", "client_secret": "client-secret", "api_version": "v3"}

    def mock_crm(self, router: respx.MockRouter, world: CrmWorld) -> None:
        route_respx(router, API, HubSpotFake(world))
