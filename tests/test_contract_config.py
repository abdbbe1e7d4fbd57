"""The Config helpers of ``hub.contract``: one behaviour for every plugin's admin form."""

from __future__ import annotations

import re
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, SecretStr, ValidationError

import hub.contract
from hub.contract import (
    ADVANCED,
    PLUGIN_CONFIG,
    EmptyIsDefault,
    GeneratedSecret,
    HttpUrlCheck,
    HttpUrlText,
    generated_secret,
)

GIVEN = "given-secret-value-123"


class SampleConfig(BaseModel):
    """A Config model built only from the helpers."""

    model_config = PLUGIN_CONFIG

    api_key: SecretStr = Field(title="API key")
    webhook_secret: GeneratedSecret = Field(default_factory=generated_secret())
    short_secret: GeneratedSecret = Field(default_factory=generated_secret(8))
    api_base_url: HttpUrlText = Field(default="https://api.example.com", json_schema_extra=ADVANCED)
    endpoint: Annotated[
        str, HttpUrlCheck(example="https://chat.example.com/replies", keep_trailing_slash=True)
    ] = "https://chat.example.com/replies"
    proxy_url: Annotated[HttpUrlText | None, EmptyIsDefault] = None
    label: str = ""


def sample(**overrides: Any) -> SampleConfig:
    """A valid config with some fields replaced."""
    return SampleConfig(**{"api_key": "key-123", **overrides})


def error_of(field: str, **overrides: Any) -> dict[str, Any]:
    """The one validation error a sample with these overrides raises, for ``field``."""
    with pytest.raises(ValidationError) as caught:
        sample(**overrides)
    errors = caught.value.errors()
    assert [error["loc"] for error in errors] == [(field,)]
    return dict(errors[0])


def test_helpers_are_exported_from_the_contract() -> None:
    for name in (
        "ADVANCED",
        "PLUGIN_CONFIG",
        "EmptyIsDefault",
        "GeneratedSecret",
        "HttpUrlCheck",
        "HttpUrlText",
        "generated_secret",
    ):
        assert name in hub.contract.__all__
        assert getattr(hub.contract, name) is not None


# --- PLUGIN_CONFIG ---------------------------------------------------------------------


def test_plugin_config_refuses_unknown_fields() -> None:
    assert error_of("api_keey", api_keey="typo")["type"] == "extra_forbidden"


def test_plugin_config_trims_text_and_secrets() -> None:
    config = sample(api_key="  key-123  ", label="  Acme  ")
    assert config.api_key.get_secret_value() == "key-123"
    assert config.label == "Acme"


def test_plugin_config_keeps_rejected_inputs_out_of_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        sample(api_base_url="not a url with hunter2 inside")
    # What reaches a log is the message; errors() still carries the input for the caller.
    assert "hunter2" not in str(caught.value)
    assert "input_value" not in str(caught.value)


# --- HttpUrlText -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://api.example.com",
        "http://localhost",
        "http://localhost:8080/proxy",
        "https://203.0.113.7:8443/v1",
    ],
)
def test_http_url_is_accepted_as_typed(url: str) -> None:
    assert sample(api_base_url=url).api_base_url == url


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://api.example.com/", "https://api.example.com"),
        ("http://localhost:8080/proxy/", "http://localhost:8080/proxy"),
        ("https://api.example.com//", "https://api.example.com"),
        ("  https://api.example.com/  ", "https://api.example.com"),
    ],
)
def test_http_url_loses_its_trailing_slash(url: str, kept: str) -> None:
    assert sample(api_base_url=url).api_base_url == kept


@pytest.mark.parametrize(
    "url", ["ftp://files.example.com", "api.example.com", "https://", "", "   ", "mailto:a@b.c"]
)
def test_non_http_url_is_refused_naming_an_example(url: str) -> None:
    error = error_of("api_base_url", api_base_url=url)
    assert error["msg"] == (
        "Value error, must be an http:// or https:// URL, e.g. https://example.com"
    )


def test_non_text_url_is_refused() -> None:
    assert error_of("api_base_url", api_base_url=8080)["type"] == "string_type"


def test_http_url_check_names_the_given_example() -> None:
    error = error_of("endpoint", endpoint="chat.example.com")
    assert error["msg"].endswith("e.g. https://chat.example.com/replies")


def test_http_url_check_can_keep_the_trailing_slash() -> None:
    url = "https://chat.example.com/replies/"
    assert sample(endpoint=url).endpoint == url


def test_http_url_check_is_a_plain_callable_too() -> None:
    assert HttpUrlCheck()("https://example.com/") == "https://example.com"
    with pytest.raises(ValueError, match=r"e\.g\. https://acme\.example"):
        HttpUrlCheck(example="https://acme.example")("acme.example")


def test_http_url_is_a_uri_in_the_form_schema() -> None:
    properties = SampleConfig.model_json_schema()["properties"]
    assert properties["api_base_url"]["format"] == "uri"
    assert properties["endpoint"]["format"] == "uri"
    assert {"type": "string", "format": "uri"} in properties["proxy_url"]["anyOf"]


# --- EmptyIsDefault ----------------------------------------------------------------------


@pytest.mark.parametrize("empty", [None, "", "   ", SecretStr(""), SecretStr("  ")])
def test_empty_value_falls_back_to_the_default(empty: object) -> None:
    assert sample(proxy_url=empty).proxy_url is None


def test_value_given_beside_empty_is_default_is_validated() -> None:
    assert sample(proxy_url="http://proxy.internal:3128/").proxy_url == "http://proxy.internal:3128"
    assert error_of("proxy_url", proxy_url="proxy.internal")["type"] == "value_error"


def test_empty_value_of_a_field_without_default_is_missing() -> None:
    class Required(BaseModel):
        token: GeneratedSecret

    with pytest.raises(ValidationError) as caught:
        Required(token="  ")
    assert caught.value.errors()[0]["type"] == "missing"


# --- generated_secret and GeneratedSecret ------------------------------------------------


def test_generated_secret_makes_a_fresh_url_safe_secret_each_call() -> None:
    new_secret = generated_secret()
    first, second = new_secret(), new_secret()
    assert isinstance(first, SecretStr)
    assert first.get_secret_value() != second.get_secret_value()
    for secret in (first, second):
        # Telegram's setWebhook secret_token: 1 to 256 of A-Z, a-z, 0-9, '_' and '-'.
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret.get_secret_value())


@pytest.mark.parametrize(("nbytes", "length"), [(8, 11), (24, 32), (32, 43), (48, 64)])
def test_generated_secret_length_follows_nbytes(nbytes: int, length: int) -> None:
    assert len(generated_secret(nbytes)().get_secret_value()) == length


@pytest.mark.parametrize(
    "left_empty",
    [
        {},
        {"webhook_secret": ""},
        {"webhook_secret": "   "},
        {"webhook_secret": "\t\n"},
        {"webhook_secret": None},
        {"webhook_secret": SecretStr("")},
        {"webhook_secret": SecretStr("  ")},
    ],
    ids=["missing", "empty", "blank", "tab-newline", "none", "empty-secret", "blank-secret"],
)
def test_secret_left_empty_is_generated(left_empty: dict[str, Any]) -> None:
    first, second = sample(**left_empty), sample(**left_empty)
    secret = first.webhook_secret.get_secret_value()
    assert len(secret) == 43
    assert re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    assert secret != second.webhook_secret.get_secret_value()


def test_generated_secret_uses_the_fields_own_factory() -> None:
    assert len(sample(short_secret="").short_secret.get_secret_value()) == 11


@pytest.mark.parametrize("given", [GIVEN, f"  {GIVEN} ", SecretStr(GIVEN)])
def test_secret_given_is_kept(given: object) -> None:
    assert sample(webhook_secret=given).webhook_secret.get_secret_value() == GIVEN


def test_secret_of_the_wrong_type_is_refused() -> None:
    assert error_of("webhook_secret", webhook_secret=1234)["type"] == "string_type"


def test_secrets_never_appear_in_printed_or_dumped_forms() -> None:
    config = sample(api_key=GIVEN, webhook_secret=GIVEN + "-webhook")
    generated = sample().webhook_secret.get_secret_value()
    for config_, secret in ((config, GIVEN), (sample(), generated)):
        for text in (repr(config_), str(config_), config_.model_dump_json()):
            assert secret not in text
            assert "**********" in text
    assert GIVEN not in str(config.model_dump())


def test_secret_is_write_only_in_the_form_schema() -> None:
    secret = SampleConfig.model_json_schema()["properties"]["webhook_secret"]
    assert secret["writeOnly"] is True
    assert secret["format"] == "password"
    assert "default" not in secret


# --- ADVANCED ----------------------------------------------------------------------------


def test_advanced_marks_the_field_in_the_form_schema() -> None:
    properties = SampleConfig.model_json_schema()["properties"]
    advanced = {name for name, prop in properties.items() if prop.get("advanced")}
    assert advanced == {"api_base_url"}
    assert properties["api_base_url"] == {
        "advanced": True,
        "default": "https://api.example.com",
        "format": "uri",
        "title": "Api Base Url",
        "type": "string",
    }


def test_advanced_combines_with_other_schema_keys_and_stays_unchanged() -> None:
    class Combined(BaseModel):
        model_config = PLUGIN_CONFIG

        region: str = Field(default="eu", json_schema_extra={**ADVANCED, "examples": ["eu"]})

    prop = Combined.model_json_schema()["properties"]["region"]
    assert prop["advanced"] is True
    assert prop["examples"] == ["eu"]
    assert ADVANCED == {"advanced": True}
