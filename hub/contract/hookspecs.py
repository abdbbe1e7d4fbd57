"""Hook specifications of the ``hub`` plugin project.

Every hook here is documented in ``docs/plugins.md`` with its exact signature and has a
``test_hook_<name>`` test; ``tests/test_plugin_docs.py`` fails the suite otherwise.
"""

from __future__ import annotations

from typing import Any

import pluggy

from hub.contract.channel import ChannelType
from hub.contract.crm import CrmType

hookspec = pluggy.HookspecMarker("hub")
hookimpl = pluggy.HookimplMarker("hub")


# --- startup: registration -----------------------------------------------------------


@hookspec
def hub_register_channel_types() -> list[type[ChannelType[Any]]]:  # type: ignore[empty-body]
    """Return the channel types this plugin provides.

    Called once when the plugin manager loads. Each item must be a ``ChannelType``
    subclass with a unique ``name`` and a pydantic ``Config``; an invalid one marks the
    plugin broken (reported in the log and ``hub plugins list``) without stopping the hub.
    """


@hookspec
def hub_register_crm_types() -> list[type[CrmType[Any]]]:  # type: ignore[empty-body]
    """Return the CRM types this plugin provides.

    Same rules as ``hub_register_channel_types``, for ``CrmType`` subclasses.
    """
