"""The credentials form generated from a channel type's Config, and the form read back.

Run on the real plugin Configs (custom channel, Telegram, WhatsApp) and on a declared
type, through the same JSON Schema ``GET /api/v1/channel-types`` serves.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
from hub_custom_channel.channel import CustomChannel
from hub_custom_channel.config import CustomChannelConfig
from hub_telegram.config import TelegramConfig
from hub_whatsapp.config import WhatsAppConfig
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from admin_ui.admin import config_form
from admin_ui.admin.config_form import REQUIRED_MESSAGE, ConfigField
from hub.channels.channel_config import masked
from hub.channels.manifest import ChannelManifest, build_channel_type
from hub.channels.registry import stored_config

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def fields_of(model: type[BaseModel]) -> dict[str, ConfigField]:
    return {field.key: field for field in config_form.form_fields(model.model_json_schema())}


def declared_config() -> type[BaseModel]:
    """The Config of a declared type on the custom channel: every credential type."""
    manifest = ChannelManifest.model_validate(
        {
            "name": "acme_chat",
            "title": "Acme Chat",
            "credentials": [
                {"name": "acme_token", "title": "Acme token", "type": "secret", "required": True},
                {"name": "backup_token", "title": "Backup token", "type": "secret"},
                {"name": "region", "title": "Region", "type": "choice", "choices": ["eu", "us"]},
                {"name": "acme_url", "title": "Acme URL", "type": "url"},
                {"name": "retries", "title": "Retries", "type": "integer", "default": 3},
                {"name": "limit", "title": "Limit", "type": "integer"},
                {"name": "sandbox", "title": "Sandbox", "type": "boolean", "default": False},
                {"name": "workspace", "title": "Workspace", "description": "As shown in Acme"},
            ],
        }
    )
    return build_channel_type(manifest, CustomChannel).Config


def test_the_custom_channel_form_has_its_fields_types_defaults_and_help() -> None:
    fields = fields_of(CustomChannelConfig)
    assert list(fields) == [
        "outbound_url",
        "signing_secret",
        "supports_attachments",
        "supports_reply_to",
        "threading",
    ]
    url = fields["outbound_url"]
    assert (url.kind, url.required, url.label) == ("url", True, "Outbound URL")
    assert url.input_name == "config-outbound_url" and "agent replies" in url.help
    secret = fields["signing_secret"]
    # Generated when left empty: a secret input that is not required.
    assert secret.secret and secret.input_type == "password" and not secret.required
    assert fields["supports_attachments"].kind == "checkbox"
    threading = fields["threading"]
    assert threading.kind == "select" and threading.default == "per_contact"
    # The values are sent, their human labels shown (never "per_contact").
    assert threading.options() == [
        ("per_thread_id", "One conversation per thread of your service"),
        ("per_contact", "One conversation per contact"),
    ]
    values = config_form.initial_values(fields.values(), None)
    assert values == {
        "config-supports_attachments": True,
        "config-supports_reply_to": False,
        "config-threading": "per_contact",
    }


def test_a_submitted_custom_channel_form_becomes_a_valid_config() -> None:
    fields = fields_of(CustomChannelConfig).values()
    form = {
        "config-outbound_url": "https://chat.example.com/hub/replies/",
        "config-signing_secret": "",
        "config-supports_reply_to": "on",
        "config-threading": "per_thread_id",
    }
    config, errors = config_form.parse_new(fields, form)
    assert errors == {}
    # Empty secret left out (so it is generated); the unticked checkbox is false.
    assert config == {
        "outbound_url": "https://chat.example.com/hub/replies/",
        "supports_attachments": False,
        "supports_reply_to": True,
        "threading": "per_thread_id",
    }
    validated = CustomChannelConfig.model_validate(config)
    assert len(validated.signing_secret.get_secret_value()) > 30


def test_the_telegram_form_folds_the_api_server_away_and_requires_the_token() -> None:
    fields = fields_of(TelegramConfig)
    assert fields["bot_token"].secret and fields["bot_token"].required
    assert fields["secret_token"].secret and not fields["secret_token"].required
    assert fields["mode"].kind == "select" and fields["mode"].choices == ("webhook", "polling")
    server = fields["api_base_url"]
    assert server.advanced and server.kind == "url" and server.default == "https://api.telegram.org"
    form = {"config-bot_token": TOKEN, "config-mode": "webhook", "config-api_base_url": ""}
    config, errors = config_form.parse_new(fields.values(), form)
    assert errors == {}
    assert config == {"bot_token": TOKEN, "mode": "webhook", "channel_posts": False}
    assert TelegramConfig.model_validate(config).api_base_url == "https://api.telegram.org"


def test_the_whatsapp_form_marks_required_ids_and_generates_the_verify_token() -> None:
    fields = fields_of(WhatsAppConfig)
    required = {key for key, field in fields.items() if field.required}
    assert required == {"phone_number_id", "business_account_id", "access_token", "app_secret"}
    assert {key for key, field in fields.items() if field.secret} == {
        "access_token",
        "app_secret",
        "verify_token",
    }
    assert {key for key, field in fields.items() if field.advanced} == {
        "api_version",
        "api_base_url",
    }
    assert fields["phone_number_id"].kind == "text"


def test_a_declared_type_gets_a_field_for_every_credential_type() -> None:
    fields = fields_of(declared_config())
    kinds = {key: field.kind for key, field in fields.items()}
    assert kinds == {
        "outbound_url": "url",
        "signing_secret": "password",
        "supports_attachments": "checkbox",
        "supports_reply_to": "checkbox",
        "threading": "select",
        "acme_token": "password",
        "backup_token": "password",
        "region": "select",
        "acme_url": "url",
        "retries": "number",
        "limit": "number",
        "sandbox": "checkbox",
        "workspace": "text",
    }
    assert fields["backup_token"].nullable and not fields["backup_token"].required
    # An optional choice without default offers "not set".
    assert fields["region"].options()[0] == ("", "Not set")
    assert fields["workspace"].help == "As shown in Acme"
    assert fields["retries"].default == 3


def test_a_declared_form_is_read_back_into_its_config() -> None:
    model = declared_config()
    fields = fields_of(model).values()
    form = {
        "config-outbound_url": "https://acme.example/replies",
        "config-acme_token": "tok",
        "config-region": "us",
        "config-retries": "5",
        "config-limit": "",
        "config-sandbox": "on",
        "config-workspace": "",
    }
    config, errors = config_form.parse_new(fields, form)
    assert errors == {}
    assert config["retries"] == 5 and config["region"] == "us" and config["sandbox"] is True
    assert "limit" not in config and "workspace" not in config and "backup_token" not in config
    validated = model.model_validate(config)
    assert validated.model_dump()["limit"] is None


def test_a_number_that_is_not_one_is_left_to_the_config_to_refuse() -> None:
    model = declared_config()
    form = {"config-outbound_url": "https://a.example", "config-acme_token": "t"}
    config, _ = config_form.parse_new(fields_of(model).values(), {**form, "config-retries": "x"})
    assert config["retries"] == "x"
    with pytest.raises(ValueError, match="retries"):
        model.model_validate(config)


def test_editing_sends_typed_secrets_only_and_resets_emptied_fields() -> None:
    model = declared_config()
    fields = fields_of(model).values()
    form = {
        "config-outbound_url": "https://acme.example/replies",
        "config-signing_secret": "",
        "config-acme_token": "",
        "config-backup_token": "new-backup",
        "config-region": "",
        "config-retries": "",
        "config-workspace": "",
    }
    patch, errors = config_form.parse_edit(fields, form)
    assert errors == {}
    assert "signing_secret" not in patch and "acme_token" not in patch
    assert patch["backup_token"] == "new-backup"
    # Emptied: back to the default, or to "not set".
    assert patch["retries"] == 3 and patch["region"] is None and patch["workspace"] is None
    assert patch["sandbox"] is False


def test_emptying_a_required_field_when_editing_is_an_error() -> None:
    fields = fields_of(CustomChannelConfig).values()
    patch, errors = config_form.parse_edit(fields, {"config-outbound_url": "  "})
    assert errors == {"config-outbound_url": REQUIRED_MESSAGE}
    assert "outbound_url" not in patch


def test_the_edit_form_shows_the_stored_values_but_never_a_secret() -> None:
    stored = CustomChannelConfig.model_validate(
        {"outbound_url": "https://chat.example.com/in", "signing_secret": "s3cret-value"}
    )
    fields = fields_of(CustomChannelConfig).values()
    values = config_form.initial_values(fields, masked(stored))
    assert values["config-outbound_url"] == "https://chat.example.com/in"
    assert "config-signing_secret" not in values
    assert "s3cret-value" not in repr(values) and "********" not in repr(values)
    # The same values submitted unchanged leave the stored config as it was.
    form = {key: value for key, value in values.items() if value is not False}
    patch, errors = config_form.parse_edit(fields, {k: str(v) for k, v in form.items()})
    assert errors == {}
    merged = CustomChannelConfig.model_validate({**stored_config(stored), **patch})
    assert stored_config(merged) == stored_config(stored)


def test_help_says_what_a_secret_input_does_on_each_page() -> None:
    fields = list(fields_of(TelegramConfig).values())
    token = {view.field.key: view for view in config_form.views(fields, {}, {}, "edit")}
    assert token["bot_token"].help.startswith("Leave empty to keep the current value.")
    assert token["bot_token"].required is False
    # Empty keeps a generated secret when editing: the Config's "generated" note goes.
    assert token["secret_token"].help == (
        "Leave empty to keep the current value. Sent by Telegram with every webhook call so "
        "the hub can tell it from a forgery."
    )
    form = {"config-bot_token": TOKEN, "config-secret_token": ""}
    retype = config_form.typed_secrets(fields, form)
    assert retype == {"config-bot_token"}
    again = {v.field.key: v for v in config_form.views(fields, {}, {}, "retry", retype)}
    assert "type it again" in again["bot_token"].help and again["bot_token"].required
    # A secret left empty to be generated needs no retyping.
    assert "type it again" not in again["secret_token"].help


def test_typed_values_keep_the_input_but_never_a_secret() -> None:
    fields = fields_of(TelegramConfig).values()
    typed = config_form.typed_values(fields, {"config-bot_token": TOKEN, "config-mode": "polling"})
    assert typed["config-mode"] == "polling" and typed["config-channel_posts"] is False
    assert "config-bot_token" not in typed


def test_error_details_are_placed_beside_their_inputs() -> None:
    by_input, general = config_form.field_errors(
        [
            {"field": "config.bot_token", "message": "Value error, must have the form x"},
            {"field": "config.mode", "message": "Field required"},
            {"field": "name", "message": "String should have at least 1 character"},
            {"field": "config", "message": "Value error, something about the whole"},
        ]
    )
    assert by_input == {
        "config-bot_token": "Must have the form x.",
        "config-mode": REQUIRED_MESSAGE,
        "name": REQUIRED_MESSAGE,  # pydantic's "String should have at least 1 character"
    }
    assert general == ["config: Something about the whole."]


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Nested(BaseModel):
    depth: int = 1


class Unusual(BaseModel):
    colour: Colour = Field(Colour.RED, title="Colour")
    nested: Nested = Field(default_factory=Nested)
    tags: list[str] = Field(default_factory=list)
    ratio: float = 0.5
    email: str | None = Field(None, json_schema_extra={"format": "email"})


def test_referenced_enums_objects_and_numbers_get_fitting_inputs() -> None:
    fields = fields_of(Unusual)
    assert fields["colour"].kind == "select" and fields["colour"].choices == ("red", "blue")
    assert fields["nested"].kind == "json" and fields["tags"].kind == "json"
    assert fields["ratio"].kind == "decimal" and fields["ratio"].input_type == "text"
    assert fields["email"].kind == "email" and fields["email"].nullable
    form = {"config-colour": "blue", "config-nested": '{"depth": 3}', "config-ratio": "0.25"}
    config, errors = config_form.parse_new(fields.values(), form)
    assert errors == {}
    parsed: dict[str, Any] = to_jsonable_python(Unusual.model_validate(config).model_dump())
    assert parsed["colour"] == "blue" and parsed["nested"] == {"depth": 3}
    assert parsed["ratio"] == 0.25
    _, bad = config_form.parse_new(fields.values(), {"config-tags": "[oops"})
    assert bad["config-tags"].startswith("Enter valid JSON")


def test_a_choice_without_a_label_is_shown_in_words() -> None:
    schema = {
        "properties": {
            "mode": {"enum": ["per_contact", "per_thread_id", "ssl"], "default": "ssl"},
            "tone": {"enum": ["a", "b"], "choice_labels": {"a": "Friendly"}, "default": "a"},
        }
    }
    fields = {f.key: f for f in config_form.form_fields(schema)}
    assert fields["mode"].options() == [
        ("per_contact", "Per contact"),
        ("per_thread_id", "Per thread id"),
        ("ssl", "Ssl"),
    ]
    assert fields["tone"].options() == [("a", "Friendly"), ("b", "B")]
