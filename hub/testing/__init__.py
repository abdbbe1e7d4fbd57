"""The plugin developers' kit: run a plugin through a real hub in its own tests.

``hub.testing.plugin`` is a pytest plugin (loaded automatically where the hub is
installed) with the ``hub_*`` fixtures; ``ChannelContract`` is the conformance test base
(``CrmContract`` with its ``CrmWorld`` for CRMs);
``hub.testing.webhooks`` signs and posts sample webhooks; ``HubApi`` reads the inbox back;
``MemoryFiles`` stands in for the core's file store in unit tests of ``send``;
``eventually`` waits for what the hub does in the background.

Names are imported on first use, so loading the pytest plugin stays free.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.testing.contract import ChannelContract, SendErrorCase
    from hub.testing.crm_contract import CrmActivity, CrmContract, CrmWorld
    from hub.testing.files import MemoryFiles
    from hub.testing.harness import CreatedChannel, HubAdmin, HubApi, HubApiError
    from hub.testing.waiting import eventually
    from hub.testing.webhooks import (
        WebhookSample,
        hub_signature,
        post_webhook,
        signed_headers,
        signed_json,
    )

_HOMES = {
    "ChannelContract": "hub.testing.contract",
    "SendErrorCase": "hub.testing.contract",
    "CrmActivity": "hub.testing.crm_contract",
    "CrmContract": "hub.testing.crm_contract",
    "CrmWorld": "hub.testing.crm_contract",
    "CreatedChannel": "hub.testing.harness",
    "HubAdmin": "hub.testing.harness",
    "HubApi": "hub.testing.harness",
    "HubApiError": "hub.testing.harness",
    "MemoryFiles": "hub.testing.files",
    "WebhookSample": "hub.testing.webhooks",
    "hub_signature": "hub.testing.webhooks",
    "post_webhook": "hub.testing.webhooks",
    "signed_headers": "hub.testing.webhooks",
    "signed_json": "hub.testing.webhooks",
    "eventually": "hub.testing.waiting",
}

__all__ = [
    "ChannelContract",
    "CreatedChannel",
    "CrmActivity",
    "CrmContract",
    "CrmWorld",
    "HubAdmin",
    "HubApi",
    "HubApiError",
    "MemoryFiles",
    "SendErrorCase",
    "WebhookSample",
    "eventually",
    "hub_signature",
    "post_webhook",
    "signed_headers",
    "signed_json",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'hub.testing' has no attribute {name!r}")
    return getattr(import_module(home), name)
