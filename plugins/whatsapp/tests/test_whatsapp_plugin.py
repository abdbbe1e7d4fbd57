"""Tests of the WhatsApp plugin's declaration: type, config, capabilities and registration."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ET
from importlib import import_module
from pathlib import Path
from typing import Any

import hub.contract.hookspecs
import pluggy
import pytest
from hub.contract import ChannelType
from pydantic import SecretStr, ValidationError

from hub_whatsapp import channel
from hub_whatsapp.channel import WhatsAppChannel
from hub_whatsapp.config import WhatsAppConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SECRETS = {"access_token": "EAAG-access-0123456789", "app_secret": "f00dfeedcafe0123"}


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    sample: dict[str, Any] = {
        "phone_number_id": "106540352242922",
        "business_account_id": "102290129340398",
        **SECRETS,
        "verify_token": "verify-me-please",
    }
    return {**sample, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(WhatsAppChannel, ChannelType)
    assert WhatsAppChannel.name == "whatsapp"
    assert WhatsAppChannel.title == "WhatsApp"
    assert len(WhatsAppChannel.description) > 20
    assert WhatsAppChannel.Config is WhatsAppConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(WhatsAppChannel.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_capabilities_follow_the_cloud_api_limits() -> None:
    caps = WhatsAppChannel.capabilities
    assert caps.media["image"] == 5_000_000
    assert caps.media["document"] == 100_000_000
    assert caps.reply_to and caps.typing and caps.templates
    assert not caps.subject and not caps.edit
    assert caps.window_hours == 24
    assert caps.max_text_length == 4096


def test_config_accepts_a_good_sample_and_defaults_the_api() -> None:
    config = WhatsAppConfig(**good())
    assert config.phone_number_id == "106540352242922"
    assert config.access_token.get_secret_value() == SECRETS["access_token"]
    assert config.api_base_url == "https://graph.facebook.com"
    assert config.api_version == "v23.0"


def test_api_base_url_override_is_kept_without_trailing_slash() -> None:
    config = WhatsAppConfig(**good(api_base_url="https://graph.example.test:8443/proxy/"))
    assert config.api_base_url == "https://graph.example.test:8443/proxy"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number_id", "+49 151 1234567"),
        ("business_account_id", "WABA-1"),
        ("api_version", "23"),
        ("api_base_url", "graph.facebook.com"),
        ("api_base_url", "ftp://graph.facebook.com"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WhatsAppConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


@pytest.mark.parametrize("field", ["phone_number_id", "access_token", "app_secret"])
def test_config_requires_the_credentials(field: str) -> None:
    sample = good()
    del sample[field]
    with pytest.raises(ValidationError, match=field):
        WhatsAppConfig(**sample)


def test_secrets_are_secret_and_never_printed() -> None:
    config = WhatsAppConfig(**good())
    for field in ("access_token", "app_secret", "verify_token"):
        assert isinstance(getattr(config, field), SecretStr)
    for secret in [*SECRETS.values(), "verify-me-please"]:
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


def test_rejected_input_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ValidationError) as caught:
        WhatsAppConfig(**good(phone_number_id="EAAG-pasted-token-by-mistake"))
    assert "EAAG-pasted-token-by-mistake" not in str(caught.value)


@pytest.mark.parametrize(
    "left_empty", [{}, {"verify_token": ""}, {"verify_token": "  "}, {"verify_token": None}]
)
def test_verify_token_is_generated_when_left_empty(left_empty: dict[str, Any]) -> None:
    sample = good(**left_empty)
    if not left_empty:
        del sample["verify_token"]
    first, second = WhatsAppConfig(**sample), WhatsAppConfig(**sample)
    assert len(first.verify_token.get_secret_value()) >= 24
    assert first.verify_token.get_secret_value() != second.verify_token.get_secret_value()


def test_form_schema_describes_every_field_and_marks_advanced_ones() -> None:
    properties = WhatsAppConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {"api_version", "api_base_url"}
    assert properties["app_secret"]["writeOnly"] is True


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert channel.hub_register_channel_types() == [WhatsAppChannel]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[WhatsAppChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-whatsapp"
    assert project["entry-points"]["hub"] == {"whatsapp": "hub_whatsapp.channel"}
    assert import_module(project["entry-points"]["hub"]["whatsapp"]) is channel
