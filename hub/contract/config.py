"""Building blocks for a plugin's ``Config`` model, the source of its admin form.

Every bundled plugin uses these, so the same rules hold for every form: unknown fields are
refused and values trimmed (``PLUGIN_CONFIG``), URLs are checked the same way
(``HttpUrlText``), a secret left empty is generated (``GeneratedSecret``) and rarely
changed fields are folded away (``ADVANCED``)::

    class AcmeConfig(BaseModel):
        model_config = PLUGIN_CONFIG

        api_key: SecretStr = Field(title="API key")
        webhook_secret: GeneratedSecret = Field(
            default_factory=generated_secret(), title="Webhook secret"
        )
        api_base_url: HttpUrlText = Field(
            default="https://api.acme.example", title="API base URL", json_schema_extra=ADVANCED
        )
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import (
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.config import JsonDict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticUseDefault, core_schema

PLUGIN_CONFIG: Final = ConfigDict(
    extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True
)
"""The ``model_config`` of a plugin's Config: unknown fields refused, text trimmed, and
inputs left out of error messages so a rejected secret never reaches a log."""

ADVANCED: Final[JsonDict] = {"advanced": True}
"""``json_schema_extra`` of a field the admin form folds away; shared, so never mutate it.
Combine it with other keys as ``json_schema_extra={**ADVANCED, "key": value}``."""

_HTTP_URL: Final[TypeAdapter[HttpUrl]] = TypeAdapter(HttpUrl)


@dataclass(frozen=True, slots=True)
class HttpUrlCheck:
    """Annotation that accepts an absolute http(s) URL given as text.

    The text is kept as typed (pydantic's ``HttpUrl`` would add a trailing slash), except
    that trailing slashes are dropped unless ``keep_trailing_slash``, so a base URL can be
    joined with ``f"{base}/path"``. A refused value's message names ``example``. The JSON
    schema says ``"format": "uri"``.
    """

    example: str = "https://example.com"
    keep_trailing_slash: bool = False

    def __call__(self, value: str) -> str:
        """Return the checked URL, or raise ``ValueError`` naming the example."""
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError:
            msg = f"must be an http:// or https:// URL, e.g. {self.example}"
            raise ValueError(msg) from None
        return value if self.keep_trailing_slash else value.rstrip("/")

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Run the check after the annotated type's own validation."""
        return core_schema.no_info_after_validator_function(self, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Mark the field as a URI in the form schema."""
        json_schema = handler(schema)
        json_schema["format"] = "uri"
        return json_schema


HttpUrlText = Annotated[str, HttpUrlCheck()]
"""An absolute http(s) URL as text, without trailing slash. For a message naming your
service's URL, annotate ``Annotated[str, HttpUrlCheck(example="https://api.acme.example")]``."""


def generated_secret(nbytes: int = 32) -> Callable[[], SecretStr]:
    """Return a ``default_factory`` making a fresh random secret of ``nbytes`` bytes.

    The secret is URL-safe base64 (``A-Z a-z 0-9 _ -``, about 1.3 characters a byte), which
    fits in headers, query strings and webhook tokens such as Telegram's.
    """

    def new_secret() -> SecretStr:
        """Return a fresh random secret."""
        return SecretStr(secrets.token_urlsafe(nbytes))

    return new_secret


def _empty_is_default(value: object) -> object:
    """Fall back to the field's default when the submitted value is None or blank."""
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is None or (isinstance(text, str) and not text.strip()):
        raise PydanticUseDefault
    return value


EmptyIsDefault: Final = BeforeValidator(_empty_is_default)
"""Annotation that treats a submitted ``None``, empty or blank value (text or ``SecretStr``)
as not submitted: the field gets its default, e.g. ``None`` for "not set"; a field without
a default is then reported missing."""

GeneratedSecret = Annotated[SecretStr, EmptyIsDefault]
"""A secret the admin may leave empty to have one generated: give the field
``default_factory=generated_secret()``, and an empty, blank or ``None`` value gets a fresh
secret just as a missing one does. A value given is kept (trimmed)."""
