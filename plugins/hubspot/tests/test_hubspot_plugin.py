"""Tests of the HubSpot plugin's declaration: type, config, field catalog and registration."""

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

from hub_hubspot import crm
from hub_hubspot.config import HubSpotConfig
from hub_hubspot.crm import HubSpotCrm

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SECRETS = {
    "access_token": "pat-na1-11111111-2222-3333-4444-555555555555",
    "client_secret": "0a1b2c3d-client-secret",
}


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    return {**SECRETS, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(HubSpotCrm, CrmType)
    assert HubSpotCrm.name == "hubspot"
    assert HubSpotCrm.title == "HubSpot"
    assert len(HubSpotCrm.description) > 20
    assert HubSpotCrm.Config is HubSpotConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(HubSpotCrm.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_config_accepts_a_good_sample_and_defaults_the_api() -> None:
    config = HubSpotConfig(**good())
    assert config.access_token.get_secret_value() == SECRETS["access_token"]
    assert config.api_base_url == "https://api.hubapi.com"
    assert config.api_version == "2026-03"


@pytest.mark.parametrize("left_empty", [{}, {"client_secret": ""}, {"client_secret": None}])
def test_client_secret_is_optional(left_empty: dict[str, Any]) -> None:
    config = HubSpotConfig(access_token=SECRETS["access_token"], **left_empty)
    assert config.client_secret is None


def test_legacy_api_version_is_accepted() -> None:
    assert HubSpotConfig(**good(api_version="v3")).api_version == "v3"


def test_api_base_url_override_is_kept_without_trailing_slash() -> None:
    config = HubSpotConfig(**good(api_base_url="https://hubspot-proxy.example.test/"))
    assert config.api_base_url == "https://hubspot-proxy.example.test"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("portal_id", "hub-123"),
        ("api_version", "v4"),
        ("api_version", "2026-3"),
        ("api_base_url", "api.hubapi.com"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        HubSpotConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_secrets_are_secret_and_never_printed() -> None:
    config = HubSpotConfig(**good())
    assert isinstance(config.access_token, SecretStr)
    assert isinstance(config.client_secret, SecretStr)
    for secret in SECRETS.values():
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


def test_form_schema_describes_every_field_and_marks_advanced_ones() -> None:
    properties = HubSpotConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {"api_version", "api_base_url", "portal_id"}
    # Optional (OAuth instead), so the schema is anyOf [secret, null]; the form resolves it.
    assert properties["access_token"]["anyOf"][0]["writeOnly"] is True


def test_config_needs_a_token_or_an_oauth_app() -> None:
    with pytest.raises(ValidationError, match="private app access token, or an OAuth app"):
        HubSpotConfig(client_id="a1b2c3")
    oauth = HubSpotConfig(client_id="a1b2c3", client_secret="s")
    assert oauth.uses_oauth
    assert not HubSpotConfig(**good()).uses_oauth


async def test_oauth_app_only_without_a_private_app_token() -> None:
    async with httpx.AsyncClient() as http:
        context = CrmContext(connection_id=1, http=http)
        private = HubSpotCrm(HubSpotConfig(**good()), context)
        oauth = HubSpotCrm(HubSpotConfig(client_id="a1b2c3", client_secret="s"), context)
    assert private.oauth_app() is None
    app = oauth.oauth_app()
    assert app is not None and app.authorize_url == "https://app.hubspot.com/oauth/authorize"
    assert "crm.objects.contacts.write" in app.scopes
    assert oauth.client_id() == "a1b2c3"


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert crm.hub_register_crm_types() == [HubSpotCrm]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(crm)
    manager.check_pending()
    assert manager.hook.hub_register_crm_types() == [[HubSpotCrm]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-hubspot"
    assert project["entry-points"]["hub"] == {"hubspot": "hub_hubspot.crm"}
    assert import_module(project["entry-points"]["hub"]["hubspot"]) is crm


def test_the_type_is_not_available_yet() -> None:
    # The admin pages and the sidebar come in a later submission (issue 15).
    assert HubSpotCrm.available is False
