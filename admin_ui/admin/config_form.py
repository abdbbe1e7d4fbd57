"""A channel type's credentials form, generated from its Config's JSON Schema, and back.

The schema is the one ``GET /api/v1/channel-types`` serves, so the form shows exactly
what the API accepts: one input per property (text, url, email, number, checkbox, a
select for an enum or Literal, its options in words, a password input for a secret),
the title as label, the description as help, required marks and defaults. ``parse_new`` / ``parse_edit`` turn
the submitted form back into the config dict the channel service validates.

Inputs are named ``config-<key>`` so a Config field can never clash with the channel's
own ``name`` or the form's ``csrf_token``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from admin_ui.i18n import gettext as _
from admin_ui.wording import REQUIRED, human_text

PREFIX = "config-"
Kind = Literal[
    "text", "url", "email", "number", "decimal", "password", "checkbox", "select", "json"
]
Mode = Literal["new", "retry", "edit"]
REQUIRED_MESSAGE = REQUIRED
_NULL = {"type": "null"}
_GENERATED_NOTE = re.compile(r"\s*Leave it empty to have one generated[^.]*\.", re.IGNORECASE)


@dataclass(frozen=True)
class ConfigField:
    """One input of the credentials form, described from one schema property."""

    key: str
    label: str
    kind: Kind
    required: bool
    help: str
    has_default: bool
    default: Any
    nullable: bool
    choices: tuple[Any, ...]
    advanced: bool
    labels: tuple[str, ...] = ()
    """What a select shows for each of ``choices``, in their order."""

    @property
    def input_name(self) -> str:
        """The name (and id) of the input: ``config-<key>``."""
        return PREFIX + self.key

    @property
    def secret(self) -> bool:
        """A password input, never filled in by the page."""
        return self.kind == "password"

    @property
    def input_type(self) -> str:
        """The ``type`` attribute of a text-like input."""
        return {"decimal": "text", "json": "text"}.get(self.kind, self.kind)

    def options(self) -> list[tuple[str, str]]:
        """A select's options, with an empty one when no value may be chosen."""
        blank = [("", _("Choose…") if self.required else _("Not set"))]
        offer_blank = self.nullable or not self.has_default
        labels = self.labels or tuple(choice_label(c) for c in self.choices)
        shown = [(str(c), label) for c, label in zip(self.choices, labels, strict=True)]
        return [*(blank if offer_blank else []), *shown]


@dataclass(frozen=True)
class FieldView:
    """A field as one page shows it: its value, error, help and required mark."""

    field: ConfigField
    value: Any
    error: str | None
    help: str
    required: bool


def choice_label(choice: Any) -> str:
    """A choice in words when its Config gives no label: ``per_contact`` → "Per contact"
    (a raw value such as ``per_thread_id`` means nothing to an admin)."""
    words = str(choice).replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else str(choice)


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """A property with ``$ref``, single ``allOf`` and optional ``anyOf`` [x, null] unfolded;
    ``nullable`` says whether null was one of the choices."""
    resolved = dict(prop)
    ref = resolved.pop("$ref", None)
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved = {**defs.get(ref.removeprefix("#/$defs/"), {}), **resolved}
    all_of = resolved.pop("allOf", None)
    if isinstance(all_of, list) and len(all_of) == 1:
        resolved = {**_resolve(all_of[0], defs), **resolved}
    any_of = resolved.pop("anyOf", None)
    if isinstance(any_of, list):
        others = [item for item in any_of if item != _NULL]
        resolved["nullable"] = len(others) < len(any_of)
        if len(others) == 1:
            inner = _resolve(others[0], defs)
            resolved = {**inner, **resolved, "nullable": resolved["nullable"] or inner["nullable"]}
    resolved.setdefault("nullable", False)
    return resolved


def _kind(prop: Mapping[str, Any]) -> Kind:
    if prop.get("writeOnly") or prop.get("format") == "password":
        return "password"
    if "enum" in prop or "const" in prop:
        return "select"
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind == "integer":
        return "number"
    if kind == "number":
        return "decimal"
    if kind in ("object", "array"):
        return "json"
    if prop.get("format") == "uri":
        return "url"
    return "email" if prop.get("format") == "email" else "text"


def form_fields(schema: Mapping[str, Any]) -> list[ConfigField]:
    """The form's fields in the schema's order (the Config's field order)."""
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    fields = []
    for key, raw in schema.get("properties", {}).items():
        prop = _resolve(raw, defs)
        choices = prop.get("enum") or ([prop["const"]] if "const" in prop else [])
        # A Config may name its choices: json_schema_extra={"choice_labels": {value: label}}.
        named = prop.get("choice_labels") or {}
        labels = tuple(str(named.get(str(c)) or choice_label(c)) for c in choices)
        fields.append(
            ConfigField(
                key=key,
                label=str(prop.get("title") or key.replace("_", " ").capitalize()),
                kind=_kind(prop),
                required=key in required,
                help=str(prop.get("description") or ""),
                has_default="default" in prop,
                default=prop.get("default"),
                nullable=bool(prop["nullable"]),
                choices=tuple(choices),
                advanced=bool(prop.get("advanced")),
                labels=labels,
            )
        )
    return fields


def _shown(field: ConfigField, value: Any) -> Any:
    """A config value as its input shows it."""
    if field.kind == "checkbox":
        return bool(value)
    if value is None:
        return ""
    if field.kind == "json":
        return json.dumps(value, indent=2)
    return str(value)


def initial_values(
    fields: Iterable[ConfigField], config: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What the inputs show first: the stored config's values (edit) or the defaults (new).
    Secrets are never shown."""
    values: dict[str, Any] = {}
    for field in fields:
        if field.secret:
            continue
        if config is not None and field.key in config:
            values[field.input_name] = _shown(field, config[field.key])
        elif field.has_default:
            values[field.input_name] = _shown(field, field.default)
    return values


def typed_values(fields: Iterable[ConfigField], form: Mapping[str, Any]) -> dict[str, Any]:
    """The values as submitted, to show again after an error (never the secrets)."""
    values: dict[str, Any] = {}
    for field in fields:
        if field.kind == "checkbox":
            values[field.input_name] = field.input_name in form
        elif not field.secret:
            raw = form.get(field.input_name)
            values[field.input_name] = raw if isinstance(raw, str) else ""
    return values


def typed_secrets(fields: Iterable[ConfigField], form: Mapping[str, Any]) -> set[str]:
    """The input names of the secrets a submitted form filled in (to ask for them again)."""
    return {
        field.input_name
        for field in fields
        if field.secret and str(form.get(field.input_name, "")).strip()
    }


def _typed(field: ConfigField, text: str) -> tuple[Any, str | None]:
    """A non-empty submitted text as the value to validate, or an error."""
    if field.kind == "number":
        try:
            return int(text.strip()), None
        except ValueError:
            return text, None  # the Config's own validation names the problem
    if field.kind == "decimal":
        try:
            return float(text.strip()), None
        except ValueError:
            return text, None
    if field.kind == "select":
        by_text = {str(choice): choice for choice in field.choices}
        return by_text.get(text, text), None
    if field.kind == "json":
        try:
            return json.loads(text), None
        except ValueError as err:
            return None, _("Enter valid JSON (%(error)s).") % {"error": err}
    return text, None


def _parse(
    fields: Iterable[ConfigField], form: Mapping[str, Any], mode: Literal["new", "edit"]
) -> tuple[dict[str, Any], dict[str, str]]:
    config: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.kind == "checkbox":
            # An unticked checkbox is not submitted at all: absent means false.
            config[field.key] = field.input_name in form
            continue
        raw = form.get(field.input_name)
        text = raw if isinstance(raw, str) else ""
        if text.strip():
            value, error = _typed(field, text)
            if error is not None:
                errors[field.input_name] = error
            else:
                config[field.key] = value
        elif mode == "edit" and not field.secret:
            # An emptied field resets to its default or to "not set"; a secret left empty
            # keeps its stored value (it is simply not sent).
            if field.has_default:
                config[field.key] = field.default
            elif field.nullable:
                config[field.key] = None
            elif field.required:
                errors[field.input_name] = REQUIRED_MESSAGE
        # Creating: empty means "not given", so defaults and generated secrets apply.
    return config, errors


def parse_new(
    fields: Iterable[ConfigField], form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The config to create a channel with (empty inputs left out) and input errors."""
    return _parse(fields, form, "new")


def parse_edit(
    fields: Iterable[ConfigField], form: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The config patch of the edit form (secrets only when typed) and input errors."""
    return _parse(fields, form, "edit")


def friendly(message: str) -> str:
    """A pydantic message as a person reads it (see ``admin_ui.wording``)."""
    return human_text(message)


def field_errors(details: Iterable[Mapping[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """API error details (``config.<key>``, ``name``) as errors by input name, and the
    messages that belong to no single input."""
    by_input: dict[str, str] = {}
    general: list[str] = []
    for detail in details:
        field = str(detail.get("field", ""))
        message = friendly(str(detail.get("message", "")))
        parts = field.split(".")
        if parts[0] == "config" and len(parts) > 1:
            by_input.setdefault(PREFIX + parts[1], message)
        elif field == "name":
            by_input.setdefault("name", message)
        else:
            general.append(f"{field}: {message}" if field else message)
    return by_input, general


def views(
    fields: Iterable[ConfigField],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    mode: Mode,
    retype: Collection[str] = (),
) -> list[FieldView]:
    """Each field with what this page shows: after a failed submit (``retry``) a secret
    that was typed (input names in ``retype``) or is required says it must be typed
    again; when editing, that an empty one keeps its value."""
    shown = []
    for field in fields:
        help_text = field.help
        required = field.required
        if field.secret and mode == "edit":
            # Empty keeps the secret when editing: the Config's "leave it empty to have
            # one generated" (true when creating) would say the opposite.
            help_text = _GENERATED_NOTE.sub("", help_text).strip()
            help_text = _join(_("Leave empty to keep the current value."), help_text)
            required = False
        elif field.secret and mode == "retry" and (field.required or field.input_name in retype):
            help_text = _join(
                help_text, _("For safety a secret is not kept after an error: type it again.")
            )
        shown.append(
            FieldView(
                field=field,
                value=values.get(field.input_name, False if field.kind == "checkbox" else ""),
                error=errors.get(field.input_name),
                help=help_text,
                required=required,
            )
        )
    return shown


def _join(first: str, second: str) -> str:
    return " ".join(part for part in (first, second) if part)
