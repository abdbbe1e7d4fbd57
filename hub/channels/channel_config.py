"""A channel's (or CRM connection's) config as the API handles it: validated by its
type's Config, merged under a patch, and shown with its secrets masked.

Stored configs are plain JSON with secrets revealed (``registry.stored_config``), then
encrypted; every read for a person goes through ``masked``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, get_args

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import to_jsonable_python

from hub.channels.registry import stored_config
from hub.contract.channel import ChannelType
from hub.contract.crm import CrmType
from hub.errors import HubError

MASK: Final = "********"
"""What a read shows instead of a secret; sent back in a patch, it keeps the secret."""

PluginType = type[ChannelType[Any]] | type[CrmType[Any]]
"""A channel or CRM type: what its settings are validated by is its ``Config``."""


def config_error(err: ValidationError, prefix: str = "config") -> HubError:
    """A 422 naming every bad field of a config as ``config.<field>``."""
    details = [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]}
        for e in err.errors()
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return HubError(422, "validation_error", summary, details)


def validate_config(channel_type: PluginType, data: dict[str, Any]) -> BaseModel:
    """``data`` validated by the type's Config; 422 naming the bad fields otherwise."""
    try:
        return channel_type.Config.model_validate(data)
    except ValidationError as err:
        raise config_error(err) from None


def _mentions_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    return any(_mentions_secret(arg) for arg in get_args(annotation))


def secret_fields(channel_type: PluginType) -> set[str]:
    """The names of the Config's ``SecretStr`` fields (optional ones included)."""
    return {
        name
        for name, field in channel_type.Config.model_fields.items()
        if _mentions_secret(field.annotation)
    }


def secret_fields_of(channel_type: PluginType | None) -> set[str]:
    """``secret_fields`` of a type that may not be installed (then none are known, and
    the audit log redacts only the names that look secret)."""
    return secret_fields(channel_type) if channel_type is not None else set()


def merge_config(
    channel_type: PluginType, stored: dict[str, Any], patch: dict[str, Any]
) -> dict[str, Any]:
    """A config patch over the stored config: fields left out are kept, and a secret
    sent back masked keeps its stored value. The result still needs validating."""
    secrets = secret_fields(channel_type)
    merged = dict(stored)
    for key, value in patch.items():
        if key in secrets and value == MASK and key in stored:
            continue
        merged[key] = value
    return merged


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, dict):
        return {key: _mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def masked(config: BaseModel, reveal: Iterable[str] = ()) -> dict[str, Any]:
    """A config as JSON with every secret shown as ``MASK``, except the top-level
    fields named in ``reveal`` (secrets the caller has just set or had generated)."""
    shown: dict[str, Any] = to_jsonable_python(_mask(config.model_dump()))
    revealed = stored_config(config)
    for key in reveal:
        if key in revealed:
            shown[key] = revealed[key]
    return shown
