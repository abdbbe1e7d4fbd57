"""Tests of the Salesforce plugin's declaration: type, config, field catalog and registration."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import hub.contract.hookspecs
import pluggy
import pytest
from hub.contract import CrmContext, CrmType
from pydantic import SecretStr, ValidationError

from hub_salesforce import crm
from hub_salesforce.config import SalesforceConfig
from hub_salesforce.crm import SalesforceCrm

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SECRETS = {"client_secret": "C0nsumerS3cretABCDEF"}


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    return {"client_id": "3MVG9consumer.key", **SECRETS, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(SalesforceCrm, CrmType)
    assert SalesforceCrm.name == "salesforce"
    assert SalesforceCrm.title == "Salesforce"
    assert len(SalesforceCrm.description) > 20
    assert SalesforceCrm.Config is SalesforceConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(SalesforceCrm.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_config_accepts_a_good_sample_with_production_defaults() -> None:
    config = SalesforceConfig(**good())
    assert config.login_url == "https://login.salesforce.com"
    assert config.api_version == "v67.0"
    assert config.client_secret.get_secret_value() == SECRETS["client_secret"]


@pytest.mark.parametrize("left_empty", [{}, {"api_base_url": ""}, {"api_base_url": None}])
def test_api_base_url_defaults_to_the_instance_url(left_empty: dict[str, Any]) -> None:
    assert SalesforceConfig(**good(**left_empty)).api_base_url is None
    description = SalesforceConfig.model_fields["api_base_url"].description or ""
    assert "instance_url" in description


def test_sandbox_login_and_explicit_api_base_url_are_accepted() -> None:
    config = SalesforceConfig(
        **good(login_url="https://test.salesforce.com/", api_base_url="http://localhost:8080")
    )
    assert config.login_url == "https://test.salesforce.com"
    assert config.api_base_url == "http://localhost:8080"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("login_url", "login.salesforce.com"),
        ("client_id", ""),
        ("client_secret", None),
        ("record_object", "Account"),
        ("api_version", "67"),
        ("api_base_url", "na1.salesforce.com"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        SalesforceConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_secrets_are_secret_and_never_printed() -> None:
    config = SalesforceConfig(**good())
    assert isinstance(config.client_secret, SecretStr)
    for secret in SECRETS.values():
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


def test_form_schema_describes_every_field_and_marks_advanced_ones() -> None:
    properties = SalesforceConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {"api_version", "api_base_url"}
    assert properties["client_secret"]["writeOnly"] is True
    assert properties["record_object"]["enum"] == ["Contact", "Lead"]


async def test_oauth_app_follows_the_login_url_for_sandboxes() -> None:
    async with httpx.AsyncClient() as http:
        context = CrmContext(connection_id=1, http=http)
        sandbox = SalesforceCrm(
            SalesforceConfig(**good(login_url="https://test.salesforce.com")), context
        )
    app = sandbox.oauth_app()
    assert app is not None
    assert app.authorize_url == "https://test.salesforce.com/services/oauth2/authorize"
    assert set(app.scopes) == {"api", "refresh_token"}
    assert sandbox.client_id() == "3MVG9consumer.key"
    assert SalesforceCrm.oauth is not None


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert crm.hub_register_crm_types() == [SalesforceCrm]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(crm)
    manager.check_pending()
    assert manager.hook.hub_register_crm_types() == [[SalesforceCrm]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-salesforce"
    assert project["entry-points"]["hub"] == {"salesforce": "hub_salesforce.crm"}
    assert import_module(project["entry-points"]["hub"]["salesforce"]) is crm


def test_the_type_is_not_available_yet() -> None:
    # The admin pages and the sidebar come in a later submission (issue 15).
    assert SalesforceCrm.available is False
