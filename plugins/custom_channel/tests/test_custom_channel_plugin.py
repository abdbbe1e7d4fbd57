"""Tests of the custom channel plugin's declaration: type, config and registration."""

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

from hub_custom_channel import channel
from hub_custom_channel.channel import CustomChannel
from hub_custom_channel.config import CustomChannelConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
OUTBOUND_URL = "https://chat.example.com/hub/replies"
SIGNING_SECRET = "s3cret-signing-key-for-tests"


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    return {"outbound_url": OUTBOUND_URL, "signing_secret": SIGNING_SECRET, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(CustomChannel, ChannelType)
    assert CustomChannel.name == "custom_channel"
    assert CustomChannel.title == "Custom channel"
    assert len(CustomChannel.description) > 20
    assert CustomChannel.Config is CustomChannelConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(CustomChannel.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_capabilities_match_the_default_settings() -> None:
    caps = CustomChannel.capabilities
    defaults = CustomChannelConfig(outbound_url=OUTBOUND_URL)
    assert bool(caps.media) is defaults.supports_attachments
    assert caps.reply_to is defaults.supports_reply_to
    assert not (caps.typing or caps.subject or caps.edit or caps.templates)


def test_config_accepts_a_good_sample_with_defaults() -> None:
    config = CustomChannelConfig(**good())
    assert config.outbound_url == OUTBOUND_URL
    assert config.supports_attachments is True
    assert config.supports_reply_to is False
    assert config.threading == "per_contact"


def test_outbound_url_is_the_only_address() -> None:
    assert "api_base_url" not in CustomChannelConfig.model_fields
    assert CustomChannelConfig.model_fields["outbound_url"].is_required()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outbound_url", "chat.example.com/hub/replies"),
        ("outbound_url", "ws://chat.example.com/hub"),
        ("threading", "per_conversation"),
        ("supports_reply_to", "maybe"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        CustomChannelConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_secrets_are_secret_and_never_printed() -> None:
    config = CustomChannelConfig(**good())
    assert isinstance(config.signing_secret, SecretStr)
    assert SIGNING_SECRET not in str(config)
    assert SIGNING_SECRET not in repr(config)
    assert SIGNING_SECRET not in config.model_dump_json()


@pytest.mark.parametrize(
    "left_empty", [{}, {"signing_secret": ""}, {"signing_secret": "  "}, {"signing_secret": None}]
)
def test_signing_secret_is_generated_when_left_empty(left_empty: dict[str, Any]) -> None:
    sample = {"outbound_url": OUTBOUND_URL, **left_empty}
    first, second = CustomChannelConfig(**sample), CustomChannelConfig(**sample)
    assert len(first.signing_secret.get_secret_value()) >= 32
    assert first.signing_secret.get_secret_value() != second.signing_secret.get_secret_value()


def test_form_schema_describes_every_field() -> None:
    properties = CustomChannelConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    assert properties["signing_secret"]["writeOnly"] is True
    assert properties["threading"]["enum"] == ["per_thread_id", "per_contact"]


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert channel.hub_register_channel_types() == [CustomChannel]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[CustomChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-custom-channel"
    assert project["entry-points"]["hub"] == {"custom_channel": "hub_custom_channel.channel"}
    assert import_module(project["entry-points"]["hub"]["custom_channel"]) is channel
