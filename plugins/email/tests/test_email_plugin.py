"""Tests of the email plugin's declaration: type, config, capabilities and registration."""

from __future__ import annotations

import asyncio
import socket
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from importlib import import_module
from pathlib import Path
from typing import Any

import httpx
import hub.contract.hookspecs
import pluggy
import pytest
from hub.contract import BadCredentials, ChannelContext, ChannelType, RetryLater
from pydantic import SecretStr, ValidationError

from hub_email import channel
from hub_email.channel import EmailChannel
from hub_email.config import EmailConfig

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
PASSWORDS = {"imap_password": "imap-pass-Xy7!", "smtp_password": "smtp-pass-Qz9?"}


def good(**overrides: Any) -> dict[str, Any]:
    """Return a valid config sample, with some fields replaced."""
    sample: dict[str, Any] = {
        "imap_host": "imap.example.com",
        "imap_username": "support@example.com",
        "smtp_host": "smtp.example.com",
        "smtp_username": "support@example.com",
        "from_address": "support@example.com",
        **PASSWORDS,
    }
    return {**sample, **overrides}


def test_type_declares_name_title_description_and_config() -> None:
    assert issubclass(EmailChannel, ChannelType)
    assert EmailChannel.name == "email"
    assert EmailChannel.title == "Email"
    assert len(EmailChannel.description) > 20
    assert EmailChannel.Config is EmailConfig


def test_logo_is_an_svg_document_without_script() -> None:
    root = ET.fromstring(EmailChannel.logo)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert not [el for el in root.iter() if el.tag.endswith("script")]


def test_capabilities_have_subjects_and_attachments_only() -> None:
    caps = EmailChannel.capabilities
    assert caps.subject
    assert caps.media["document"] > 10_000_000
    assert not (caps.reply_to or caps.typing or caps.edit or caps.templates)
    assert caps.window_hours is None
    assert caps.max_text_length is None


def test_config_accepts_a_good_sample_with_standard_ports() -> None:
    config = EmailConfig(**good())
    assert (config.imap_port, config.imap_security, config.imap_mailbox) == (993, "ssl", "INBOX")
    assert (config.smtp_port, config.smtp_security) == (587, "starttls")
    assert config.from_address == "support@example.com"
    assert config.from_name is None


def test_config_accepts_ip_addresses_and_other_security_modes() -> None:
    config = EmailConfig(
        **good(imap_host="192.0.2.7", imap_port=143, imap_security="starttls", smtp_port=465)
    )
    assert config.imap_host == "192.0.2.7"
    assert config.imap_security == "starttls"


def test_email_has_no_api_base_url() -> None:
    assert "api_base_url" not in EmailConfig.model_fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("imap_host", "imaps://imap.example.com"),
        ("smtp_host", "smtp.example.com:587"),
        ("imap_port", 0),
        ("smtp_port", 65536),
        ("imap_security", "tls"),
        ("smtp_security", "ssl/tls"),
        ("imap_username", ""),
        ("from_address", "support at example.com"),
        ("unknown_field", "x"),
    ],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        EmailConfig(**good(**{field: value}))
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]
    assert field in str(caught.value)


def test_host_error_explains_the_expected_form() -> None:
    with pytest.raises(ValidationError, match="without imaps:// or a :port"):
        EmailConfig(**good(imap_host="imaps://imap.example.com"))


def test_secrets_are_secret_and_never_printed() -> None:
    config = EmailConfig(**good())
    assert isinstance(config.imap_password, SecretStr)
    assert isinstance(config.smtp_password, SecretStr)
    for secret in PASSWORDS.values():
        assert secret not in str(config)
        assert secret not in repr(config)
        assert secret not in config.model_dump_json()


def test_form_schema_describes_every_field() -> None:
    properties = EmailConfig.model_json_schema()["properties"]
    assert all(prop.get("description") and prop.get("title") for prop in properties.values())
    assert properties["imap_password"]["writeOnly"] is True
    assert properties["smtp_port"]["maximum"] == 65535


def test_hookimpl_registers_the_type_with_a_plugin_manager() -> None:
    assert channel.hub_register_channel_types() == [EmailChannel]
    manager = pluggy.PluginManager("hub")
    manager.add_hookspecs(hub.contract.hookspecs)
    manager.register(channel)
    manager.check_pending()
    assert manager.hook.hub_register_channel_types() == [[EmailChannel]]


def test_entry_point_is_declared_in_the_distribution() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    assert project["name"] == "inbox-hub-email"
    assert project["entry-points"]["hub"] == {"email": "hub_email.channel"}
    assert import_module(project["entry-points"]["hub"]["email"]) is channel


# --- connect: what can be checked before the plugin is built ------------------------


def test_the_type_is_not_available_yet() -> None:
    assert EmailChannel.available is False


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def greeter(greeting: bytes) -> AsyncIterator[int]:
    """A local server that sends ``greeting`` to whoever connects; yields its port."""

    async def greet(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


@pytest.fixture
async def imap_port() -> AsyncIterator[int]:
    async for port in greeter(b"* OK IMAP4rev1 ready\r\n"):
        yield port


@pytest.fixture
async def smtp_port() -> AsyncIterator[int]:
    async for port in greeter(b"220 mail.example.com ESMTP ready\r\n"):
        yield port


async def connect(**overrides: Any) -> None:
    plain = {"imap_host": "127.0.0.1", "smtp_host": "127.0.0.1"}
    plain |= {"imap_security": "none", "smtp_security": "none"}
    config = EmailConfig(**good(**{**plain, **overrides}))
    async with httpx.AsyncClient() as http:
        context = ChannelContext(channel_id=1, webhook_url="https://hub.example/w/1", http=http)
        await EmailChannel(config, context).connect()


async def test_connect_reaches_both_servers_and_reads_their_greetings(
    imap_port: int, smtp_port: int
) -> None:
    await connect(imap_port=imap_port, smtp_port=smtp_port)


async def test_connect_to_a_closed_port_is_retry_later_naming_the_server(smtp_port: int) -> None:
    port = closed_port()
    with pytest.raises(RetryLater) as caught:
        await connect(imap_port=port, smtp_port=smtp_port)
    message = str(caught.value)
    assert message.startswith(f"cannot reach the IMAP server 127.0.0.1:{port}:")
    assert "refused" in message.lower()


async def test_connect_to_the_wrong_kind_of_server_names_what_answered(
    imap_port: int, smtp_port: int
) -> None:
    with pytest.raises(BadCredentials) as caught:
        await connect(imap_port=smtp_port, smtp_port=imap_port)
    assert str(caught.value) == (
        f"the IMAP server 127.0.0.1:{smtp_port} did not answer like an IMAP server "
        "(check the host, port and security)"
    )


async def test_connect_over_tls_to_a_plain_server_is_refused_clearly(smtp_port: int) -> None:
    async for port in greeter(b"* OK IMAP4rev1 ready\r\n"):
        with pytest.raises(BadCredentials) as caught:
            await connect(imap_port=port, imap_security="ssl", smtp_port=smtp_port)
        assert str(caught.value).startswith(
            f"the IMAP server 127.0.0.1:{port} did not complete a TLS handshake"
        )
