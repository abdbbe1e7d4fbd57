"""The Salesforce CRM through the CrmContract kit, against the Salesforce fake (respx)."""

from __future__ import annotations

from typing import Any

import respx
from hub.testing import CrmContract, CrmWorld
from tests.fake_crm import route_respx
from tests.fake_salesforce import SalesforceFake

from hub_salesforce.crm import SalesforceCrm

INSTANCE = "https://acme.my.salesforce.com"
SECRET = "C0nsumerS3cretABCDEF"


class TestSalesforceContract(CrmContract):
    """A Contact-linked org reached at the tokens' instance URL."""

    crm_type = SalesforceCrm
    email_field = "Email"
    phone_field = "MobilePhone"
    editable_field = "FirstName"
    required_fields = {"LastName": "Lovelace"}
    id_prefix = "003"
    instance_url = INSTANCE
    settle_seconds = 3.0

    def crm_config(self) -> dict[str, Any]:
        return {"client_id": "3MVG9consumer.key", "client_secret": SECRET}

    def mock_crm(self, router: respx.MockRouter, world: CrmWorld) -> None:
        fake = SalesforceFake(world, client_secret=SECRET, instance_url=INSTANCE)
        route_respx(router, INSTANCE, fake)
        route_respx(router, "https://login.salesforce.com", fake)
