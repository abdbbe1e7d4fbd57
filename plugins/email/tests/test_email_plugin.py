"""Tests of the email plugin's declaration: type, config, capabilities and registration."""

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

from hub_email import channel
from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
PASSWORDS = {"imap_password": "imap-pass-Xy7!", "smtp_password": "smtp-pass-Qz9?"}


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    sample: dict[str, Any] = {
        "imap_host": "imap.example.com",
        "imap_username": "support@example.com",
        "smtp_host": "smtp.example.com",
        "smtp_username": "support@example.com",
        "from_address": "support@example.com",
        **PASSWORDS,
    }
    return {**sample, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(EmailChannel, ChannelType)
    assert EmailChannel.name == "email"
    assert EmailChannel.title == "Email"
    assert len(EmailChannel.description) > 20
    assert EmailChannel.Config is EmailConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(EmailChannel.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_capabilities_have_subjects_cc_and_attachments() -> None:
    caps = EmailChannel.capabilities
    assert caps.subject and caps.cc
    assert caps.media["document"] > 10_000_000
    assert not (caps.reply_to or caps.typing or caps.edit or caps.templates)
    assert caps.window_hours is None
    assert caps.max_text_length is None


def test_config_accepts_a_good_sample_with_standard_ports_and_defaults() -> None:
    config = EmailConfig(**good())
    assert (config.imap_port, config.imap_security, config.imap_folder) == (993, "tls", "INBOX")
    assert (config.smtp_port, config.smtp_security) == (587, "starttls")
    assert config.from_address == "support@example.com"
    assert config.from_name is None
    assert config.sent_folder is None
    assert not config.agent_name_in_from and not config.mark_seen
    assert (config.subject_thread_hours, config.max_message_mb, config.poll_seconds) == (72, 25, 60)


def test_each_config_gets_its_own_message_id_tag_which_is_kept() -> None:
    first, second = EmailConfig(**good()), EmailConfig(**good(message_id_tag=""))
    assert first.message_id_tag != second.message_id_tag
    assert len(first.message_id_tag) == 16
    stored = first.model_dump(mode="json")
    assert EmailConfig(**{**stored, **PASSWORDS}).message_id_tag == first.message_id_tag


def test_smtp_login_is_optional_for_a_relay_and_empty_means_not_set() -> None:
    config = EmailConfig(**good(smtp_username="", smtp_password="  ", from_name="", sent_folder=""))
    assert (config.smtp_username, config.smtp_password) == (None, None)
    assert (config.from_name, config.sent_folder) == (None, None)
    without = good()
    del without["smtp_username"], without["smtp_password"]
    assert EmailConfig(**without).smtp_username is None


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"smtp_password": ""}, "smtp_password"), ({"smtp_username": None}, "smtp_username")],
)
def test_half_an_smtp_login_names_the_missing_field(given: dict[str, Any], missing: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EmailConfig(**good(**given))
    assert [error["loc"] for error in caught.value.errors()] == [(missing,)]
    assert "both, or neither" in str(caught.value)


def test_rarely_changed_options_are_advanced_and_security_choices_have_words() -> None:
    properties = EmailConfig.model_json_schema()["properties"]
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {
        "imap_folder",
        "mark_seen",
        "subject_thread_hours",
        "max_message_mb",
        "poll_seconds",
        "message_id_tag",
    }
    labels = properties["imap_security"]["choice_labels"]
    assert set(labels) == {"tls", "starttls", "none"}
    assert "unencrypted" in labels["none"]


def test_config_accepts_ip_addresses_and_other_security_modes() -> None:
    config = EmailConfig(
        **good(imap_host="192.0.2.7", imap_port=143, imap_security="starttls", smtp_port=465)
    )
    assert config.imap_host == "192.0.2.7"
    assert config.imap_security == "starttls"


def test_email_has_no_api_base_url() -> None:
    assert "api_base_url" not in EmailConfig.model_fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("imap_host", "imaps://imap.example.com"),
        ("smtp_host", "smtp.example.com:587"),
        ("imap_port", 0),
        ("smtp_port", 65536),
        ("imap_security", "ssl"),
        ("smtp_security", "ssl/tls"),
        ("sent_folder", "Sent\r\nA1 DELETE INBOX"),
        ("subject_thread_hours", -1),
        ("max_message_mb", 0),
        ("poll_seconds", 1),
        ("message_id_tag", "a b"),
        ("imap_username", ""),
        ("from_address", "support at example.com"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        EmailConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_host_error_explains_the_expected_form() -> None:
    with pytest.raises(ValidationError, match="without imaps:// or a :port"):
        EmailConfig(**good(imap_host="imaps://imap.example.com"))


def test_secrets_are_secret_and_never_printed() -> None:
    config = EmailConfig(**good())
    assert isinstance(config.imap_password, SecretStr)
    assert isinstance(config.smtp_password, SecretStr)
    for secret in PASSWORDS.values():
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


def test_form_schema_describes_every_field() -> None:
    properties = EmailConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    assert properties["imap_password"]["writeOnly"] is True
    assert properties["smtp_port"]["maximum"] == 65535


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert channel.hub_register_channel_types() == [EmailChannel]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[EmailChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-email"
    assert project["entry-points"]["hub"] == {"email": "hub_email.channel"}
    assert import_module(project["entry-points"]["hub"]["email"]) is channel


def test_the_type_is_available() -> None:
    assert EmailChannel.available is True
