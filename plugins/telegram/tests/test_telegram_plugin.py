"""Tests of the Telegram plugin's declaration: type, config, capabilities and registration."""

from __future__ import annotations

import re
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

from hub_telegram import channel
from hub_telegram.channel import TelegramChannel
from hub_telegram.config import TelegramConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4"
SECRET_TOKEN = "my-webhook_secret-42"


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    return {"bot_token": BOT_TOKEN, "secret_token": SECRET_TOKEN, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(TelegramChannel, ChannelType)
    assert TelegramChannel.name == "telegram"
    assert TelegramChannel.title == "Telegram"
    assert len(TelegramChannel.description) > 20
    assert TelegramChannel.Config is TelegramConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(TelegramChannel.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_capabilities_follow_the_bot_api_limits() -> None:
    caps = TelegramChannel.capabilities
    assert caps.media["image"] == 10_000_000
    assert caps.media["document"] == 50_000_000
    assert caps.reply_to and caps.typing and caps.edit
    assert not caps.subject and not caps.templates
    assert caps.window_hours is None
    assert caps.max_text_length == 4096


def test_config_accepts_a_good_sample_with_defaults() -> None:
    config = TelegramConfig(**good())
    assert config.bot_token.get_secret_value() == BOT_TOKEN
    assert config.mode == "webhook"
    assert config.channel_posts is False
    assert config.api_base_url == "https://api.telegram.org"


def test_config_strips_a_pasted_token_and_accepts_polling() -> None:
    config = TelegramConfig(**good(bot_token=f" {BOT_TOKEN}\n", mode="polling"))
    assert config.bot_token.get_secret_value() == BOT_TOKEN
    assert config.mode == "polling"


@pytest.mark.parametrize(
    ("value", "explanation"),
    [
        ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4", "with a ':'"),
        (f"bot{BOT_TOKEN}", "leading 'bot'"),
        ("12ab:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw4", "numeric id"),
        ("123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALD$aw4", "only letters, digits"),
        ("123456789:AAHdqTcv", "has 8 characters"),
    ],
)
def test_bot_token_errors_say_what_is_wrong(value: str, explanation: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TelegramConfig(**good(bot_token=value))
    assert [error["loc"] for error in caught.value.errors()] == [("bot_token",)]
    assert explanation in str(caught.value)
    assert "bot_token" in str(caught.value)
    assert value not in str(caught.value)


def test_api_base_url_override_is_kept_without_trailing_slash() -> None:
    config = TelegramConfig(**good(api_base_url="http://botapi.internal:8081/"))
    assert config.api_base_url == "http://botapi.internal:8081"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mode", "push"),
        ("secret_token", "has spaces and !"),
        ("secret_token", "x" * 257),
        ("channel_posts", "sometimes"),
        ("api_base_url", "api.telegram.org"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TelegramConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_secrets_are_secret_and_never_printed() -> None:
    config = TelegramConfig(**good())
    assert isinstance(config.bot_token, SecretStr)
    assert isinstance(config.secret_token, SecretStr)
    for secret in (BOT_TOKEN, SECRET_TOKEN):
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


@pytest.mark.parametrize(
    "left_empty", [{}, {"secret_token": ""}, {"secret_token": "  "}, {"secret_token": None}]
)
def test_secret_token_is_generated_when_left_empty(left_empty: dict[str, Any]) -> None:
    sample = {"bot_token": BOT_TOKEN, **left_empty}
    first, second = TelegramConfig(**sample), TelegramConfig(**sample)
    token = first.secret_token.get_secret_value()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", token)
    assert token != second.secret_token.get_secret_value()


def test_form_schema_describes_every_field_and_marks_advanced_ones() -> None:
    properties = TelegramConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {"api_base_url"}
    assert properties["bot_token"]["writeOnly"] is True
    assert properties["mode"]["enum"] == ["webhook", "polling"]


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert channel.hub_register_channel_types() == [TelegramChannel]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[TelegramChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-telegram"
    assert project["entry-points"]["hub"] == {"telegram": "hub_telegram.channel"}
    assert import_module(project["entry-points"]["hub"]["telegram"]) is channel
