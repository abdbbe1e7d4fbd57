"""Declarative channel types: a JSON manifest turned into a ``ChannelType`` without Python.

A manifest names an ``extensible`` plugin type as its ``base`` (by default the custom
channel) and adds its own name, title, description, logo, credential fields and
capabilities. ``build_channel_type`` makes a subclass of the base with a ``Config`` that
is the base's plus one field per credential, so the admin form, validation, encryption
and masking work exactly as for a plugin's own fields. Storing the manifests and
keeping ``ChannelTypes`` in step with them is ``hub.channels.definitions``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictInt,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from hub.contract.channel import Capabilities, ChannelType
from hub.contract.config import EmptyIsDefault, HttpUrlCheck, HttpUrlText

TYPE_NAME: Final = r"^[a-z][a-z0-9_]{1,49}$"
FIELD_NAME: Final = r"^[a-z][a-z0-9_]{0,49}$"
LOGO_MAX_BYTES: Final = 64 * 1024
TEXT_MAX: Final = 4000
DEFAULT_LOGO: Final = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24">'
    '<path fill="#6b7280" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 '
    '2-2z"/></svg>'
)
_SVG_ROOTS: Final = {"svg", "{http://www.w3.org/2000/svg}svg"}
# A DTD is the only way an SVG text can make the XML parser expand entities (the
# "billion laughs" bomb); an icon never needs one, so it is refused before parsing.
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

CredentialType = Literal["string", "secret", "url", "boolean", "integer", "choice"]


def check_svg(text: str) -> str:
    """Return ``text`` if it is an SVG document of at most 64 KiB; raise ``ValueError``.

    Nothing is sanitized: the UI shows logos only as ``<img>``, where script never runs.
    """
    if len(text.encode()) > LOGO_MAX_BYTES:
        raise ValueError(f"must be at most {LOGO_MAX_BYTES // 1024} KiB")
    if _DTD.search(text):
        raise ValueError("must not contain a DOCTYPE or ENTITY declaration")
    try:
        root = ET.fromstring(text)  # noqa: S314 - no DTD, so no entity expansion
    except ET.ParseError:
        raise ValueError("must be an SVG document (well-formed XML)") from None
    if root.tag not in _SVG_ROOTS:
        raise ValueError("must be an SVG document: its root element must be <svg>")
    return text


class CredentialField(BaseModel):
    """One field of a declarative type's credential form."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: str = Field(pattern=FIELD_NAME, description="the config key, e.g. api_key")
    title: str = Field(min_length=1, max_length=200)
    type: CredentialType = "string"
    description: str = Field("", max_length=1000)
    required: StrictBool = False
    default: str | StrictBool | StrictInt | None = Field(
        None, description="the value when none is given; not allowed for secrets"
    )
    choices: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=100, description="the allowed values of a choice field"
    )

    @model_validator(mode="after")
    def _consistent(self) -> CredentialField:
        if self.type == "choice":
            if not self.choices:
                raise ValueError("a choice field needs a non-empty list of choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices must be unique")
        elif self.choices is not None:
            raise ValueError("only a choice field has choices")
        if self.default is not None:
            _check_default(self)
        return self


def _check_default(spec: CredentialField) -> None:
    default = spec.default
    if spec.type == "secret":
        raise ValueError("a secret field cannot have a default")
    if spec.type == "boolean" and not isinstance(default, bool):
        raise ValueError("the default of a boolean field must be true or false")
    if spec.type == "integer" and (isinstance(default, bool) or not isinstance(default, int)):
        raise ValueError("the default of an integer field must be an integer")
    if spec.type in {"string", "url", "choice"} and not isinstance(default, str):
        raise ValueError(f"the default of a {spec.type} field must be text")
    if spec.type == "choice" and default not in (spec.choices or []):
        raise ValueError("the default of a choice field must be one of its choices")
    if spec.type == "url":
        HttpUrlCheck()(str(default))


class ManifestCapabilities(Capabilities):
    """Capabilities as a manifest gives them: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestChanges(BaseModel):
    """The changeable parts of a manifest (``PATCH``): each given one replaces the old."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=TEXT_MAX)
    logo: str | None = Field(None, description="an SVG document, at most 64 KiB")
    credentials: list[CredentialField] | None = Field(None, max_length=50)
    capabilities: ManifestCapabilities | None = None

    @field_validator("logo")
    @classmethod
    def _svg(cls, value: str | None) -> str | None:
        return None if value is None else check_svg(value)

    @field_validator("credentials")
    @classmethod
    def _unique(cls, value: list[CredentialField] | None) -> list[CredentialField] | None:
        names = [field.name for field in value or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"credential names must be unique: {', '.join(duplicates)}")
        return value


class ChannelManifest(ManifestChanges):
    """A declarative channel type, as registered with ``POST /api/v1/channel-types``."""

    name: str = Field(pattern=TYPE_NAME, description="the type's name, e.g. acme_chat")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=TEXT_MAX)
    base: str = Field("custom_channel", max_length=100, description="an extensible type")
    credentials: list[CredentialField] = Field(default_factory=list, max_length=50)

    def changed(self, changes: ManifestChanges) -> ChannelManifest:
        """This manifest with the fields ``changes`` gives replaced."""
        given = changes.model_dump(include=changes.model_fields_set, exclude_none=True)
        return ChannelManifest.model_validate({**self.model_dump(exclude_none=True), **given})


_SIMPLE_TYPES: Final[dict[str, Any]] = {
    "string": Annotated[str, Field(max_length=TEXT_MAX)],
    "secret": Annotated[SecretStr, Field(max_length=TEXT_MAX)],
    "url": HttpUrlText,
    "boolean": bool,
    "integer": int,
}


def _annotation(spec: CredentialField) -> Any:
    """The Config annotation of one credential field."""
    choice: Any = Literal[tuple(spec.choices or ())] if spec.type == "choice" else None
    base: Any = choice if spec.type == "choice" else _SIMPLE_TYPES[spec.type]
    if spec.type in {"string", "secret", "url"}:
        # A blank entry in the form means "not given": the default, or "missing".
        return Annotated[base if spec.required else base | None, EmptyIsDefault]
    return base if spec.required or spec.default is not None else base | None


def _field(spec: CredentialField) -> tuple[Any, Any]:
    extra: JsonDict = {"credential_type": spec.type}
    description = spec.description or None
    if spec.default is not None:
        default: Any = spec.default
    elif spec.required:
        default = ...
    else:
        default = None
    field = Field(default, title=spec.title, description=description, json_schema_extra=extra)
    return _annotation(spec), field


def build_channel_type(
    manifest: ChannelManifest, base: type[ChannelType[Any]]
) -> type[ChannelType[Any]]:
    """A subclass of ``base`` named, described and configured by ``manifest``.

    Raises ``ValueError`` when a credential field's name is one of the base Config's.
    """
    taken = sorted(set(base.Config.model_fields) & {c.name for c in manifest.credentials})
    if taken:
        raise ValueError(f"credential names taken by the base type's settings: {', '.join(taken)}")
    fields: dict[str, Any] = {spec.name: _field(spec) for spec in manifest.credentials}
    camel = "".join(part.capitalize() for part in manifest.name.split("_"))
    config = create_model(f"{camel}Config", __base__=base.Config, **fields)
    capabilities = Capabilities.model_validate(
        {
            **base.capabilities.model_dump(),
            **(
                manifest.capabilities.model_dump(exclude_unset=True)
                if manifest.capabilities
                else {}
            ),
        }
    )
    attributes = {
        "__module__": __name__,
        "__doc__": manifest.description or manifest.title,
        "name": manifest.name,
        "title": manifest.title,
        "description": manifest.description,
        "logo": manifest.logo or DEFAULT_LOGO,
        "Config": config,
        "capabilities": capabilities,
        # A definition is a leaf: another definition builds on the plugin type instead.
        "extensible": False,
        # Its own credentials go to the base's connect (the custom channel hands them to
        # the service to accept); without any, only the base's own check remains.
        "checks_credentials": base.checks_credentials or bool(manifest.credentials),
        "base_name": base.name,
        "manifest": manifest,
    }
    return type(f"{camel}Channel", (base,), attributes)


def base_name(channel_type: type[ChannelType[Any]]) -> str | None:
    """The base a declarative type builds on (``None`` for a plugin's own type)."""
    value = getattr(channel_type, "base_name", None)
    return value if isinstance(value, str) else None


def manifest_of(channel_type: type[ChannelType[Any]]) -> ChannelManifest | None:
    """The manifest a declarative type was built from (``None`` for a plugin's type)."""
    value = getattr(channel_type, "manifest", None)
    return value if isinstance(value, ChannelManifest) else None
