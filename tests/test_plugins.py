"""Plugin discovery through the ``hub`` entry points, validation and broken-plugin reports."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import BaseModel

from hub.contract import ChannelType, CrmContext, CrmField, CrmTokens, CrmType, hookimpl
from hub.plugin_manager import HubPluginManager, PluginInfo, load_plugins
from hub.testing import CrmWorld
from tests.fake_crm import route_respx
from tests.fake_hubspot import HubSpotFake
from tests.fake_salesforce import SalesforceFake
from tests.plugin_dists import channel_plugin, write_dist

BUNDLED = {
    "whatsapp": "channel",
    "telegram": "channel",
    "email": "channel",
    "custom_channel": "channel",
    "hubspot": "crm",
    "salesforce": "crm",
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path where tests install throwaway distributions."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    # Forget the throwaway modules, so the next test imports its own of the same name.
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]


def test_the_six_bundled_plugins_are_discovered_through_entry_points() -> None:
    manager = load_plugins()
    found = {name: info for name, info in manager.plugins.items() if name in BUNDLED}
    assert {name: info.kind for name, info in found.items()} == BUNDLED
    for info in found.values():
        assert info.status == "ok", info.error
        assert info.distribution.startswith("inbox-hub-")
        assert info.version
    assert set(manager.channel_types) >= {"whatsapp", "telegram", "email", "custom_channel"}
    assert set(manager.crm_types) >= {"hubspot", "salesforce"}


def test_a_valid_third_party_plugin_is_loaded_with_no_change_to_the_hub(site: Path) -> None:
    write_dist(site, "acme-chat", "acme_chat", channel_plugin("AcmeChat", "acme"))
    manager = load_plugins()
    info = manager.plugins["acme_chat"]
    assert (info.status, info.kind, info.distribution, info.version) == (
        "ok",
        "channel",
        "acme-chat",
        "1.2.3",
    )
    assert manager.channel_types["acme"].title == "AcmeChat"


def test_a_plugin_that_raises_on_import_is_reported_not_fatal(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_dist(site, "broken-plugin", "broken_plugin", "raise RuntimeError('boom at import')\n")
    write_dist(site, "fine-plugin", "fine_plugin", channel_plugin("Fine", "fine"))
    with caplog.at_level(logging.ERROR):
        manager = load_plugins()
    broken = manager.plugins["broken_plugin"]
    assert broken.status == "broken"
    assert broken.error == "import failed: RuntimeError: boom at import"
    assert "broken_plugin" in caplog.text and "boom at import" in caplog.text
    assert manager.plugins["fine_plugin"].status == "ok"
    assert "fine" in manager.channel_types
    assert manager.plugins["whatsapp"].status == "ok"


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            "from hub.contract import hookimpl\n@hookimpl\ndef hub_regster_channel_types():\n    return []\n",
            "implements unknown hooks: hub_regster_channel_types",
        ),
        (
            "from hub.contract import hookimpl\n@hookimpl\ndef hub_register_channel_types():\n    return [object]\n",
            "is not a ChannelType subclass",
        ),
        (
            "from hub.contract import hookimpl\n@hookimpl\ndef hub_register_channel_types():\n    return 'x'\n",
            "must return a list",
        ),
        (
            "from hub.contract import hookimpl\n@hookimpl\nasync def hub_register_channel_types():\n    return []\n",
            "must not be async",
        ),
        (
            "from hub.contract import hookimpl\n@hookimpl\nasync def hub_route_conversation():\n    return None\n",
            "hub_route_conversation must not be async def",
        ),
        (
            "from hub.contract import hookimpl\n@hookimpl\ndef hub_register_crm_types():\n    raise ValueError('no')\n",
            "hub_register_crm_types() raised ValueError: no",
        ),
        (
            channel_plugin("NoConfig", "noconfig").replace("Config = Config", "Config = dict"),
            "NoConfig.Config must be a pydantic model",
        ),
        (
            channel_plugin("NoTitle", "notitle").replace('title = "NoTitle"', 'title = ""'),
            "NoTitle.title must be a non-empty string",
        ),
        (
            channel_plugin("Clash", "whatsapp"),
            "type name 'whatsapp' is already registered",
        ),
    ],
)
def test_a_plugin_that_breaks_the_contract_is_reported_broken(
    site: Path, source: str, error: str
) -> None:
    write_dist(site, "zz-bad", "zz_bad", source)
    manager = load_plugins()
    info = manager.plugins["zz_bad"]
    assert info.status == "broken"
    assert info.error is not None and error in info.error
    assert info.channel_types == [] and info.crm_types == []
    # The broken plugin's hooks are gone, the bundled ones still answer.
    assert manager.pm.get_plugin("zz_bad") is None
    assert manager.channel_types["whatsapp"].__module__.startswith("hub_whatsapp")


def test_a_blocked_plugin_is_not_loaded(site: Path) -> None:
    write_dist(site, "acme-chat", "acme_chat", "raise RuntimeError('must not be imported')\n")
    manager = load_plugins(blocked=["acme_chat", "telegram"])
    assert manager.plugins["acme_chat"].status == "blocked"
    assert manager.plugins["telegram"].status == "blocked"
    assert "telegram" not in manager.channel_types
    assert "whatsapp" in manager.channel_types


def test_with_autoload_disabled_only_allowed_plugins_load() -> None:
    manager = load_plugins(autoload=False, allow=["email"])
    assert set(manager.channel_types) == {"email"}
    assert manager.crm_types == {}
    assert manager.plugins["whatsapp"].status == "blocked"


class _Config(BaseModel):
    pass


class _Chat(ChannelType):
    name = "chat"
    title = "Chat"
    description = "d"
    logo = "<svg/>"
    Config = _Config


class _Crm(CrmType):
    name = "crm"
    title = "CRM"
    description = "d"
    logo = "<svg/>"
    Config = _Config


class _Both:
    @hookimpl
    def hub_register_channel_types(self) -> list[type[ChannelType]]:
        return [_Chat]

    @hookimpl
    def hub_register_crm_types(self) -> list[type[CrmType]]:
        return [_Crm]


def test_hook_hub_register_channel_types() -> None:
    manager = HubPluginManager(autoload=False)
    manager.register(_Both(), PluginInfo(name="both", distribution="d", version="1"))
    assert manager.channel_types == {"chat": _Chat}
    assert manager.plugins["both"].channel_types == ["chat"]


def test_hook_hub_register_crm_types() -> None:
    manager = HubPluginManager(autoload=False)
    manager.register(_Both(), PluginInfo(name="both", distribution="d", version="1"))
    assert manager.crm_types == {"crm": _Crm}
    assert manager.plugins["both"].kind == "channel+crm"


async def test_crm_field_catalog_of_bundled_crms_never_lets_email_or_phone_be_edited() -> None:
    manager = load_plugins()
    world = CrmWorld()
    tokens = CrmTokens(
        access_token=world.access_token,
        refresh_token=world.refresh_token,
        instance_url="https://acme.my.salesforce.com",
    )
    with respx.mock() as router:
        route_respx(router, "https://api.hubapi.com", HubSpotFake(world, token=_HUBSPOT_TOKEN))
        route_respx(
            router, "https://acme.my.salesforce.com", SalesforceFake(world, client_secret="s")
        )
        async with httpx.AsyncClient() as http:
            for name in ("hubspot", "salesforce"):
                crm_type = manager.crm_types[name]
                config = crm_type.Config.model_validate(_sample_crm_config(name))
                context = CrmContext(connection_id=1, http=http, tokens=tokens)
                fields: list[CrmField] = await crm_type(config, context).field_catalog()
                locked = {f.name.lower() for f in fields if not f.editable}
                assert {"email", "phone"} <= locked, name


_HUBSPOT_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"


def _sample_crm_config(name: str) -> dict[str, str]:
    if name == "hubspot":
        return {"access_token": _HUBSPOT_TOKEN}
    return {"client_id": "3MVG9", "client_secret": "s"}
